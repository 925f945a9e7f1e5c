#include "physical/sqlite.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "physical/list_util.h"
#include "physical/sqlite_vfs.h"

namespace coffer::physical {
namespace {

// PRAGMA application_id of a Coffer storage file ("CFFR"), and the schema version it holds.
constexpr int kApplicationId = 0x43464652;
constexpr int kSchemaVersion = 1;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Translates a SQLite result code into a Status. The message names the action and SQLite's
// description; it never contains bound values.
Status SqliteError(sqlite3* db, int rc, std::string_view action) {
  const char* detail =
      (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = "sqlite storage: " + std::string(action) + ": " + detail;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return Unavailable(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(message));
    case SQLITE_TOOBIG:
      return InvalidArgument(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

// Resets a statement and drops its bindings when the scope ends, so it never holds a read
// snapshot open or points at a caller's buffer.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// Binds text without copying; the caller keeps `text` alive until the statement is reset. An
// empty view may have a null data pointer, which SQLite would turn into NULL.
int BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text(stmt, index, text.empty() ? "" : text.data(),
                           static_cast<int>(text.size()), SQLITE_STATIC);
}

int BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  if (bytes.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);
  return sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC);
}

std::string_view ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) return {};
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(size));
}

StatusOr<StmtPtr> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare statement");
  return StmtPtr(stmt);
}

// Runs a statement that returns no rows.
Status Run(sqlite3* db, sqlite3_stmt* stmt, std::string_view action) {
  StmtScope scope(stmt);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, action);
  return OkStatus();
}

Status Exec(sqlite3* db, const char* sql, std::string_view action) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, action);
  return OkStatus();
}

// Runs a single-row, single-column query and returns its first column as text.
StatusOr<std::string> QueryText(sqlite3* db, const char* sql, std::string_view action) {
  ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(db, sql));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteError(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, action);
  return std::string(ColumnBytes(stmt.get(), 0));
}

StatusOr<int64_t> QueryInt(sqlite3* db, const char* sql, std::string_view action) {
  ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(db, sql));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteError(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, action);
  return sqlite3_column_int64(stmt.get(), 0);
}

std::string ErrnoText(int err) { return std::generic_category().message(err); }

// The WAL bounds in pages, made consistent: at least one page, the cap no lower than the
// checkpoint size, both far from overflowing a size in bytes.
constexpr uint64_t kWalPagesLimit = uint64_t{1} << 30;

uint64_t WalCheckpointPages(const SqliteOptions& options) {
  return std::clamp<uint64_t>(options.wal_checkpoint_pages, 1, kWalPagesLimit);
}

uint64_t WalMaxPages(const SqliteOptions& options) {
  return std::clamp<uint64_t>(options.wal_max_pages, WalCheckpointPages(options), kWalPagesLimit);
}

// Makes sure the directory exists and the file exists with mode 0600 before SQLite opens it;
// SQLite gives the -wal and -shm files the mode of the database file.
Status PrepareFile(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::file_status dir_status = fs::status(dir, ec);
  if (!fs::exists(dir_status)) {
    return Unavailable("sqlite storage: directory \"" + dir.string() + "\" for \"" + path +
                       "\" does not exist");
  }
  if (!fs::is_directory(dir_status)) {
    return Unavailable("sqlite storage: \"" + dir.string() + "\" for \"" + path +
                       "\" is not a directory");
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    return Unavailable("sqlite storage: cannot open \"" + path + "\": " + ErrnoText(err));
  }
  int rc = ::fchmod(fd, 0600);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return Unavailable("sqlite storage: cannot set mode 0600 on \"" + path +
                       "\": " + ErrnoText(err));
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string companion = path + suffix;
    if (::chmod(companion.c_str(), 0600) != 0 && errno != ENOENT) {
      err = errno;
      return Unavailable("sqlite storage: cannot set mode 0600 on \"" + companion +
                         "\": " + ErrnoText(err));
    }
  }
  return OkStatus();
}

// `vfs` is a registered VFS name, or nullptr for SQLite's default.
StatusOr<DbPtr> OpenConnection(const SqliteOptions& options, int flags, const char* vfs = nullptr) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, vfs);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return SqliteError(db.get(), rc, "open \"" + options.path + "\"");
  }
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  return db;
}

// Sets a connection's page cache to `kib` KiB; 0 leaves SQLite's default.
Status SetCacheKib(sqlite3* db, size_t kib) {
  if (kib == 0) return OkStatus();
  kib = std::min<size_t>(kib, size_t{1} << 30);
  std::string pragma = "PRAGMA cache_size = -" + std::to_string(kib);
  return Exec(db, pragma.c_str(), "set cache size");
}

// Creates the table in a new file, or checks that an existing file is a Coffer storage file.
Status InitSchema(sqlite3* db, const std::string& path) {
  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "begin schema transaction"));
  auto check = [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t app_id, QueryInt(db, "PRAGMA application_id", "read application_id"));
    ASSIGN_OR_RETURN(int64_t version, QueryInt(db, "PRAGMA user_version", "read user_version"));
    if (app_id == 0 && version == 0) {
      ASSIGN_OR_RETURN(int64_t tables,
                       QueryInt(db, "SELECT count(*) FROM sqlite_schema", "read schema"));
      if (tables != 0) {
        return InvalidArgument("sqlite storage: \"" + path +
                               "\" is a database that Coffer did not create");
      }
      RETURN_IF_ERROR(Exec(db,
                           "CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) "
                           "WITHOUT ROWID",
                           "create table"));
      std::string pragmas = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                            "; PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
      return Exec(db, pragmas.c_str(), "set schema version");
    }
    if (app_id != kApplicationId) {
      return InvalidArgument("sqlite storage: \"" + path +
                             "\" is a database that Coffer did not create");
    }
    if (version != kSchemaVersion) {
      return InvalidArgument("sqlite storage: \"" + path + "\" has schema version " +
                             std::to_string(version) + ", this build supports " +
                             std::to_string(kSchemaVersion));
    }
    return OkStatus();
  };
  Status status = check();
  if (!status.ok()) {
    if (!sqlite3_get_autocommit(db)) (void)Exec(db, "ROLLBACK", "rollback");
    return status;
  }
  return Exec(db, "COMMIT", "commit schema transaction");
}

// One read connection with its prepared statements; used by one thread at a time.
struct Reader {
  DbPtr db;
  StmtPtr get;
  StmtPtr list_from;   // keys >= ?1
  StmtPtr list_range;  // keys >= ?1 and < ?2
  StmtPtr begin;
  StmtPtr rollback;

  static StatusOr<std::unique_ptr<Reader>> Open(const SqliteOptions& options) {
    auto reader = std::make_unique<Reader>();
    ASSIGN_OR_RETURN(reader->db, OpenConnection(options, SQLITE_OPEN_READWRITE));
    sqlite3* db = reader->db.get();
    RETURN_IF_ERROR(Exec(db, "PRAGMA query_only = 1", "configure read connection"));
    RETURN_IF_ERROR(SetCacheKib(db, options.reader_cache_kib));
    ASSIGN_OR_RETURN(reader->get, Prepare(db, "SELECT value FROM kv WHERE key = ?1"));
    ASSIGN_OR_RETURN(reader->list_from,
                     Prepare(db, "SELECT key FROM kv WHERE key >= ?1 ORDER BY key"));
    ASSIGN_OR_RETURN(reader->list_range,
                     Prepare(db, "SELECT key FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key"));
    ASSIGN_OR_RETURN(reader->begin, Prepare(db, "BEGIN"));
    ASSIGN_OR_RETURN(reader->rollback, Prepare(db, "ROLLBACK"));
    return reader;
  }
};

// The writer connection with its prepared statements; used only by the writer thread once the
// backend is running.
struct Writer {
  DbPtr db;
  StmtPtr put;
  StmtPtr del;
  StmtPtr begin;
  StmtPtr commit;
  StmtPtr rollback;
  StmtPtr savepoint;
  StmtPtr release;
  StmtPtr rollback_to;
  uint64_t cache_kib = 0;  // the connection's page cache limit, read back after configuring it
};

struct WriteOp {
  TxnOp::Kind kind;
  std::string_view key;
  std::string_view value;
};

// One caller's write, owned by the caller, who blocks until the batch holding it completes. The
// writer thread reads `ops` and writes `result` while the caller waits.
struct WriteRequest {
  std::vector<WriteOp> ops;
  Status result;
};

// Where the callers of one batch wait for it: a futex word holding the number of the last
// finished batch that used it. Batches are numbered from 1 (modulo 2^32) and batch n uses
// completions_[n % 2]; only two batches are ever unfinished (the one committing and the one
// filling), so one wake reaches exactly one batch's callers. A bare futex rather than a
// condition variable: the woken callers do not then queue up on a mutex one after another,
// which cost each write several more context switches.
class BatchCompletion {
 public:
  void WaitFor(uint32_t batch) {
    while (true) {
      uint32_t seen = done_through_.load(std::memory_order_acquire);
      if (static_cast<int32_t>(seen - batch) >= 0) return;
      // Returns at once when the word no longer holds `seen`; spurious returns loop.
      syscall(SYS_futex, Word(), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
    }
  }

  // Everything the writer stored before this call is visible to the woken callers.
  void Finish(uint32_t batch) {
    done_through_.store(batch, std::memory_order_release);
    syscall(SYS_futex, Word(), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                std::atomic<uint32_t>::is_always_lock_free);
  uint32_t* Word() { return reinterpret_cast<uint32_t*>(&done_through_); }

  std::atomic<uint32_t> done_through_{0};
};

// The checkpointer's connection; used only by the checkpointer thread once the backend runs.
struct Checkpointer {
  DbPtr db;
};

class SqliteBackendImpl : public SqliteBackend {
 public:
  SqliteBackendImpl(SqliteOptions options, Writer writer, Checkpointer checkpointer,
                    std::unique_ptr<Reader> first_reader)
      : options_(std::move(options)),
        checkpoint_pages_(WalCheckpointPages(options_)),
        max_wal_pages_(WalMaxPages(options_)),
        writer_cache_kib_(writer.cache_kib),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {
    idle_readers_.push_back(std::move(first_reader));
    open_readers_ = 1;
    // Replaces SQLite's automatic checkpoint on commit; see AfterCommit.
    sqlite3_wal_hook(writer_.db.get(), &SqliteBackendImpl::OnWalCommit, this);
  }

  ~SqliteBackendImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    queue_cv_.notify_one();
    if (writer_thread_.joinable()) writer_thread_.join();
    {
      std::lock_guard lock(ckpt_mu_);
      ckpt_stopping_ = true;
    }
    ckpt_cv_.notify_one();
    if (checkpointer_thread_.joinable()) checkpointer_thread_.join();
  }

  Status Start() {
    try {
      checkpointer_thread_ = std::thread([this] { CheckpointerLoop(); });
      writer_thread_ = std::thread([this] { WriterLoop(); });
    } catch (const std::system_error&) {
      return InternalError("sqlite storage: cannot start the writer and checkpointer threads");
    }
    return OkStatus();
  }

  SqliteStats Stats() const override {
    SqliteStats stats;
    stats.write_requests = write_requests_.load();
    stats.commits = commits_.load();
    stats.batch_fallbacks = batch_fallbacks_.load();
    stats.checkpoints = checkpoints_.load();
    stats.checkpoint_failures = checkpoint_failures_.load();
    stats.wal_pages = wal_pages_.load();
    stats.writer_cache_kib = writer_cache_kib_;
    return stats;
  }

  StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
    Reader& reader = *lease.reader;
    sqlite3_stmt* stmt = reader.get.get();
    StmtScope scope(stmt);
    int rc = BindText(stmt, 1, key);
    if (rc != SQLITE_OK) return SqliteError(reader.db.get(), rc, "get");
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return SqliteError(reader.db.get(), rc, "get");
    return std::optional<std::string>(std::string(ColumnBytes(stmt, 0)));
  }

  Status Put(std::string_view key, std::string_view value) override {
    return Submit({WriteOp{TxnOp::Kind::kPut, key, value}});
  }

  Status Delete(std::string_view key) override {
    return Submit({WriteOp{TxnOp::Kind::kDelete, key, {}}});
  }

  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
    Reader& reader = *lease.reader;
    sqlite3* db = reader.db.get();
    // One read transaction, so the several range queries below see a single snapshot.
    RETURN_IF_ERROR(Run(db, reader.begin.get(), "list"));
    StatusOr<std::vector<std::string>> result = ListInSnapshot(reader, prefix);
    Status end = Run(db, reader.rollback.get(), "list");
    if (!result.ok()) return result;
    if (!end.ok()) return end;
    return result;
  }

  Status Transaction(const std::vector<TxnOp>& ops) override {
    if (ops.empty()) return OkStatus();
    std::vector<WriteOp> write_ops;
    write_ops.reserve(ops.size());
    for (const TxnOp& op : ops) write_ops.push_back(WriteOp{op.kind, op.key, op.value});
    return Submit(std::move(write_ops));
  }

 private:
  // A read connection borrowed from the pool, returned when the lease ends.
  struct ReaderLease {
    SqliteBackendImpl* owner = nullptr;
    std::unique_ptr<Reader> reader;

    ReaderLease(SqliteBackendImpl* o, std::unique_ptr<Reader> r) : owner(o), reader(std::move(r)) {}
    ReaderLease(ReaderLease&& other) noexcept
        : owner(std::exchange(other.owner, nullptr)), reader(std::move(other.reader)) {}
    ReaderLease& operator=(ReaderLease&&) = delete;
    ~ReaderLease() {
      if (owner != nullptr && reader != nullptr) owner->ReleaseReader(std::move(reader));
    }
  };

  StatusOr<ReaderLease> AcquireReader() {
    {
      std::unique_lock lock(pool_mu_);
      size_t limit = std::max<size_t>(1, options_.max_readers);
      pool_cv_.wait(lock, [&] { return !idle_readers_.empty() || open_readers_ < limit; });
      if (!idle_readers_.empty()) {
        std::unique_ptr<Reader> reader = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return ReaderLease(this, std::move(reader));
      }
      ++open_readers_;
    }
    auto reader = Reader::Open(options_);
    if (!reader.ok()) {
      {
        std::lock_guard lock(pool_mu_);
        --open_readers_;
      }
      pool_cv_.notify_one();
      return reader.status();
    }
    return ReaderLease(this, std::move(reader).value());
  }

  void ReleaseReader(std::unique_ptr<Reader> reader) {
    {
      std::lock_guard lock(pool_mu_);
      idle_readers_.push_back(std::move(reader));
    }
    pool_cv_.notify_one();
  }

  StatusOr<std::vector<std::string>> ListInSnapshot(Reader& reader, std::string_view prefix) {
    sqlite3* db = reader.db.get();
    std::optional<std::string> upper = internal::PrefixSuccessor(prefix);
    sqlite3_stmt* stmt = upper ? reader.list_range.get() : reader.list_from.get();
    std::vector<std::string> out;
    std::string lower(prefix);
    bool more = true;
    while (more) {
      more = false;
      StmtScope scope(stmt);
      int rc = BindText(stmt, 1, lower);
      if (rc == SQLITE_OK && upper) rc = BindText(stmt, 2, *upper);
      if (rc != SQLITE_OK) return SqliteError(db, rc, "list");
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        std::string_view key = ColumnBytes(stmt, 0);
        if (!key.starts_with(prefix)) continue;
        std::string_view child = internal::ChildOf(prefix, key);
        if (child.empty()) continue;  // the key equal to the prefix is not its own child
        out.emplace_back(child);
        if (child.ends_with('/')) {
          // Jump past every descendant of this folder with a new range query.
          std::optional<std::string> next =
              internal::PrefixSuccessor(std::string(prefix) + std::string(child));
          if (next) {
            lower = std::move(*next);
            more = true;
          }
          rc = SQLITE_DONE;
          break;
        }
      }
      if (rc != SQLITE_DONE) return SqliteError(db, rc, "list");
    }
    return out;
  }

  Status Submit(std::vector<WriteOp> ops) {
    WriteRequest request;
    request.ops = std::move(ops);
    uint32_t batch;
    bool wake_writer;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Unavailable("sqlite storage: closed");
      queue_.push_back(&request);
      batch = filling_batch_;
      wake_writer = writer_idle_;
      writer_idle_ = false;
    }
    ++write_requests_;
    if (wake_writer) queue_cv_.notify_one();
    completions_[batch % 2].WaitFor(batch);
    return request.result;
  }

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "coffer-sqlite-w");
    std::vector<WriteRequest*> batch;
    while (true) {
      uint32_t number;
      {
        std::unique_lock lock(mu_);
        if (queue_.empty() && !stopping_) {
          writer_idle_ = true;
          queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
          writer_idle_ = false;
        }
        if (queue_.empty()) return;  // stopping, and every queued write is done
        batch.swap(queue_);
        number = filling_batch_++;
      }
      ApplyBatch(batch);
      // The requests live on their callers' stacks and may vanish once the batch is marked done,
      // so nothing below touches them.
      batch.clear();
      completions_[number % 2].Finish(number);
      AfterCommit();
    }
  }

  // Called by SQLite on the writer thread after each commit with the WAL's size in pages.
  static int OnWalCommit(void* self, sqlite3*, const char*, int pages) {
    static_cast<SqliteBackendImpl*>(self)->wal_pages_ = static_cast<uint64_t>(pages);
    return SQLITE_OK;
  }

  // Keeps the WAL small without making commits wait: once it passes checkpoint_pages_, the
  // checkpointer thread copies it into the database (the long part: page writes and an fsync of
  // the database). Commits go on meanwhile, so that checkpoint cannot cover them; when it is done
  // the writer checkpoints the few pages committed since, and then the next commit can restart the
  // WAL from its beginning (SQLite does that only when every frame has been copied), reusing the
  // file instead of growing it. Past max_wal_pages_ the writer checkpoints everything itself,
  // waiting up to busy_timeout for readers, so the WAL stays bounded whatever readers or other
  // processes do; when that fails, it tries again after checkpoint_pages_ more pages. A background
  // checkpoint still running holds SQLite's checkpoint lock, which would make the writer's fail
  // at once; the writer waits for it first (up to busy_timeout), so the cap holds to one batch.
  void AfterCommit() {
    uint64_t pages = wal_pages_.load();
    if (pages < checkpoint_pages_) return;
    if (pages >= max_wal_pages_ && pages >= forced_retry_pages_) {
      {
        std::unique_lock lock(ckpt_mu_);
        ckpt_done_cv_.wait_for(lock, options_.busy_timeout, [&] { return !ckpt_running_ || ckpt_stopping_; });
      }
      bool ok = CheckpointOnWriter(SQLITE_CHECKPOINT_RESTART);
      forced_retry_pages_ = ok ? 0 : pages + checkpoint_pages_;
      if (ok) return;
    }
    bool catch_up = false;
    {
      std::lock_guard lock(ckpt_mu_);
      if (ckpt_running_) return;
      if (ckpt_finished_ != ckpt_caught_up_) {
        ckpt_caught_up_ = ckpt_finished_;
        catch_up = true;
      } else {
        ckpt_running_ = true;
      }
    }
    if (catch_up) {
      CheckpointOnWriter(SQLITE_CHECKPOINT_PASSIVE);
    } else {
      ckpt_cv_.notify_one();
    }
  }

  bool CheckpointOnWriter(int mode) {
    int rc = sqlite3_wal_checkpoint_v2(writer_.db.get(), nullptr, mode, nullptr, nullptr);
    ++(rc == SQLITE_OK ? checkpoints_ : checkpoint_failures_);
    return rc == SQLITE_OK;
  }

  void CheckpointerLoop() {
    pthread_setname_np(pthread_self(), "coffer-sqlite-c");
    std::unique_lock lock(ckpt_mu_);
    while (true) {
      ckpt_cv_.wait(lock, [&] { return ckpt_stopping_ || ckpt_running_; });
      if (ckpt_stopping_) return;
      lock.unlock();
      // PASSIVE: copies what no reader still needs and never blocks the writer or readers.
      int rc = sqlite3_wal_checkpoint_v2(checkpointer_.db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                         nullptr, nullptr);
      ++(rc == SQLITE_OK ? checkpoints_ : checkpoint_failures_);
      lock.lock();
      ckpt_running_ = false;
      ++ckpt_finished_;
      ckpt_done_cv_.notify_all();
    }
  }

  void ApplyBatch(const std::vector<WriteRequest*>& batch) {
    if (batch.size() == 1) {
      batch[0]->result = ApplyAlone(*batch[0]);
      return;
    }
    sqlite3* db = writer_.db.get();
    Status begun = Run(db, writer_.begin.get(), "begin transaction");
    if (!begun.ok()) {
      // Nothing was attempted (typically another process holds the lock past busy_timeout);
      // retrying request by request would only wait that long again for each of them.
      for (WriteRequest* request : batch) request->result = begun;
      return;
    }
    if (ApplyGroupedInTransaction(batch).ok()) return;
    // The shared transaction failed as a whole; give each request its own outcome.
    ++batch_fallbacks_;
    for (WriteRequest* request : batch) request->result = ApplyAlone(*request);
  }

  // Inside an open transaction, applies every request so that a failing request rolls back
  // only itself and gets its own error, then commits: a request of several ops runs in its own
  // savepoint; a single op needs none, as SQLite undoes a failed statement by itself. An error
  // return means nothing of the batch was committed and the transaction is closed.
  Status ApplyGroupedInTransaction(const std::vector<WriteRequest*>& batch) {
    sqlite3* db = writer_.db.get();
    for (WriteRequest* request : batch) {
      bool guarded = request->ops.size() > 1;
      Status status;
      if (guarded) {
        status = Run(db, writer_.savepoint.get(), "savepoint");
        if (!status.ok()) return RollbackWith(status);
      }
      Status applied = ApplyOps(*request);
      // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
      if (!applied.ok() && sqlite3_get_autocommit(db)) return applied;
      if (guarded) {
        if (applied.ok()) {
          status = Run(db, writer_.release.get(), "release savepoint");
        } else {
          status = Run(db, writer_.rollback_to.get(), "rollback to savepoint");
          if (status.ok()) status = Run(db, writer_.release.get(), "release savepoint");
        }
        if (!status.ok()) return RollbackWith(status);
      }
      request->result = applied;
    }
    Status committed = Run(db, writer_.commit.get(), "commit");
    if (!committed.ok()) return RollbackWith(committed);
    ++commits_;
    return OkStatus();
  }

  Status ApplyAlone(const WriteRequest& request) {
    sqlite3* db = writer_.db.get();
    RETURN_IF_ERROR(Run(db, writer_.begin.get(), "begin transaction"));
    Status applied = ApplyOps(request);
    if (!applied.ok()) return RollbackWith(applied);
    Status committed = Run(db, writer_.commit.get(), "commit");
    if (!committed.ok()) return RollbackWith(committed);
    ++commits_;
    return OkStatus();
  }

  // Rolls back the open transaction, if SQLite has not already, and returns `cause`.
  Status RollbackWith(Status cause) {
    sqlite3* db = writer_.db.get();
    if (!sqlite3_get_autocommit(db)) (void)Run(db, writer_.rollback.get(), "rollback");
    return cause;
  }

  Status ApplyOps(const WriteRequest& request) {
    sqlite3* db = writer_.db.get();
    for (const WriteOp& op : request.ops) {
      bool put = op.kind == TxnOp::Kind::kPut;
      sqlite3_stmt* stmt = put ? writer_.put.get() : writer_.del.get();
      StmtScope scope(stmt);
      int rc = BindText(stmt, 1, op.key);
      if (rc == SQLITE_OK && put) rc = BindBlob(stmt, 2, op.value);
      if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) continue;
      if ((rc & 0xff) == SQLITE_TOOBIG) {
        return InvalidArgument("sqlite storage: entry exceeds the maximum size of " +
                               std::to_string(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1)) +
                               " bytes");
      }
      return SqliteError(db, rc, put ? "put" : "delete");
    }
    return OkStatus();
  }

  const SqliteOptions options_;
  const uint64_t checkpoint_pages_;
  const uint64_t max_wal_pages_;
  const uint64_t writer_cache_kib_;  // set before the writer thread starts
  Writer writer_;                    // used only by the writer thread after Start()
  Checkpointer checkpointer_;        // used only by the checkpointer thread after Start()
  uint64_t forced_retry_pages_ = 0;  // used only by the writer thread; see AfterCommit

  std::mutex mu_;
  std::condition_variable queue_cv_;  // signalled when the idle writer has work or must stop
  std::vector<WriteRequest*> queue_;  // guarded by mu_; the batch being filled
  uint32_t filling_batch_ = 1;        // guarded by mu_; the number of the batch being filled
  bool writer_idle_ = false;          // guarded by mu_; the writer waits on queue_cv_
  bool stopping_ = false;             // guarded by mu_
  BatchCompletion completions_[2];
  std::thread writer_thread_;

  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;  // signalled when ckpt_running_ or ckpt_stopping_ is set
  std::condition_variable ckpt_done_cv_;  // signalled when a background checkpoint finishes
  bool ckpt_running_ = false;        // guarded by ckpt_mu_; asked for or running in the background
  uint64_t ckpt_finished_ = 0;       // guarded by ckpt_mu_; background checkpoints finished
  uint64_t ckpt_caught_up_ = 0;      // guarded by ckpt_mu_; ckpt_finished_ at the last catch-up
  bool ckpt_stopping_ = false;       // guarded by ckpt_mu_
  std::thread checkpointer_thread_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;                    // signalled when a reader is returned
  std::vector<std::unique_ptr<Reader>> idle_readers_;  // guarded by pool_mu_
  size_t open_readers_ = 0;                            // guarded by pool_mu_

  std::atomic<uint64_t> write_requests_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> batch_fallbacks_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> checkpoint_failures_{0};
  std::atomic<uint64_t> wal_pages_{0};  // written only by the writer thread
};

StatusOr<Writer> OpenWriter(const SqliteOptions& options) {
  Writer w;
  // The writer alone writes the WAL, so it alone needs WAL writes gathered per commit.
  ASSIGN_OR_RETURN(w.db, OpenConnection(options, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                        internal::CoalescingWalVfsName()));
  sqlite3* db = w.db.get();
  if (options.max_entry_bytes > 0) {
    size_t limit = std::min<size_t>(options.max_entry_bytes, 0x7fffffff);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, static_cast<int>(limit));
  }
  ASSIGN_OR_RETURN(std::string mode, QueryText(db, "PRAGMA journal_mode = WAL", "enable WAL"));
  if (mode != "wal") {
    return Unavailable("sqlite storage: cannot use WAL mode for \"" + options.path +
                       "\" (journal mode is " + mode + ")");
  }
  RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous = FULL", "set synchronous"));
  RETURN_IF_ERROR(SetCacheKib(db, options.writer_cache_kib));
  RETURN_IF_ERROR(InitSchema(db, options.path));
  // SQLite reuses the WAL file from its start after a complete checkpoint and never shrinks it
  // unless told to: once the WAL outgrew its bound, the first commit after the next restart cuts it
  // back to that size. Normal cycles stay well below it, so the file is not regrown every cycle.
  ASSIGN_OR_RETURN(int64_t page_size, QueryInt(db, "PRAGMA page_size", "read page size"));
  // cache_size reads back as -KiB when set in KiB, as a page count when set in pages.
  ASSIGN_OR_RETURN(int64_t cache_size, QueryInt(db, "PRAGMA cache_size", "read cache size"));
  w.cache_kib = static_cast<uint64_t>(cache_size < 0 ? -cache_size : cache_size * page_size / 1024);
  constexpr int64_t kWalHeaderBytes = 32, kWalFrameHeaderBytes = 24;
  int64_t wal_limit = kWalHeaderBytes + static_cast<int64_t>(WalMaxPages(options)) *
                                            (page_size + kWalFrameHeaderBytes);
  std::string limit_pragma = "PRAGMA journal_size_limit = " + std::to_string(wal_limit);
  RETURN_IF_ERROR(Exec(db, limit_pragma.c_str(), "set journal size limit"));
  ASSIGN_OR_RETURN(w.put, Prepare(db,
                                  "INSERT INTO kv (key, value) VALUES (?1, ?2) "
                                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  ASSIGN_OR_RETURN(w.del, Prepare(db, "DELETE FROM kv WHERE key = ?1"));
  ASSIGN_OR_RETURN(w.begin, Prepare(db, "BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(w.commit, Prepare(db, "COMMIT"));
  ASSIGN_OR_RETURN(w.rollback, Prepare(db, "ROLLBACK"));
  ASSIGN_OR_RETURN(w.savepoint, Prepare(db, "SAVEPOINT request"));
  ASSIGN_OR_RETURN(w.release, Prepare(db, "RELEASE request"));
  ASSIGN_OR_RETURN(w.rollback_to, Prepare(db, "ROLLBACK TO request"));
  return w;
}

StatusOr<Checkpointer> OpenCheckpointer(const SqliteOptions& options) {
  Checkpointer c;
  ASSIGN_OR_RETURN(c.db, OpenConnection(options, SQLITE_OPEN_READWRITE));
  // A checkpoint syncs the database file before it lets the WAL be reused only when its
  // connection syncs at all; FULL, like the writer, to say so plainly.
  RETURN_IF_ERROR(Exec(c.db.get(), "PRAGMA synchronous = FULL", "configure checkpointer"));
  return c;
}

}  // namespace

StatusOr<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(const SqliteOptions& options) {
  if (options.path.empty()) return InvalidArgument("sqlite storage: path is empty");
  if (options.path == ":memory:") {
    return InvalidArgument("sqlite storage: an in-memory database is not supported; use inmem");
  }
  if (sqlite3_threadsafe() == 0) {
    return InternalError("sqlite storage: the SQLite library was built without thread support");
  }
  RETURN_IF_ERROR(PrepareFile(options.path));
  ASSIGN_OR_RETURN(Writer writer, OpenWriter(options));
  ASSIGN_OR_RETURN(Checkpointer checkpointer, OpenCheckpointer(options));
  ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, Reader::Open(options));
  auto backend = std::make_unique<SqliteBackendImpl>(options, std::move(writer),
                                                     std::move(checkpointer), std::move(reader));
  RETURN_IF_ERROR(backend->Start());
  return std::unique_ptr<SqliteBackend>(std::move(backend));
}

StatusOr<std::unique_ptr<Backend>> OpenSqliteBackend(const SqliteOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteBackend> backend, SqliteBackend::Open(options));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace coffer::physical
