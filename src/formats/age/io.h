// Byte streams for age: small Reader/Writer interfaces so encryption and decryption stream with
// constant memory over files, pipes, iostreams or strings. Implementations are not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "base/status.h"

namespace coffer::age {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to n bytes into buf; returns how many (0 only at end of input). Errors are values.
  virtual StatusOr<size_t> Read(uint8_t* buf, size_t n) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all n bytes or returns an error.
  virtual Status Write(const uint8_t* data, size_t n) = 0;
  // Pushes buffered bytes to the underlying sink. Encrypt/Decrypt call it once at the end.
  virtual Status Flush() { return OkStatus(); }
  Status Write(std::string_view s) { return Write(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
};

// Reads until buf holds n bytes or input ends; returns the count.
StatusOr<size_t> ReadFull(Reader& r, uint8_t* buf, size_t n);

// A POSIX file descriptor (not owned). Retries EINTR; `name` appears in error messages.
class FdReader final : public Reader {
 public:
  explicit FdReader(int fd, std::string name = "input") : fd_(fd), name_(std::move(name)) {}
  StatusOr<size_t> Read(uint8_t* buf, size_t n) override;

 private:
  int fd_;
  std::string name_;
};

class FdWriter final : public Writer {
 public:
  explicit FdWriter(int fd, std::string name = "output") : fd_(fd), name_(std::move(name)) {}
  using Writer::Write;
  Status Write(const uint8_t* data, size_t n) override;

 private:
  int fd_;
  std::string name_;
};

// An in-memory input (borrowed; must outlive the reader).
class StringReader final : public Reader {
 public:
  explicit StringReader(std::string_view data) : data_(data) {}
  StatusOr<size_t> Read(uint8_t* buf, size_t n) override;

 private:
  std::string_view data_;
};

// Appends to a caller-owned string.
class StringWriter final : public Writer {
 public:
  explicit StringWriter(std::string* out) : out_(out) {}
  using Writer::Write;
  Status Write(const uint8_t* data, size_t n) override;

 private:
  std::string* out_;
};

class IstreamReader final : public Reader {
 public:
  explicit IstreamReader(std::istream& in) : in_(in) {}
  StatusOr<size_t> Read(uint8_t* buf, size_t n) override;

 private:
  std::istream& in_;
};

class OstreamWriter final : public Writer {
 public:
  explicit OstreamWriter(std::ostream& out) : out_(out) {}
  using Writer::Write;
  Status Write(const uint8_t* data, size_t n) override;
  Status Flush() override;

 private:
  std::ostream& out_;
};

// A read buffer with look-ahead and line reads, for the header and armor parsers.
class BufferedReader final : public Reader {
 public:
  explicit BufferedReader(Reader& in, size_t capacity = 64 * 1024);
  StatusOr<size_t> Read(uint8_t* buf, size_t n) override;
  // Up to n (<= capacity) next bytes without consuming them; fewer only at end of input.
  StatusOr<std::string_view> Peek(size_t n);
  // The next line including its '\n', or up to end of input if there is no '\n' (then the
  // result does not end in '\n'; empty at end of input). A line longer than max_len is an error.
  StatusOr<std::string> ReadLine(size_t max_len);

 private:
  Status Fill(size_t want);
  Reader& in_;
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
};

}  // namespace coffer::age
