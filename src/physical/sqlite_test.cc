#include "physical/sqlite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "physical/backend_conformance.h"

namespace coffer::physical::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

INSTANTIATE_TEST_SUITE_P(Sqlite, BackendConformanceTest,
                         ::testing::Values(BackendFactory{
                             "sqlite",
                             [](const std::string& dir) -> std::unique_ptr<Backend> {
                               auto backend = OpenSqliteBackend({.path = dir + "/db"});
                               EXPECT_TRUE(backend.ok()) << backend.status().ToString();
                               return backend.ok() ? std::move(backend).value() : nullptr;
                             }}),
                         FactoryName);

std::unique_ptr<SqliteBackend> MustOpen(const SqliteOptions& options) {
  auto backend = SqliteBackend::Open(options);
  EXPECT_TRUE(backend.ok()) << backend.status().ToString();
  return backend.ok() ? std::move(backend).value() : nullptr;
}

std::optional<std::string> MustGet(Backend& backend, std::string_view key) {
  auto got = backend.Get(key);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return got.ok() ? *got : std::nullopt;
}

int FileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

// A second, raw SQLite connection to the same file that holds the write lock while it lives,
// standing in for another process using the database.
class ExternalWriteLock {
 public:
  explicit ExternalWriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~ExternalWriteLock() {
    Release();
    sqlite3_close(db_);
  }
  void Release() {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Waits until the backend has accepted `n` write requests in total.
void WaitForWriteRequests(const SqliteBackend& backend, uint64_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (backend.Stats().write_requests < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(backend.Stats().write_requests, n);
}

class SqliteBackendTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.File("coffer.db"); }
  TempDir dir_;
};

TEST_F(SqliteBackendTest, WriterPageCacheIsSizedByOptions) {
  // The default keeps a store of a few hundred thousand entries' B-tree in the writer's cache,
  // so commits do not re-read the pages they change.
  EXPECT_EQ(SqliteOptions{}.writer_cache_kib, 64u * 1024);
  {
    auto backend = MustOpen({.path = DbPath()});
    ASSERT_NE(backend, nullptr);
    EXPECT_EQ(backend->Stats().writer_cache_kib, 64u * 1024);
  }
  {
    auto backend = MustOpen({.path = DbPath(), .writer_cache_kib = 1234, .reader_cache_kib = 1});
    ASSERT_NE(backend, nullptr);
    EXPECT_EQ(backend->Stats().writer_cache_kib, 1234u);
    // A tiny cache still reads and writes correctly (SQLite spills to the file as needed).
    std::string big(3000, 'x');
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(backend->Put("k/" + std::to_string(i), big).ok());
    EXPECT_EQ(MustGet(*backend, "k/199"), big);
  }
  // 0 leaves SQLite's own default, whatever it is.
  auto backend = MustOpen({.path = DbPath(), .writer_cache_kib = 0});
  ASSERT_NE(backend, nullptr);
  EXPECT_GT(backend->Stats().writer_cache_kib, 0u);
  EXPECT_NE(backend->Stats().writer_cache_kib, 64u * 1024);
  EXPECT_EQ(MustGet(*backend, "k/0"), std::string(3000, 'x'));
}

TEST_F(SqliteBackendTest, DefaultCheckpointWaitsForAFewThousandWalPages) {
  // Checkpointing every thousand pages copied the B-tree's hot pages into the database file
  // (with an fsync) every few dozen commits under load; the default now lets the WAL grow to
  // several thousand pages first, still well under its bound.
  SqliteOptions defaults;
  EXPECT_EQ(defaults.wal_checkpoint_pages, 8000u);
  EXPECT_GE(defaults.wal_max_pages, 2 * defaults.wal_checkpoint_pages);
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  std::vector<TxnOp> ops;
  for (int i = 0; i < 1500; ++i) {
    ops.push_back({TxnOp::Kind::kPut, "bulk/" + std::to_string(i), std::string(4000, 'a' + i % 26)});
  }
  ASSERT_TRUE(backend->Transaction(ops).ok());
  SqliteStats stats = backend->Stats();
  EXPECT_GT(stats.wal_pages, 1500u);
  EXPECT_EQ(stats.checkpoints, 0u);
  EXPECT_EQ(MustGet(*backend, "bulk/1499"), std::string(4000, 'a' + 1499 % 26));
}

TEST_F(SqliteBackendTest, DataPersistsAcrossCloseAndReopen) {
  {
    auto backend = MustOpen({.path = DbPath()});
    ASSERT_NE(backend, nullptr);
    ASSERT_TRUE(backend->Put("core/keyring", std::string("\0ring", 5)).ok());
    ASSERT_TRUE(backend->Put("logical/a/b", "v").ok());
    ASSERT_TRUE(backend->Put("gone", "v").ok());
    ASSERT_TRUE(backend->Transaction({{TxnOp::Kind::kDelete, "gone", ""}}).ok());
  }
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(MustGet(*backend, "core/keyring"), std::string("\0ring", 5));
  EXPECT_EQ(MustGet(*backend, "logical/a/b"), "v");
  EXPECT_EQ(MustGet(*backend, "gone"), std::nullopt);
  auto list = backend->List("");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"core/", "logical/"}));
}

TEST_F(SqliteBackendTest, AcknowledgedWritesSurviveTheProcessBeingKilled) {
  constexpr int kWrites = 20;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: write, then die by SIGKILL without closing anything.
    auto backend = SqliteBackend::Open({.path = DbPath()});
    if (!backend.ok()) _exit(2);
    for (int i = 0; i < kWrites; ++i) {
      if (!(*backend)->Put("k" + std::to_string(i), "v" + std::to_string(i)).ok()) _exit(3);
    }
    raise(SIGKILL);
    _exit(4);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
  ASSERT_EQ(WTERMSIG(wstatus), SIGKILL);
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(MustGet(*backend, "k" + std::to_string(i)), "v" + std::to_string(i));
  }
}

TEST_F(SqliteBackendTest, DatabaseAndCompanionFilesAreOwnerOnly) {
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put("k", "v").ok());
  EXPECT_EQ(FileMode(DbPath()), 0600);
  EXPECT_EQ(FileMode(DbPath() + "-wal"), 0600);
  EXPECT_EQ(FileMode(DbPath() + "-shm"), 0600);
}

TEST_F(SqliteBackendTest, ExistingFileWithLooseModeIsTightened) {
  { std::ofstream touch(DbPath()); }
  ASSERT_EQ(::chmod(DbPath().c_str(), 0644), 0);
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put("k", "v").ok());
  EXPECT_EQ(FileMode(DbPath()), 0600);
  EXPECT_EQ(FileMode(DbPath() + "-wal"), 0600);
}

TEST_F(SqliteBackendTest, MissingDirectoryIsAnErrorNamingIt) {
  std::string path = dir_.File("no/such/dir/coffer.db");
  auto backend = OpenSqliteBackend({.path = path});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(backend.status().message(), HasSubstr(dir_.File("no/such/dir")));
  EXPECT_THAT(backend.status().message(), HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("no")));
}

TEST_F(SqliteBackendTest, EmptyPathIsInvalid) {
  auto backend = OpenSqliteBackend({.path = ""});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteBackendTest, FileThatIsNotADatabaseIsRejected) {
  {
    std::ofstream garbage(DbPath());
    garbage << std::string(4096, 'x');
  }
  auto backend = OpenSqliteBackend({.path = DbPath()});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(backend.status().message(), HasSubstr("not a database"));
}

TEST_F(SqliteBackendTest, ForeignSqliteDatabaseIsRejected) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE users(name TEXT)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto backend = OpenSqliteBackend({.path = DbPath()});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(backend.status().message(), HasSubstr("did not create"));
}

TEST_F(SqliteBackendTest, ConcurrentWritersAllSucceedAndShareCommits) {
  constexpr int kThreads = 32;
  constexpr int kPutsPerThread = 40;
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPutsPerThread; ++i) {
        std::string key = "w/" + std::to_string(t) + "/" + std::to_string(i);
        if (!backend->Put(key, key + "-value").ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  SqliteStats stats = backend->Stats();
  constexpr uint64_t kWrites = kThreads * kPutsPerThread;
  EXPECT_EQ(stats.write_requests, kWrites);
  // Group commit: far fewer commits (fsyncs) than writes; about 15 writes per commit here, even on
  // a loaded machine.
  EXPECT_LE(stats.commits * 4, kWrites) << "commits=" << stats.commits;
  EXPECT_EQ(stats.batch_fallbacks, 0u);

  backend.reset();
  backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  for (int t = 0; t < kThreads; ++t) {
    auto list = backend->List("w/" + std::to_string(t) + "/");
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), size_t(kPutsPerThread));
    for (int i = 0; i < kPutsPerThread; i += 13) {
      std::string key = "w/" + std::to_string(t) + "/" + std::to_string(i);
      EXPECT_EQ(MustGet(*backend, key), key + "-value");
    }
  }
}

TEST_F(SqliteBackendTest, FailingTransactionInABatchRollsBackOnlyItself) {
  auto backend = MustOpen({.path = DbPath(), .max_entry_bytes = 1024});
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put("first", "v").ok());
  uint64_t requests_before = backend->Stats().write_requests;
  uint64_t commits_before = backend->Stats().commits;

  // While another connection holds the write lock, queue up good writes and one transaction
  // whose second op is too large, so they all land in one batch once the lock is released.
  auto lock = std::make_unique<ExternalWriteLock>(DbPath());
  constexpr int kGood = 8;
  std::vector<Status> good(kGood);
  Status bad_txn, good_txn, bad_put;
  std::vector<std::thread> threads;
  for (int i = 0; i < kGood; ++i) {
    threads.emplace_back([&, i] { good[i] = backend->Put("good/" + std::to_string(i), "ok"); });
  }
  threads.emplace_back([&] {
    bad_txn = backend->Transaction({{TxnOp::Kind::kPut, "txn/small", "fits"},
                                    {TxnOp::Kind::kDelete, "first", ""},
                                    {TxnOp::Kind::kPut, "txn/huge", std::string(4096, 'h')}});
  });
  threads.emplace_back([&] {
    good_txn = backend->Transaction(
        {{TxnOp::Kind::kPut, "txn2/a", "1"}, {TxnOp::Kind::kPut, "txn2/b", "2"}});
  });
  threads.emplace_back([&] { bad_put = backend->Put("single/huge", std::string(4096, 'h')); });
  WaitForWriteRequests(*backend, requests_before + kGood + 3);
  lock->Release();
  for (auto& thread : threads) thread.join();

  for (int i = 0; i < kGood; ++i) EXPECT_TRUE(good[i].ok()) << good[i].ToString();
  EXPECT_TRUE(good_txn.ok()) << good_txn.ToString();
  EXPECT_EQ(bad_txn.code(), StatusCode::kInvalidArgument) << bad_txn.ToString();
  EXPECT_THAT(bad_txn.message(), HasSubstr("maximum size"));
  EXPECT_EQ(bad_put.code(), StatusCode::kInvalidArgument) << bad_put.ToString();

  EXPECT_EQ(MustGet(*backend, "txn/small"), std::nullopt);
  EXPECT_EQ(MustGet(*backend, "txn/huge"), std::nullopt);
  EXPECT_EQ(MustGet(*backend, "single/huge"), std::nullopt);
  EXPECT_EQ(MustGet(*backend, "first"), "v");
  EXPECT_EQ(MustGet(*backend, "txn2/b"), "2");
  for (int i = 0; i < kGood; ++i) EXPECT_EQ(MustGet(*backend, "good/" + std::to_string(i)), "ok");

  // Eleven requests, at most two commits: they were batched, and the failures did not force the
  // batch into one-by-one fallback.
  SqliteStats stats = backend->Stats();
  EXPECT_LE(stats.commits - commits_before, 2u);
  EXPECT_EQ(stats.batch_fallbacks, 0u);
}

TEST_F(SqliteBackendTest, OversizedEntryIsRejectedAndNothingOfItsTransactionApplies) {
  auto backend = MustOpen({.path = DbPath(), .max_entry_bytes = 1024});
  ASSERT_NE(backend, nullptr);
  Status status = backend->Put("big", std::string(2048, 'x'));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  status = backend->Transaction(
      {{TxnOp::Kind::kPut, "a", "1"}, {TxnOp::Kind::kPut, "b", std::string(2048, 'x')}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MustGet(*backend, "a"), std::nullopt);
  EXPECT_EQ(MustGet(*backend, "big"), std::nullopt);
  EXPECT_TRUE(backend->Put("small", std::string(512, 'x')).ok());
}

TEST_F(SqliteBackendTest, LockedDatabaseGivesUnavailableWithoutTheValueThenRecovers) {
  auto backend = MustOpen({.path = DbPath(), .busy_timeout = std::chrono::milliseconds(100)});
  ASSERT_NE(backend, nullptr);
  {
    ExternalWriteLock lock(DbPath());
    Status status = backend->Put("k", "s3cr3t-value");
    EXPECT_EQ(status.code(), StatusCode::kUnavailable);
    EXPECT_THAT(status.message(), HasSubstr("locked"));
    EXPECT_THAT(status.message(), Not(HasSubstr("s3cr3t")));
    // Concurrent writers blocked by the same lock each get the error too.
    std::vector<Status> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] { results[i] = backend->Put("m" + std::to_string(i), "v"); });
    }
    for (auto& thread : threads) thread.join();
    for (const Status& result : results) EXPECT_EQ(result.code(), StatusCode::kUnavailable);
  }
  EXPECT_EQ(MustGet(*backend, "k"), std::nullopt);
  EXPECT_TRUE(backend->Put("k", "v").ok());
  EXPECT_EQ(MustGet(*backend, "k"), "v");
}

TEST_F(SqliteBackendTest, ReadsDoNotWaitForAPendingWrite) {
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put("dir/existing", "old").ok());
  uint64_t requests_before = backend->Stats().write_requests;
  auto lock = std::make_unique<ExternalWriteLock>(DbPath());
  Status pending;
  std::thread writer([&] { pending = backend->Put("dir/existing", "new"); });
  WaitForWriteRequests(*backend, requests_before + 1);

  // The writer thread is stuck waiting for the lock; reads still answer at once.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(MustGet(*backend, "dir/existing"), "old");
  auto list = backend->List("dir/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, std::vector<std::string>{"existing"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  lock->Release();
  writer.join();
  EXPECT_TRUE(pending.ok()) << pending.ToString();
  EXPECT_EQ(MustGet(*backend, "dir/existing"), "new");
}

// Bytes of a WAL holding `pages` frames of 4 KiB pages.
uintmax_t WalBytes(uint64_t pages) { return 32 + pages * (4096 + 24); }

uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// Several writer threads with values of a page or more each, while a reader keeps reading.
void WriteConcurrently(Backend& backend, const std::string& prefix, int threads, int per_thread,
                       std::atomic<int>* failures) {
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string key = prefix + std::to_string(t) + "/" + std::to_string(i);
        if (!backend.Put(key, std::string(4000, static_cast<char>('a' + i % 26))).ok()) ++*failures;
      }
    });
  }
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      if (!backend.Get(prefix + "0/0").ok()) ++*failures;
    }
  });
  for (auto& writer : writers) writer.join();
  done = true;
  reader.join();
}

TEST_F(SqliteBackendTest, CheckpointsKeepTheWalBoundedAndReuseIt) {
  constexpr uint64_t kCheckpointPages = 50, kMaxPages = 200;
  constexpr int kThreads = 8, kPerThread = 150;  // about 2400 pages of WAL frames in all
  auto backend = MustOpen(
      {.path = DbPath(), .wal_checkpoint_pages = kCheckpointPages, .wal_max_pages = kMaxPages});
  ASSERT_NE(backend, nullptr);
  std::atomic<int> failures{0};
  WriteConcurrently(*backend, "bulk/", kThreads, kPerThread, &failures);
  EXPECT_EQ(failures.load(), 0);

  SqliteStats stats = backend->Stats();
  EXPECT_GE(stats.checkpoints, 4u);
  // Without restarts the WAL would hold every frame written (~2400 pages here). Background
  // checkpoints let it pass the checkpoint size by what is committed while they run; past the cap
  // the writer checkpoints itself (first waiting for a background checkpoint still running, whose
  // lock would make its own fail), so the cap is exceeded by one batch at most. A batch is at most
  // 8 writes of 2 pages plus the tree's pages.
  constexpr uint64_t kBatchPages = 40;
  EXPECT_LE(FileSize(DbPath() + "-wal"), WalBytes(kMaxPages + kBatchPages));
  EXPECT_LE(stats.wal_pages, kMaxPages + kBatchPages);

  backend.reset();
  backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  for (int t = 0; t < kThreads; ++t) {
    auto list = backend->List("bulk/" + std::to_string(t) + "/");
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), size_t(kPerThread));
  }
  EXPECT_EQ(MustGet(*backend, "bulk/7/149"), std::string(4000, 'a' + 149 % 26));
}

// A read transaction held open by another connection pins the WAL: no checkpoint can finish and
// the WAL cannot restart. Writes still succeed (the writer gives up waiting after busy_timeout),
// and once the reader goes the writer's bound brings the WAL back under its cap.
TEST_F(SqliteBackendTest, WalBoundHoldsOnceAPinningReaderGoes) {
  constexpr uint64_t kCheckpointPages = 20, kMaxPages = 100;
  SqliteOptions options{.path = DbPath(),
                        .busy_timeout = std::chrono::milliseconds(20),
                        .wal_checkpoint_pages = kCheckpointPages,
                        .wal_max_pages = kMaxPages};
  auto backend = MustOpen(options);
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put("pin/me", "v").ok());

  sqlite3* pin = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &pin), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(pin, "BEGIN; SELECT count(*) FROM kv;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::atomic<int> failures{0};
  WriteConcurrently(*backend, "pinned/", 4, 60, &failures);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(backend->Stats().wal_pages, kMaxPages);
  EXPECT_GT(backend->Stats().checkpoint_failures, 0u);

  ASSERT_EQ(sqlite3_exec(pin, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(pin);
  for (int i = 0; i < 4 * int(kMaxPages / kCheckpointPages); ++i) {
    ASSERT_TRUE(backend->Put("after/" + std::to_string(i), std::string(4000, 'x')).ok());
  }
  EXPECT_LE(backend->Stats().wal_pages, kMaxPages);
  // The WAL file was cut back to the bound once it restarted.
  EXPECT_LE(FileSize(DbPath() + "-wal"), WalBytes(kMaxPages));
  EXPECT_EQ(MustGet(*backend, "pinned/3/59"), std::string(4000, 'a' + 59 % 26));
}

// kill -9 while checkpoints run in the background loses nothing acknowledged.
TEST_F(SqliteBackendTest, AcknowledgedWritesSurviveAKillDuringCheckpoints) {
  constexpr int kWrites = 400;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto backend = SqliteBackend::Open({.path = DbPath(), .wal_checkpoint_pages = 10});
    if (!backend.ok()) _exit(2);
    // Noise writers keep commits and checkpoints going when the process dies.
    std::vector<std::thread> noise;
    for (int t = 0; t < 3; ++t) {
      noise.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          (void)(*backend)->Put("noise/" + std::to_string(t) + "/" + std::to_string(i % 500),
                                std::string(3000, 'n'));
        }
      });
    }
    for (int i = 0; i < kWrites; ++i) {
      if (!(*backend)->Put("k" + std::to_string(i), std::string(2000, 'a' + i % 26)).ok()) {
        _exit(3);
      }
    }
    if ((*backend)->Stats().checkpoints == 0) _exit(5);
    raise(SIGKILL);
    _exit(4);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
  ASSERT_EQ(WTERMSIG(wstatus), SIGKILL);
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(MustGet(*backend, "k" + std::to_string(i)), std::string(2000, 'a' + i % 26)) << i;
  }
}

// A transaction larger than the writer's page cache makes SQLite write WAL frames before the
// commit, read them back and overwrite some of them; the writer gathers WAL writes, so this
// checks that reads and rewrites see them in order.
TEST_F(SqliteBackendTest, TransactionLargerThanThePageCacheCommitsIntact) {
  auto backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  auto value = [](int i, char round) {
    return std::string(3000 + i % 700, round) + std::to_string(i);
  };
  std::vector<TxnOp> ops;
  for (int i = 0; i < 1500; ++i)
    ops.push_back({TxnOp::Kind::kPut, "big/" + std::to_string(i), value(i, 'a')});
  // The same keys again, so pages already spilled to the WAL are changed within the transaction.
  for (int i = 0; i < 1500; i += 3)
    ops.push_back({TxnOp::Kind::kPut, "big/" + std::to_string(i), value(i, 'b')});
  for (int i = 1; i < 1500; i += 7)
    ops.push_back({TxnOp::Kind::kDelete, "big/" + std::to_string(i), ""});
  ASSERT_TRUE(backend->Transaction(ops).ok());
  auto expected = [&](int i) -> std::optional<std::string> {
    if (i % 7 == 1) return std::nullopt;
    return value(i, i % 3 == 0 ? 'b' : 'a');
  };
  for (int i = 0; i < 1500; i += 11)
    EXPECT_EQ(MustGet(*backend, "big/" + std::to_string(i)), expected(i)) << i;
  backend.reset();
  backend = MustOpen({.path = DbPath()});
  ASSERT_NE(backend, nullptr);
  for (int i = 0; i < 1500; ++i)
    EXPECT_EQ(MustGet(*backend, "big/" + std::to_string(i)), expected(i)) << i;
}

TEST_F(SqliteBackendTest, ManyConcurrentReadersShareTheReaderPool) {
  auto backend = MustOpen({.path = DbPath(), .max_readers = 2});
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->Put("k", "v").ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto got = backend->Get("k");
        if (!got.ok() || *got != "v") ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace coffer::physical::testing
