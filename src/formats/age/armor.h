// age's ASCII armor: strict PEM (RFC 7468) with the label "AGE ENCRYPTED FILE", padded base64
// in 64-column lines. The reader accepts LF or CRLF and whitespace before and after the block,
// and rejects everything else age rejects (short or long lines, blank lines, bad padding,
// non-canonical base64, headers, data after the END line).
#pragma once

#include <cstdint>
#include <string>

#include "formats/age/io.h"

namespace coffer::age {

inline constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr std::string_view kArmorEnd = "-----END AGE ENCRYPTED FILE-----";

// Encodes everything written into `out` (borrowed). Close() writes the last line and the END
// line; it must be called exactly once, after the last Write.
class ArmorWriter final : public Writer {
 public:
  explicit ArmorWriter(Writer& out);
  using Writer::Write;
  Status Write(const uint8_t* data, size_t n) override;
  Status Flush() override;
  Status Close();

 private:
  Status EmitFullGroups();
  Writer& out_;
  std::string pending_;  // raw bytes not yet encoded
  std::string line_buf_;
  bool began_ = false;
};

// Decodes an armored stream from `in` (borrowed). Read returns the decoded bytes; any armor
// violation is a kDataLoss "invalid armor: ..." error. End of input is reported only after the
// END line and the trailing whitespace were checked.
class ArmorReader final : public Reader {
 public:
  explicit ArmorReader(BufferedReader& in) : in_(in) {}
  StatusOr<size_t> Read(uint8_t* buf, size_t n) override;

 private:
  Status NextLine();
  BufferedReader& in_;
  std::string decoded_;
  size_t decoded_pos_ = 0;
  bool begun_ = false;
  bool done_ = false;
  bool need_end_ = false;  // the previous data line was the last one (short or padded)
  bool saw_data_ = false;
};

}  // namespace coffer::age
