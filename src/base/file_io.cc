#include "base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace coffer {
namespace {

std::string Dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " \"" + path + "\": " + std::strerror(errno);
}

}  // namespace

StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return InvalidArgument(Errno("cannot open", path));
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("cannot read \"" + path + "\": is a directory");
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = InvalidArgument(Errno("cannot read", path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(data));
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode, WriteOptions options) {
  const Status exists = PreconditionFailed("\"" + path + "\" already exists");
  struct stat st;
  if (options.exclusive && ::lstat(path.c_str(), &st) == 0) return exists;
  if (options.keep_existing_mode && ::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  std::string dir = Dir(path);
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  std::string tmpl = dir + "/." + base + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return Unavailable(Errno("cannot create a temporary file in", dir));
  std::string tmp(name.data());
  auto fail = [&](const std::string& what) {
    Status s = Unavailable(Errno(what, path));
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd, mode) != 0) return fail("cannot set the mode of");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Unavailable(Errno("cannot close", path));
  }
  // link() refuses to replace an existing file, which makes the exclusive case race-free.
  if (options.exclusive ? ::link(tmp.c_str(), path.c_str()) != 0 : ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    Status s = e == EEXIST && options.exclusive ? exists : Unavailable(Errno("cannot replace", path));
    ::unlink(tmp.c_str());
    return s;
  }
  if (options.exclusive) ::unlink(tmp.c_str());
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return OkStatus();
}

bool IsGroupOrWorldReadable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace coffer
