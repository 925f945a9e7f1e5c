#include "formats/age/age.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/encoding.h"
#include "crypto/chacha20poly1305.h"
#include "crypto/hash.h"
#include "formats/age/armor.h"

namespace coffer::age {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  return s;
}

std::string EncryptTo(const std::vector<const Recipient*>& rs, std::string_view plain, bool armor = false) {
  StringReader in(plain);
  std::string out;
  StringWriter w(&out);
  Status st = Encrypt(rs, in, w, armor);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// Decrypts; returns the status and fills *plain with what was released.
Status DecryptWith(const std::vector<const Identity*>& ids, std::string_view file, std::string* plain) {
  StringReader in(file);
  plain->clear();
  StringWriter w(plain);
  return Decrypt(ids, in, w);
}

class AgeTest : public ::testing::Test {
 protected:
  X25519Identity alice_ = X25519Identity::Generate();
  X25519Identity bob_ = X25519Identity::Generate();
};

TEST_F(AgeTest, RoundTripsAtChunkBoundaries) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537}, size_t{131072}, size_t{200001}}) {
    for (bool armor : {false, true}) {
      std::string plain = Pattern(n);
      std::string file = EncryptTo({&alice_.recipient()}, plain, armor);
      // Chunk count: ceil(n / 64 KiB), and one empty chunk for an empty file.
      size_t chunks = n == 0 ? 1 : (n + kChunkSize - 1) / kChunkSize;
      if (!armor) {
        size_t header = file.find("\n---");
        ASSERT_NE(header, std::string::npos);
        size_t payload = file.find('\n', header + 1) + 1;
        EXPECT_EQ(file.size() - payload, 16 + n + 16 * chunks) << n;
      } else {
        EXPECT_EQ(file.rfind(std::string(kArmorBegin) + "\n", 0), 0u);
        EXPECT_EQ(file.substr(file.size() - kArmorEnd.size() - 1), std::string(kArmorEnd) + "\n");
      }
      std::string got;
      Status st = DecryptWith({&alice_}, file, &got);
      ASSERT_TRUE(st.ok()) << n << " armor=" << armor << ": " << st.ToString();
      EXPECT_EQ(got, plain) << n;
    }
  }
}

TEST_F(AgeTest, SeveralRecipientsEachDecrypt) {
  std::string file = EncryptTo({&alice_.recipient(), &bob_.recipient()}, "shared secret");
  std::string got;
  ASSERT_TRUE(DecryptWith({&bob_}, file, &got).ok());
  EXPECT_EQ(got, "shared secret");
  X25519Identity carol = X25519Identity::Generate();
  ASSERT_TRUE(DecryptWith({&carol, &alice_}, file, &got).ok());
  Status st = DecryptWith({&carol}, file, &got);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "no identity matched any of the recipients");
}

TEST_F(AgeTest, PassphraseRoundTripAndRules) {
  ScryptRecipient r(SecretString("correct horse"), 10);
  std::string file = EncryptTo({&r}, "by passphrase");
  EXPECT_NE(file.find("-> scrypt "), std::string::npos);
  std::string got;
  ScryptIdentity good(SecretString("correct horse"));
  ASSERT_TRUE(DecryptWith({&good}, file, &got).ok());
  EXPECT_EQ(got, "by passphrase");
  ScryptIdentity bad(SecretString("wrong"));
  EXPECT_EQ(DecryptWith({&bad}, file, &got).code(), StatusCode::kPermissionDenied);
  // An X25519 identity does not match a passphrase file.
  EXPECT_EQ(DecryptWith({&alice_}, file, &got).code(), StatusCode::kPermissionDenied);
  // A work factor above the identity's limit is refused before any scrypt work.
  ScryptIdentity low_limit(SecretString("correct horse"), 9);
  Status st = DecryptWith({&low_limit}, file, &got);
  EXPECT_NE(st.message().find("work factor too large"), std::string::npos) << st.ToString();
  // Mixing with other recipients is refused when encrypting.
  StringReader in("x");
  std::string out;
  StringWriter w(&out);
  EXPECT_EQ(Encrypt({&r, &alice_.recipient()}, in, w).code(), StatusCode::kInvalidArgument);
}

TEST_F(AgeTest, NoRecipientsIsAnError) {
  StringReader in("x");
  std::string out;
  StringWriter w(&out);
  EXPECT_EQ(Encrypt({}, in, w).code(), StatusCode::kInvalidArgument);
}

// ---- hand-built files, for the malformed cases ----

struct Chunk {
  std::string plain;
  bool last;
};

// Builds an age file from parts, so each rule can be broken on its own.
std::string BuildFile(const SecretBytes& file_key, const std::string& stanzas_text, const std::vector<Chunk>& chunks,
                      std::string_view mac_override = {}) {
  std::string header = "age-encryption.org/v1\n" + stanzas_text + "---";
  SecretBytes mac_key = crypto::HkdfSha256(AsStringView(file_key), "", "header", 32);
  std::string mac = crypto::HmacSha256(AsStringView(mac_key), header);
  std::string out = header + " " + (mac_override.empty() ? B64Encode(mac) : std::string(mac_override)) + "\n";
  std::string nonce(16, '\x42');
  out += nonce;
  SecretBytes pk = crypto::HkdfSha256(AsStringView(file_key), nonce, "payload", 32);
  auto aead = crypto::ChaCha20Poly1305::New(pk);
  for (size_t i = 0; i < chunks.size(); ++i) {
    uint8_t n[12] = {};
    n[10] = static_cast<uint8_t>(i);
    n[11] = chunks[i].last ? 1 : 0;
    std::string sealed(chunks[i].plain.size() + 16, '\0');
    (*aead)->Seal(n, reinterpret_cast<const uint8_t*>(chunks[i].plain.data()), chunks[i].plain.size(),
                  reinterpret_cast<uint8_t*>(sealed.data()));
    out += sealed;
  }
  return out;
}

std::string StanzaText(const Stanza& s) {
  std::string out = "->";
  for (const auto& a : s.args) out += " " + a;
  out += "\n";
  std::string b = B64Encode(s.body);
  for (size_t i = 0; i < b.size(); i += 64) out += b.substr(i, 64) + "\n";
  if (b.size() % 64 == 0) out += "\n";
  return out;
}

class MalformedTest : public AgeTest {
 protected:
  void SetUp() override {
    key_ = SecretBytes(16, 7);
    auto s = alice_.recipient().Wrap(key_);
    ASSERT_TRUE(s.ok());
    stanza_ = *s;
  }
  // Decrypts with alice and returns the status.
  Status Try(const std::string& file, std::string* plain = nullptr) {
    std::string sink;
    return DecryptWith({&alice_}, file, plain ? plain : &sink);
  }
  SecretBytes key_;
  Stanza stanza_;
};

TEST_F(MalformedTest, TheBuilderMakesValidFiles) {
  std::string got;
  ASSERT_TRUE(Try(BuildFile(key_, StanzaText(stanza_), {{"hello", true}}), &got).ok());
  EXPECT_EQ(got, "hello");
  ASSERT_TRUE(Try(BuildFile(key_, StanzaText(stanza_), {{"", true}}), &got).ok());
  EXPECT_EQ(got, "");
  ASSERT_TRUE(
      Try(BuildFile(key_, StanzaText(stanza_), {{std::string(kChunkSize, 'a'), false}, {"b", true}}), &got).ok());
  EXPECT_EQ(got.size(), kChunkSize + 1);
  // A full last chunk is fine.
  ASSERT_TRUE(Try(BuildFile(key_, StanzaText(stanza_), {{std::string(kChunkSize, 'a'), true}}), &got).ok());
}

TEST_F(MalformedTest, UnknownStanzasAreIgnored) {
  std::string grease = "-> some-grease x y\nAAAA\n";
  std::string got;
  ASSERT_TRUE(Try(BuildFile(key_, grease + StanzaText(stanza_), {{"ok", true}}), &got).ok());
  EXPECT_EQ(got, "ok");
}

TEST_F(MalformedTest, PayloadRules) {
  std::string full(kChunkSize, 'a');
  Status st = Try(BuildFile(key_, StanzaText(stanza_), {{full, false}, {"", true}}));
  EXPECT_NE(st.message().find("last payload chunk is empty"), std::string::npos) << st.ToString();
  st = Try(BuildFile(key_, StanzaText(stanza_), {{full, false}}));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.ToString();
  st = Try(BuildFile(key_, StanzaText(stanza_), {}));
  EXPECT_NE(st.message().find("no chunks"), std::string::npos) << st.ToString();
  st = Try(BuildFile(key_, StanzaText(stanza_), {{"x", false}}));
  EXPECT_EQ(st.message(), "failed to decrypt and authenticate payload chunk");
  st = Try(BuildFile(key_, StanzaText(stanza_), {{full, true}, {"x", true}}));
  EXPECT_NE(st.message().find("trailing data"), std::string::npos) << st.ToString();
  // Trailing bytes after a short last chunk.
  st = Try(BuildFile(key_, StanzaText(stanza_), {{"x", true}}) + "junk");
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  // Only a partial nonce.
  std::string f = BuildFile(key_, StanzaText(stanza_), {{"x", true}});
  st = Try(f.substr(0, f.find("\n---") + 49 + 8));
  EXPECT_NE(st.message().find("nonce"), std::string::npos) << st.ToString();
  // A flipped payload byte.
  f.back() ^= 1;
  EXPECT_EQ(Try(f).message(), "failed to decrypt and authenticate payload chunk");
  // The plaintext released before a failing chunk is only the verified chunks.
  std::string got;
  std::string two = BuildFile(key_, StanzaText(stanza_), {{full, false}, {"tail", true}});
  two.back() ^= 1;
  EXPECT_FALSE(Try(two, &got).ok());
  EXPECT_EQ(got, full);
}

TEST_F(MalformedTest, HeaderMac) {
  std::string f = BuildFile(key_, StanzaText(stanza_), {{"x", true}}, B64Encode(std::string(32, '\x01')));
  Status st = Try(f);
  EXPECT_EQ(st.message(), "header MAC mismatch");
  // A non-canonical MAC encoding is a header error, before any MAC check.
  std::string good = BuildFile(key_, StanzaText(stanza_), {{"x", true}});
  size_t pos = good.find("\n--- ") + 5 + 42;
  std::string bad = good;
  // The 43rd character carries 2 unused bits; make one of them non-zero.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  bad[pos] = alphabet[(alphabet.find(bad[pos]) | 1)];
  if (bad[pos] != good[pos]) {
    EXPECT_NE(Try(bad).message().find("failed to parse header"), std::string::npos);
  }
  for (std::string mac_line : {"---\n", "--- \n", "---  AAAA\n", "---x\n"}) {
    std::string h = "age-encryption.org/v1\n" + StanzaText(stanza_) + mac_line;
    EXPECT_NE(Try(h).message().find("failed to parse header"), std::string::npos) << mac_line;
  }
}

TEST_F(MalformedTest, HeaderLineRules) {
  auto header_error = [&](const std::string& stanzas, const std::string& what) {
    Status st = Try(BuildFile(key_, stanzas, {{"x", true}}));
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << what;
    EXPECT_NE(st.message().find("failed to parse header"), std::string::npos) << what << ": " << st.ToString();
  };
  std::string b64 = B64Encode(stanza_.body);
  std::string share = stanza_.args[1];
  header_error("", "no stanzas");
  header_error("->  X25519 " + share + "\n" + b64 + "\n", "empty argument");
  header_error("-> X25519 " + share + " \n" + b64 + "\n", "trailing space");
  header_error("->\n" + b64 + "\n", "no arguments");
  header_error("-> X25519 " + share + "\r\n" + b64 + "\n", "CR in argument line");
  header_error("-> X25519 " + share + "\n" + b64 + "=\n", "padding in body");
  header_error("-> X25519 " + share + "=\n" + b64 + "\n", "padding in argument");
  header_error("-> X25519 " + share + " extra\n" + b64 + "\n", "extra argument");
  header_error("-> X25519\n" + b64 + "\n", "missing argument");
  header_error("-> X25519 " + share.substr(0, 42) + "\n" + b64 + "\n", "short share");
  header_error("-> X25519 " + share + "\n" + B64Encode(stanza_.body + std::string(16, 'k')) + "\n", "long body");
  header_error("-> X25519 " + share + "\n" + std::string(64, 'A') + "\n", "missing final line");
  header_error("-> other\n" + std::string(65, 'A') + "\n\n", "long body line");
  header_error("-> other\nA-A\n", "invalid body character");
  header_error("-> other\nAAB\n", "non-canonical body");
  header_error("-> X25519 " + share + "\n" + b64 + "\n" + "garbage\n", "garbage line");
  // Valid body shapes: an empty final line after full lines, and an empty body.
  std::string got;
  EXPECT_TRUE(
      Try(BuildFile(key_, "-> other\n" + std::string(64, 'A') + "\n\n" + StanzaText(stanza_), {{"x", true}})).ok());
  EXPECT_TRUE(Try(BuildFile(key_, "-> other\n\n" + StanzaText(stanza_), {{"x", true}})).ok());

  EXPECT_NE(Try("age-encryption.org/v2\n-> x\n\n--- AAAA\n").message().find("unsupported version"), std::string::npos);
  EXPECT_NE(Try("not an age file").message().find("failed to parse header"), std::string::npos);
  EXPECT_NE(Try("").message().find("failed to parse header"), std::string::npos);
  EXPECT_NE(Try(std::string(200000, 'a')).message().find("failed to parse header: line too long"), std::string::npos);
  EXPECT_NE(Try("-----BEGIN AGE ENCRYPTED FILE-----\n" + std::string(300, 'A') + "\n").message().find("invalid armor"),
            std::string::npos);
  std::string crlf = BuildFile(key_, StanzaText(stanza_), {{"x", true}});
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  EXPECT_NE(Try(crlf).message().find("failed to parse header"), std::string::npos);
}

TEST_F(MalformedTest, ZeroSharedSecretIsRejected) {
  Stanza s = stanza_;
  s.args[1] = B64Encode(std::string(32, '\0'));
  Status st = Try(BuildFile(key_, StanzaText(s), {{"x", true}}));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("low-order"), std::string::npos) << st.ToString();
}

TEST_F(MalformedTest, ScryptMustBeAlone) {
  ScryptRecipient r(SecretString("pw"), 4);
  auto s = r.Wrap(key_);
  ASSERT_TRUE(s.ok());
  std::string both = StanzaText(*s) + StanzaText(stanza_);
  Status st = Try(BuildFile(key_, both, {{"x", true}}));
  EXPECT_NE(st.message().find("scrypt recipient must be the only one"), std::string::npos) << st.ToString();
  std::string two = StanzaText(*s) + StanzaText(*s);
  EXPECT_NE(Try(BuildFile(key_, two, {{"x", true}})).message().find("only one"), std::string::npos);
  // Work factor syntax: decimal without leading zeros or signs.
  for (std::string wf : {"04", "+4", "0", "-4", "0x4", "4a", "99999999999999999999"}) {
    Stanza bad = *s;
    bad.args[2] = wf;
    ScryptIdentity id(SecretString("pw"));
    std::string got;
    Status e = DecryptWith({&id}, BuildFile(key_, StanzaText(bad), {{"x", true}}), &got);
    EXPECT_NE(e.message().find("failed to parse header"), std::string::npos) << wf << ": " << e.ToString();
  }
  Stanza wf23 = *s;
  wf23.args[2] = "23";
  ScryptIdentity id(SecretString("pw"));
  std::string got;
  Status e = DecryptWith({&id}, BuildFile(key_, StanzaText(wf23), {{"x", true}}), &got);
  EXPECT_NE(e.message().find("work factor too large"), std::string::npos) << e.ToString();
  // A correct file with work factor 4 decrypts.
  ASSERT_TRUE(DecryptWith({&id}, BuildFile(key_, StanzaText(*s), {{"x", true}}), &got).ok());
  EXPECT_EQ(got, "x");
}

TEST_F(MalformedTest, DecryptorReportsPassphraseFiles) {
  ScryptRecipient r(SecretString("pw"), 4);
  std::string file = EncryptTo({&r}, "x");
  StringReader in(file);
  auto d = Decryptor::Open(in);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE((*d)->passphrase_encrypted());
  EXPECT_FALSE((*d)->armored());
}

// ---- published vectors ----
// From the age test kit (C2SP/CCTV age/internal/tests, generated files as vendored in
// FiloSottile/age testdata/testkit/*). The identity and the payload ("age", SHA-256
// 013f5440...) are shared by these vectors; the binary payload is recovered from the armored
// vector "armor".
constexpr char kKitIdentity[] = "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6";
constexpr char kKitPayloadSha256[] = "013f54400c82da08037759ada907a8b864e97de81c088a182062c4b5622fd2ab";
constexpr char kKitArmorBody[] =
    "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FY\n"
    "TnlDVkpwTDdPdXdQZFZ3UEw3S1FFYkZET0NjCkVtRUNBRWNLTituL1ZzOVNiV2lW\n"
    "K0h1MHIrRThSNzdEZFdZeWQ4M253N1UKLS0tIFZuKzU0anFpaVVDRStXWmNFVlkz\n"
    "ZjFzcUhqbHUvejFMQ1EvVDdYbTdxSTAK7s9ix86RtDMnTmjU8vkTTLdMW/73vqpS\n"
    "yPC8DpksHoMx+2Y=\n";
constexpr char kBegin[] = "-----BEGIN AGE ENCRYPTED FILE-----\n";
constexpr char kEnd[] = "-----END AGE ENCRYPTED FILE-----\n";

std::string KitPayload() {
  std::string b64 = kKitArmorBody;
  std::erase(b64, '\n');
  std::string file = *Base64Decode(b64);
  size_t mac = file.find("\n--- ");
  return file.substr(file.find('\n', mac + 1) + 1);
}

class KitTest : public ::testing::Test {
 protected:
  enum Expect { kSuccess, kArmorFailure, kHeaderFailure, kNoMatch, kHmacFailure };
  void Check(const std::string& name, const std::string& file, Expect expect, const char* identity = kKitIdentity,
             const char* payload_sha256 = kKitPayloadSha256) {
    auto id = X25519Identity::Parse(identity);
    ASSERT_TRUE(id.ok());
    std::string got;
    Status st = DecryptWith({&*id}, file, &got);
    switch (expect) {
      case kSuccess:
        ASSERT_TRUE(st.ok()) << name << ": " << st.ToString();
        EXPECT_EQ(HexEncode(crypto::Sha256(got)), payload_sha256) << name;
        break;
      case kArmorFailure:
        EXPECT_NE(st.message().find("invalid armor"), std::string::npos) << name << ": " << st.ToString();
        break;
      case kHeaderFailure:
        EXPECT_NE(st.message().find("failed to parse header"), std::string::npos) << name << ": " << st.ToString();
        break;
      case kNoMatch:
        EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << name << ": " << st.ToString();
        break;
      case kHmacFailure:
        EXPECT_EQ(st.message(), "header MAC mismatch") << name;
        break;
    }
  }
};

TEST_F(KitTest, ArmorVectors) {
  std::string body = kKitArmorBody;
  Check("armor", kBegin + body + kEnd, kSuccess);
  Check("armor_no_eol", kBegin + body + std::string(kEnd).substr(0, 32), kSuccess);
  Check("armor_whitespace_outside", "\n   \t\n" + (kBegin + body + kEnd) + "\n   \t\n", kSuccess);
  std::string crlf = kBegin + body + kEnd;
  for (size_t p = 0; (p = crlf.find('\n', p)) != std::string::npos; p += 2) crlf.replace(p, 1, "\r\n");
  Check("armor_crlf", crlf, kSuccess);
  Check("armor_full_last_line",
        kBegin +
            std::string("YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FY\n"
                        "TnlDVkpwTDdPdXdQZFZ3UEw3S1FFYkZET0NjCkVtRUNBRWNLTituL1ZzOVNiV2lW\n"
                        "K0h1MHIrRThSNzdEZFdZeWQ4M253N1UKLS0tIFZuKzU0anFpaVVDRStXWmNFVlkz\n"
                        "ZjFzcUhqbHUvejFMQ1EvVDdYbTdxSTAK7s9ix86RtDMnTmjU8vkTTLdMW3bj4iHS\n"
                        "YS3WWUtZB5wJqKgEe8kpsp0iOnD2CNG4DVKBC0Z7SAcCFb8xdwV9CRavSEE7OU1c\n") +
            kEnd,
        kSuccess, kKitIdentity, "724a112a2cac139a4fca3ea0f799f2e5ccd1d0db46af654dee40567bff16ee33");
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string f = kBegin + body + kEnd;
    f.replace(f.find(from), from.size(), to);
    return f;
  };
  Check("armor_whitespace_eol", replaced("vqpS\n", "vqpS \n"), kArmorFailure);
  Check("armor_whitespace_last_line", replaced("+2Y=\n", "+2Y= \n"), kArmorFailure);
  Check("armor_whitespace_line_start", replaced("\nZjFz", "\n ZjFz"), kArmorFailure);
  Check("armor_empty_line_end", replaced("+2Y=\n", "+2Y=\n\n"), kArmorFailure);
  Check("armor_garbage_trailing", kBegin + body + kEnd + "garbage\n", kArmorFailure);
  // Armor is autodetected from the first non-space bytes, so leading garbage makes the input a
  // (malformed) binary file: still refused, as a header error.
  Check("armor_garbage_leading", "garbage\n" + (kBegin + body + kEnd), kHeaderFailure);
  Check("armor_whitespace_begin", "----- BEGIN AGE ENCRYPTED FILE -----\n" + body + kEnd, kArmorFailure);
  Check("armor_whitespace_end", kBegin + body + "----- END AGE ENCRYPTED FILE -----\n", kArmorFailure);
  Check("armor_short_line",
        kBegin +
            std::string("YWdlLWVuY3J5cHRp\n"
                        "b24ub3JnL3YxCi0+IFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FYTnlDVkpwTDdPdXdQ\n"
                        "ZFZ3UEw3S1FFYkZET0NjCkVtRUNBRWNLTituL1ZzOVNiV2lWK0h1MHIrRThSNzdE\n"
                        "ZFdZeWQ4M253N1UKLS0tIFZuKzU0anFpaVVDRStXWmNFVlkzZjFzcUhqbHUvejFM\n"
                        "Q1EvVDdYbTdxSTAK7s9ix86RtDMnTmjU8vkTTLdMW/73vqpSyPC8DpksHoMx+2Y=\n") +
            kEnd,
        kArmorFailure);
  Check("armor_no_padding", replaced("+2Y=\n", "+2Y\n"), kArmorFailure);
  Check("armor_not_canonical", replaced("+2Y=\n", "+2Z=\n"), kArmorFailure);
  Check("armor_no_end_line", kBegin + body, kArmorFailure);
  Check("armor_lowercase", "-----begin age encrypted file-----\n" + body + kEnd, kArmorFailure);
  Check("armor_headers", kBegin + std::string("Proc-Type: 4,ENCRYPTED\n\n") + body + kEnd, kArmorFailure);
  Check("armor_empty", kBegin + std::string(kEnd), kArmorFailure);
}

TEST_F(KitTest, HeaderVectors) {
  const std::string payload = KitPayload();
  const std::string x25519 =
      "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
      "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n";
  Check("stanza_empty_last_line",
        "age-encryption.org/v1\n" + x25519 +
            "-> stanza\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n\n"
            "--- +3PC416gxa7Mk7WxpX0kb6DVfSuCun0niGre+G4bZhE\n" +
            payload,
        kSuccess);
  Check("stanza_valid_characters",
        "age-encryption.org/v1\n"
        "-> !\"#$%&' ()*+,-./ 01234567 89:;<=>? @ABCDEFG HIJKLMNO\n\n"
        "-> PQRSTUVW XYZ[\\]^_ `abcdefg hijklmno pqrstuvw xyz{|}~\n\n" +
            x25519 + "--- x538z9xJq9XEK1aTTTv80aWDVvVdROvaXn2tpqXPC8g\n" + payload,
        kSuccess);
  Check("stanza_missing_final_line",
        "age-encryption.org/v1\n" + x25519 +
            "-> stanza\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
            "--- GRjUy1ShNhFoV3cQikdtUZqDeDEZSrbtNXUgDtDbwC8\n" +
            payload,
        kHeaderFailure);
  Check("hmac_not_canonical",
        "age-encryption.org/v1\n"
        "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
        "hjabGXwSLQ9c3S6Lw2i+S2Tu2fiwQHHslbBN6B41FLE\n"
        "--- WyJp9F/9FOZh7gJdheq2WIJcwHgYc8NIVh3ddwhrcNh\n" +
            payload,
        kHeaderFailure, "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0");
  Check("scrypt_work_factor_23",
        "age-encryption.org/v1\n"
        "-> scrypt rF0/NwblUHHTpgQgRpe5CQ 23\n"
        "qW9eVsT0NVb/Vswtw8kPIxUnaYmm9Px1dYmq2+4+qZA\n"
        "--- 38TpQMxQRRNMfmYYpBX6DDrPx4/QY5UmJnhPyVoX/cw\n" +
            payload,
        kNoMatch);
  // The same file with a changed MAC: the key unwraps, the MAC does not match.
  Check("hmac_bad (derived)",
        "age-encryption.org/v1\n" + x25519 + "--- Wn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n" + payload,
        kHmacFailure);
  Check("armor decoded",
        "age-encryption.org/v1\n" + x25519 + "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n" + payload, kSuccess);
  Check("no_match", "age-encryption.org/v1\n" + x25519 + "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n" + payload,
        kNoMatch, "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0");
}

TEST_F(KitTest, ScryptWorkFactor23IsRefusedWithThePassphrase) {
  std::string file =
      "age-encryption.org/v1\n-> scrypt rF0/NwblUHHTpgQgRpe5CQ 23\n"
      "qW9eVsT0NVb/Vswtw8kPIxUnaYmm9Px1dYmq2+4+qZA\n"
      "--- 38TpQMxQRRNMfmYYpBX6DDrPx4/QY5UmJnhPyVoX/cw\n" +
      KitPayload();
  ScryptIdentity id(SecretString("password"));
  std::string got;
  Status st = DecryptWith({&id}, file, &got);
  EXPECT_NE(st.message().find("work factor too large"), std::string::npos) << st.ToString();
}

// ---- streaming ----

// A reader that produces n pattern bytes without holding them, and a writer that only hashes
// length, to show that memory does not grow with the input.
class CountingWriter final : public Writer {
 public:
  Status Write(const uint8_t* data, size_t n) override {
    total += n;
    if (n > max_write) max_write = n;
    return OkStatus();
  }
  size_t total = 0;
  size_t max_write = 0;
};

TEST_F(AgeTest, ReadsInSmallPiecesWork) {
  // A reader returning 1..7 bytes per call exercises every refill path.
  class Trickle final : public Reader {
   public:
    explicit Trickle(std::string_view d) : d_(d) {}
    StatusOr<size_t> Read(uint8_t* buf, size_t n) override {
      size_t k = std::min({n, d_.size(), size_t{1} + (calls_++ % 7)});
      std::memcpy(buf, d_.data(), k);
      d_.remove_prefix(k);
      return k;
    }

   private:
    std::string_view d_;
    size_t calls_ = 0;
  };
  std::string plain = Pattern(150000);
  for (bool armor : {false, true}) {
    std::string file = EncryptTo({&alice_.recipient()}, plain, armor);
    Trickle in(file);
    std::string got;
    StringWriter w(&got);
    ASSERT_TRUE(Decrypt({&alice_}, in, w).ok());
    EXPECT_EQ(got, plain);
  }
}

}  // namespace
}  // namespace coffer::age
