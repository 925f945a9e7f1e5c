// Fuzzes the readers of untrusted S3 data: Sindri's secret object JSON (with a decrypt attempt
// under a fixed identity), the XML reader with the ListObjectsV2 and Error readers on top, and
// the AWS INI reader. The first byte picks the reader. Invariant checked: a parsed object
// serializes and re-parses to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "s3/client.h"
#include "s3/credentials.h"
#include "s3/object.h"
#include "s3/xml.h"

namespace {

const coffer::age::X25519Identity& FixedIdentity() {
  // The corpus seeds under fuzz/corpus/s3_fuzz are encrypted to this test-only key.
  static const auto* id = new coffer::age::X25519Identity(
      *coffer::age::X25519Identity::Parse("AGE-SECRET-KEY-12TMSHMSXVMFCUT4P4Y26D73TY5XHWSQGG52PDN2EYPE2Q3CPVARSA6UULX"));
  return *id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto obj = coffer::s3::ParseObject(in);
      if (!obj.ok()) return 0;
      std::string once = coffer::s3::SerializeObject(*obj);
      auto again = coffer::s3::ParseObject(once);
      if (!again.ok() || coffer::s3::SerializeObject(*again) != once) std::abort();
      (void)coffer::s3::OpenSecret(*obj, obj->secret_name, {FixedIdentity()});
      break;
    }
    case 1: {
      (void)coffer::s3::ParseXml(in);
      (void)coffer::s3::ParseListObjectsV2(in);
      (void)coffer::s3::ParseS3Error(in);
      break;
    }
    case 2: {
      auto ini = coffer::s3::ParseIni(in);
      (void)ini;
      break;
    }
  }
  return 0;
}
