// The embedded default storage: one SQLite 3 file in WAL mode with synchronous=FULL.
//
// Writes go through a single writer thread that commits everything queued at that moment in one
// transaction (group commit): many concurrent writers share one fsync, and each write returns
// only after the commit containing it is durable. Reads use a small pool of separate
// connections and never wait for the writer. Checkpoints (copying the WAL into the database file)
// run on a background thread, so a commit never waits for one; the WAL is then reused from its
// start, and a size cap keeps it bounded. The writer hands each commit's WAL frames to the OS in
// one write (sqlite_vfs.h). The file and its -wal/-shm companions get mode 0600.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "physical/backend.h"

namespace coffer::physical {

struct SqliteOptions {
  // The database file. It is created when absent; its directory must exist.
  std::string path;
  // How long a connection waits for a lock held by another process before reporting kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // Read connections kept open at most (at least one); further reads wait for a free one.
  size_t max_readers = 4;
  // Largest stored row (key plus value) in bytes; a larger write fails with kInvalidArgument.
  // 0 keeps SQLite's own limit (about 1 GB).
  size_t max_entry_bytes = 0;
  // WAL size in pages (4 KiB) at which a background thread checkpoints it into the database.
  // Several thousand (32 MiB), so that a page changed by many commits (the B-tree's upper
  // levels, a busy leaf) is copied into the database once per checkpoint rather than every few
  // dozen commits.
  size_t wal_checkpoint_pages = 8000;
  // The WAL's bound in pages: once a commit leaves it this large (readers or another process kept
  // background checkpoints from finishing), the writer checkpoints before the next commit, waiting
  // up to busy_timeout for readers. A smaller value counts as wal_checkpoint_pages.
  size_t wal_max_pages = 16000;
  // Page cache of the writer connection in KiB (SQLite's `PRAGMA cache_size = -N`), allocated
  // only as pages are read. Large enough that the B-tree's interior pages and most leaves of a
  // store of a few hundred thousand entries stay cached, so a commit does not re-read the pages
  // it is about to change. 0 keeps SQLite's default (2 MiB).
  size_t writer_cache_kib = 64 * 1024;
  // Page cache of each read connection in KiB, as above. A reader's cache is dropped whenever
  // the writer has committed since its last read, so a large one helps only read-mostly loads.
  size_t reader_cache_kib = 8 * 1024;
};

struct SqliteStats {
  uint64_t write_requests = 0;   // Put, Delete and non-empty Transaction calls accepted so far
  uint64_t commits = 0;          // transactions committed (each one fsync of the WAL)
  uint64_t batch_fallbacks = 0;  // grouped batches that failed and were retried request by request
  uint64_t checkpoints = 0;      // WAL checkpoints completed (background and by the writer)
  uint64_t checkpoint_failures = 0;  // checkpoints that failed; the next one retries
  uint64_t wal_pages = 0;            // pages in the WAL after the latest commit
  uint64_t writer_cache_kib = 0;     // the writer connection's page cache limit in KiB
};

// The SQLite backend, with statistics on top of the Backend interface. Thread-safe.
class SqliteBackend : public Backend {
 public:
  // Opens or creates the database at options.path. Fails with kInvalidArgument for an empty
  // path, kUnavailable when the directory is missing or the file cannot be opened or locked,
  // kDataLoss when the file is not a database, and kInvalidArgument when it is a database that
  // Coffer did not create. Destroying the backend finishes queued writes, then closes.
  static StatusOr<std::unique_ptr<SqliteBackend>> Open(const SqliteOptions& options);

  // Safe to call from any thread at any time.
  virtual SqliteStats Stats() const = 0;
};

// SqliteBackend::Open, as a plain Backend.
StatusOr<std::unique_ptr<Backend>> OpenSqliteBackend(const SqliteOptions& options);

}  // namespace coffer::physical
