// libFuzzer target: the dotenv parser, the editor and dotenvx value decryption.
// Besides crashes and sanitizer reports it checks the contract: parsing never fails and
// expansion terminates; rewriting every value with itself leaves the file reading the same;
// setting a new key either fails with a message or reads back exactly; decrypting arbitrary
// "encrypted:" text with a fixed key is a Status, never a crash, and a value encrypted to the
// key's public key decrypts back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/dotenv/dotenvx.h"
#include "formats/dotenv/parser.h"

namespace {

using namespace coffer;
using namespace coffer::dotenv;

void Require(bool condition) {
  if (!condition) std::abort();
}

// FORMATS.md's published dotenvx vector key.
constexpr char kPrivateKey[] = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1";

const SecretBytes& Key() {
  static const SecretBytes* const key = new SecretBytes(*ParsePrivateKey(kPrivateKey));
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. Parse and resolve (with a process environment that refers to itself).
  Document doc = Document::Parse(input);
  std::map<std::string, std::string> env{{"HOME", "/home/x"}, {"SELF", "a${SELF}b"}};
  ResolveOptions options;
  options.process_env = &env;
  options.decrypt = [](const std::string&, const std::string& v) { return DecryptValue(Key(), v); };
  Resolved resolved = Resolve(doc, options);
  for (const Status& s : resolved.errors) Require(!s.ok() && !s.message().empty());
  options.overload = true;
  (void)Resolve(doc, options);

  // 2. Rewrite every value with itself: the file must read the same afterwards.
  std::vector<Document::Edit> edits;
  for (size_t i = 0; i < doc.entries().size() && i < 64; ++i) edits.push_back({i, doc.entries()[i].value});
  Document same = doc;
  Status s = same.Apply(edits);
  if (s.ok()) {
    Document again = Document::Parse(same.text());
    Require(again.entries().size() == doc.entries().size());
    for (size_t i = 0; i < doc.entries().size(); ++i) {
      Require(again.entries()[i].key == doc.entries()[i].key);
      Require(again.entries()[i].value == doc.entries()[i].value);
    }
  } else {
    Require(!s.message().empty());
  }

  // 3. Set a key to (a slice of) the input itself.
  std::string value(input.substr(0, 256));
  Document set = doc;
  s = set.Set("FUZZ_KEY", value);
  if (s.ok()) {
    Document again = Document::Parse(set.text());
    const Entry* e = again.Find("FUZZ_KEY");
    Require(e != nullptr && e->value == value);
  } else {
    Require(!s.message().empty());
  }

  // 4. Decrypt arbitrary data as a dotenvx value, and a real one round trip.
  StatusOr<std::string> plain = DecryptValue(Key(), std::string("encrypted:") + std::string(input));
  if (!plain.ok()) Require(!plain.status().message().empty());
  if (size < 512) {
    StatusOr<std::string> enc = EncryptValue(PublicKeyHex(Key()), input);
    Require(enc.ok());
    StatusOr<std::string> dec = DecryptValue(Key(), *enc);
    Require(dec.ok() && *dec == input);
  }
  return 0;
}
