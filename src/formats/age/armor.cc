#include "formats/age/armor.h"

#include <cstring>

#include "base/encoding.h"

namespace coffer::age {
namespace {

constexpr size_t kLineChars = 64;
constexpr size_t kLineBytes = 48;

Status ArmorError(std::string what) { return DataLoss("invalid armor: " + what); }

StatusOr<std::string> ArmorLine(BufferedReader& in) {
  auto line = in.ReadLine(128);
  if (!line.ok() && line.status().message() == "line too long") return ArmorError("line longer than 64 columns");
  return line;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

ArmorWriter::ArmorWriter(Writer& out) : out_(out) {}

Status ArmorWriter::EmitFullGroups() {
  size_t full = pending_.size() / kLineBytes * kLineBytes;
  if (full == 0) return OkStatus();
  line_buf_.clear();
  for (size_t i = 0; i < full; i += kLineBytes) {
    line_buf_ += Base64Encode(std::string_view(pending_).substr(i, kLineBytes));
    line_buf_.push_back('\n');
  }
  pending_.erase(0, full);
  return out_.Write(line_buf_);
}

Status ArmorWriter::Write(const uint8_t* data, size_t n) {
  if (!began_) {
    began_ = true;
    RETURN_IF_ERROR(out_.Write(std::string(kArmorBegin) + "\n"));
  }
  pending_.append(reinterpret_cast<const char*>(data), n);
  if (pending_.size() >= 64 * kLineBytes) return EmitFullGroups();
  return OkStatus();
}

Status ArmorWriter::Flush() { return out_.Flush(); }

Status ArmorWriter::Close() {
  if (!began_) {
    began_ = true;
    RETURN_IF_ERROR(out_.Write(std::string(kArmorBegin) + "\n"));
  }
  RETURN_IF_ERROR(EmitFullGroups());
  std::string tail;
  if (!pending_.empty()) tail = Base64Encode(pending_) + "\n";
  pending_.clear();
  tail += std::string(kArmorEnd) + "\n";
  return out_.Write(tail);
}

Status ArmorReader::NextLine() {
  if (!begun_) {
    // Whitespace before the BEGIN line is allowed.
    for (;;) {
      ASSIGN_OR_RETURN(std::string_view p, in_.Peek(256));
      if (p.empty()) return ArmorError("missing BEGIN line");
      size_t k = 0;
      while (k < p.size() && IsSpace(p[k])) ++k;
      if (k == 0) break;
      uint8_t skip[256];
      RETURN_IF_ERROR(in_.Read(skip, k).status());
    }
    ASSIGN_OR_RETURN(std::string line, ArmorLine(in_));
    if (line != std::string(kArmorBegin) + "\n" && line != std::string(kArmorBegin) + "\r\n") {
      return ArmorError("missing or malformed BEGIN line");
    }
    begun_ = true;
    return OkStatus();
  }
  ASSIGN_OR_RETURN(std::string line, ArmorLine(in_));
  bool has_eol = !line.empty() && line.back() == '\n';
  if (has_eol) {
    line.pop_back();
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }
  if (line == kArmorEnd) {
    if (!saw_data_) return ArmorError("no data between BEGIN and END");
    // Only whitespace may follow.
    for (;;) {
      uint8_t rest[512];
      ASSIGN_OR_RETURN(size_t k, in_.Read(rest, sizeof(rest)));
      if (k == 0) break;
      for (size_t i = 0; i < k; ++i) {
        if (!IsSpace(static_cast<char>(rest[i]))) return ArmorError("trailing data after END line");
      }
    }
    done_ = true;
    return OkStatus();
  }
  if (!has_eol) return ArmorError("unexpected end of input (missing END line)");
  if (need_end_) return ArmorError("data after the last (short or padded) line");
  if (line.empty()) return ArmorError("empty line");
  if (line.size() > kLineChars) return ArmorError("line longer than 64 columns");
  if (line.size() % 4 != 0) return ArmorError("line length is not a multiple of 4 (missing padding?)");
  if (line.size() < kLineChars || line.back() == '=') need_end_ = true;
  auto bytes = Base64Decode(line);
  if (!bytes.ok()) return ArmorError("malformed base64");
  // Base64Decode also accepts unpadded text; the length check above already required padding.
  saw_data_ = true;
  decoded_ = std::move(*bytes);
  decoded_pos_ = 0;
  return OkStatus();
}

StatusOr<size_t> ArmorReader::Read(uint8_t* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (decoded_pos_ < decoded_.size()) {
      size_t k = std::min(n - got, decoded_.size() - decoded_pos_);
      std::memcpy(buf + got, decoded_.data() + decoded_pos_, k);
      decoded_pos_ += k;
      got += k;
      continue;
    }
    if (done_) break;
    // Return what we have before parsing further lines, so errors surface in order.
    if (got > 0 && got >= 4096) break;
    RETURN_IF_ERROR(NextLine());
  }
  return got;
}

}  // namespace coffer::age
