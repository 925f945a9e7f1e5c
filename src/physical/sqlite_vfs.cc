#include "physical/sqlite_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <new>
#include <string>

namespace coffer::physical::internal {
namespace {

constexpr char kVfsName[] = "coffer-coalescing-wal";
// Held bytes are written out before they pass this, so a huge transaction is not kept in memory.
constexpr size_t kMaxHeldBytes = size_t{1} << 20;
// The largest write passed to the base VFS at once: SQLite's unix VFS writes at most 0x1ffff
// bytes per call (it masks the length) and reports a disk-full error for a larger one.
constexpr size_t kMaxWriteBytes = 124 * 1024;

// SQLite allocates szOsFile bytes per open file: this header, then the base VFS's own file.
struct File {
  sqlite3_file base;  // pMethods is kWalMethods or kPassMethods
  sqlite3_file* real;
  std::string* held;  // WAL files only: bytes not yet written, starting at held_offset
  sqlite3_int64 held_offset;
};
static_assert(sizeof(File) % 8 == 0, "the base VFS's file follows, 8-byte aligned");

File* Of(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Of(file)->real; }
sqlite3_vfs* BaseVfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// Writes the held bytes out. They are dropped on failure as well: SQLite treats the error as a
// failed write of the operation that asked for the flush (a sync, a read), and recovery ignores
// WAL frames that no synced commit covers.
int Flush(File* f) {
  if (f->held == nullptr || f->held->empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->held->size() && rc == SQLITE_OK; done += kMaxWriteBytes) {
    size_t n = std::min(kMaxWriteBytes, f->held->size() - done);
    rc = f->real->pMethods->xWrite(f->real, f->held->data() + done, static_cast<int>(n),
                                   f->held_offset + static_cast<sqlite3_int64>(done));
  }
  f->held->clear();
  return rc;
}

// --- Methods shared by both tables: forward to the real file.

int PassLock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xLock(Real(file), level);
}
int PassUnlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int PassCheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int PassSectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int PassDeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int PassShmMap(sqlite3_file* file, int page, int page_size, int extend, void volatile** out) {
  const sqlite3_io_methods* m = Real(file)->pMethods;
  if (m->iVersion < 2 || m->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return m->xShmMap(Real(file), page, page_size, extend, out);
}
int PassShmLock(sqlite3_file* file, int offset, int n, int flags) {
  const sqlite3_io_methods* m = Real(file)->pMethods;
  if (m->iVersion < 2 || m->xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
  return m->xShmLock(Real(file), offset, n, flags);
}
void PassShmBarrier(sqlite3_file* file) {
  const sqlite3_io_methods* m = Real(file)->pMethods;
  if (m->iVersion >= 2 && m->xShmBarrier != nullptr) m->xShmBarrier(Real(file));
}
int PassShmUnmap(sqlite3_file* file, int delete_flag) {
  const sqlite3_io_methods* m = Real(file)->pMethods;
  if (m->iVersion < 2 || m->xShmUnmap == nullptr) return SQLITE_OK;
  return m->xShmUnmap(Real(file), delete_flag);
}
int PassFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  const sqlite3_io_methods* m = Real(file)->pMethods;
  if (m->iVersion < 3 || m->xFetch == nullptr) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return m->xFetch(Real(file), offset, amount, out);
}
int PassUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  const sqlite3_io_methods* m = Real(file)->pMethods;
  if (m->iVersion < 3 || m->xUnfetch == nullptr) return SQLITE_OK;
  return m->xUnfetch(Real(file), offset, page);
}

// --- Files other than WALs.

int PassClose(sqlite3_file* file) { return Real(file)->pMethods->xClose(Real(file)); }
int PassRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
}
int PassWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xWrite(Real(file), data, amount, offset);
}
int PassTruncate(sqlite3_file* file, sqlite3_int64 size) {
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int PassSync(sqlite3_file* file, int flags) {
  return Real(file)->pMethods->xSync(Real(file), flags);
}
int PassFileSize(sqlite3_file* file, sqlite3_int64* out) {
  return Real(file)->pMethods->xFileSize(Real(file), out);
}
int PassFileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}

const sqlite3_io_methods kPassMethods = {
    3,
    PassClose,
    PassRead,
    PassWrite,
    PassTruncate,
    PassSync,
    PassFileSize,
    PassLock,
    PassUnlock,
    PassCheckReservedLock,
    PassFileControl,
    PassSectorSize,
    PassDeviceCharacteristics,
    PassShmMap,
    PassShmLock,
    PassShmBarrier,
    PassShmUnmap,
    PassFetch,
    PassUnfetch,
};

// --- WAL files: contiguous writes are held and written out together.

int WalWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
  std::string& held = *f->held;
  size_t size = static_cast<size_t>(amount);
  const char* bytes = static_cast<const char*>(data);
  try {
    if (!held.empty() && offset == f->held_offset + static_cast<sqlite3_int64>(held.size()) &&
        held.size() + size <= kMaxHeldBytes) {
      held.append(bytes, size);
      return SQLITE_OK;
    }
    // Not a continuation (or too much held): what is held goes first, keeping the order of writes.
    int rc = Flush(f);
    if (rc != SQLITE_OK) return rc;
    if (size <= kMaxWriteBytes) {
      held.assign(bytes, size);
      f->held_offset = offset;
      return SQLITE_OK;
    }
  } catch (const std::bad_alloc&) {
    // append and assign leave `held` as it was; write it out, then this write directly.
    int rc = Flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  return f->real->pMethods->xWrite(f->real, data, amount, offset);
}

int WalClose(sqlite3_file* file) {
  File* f = Of(file);
  int flushed = Flush(f);
  int closed = f->real->pMethods->xClose(f->real);
  delete f->held;
  f->held = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}
int WalRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  int rc = Flush(Of(file));
  return rc != SQLITE_OK ? rc : PassRead(file, out, amount, offset);
}
int WalTruncate(sqlite3_file* file, sqlite3_int64 size) {
  int rc = Flush(Of(file));
  return rc != SQLITE_OK ? rc : PassTruncate(file, size);
}
int WalSync(sqlite3_file* file, int flags) {
  int rc = Flush(Of(file));
  return rc != SQLITE_OK ? rc : PassSync(file, flags);
}
int WalFileSize(sqlite3_file* file, sqlite3_int64* out) {
  int rc = Flush(Of(file));
  return rc != SQLITE_OK ? rc : PassFileSize(file, out);
}
int WalFileControl(sqlite3_file* file, int op, void* arg) {
  int rc = Flush(Of(file));
  return rc != SQLITE_OK ? rc : PassFileControl(file, op, arg);
}

const sqlite3_io_methods kWalMethods = {
    3,
    WalClose,
    WalRead,
    WalWrite,
    WalTruncate,
    WalSync,
    WalFileSize,
    PassLock,
    PassUnlock,
    PassCheckReservedLock,
    WalFileControl,
    PassSectorSize,
    PassDeviceCharacteristics,
    PassShmMap,
    PassShmLock,
    PassShmBarrier,
    PassShmUnmap,
    PassFetch,
    PassUnfetch,
};

// --- The VFS: opens through the base VFS, everything else is forwarded.

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = Of(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(File));
  f->held = nullptr;
  f->held_offset = 0;
  bool wal = (flags & SQLITE_OPEN_WAL) != 0;
  if (wal) {
    f->held = new (std::nothrow) std::string();
    if (f->held == nullptr) return SQLITE_NOMEM;
  }
  int rc = BaseVfs(vfs)->xOpen(BaseVfs(vfs), name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) {
    delete f->held;
    f->held = nullptr;
    // SQLite calls xClose after a failed open only when pMethods is set; forward it if the base
    // file needs it.
    if (f->real->pMethods != nullptr) f->base.pMethods = &kPassMethods;
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  f->base.pMethods = wal ? &kWalMethods : &kPassMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return BaseVfs(vfs)->xDelete(BaseVfs(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return BaseVfs(vfs)->xAccess(BaseVfs(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return BaseVfs(vfs)->xFullPathname(BaseVfs(vfs), name, size, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return BaseVfs(vfs)->xDlOpen(BaseVfs(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int size, char* out) {
  BaseVfs(vfs)->xDlError(BaseVfs(vfs), size, out);
}
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return BaseVfs(vfs)->xDlSym(BaseVfs(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { BaseVfs(vfs)->xDlClose(BaseVfs(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return BaseVfs(vfs)->xRandomness(BaseVfs(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int microseconds) {
  return BaseVfs(vfs)->xSleep(BaseVfs(vfs), microseconds);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return BaseVfs(vfs)->xCurrentTime(BaseVfs(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
  return BaseVfs(vfs)->xGetLastError(BaseVfs(vfs), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  sqlite3_vfs* base = BaseVfs(vfs);
  if (base->iVersion >= 2 && base->xCurrentTimeInt64 != nullptr) {
    return base->xCurrentTimeInt64(base, out);
  }
  double days = 0;
  int rc = base->xCurrentTime(base, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

sqlite3_vfs vfs_storage;

const char* Register() {
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (base == nullptr || base->szOsFile <= 0) return nullptr;
  sqlite3_vfs& vfs = vfs_storage;
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = kVfsName;
  vfs.pAppData = base;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return kVfsName;
}

}  // namespace

const char* CoalescingWalVfsName() {
  static const char* const name = Register();
  return name;
}

}  // namespace coffer::physical::internal
