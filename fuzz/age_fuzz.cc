// libFuzzer target: age decryption of arbitrary bytes (binary or armored, autodetected) with a
// fixed X25519 identity and a passphrase identity capped at a tiny scrypt work factor, plus the
// identity-file and recipients-file parsers, Bech32 and the armor reader on their own. Besides
// crashes and sanitizer reports it checks the contract: every failure is a Status with a
// message; a successful decryption ends exactly at the end of the input; and a round trip of the
// input itself through Encrypt/Decrypt (binary and armored) gives it back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/age/age.h"
#include "formats/age/armor.h"
#include "formats/age/bech32.h"
#include "formats/age/keys.h"

namespace {

using namespace coffer;

void Require(bool condition) {
  if (!condition) std::abort();
}

// The example identity of the age specification; seeds are encrypted to it.
constexpr char kIdentity[] = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

const age::X25519Identity& Identity() {
  static const age::X25519Identity* const id = new age::X25519Identity(*age::X25519Identity::Parse(kIdentity));
  return *id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. Decrypt. Work factors above 4 are refused before any scrypt work.
  {
    age::ScryptIdentity passphrase(SecretString("password"), /*max_work_factor=*/4);
    age::StringReader in(input);
    std::string plain;
    age::StringWriter out(&plain);
    Status st = age::Decrypt({&Identity(), &passphrase}, in, out);
    Require(st.ok() || !st.message().empty());
    if (st.ok()) Require(plain.size() <= size);
  }

  // 2. Key files and keys.
  {
    auto ids = age::ParseIdentities(input);
    Require(ids.ok() || !ids.status().message().empty());
    if (ids.ok()) {
      for (const auto& id : *ids) Require(age::X25519Recipient::Parse(id.recipient().String()).ok());
    }
    auto rs = age::ParseRecipients(input);
    if (rs.ok()) {
      for (const auto& r : *rs) Require(age::X25519Recipient::Parse(r.String()).ok());
    }
    auto b = age::Bech32Decode(input);
    if (b.ok()) Require(age::Bech32Decode(age::Bech32Encode(b->hrp, b->data.data(), b->data.size())).ok());
  }

  // 3. The armor reader alone, to the end of the input.
  {
    age::StringReader raw(input);
    age::BufferedReader buffered(raw);
    age::ArmorReader armor(buffered);
    uint8_t buf[4096];
    size_t total = 0;
    for (;;) {
      auto n = armor.Read(buf, sizeof(buf));
      if (!n.ok()) {
        Require(!n.status().message().empty());
        break;
      }
      if (*n == 0) break;
      total += *n;
    }
    Require(total <= size);
  }

  // 4. Round trip of the input as plaintext.
  if (size <= 4096) {
    for (bool armor : {false, true}) {
      age::StringReader in(input);
      std::string file;
      age::StringWriter w(&file);
      Require(age::Encrypt({&Identity().recipient()}, in, w, armor).ok());
      age::StringReader fin(file);
      std::string back;
      age::StringWriter bw(&back);
      Require(age::Decrypt({&Identity()}, fin, bw).ok());
      Require(back == input);
    }
  }
  return 0;
}
