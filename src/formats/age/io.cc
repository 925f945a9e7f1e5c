#include "formats/age/io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <istream>
#include <ostream>

namespace coffer::age {

StatusOr<size_t> ReadFull(Reader& r, uint8_t* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ASSIGN_OR_RETURN(size_t k, r.Read(buf + got, n - got));
    if (k == 0) break;
    got += k;
  }
  return got;
}

StatusOr<size_t> FdReader::Read(uint8_t* buf, size_t n) {
  for (;;) {
    ssize_t k = ::read(fd_, buf, n);
    if (k >= 0) return static_cast<size_t>(k);
    if (errno == EINTR) continue;
    return Unavailable("reading " + name_ + ": " + std::strerror(errno));
  }
}

Status FdWriter::Write(const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd_, data, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return Unavailable("writing " + name_ + ": " + std::strerror(errno));
    }
    data += k;
    n -= static_cast<size_t>(k);
  }
  return OkStatus();
}

StatusOr<size_t> StringReader::Read(uint8_t* buf, size_t n) {
  size_t k = std::min(n, data_.size());
  if (k > 0) std::memcpy(buf, data_.data(), k);
  data_.remove_prefix(k);
  return k;
}

Status StringWriter::Write(const uint8_t* data, size_t n) {
  out_->append(reinterpret_cast<const char*>(data), n);
  return OkStatus();
}

StatusOr<size_t> IstreamReader::Read(uint8_t* buf, size_t n) {
  if (!in_.good()) {
    if (in_.bad()) return Unavailable("reading input failed");
    return size_t{0};
  }
  in_.read(reinterpret_cast<char*>(buf), static_cast<std::streamsize>(n));
  if (in_.bad()) return Unavailable("reading input failed");
  return static_cast<size_t>(in_.gcount());
}

Status OstreamWriter::Write(const uint8_t* data, size_t n) {
  out_.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out_) return Unavailable("writing output failed");
  return OkStatus();
}

Status OstreamWriter::Flush() {
  out_.flush();
  if (!out_) return Unavailable("writing output failed");
  return OkStatus();
}

BufferedReader::BufferedReader(Reader& in, size_t capacity) : in_(in), buf_(capacity, '\0') {}

Status BufferedReader::Fill(size_t want) {
  if (end_ - pos_ >= want || eof_) return OkStatus();
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  while (end_ < want && !eof_) {
    ASSIGN_OR_RETURN(size_t k, in_.Read(reinterpret_cast<uint8_t*>(buf_.data()) + end_, buf_.size() - end_));
    if (k == 0) eof_ = true;
    end_ += k;
  }
  return OkStatus();
}

StatusOr<size_t> BufferedReader::Read(uint8_t* buf, size_t n) {
  if (pos_ == end_) {
    if (eof_) return size_t{0};
    // Large reads bypass the buffer.
    if (n >= buf_.size()) return in_.Read(buf, n);
    RETURN_IF_ERROR(Fill(1));
    if (pos_ == end_) return size_t{0};
  }
  size_t k = std::min(n, end_ - pos_);
  std::memcpy(buf, buf_.data() + pos_, k);
  pos_ += k;
  return k;
}

StatusOr<std::string_view> BufferedReader::Peek(size_t n) {
  n = std::min(n, buf_.size());
  RETURN_IF_ERROR(Fill(n));
  return std::string_view(buf_.data() + pos_, std::min(n, end_ - pos_));
}

StatusOr<std::string> BufferedReader::ReadLine(size_t max_len) {
  std::string line;
  for (;;) {
    if (pos_ == end_) {
      if (eof_) return line;
      RETURN_IF_ERROR(Fill(1));
      if (pos_ == end_) return line;
    }
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) + 1 : end_ - pos_;
    if (line.size() + take > max_len) return DataLoss("line too long");
    line.append(start, take);
    pos_ += take;
    if (nl) return line;
  }
}

}  // namespace coffer::age
