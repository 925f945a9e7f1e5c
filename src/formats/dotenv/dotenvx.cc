#include "formats/dotenv/dotenvx.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "base/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/secp256k1.h"

namespace coffer::dotenv {

// Measured from dotenvx 2.38 output (61 columns per line; the keys banner has one U+26E8).
const char kPublicKeyBanner[] =
    "#/-------------------[DOTENV_PUBLIC_KEY]--------------------/\n"
    "#/            public-key encryption for .env files          /\n"
    "#/       [how it works](https://dotenvx.com/encryption)     /\n"
    "#/----------------------------------------------------------/\n";
const char kKeysFileBanner[] =
    "#/------------------!DOTENV_PRIVATE_KEYS!-------------------/\n"
    "#/ private decryption keys. DO NOT commit to source control /\n"
    "#/     [how it works](https://dotenvx.com/encryption)       /\n"
    "#/          \xE2\x9B\xA8 ARMORED KEYS: `dotenvx armor up`              /\n"
    "#/----------------------------------------------------------/\n";

namespace {

constexpr size_t kNonceSize = 16;
constexpr size_t kTagSize = 16;
constexpr size_t kHeaderSize = crypto::kSecp256k1UncompressedSize + kNonceSize + kTagSize;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "coffer: fatal: %s failed\n", what);
  std::abort();
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) Fatal("EVP_CIPHER_fetch(AES-256-GCM)");
    return c;
  }();
  return cipher;
}

// AES-256-GCM with eciesjs's 16-byte nonce. Returns false when authentication fails.
bool Gcm(bool encrypt, const SecretBytes& key, const unsigned char* nonce, const unsigned char* in, size_t len,
         unsigned char* out, unsigned char* tag) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) Fatal("EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce, -1) != 1) {
    Fatal("AES-256-GCM init");
  }
  int n = 0;
  if (len > 0 && EVP_CipherUpdate(ctx.get(), out, &n, in, static_cast<int>(len)) != 1) Fatal("EVP_CipherUpdate");
  if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    Fatal("EVP_CTRL_GCM_SET_TAG");
  }
  int fin = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out + n, &fin) != 1) {
    if (encrypt) Fatal("EVP_CipherFinal_ex");
    return false;
  }
  if (encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    Fatal("EVP_CTRL_GCM_GET_TAG");
  }
  return true;
}

SecretBytes DeriveKey(std::string_view ephemeral_uncompressed, const SecretBytes& shared_point) {
  SecretString ikm(ephemeral_uncompressed);
  ikm.append(AsStringView(shared_point));
  return crypto::HkdfSha256(std::string_view(ikm.data(), ikm.size()), "", "", 32);
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string ToUpper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

SecretString KeyPair::PrivateKeyHex() const {
  SecretString out;
  static const char kDigits[] = "0123456789abcdef";
  for (uint8_t b : private_key) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

KeyPair GenerateKeyPair() {
  KeyPair kp;
  kp.private_key = crypto::Secp256k1GeneratePrivateKey();
  kp.public_key_hex = PublicKeyHex(kp.private_key);
  return kp;
}

StatusOr<SecretBytes> ParsePrivateKey(std::string_view hex) {
  hex = TrimBlanks(hex);
  if (hex.size() != 64 || !IsHex(hex)) {
    return InvalidArgument("invalid private key: expected 64 hex characters, got " + std::to_string(hex.size()) +
                           (IsHex(hex) ? "" : " (not all hex)"));
  }
  SecretBytes key(32);
  for (size_t i = 0; i < 32; ++i) {
    auto nibble = [](char c) -> uint8_t {
      return static_cast<uint8_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                                                                             : std::tolower(c) - 'a' + 10);
    };
    key[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  if (!crypto::Secp256k1IsValidPrivateKey(key)) {
    return InvalidArgument("invalid private key: not a valid secp256k1 scalar");
  }
  return key;
}

std::string PublicKeyHex(const SecretBytes& private_key) {
  StatusOr<std::string> pub = crypto::Secp256k1PublicKey(private_key, /*compressed=*/true);
  if (!pub.ok()) Fatal("PublicKeyHex of an unchecked private key");
  return HexEncode(*pub);
}

Status ValidatePublicKey(std::string_view hex) {
  StatusOr<std::string> raw = HexDecode(TrimBlanks(hex));
  if (!raw.ok()) return InvalidArgument("invalid public key: not hex");
  StatusOr<std::string> point = crypto::Secp256k1NormalizePublicKey(*raw, true);
  if (!point.ok()) return InvalidArgument("invalid public key: not a secp256k1 point");
  return OkStatus();
}

bool IsEncrypted(std::string_view value) { return value.substr(0, kEncryptedPrefix.size()) == kEncryptedPrefix; }

StatusOr<std::string> EncryptValue(std::string_view public_key_hex, std::string_view plaintext) {
  StatusOr<std::string> pub = HexDecode(TrimBlanks(public_key_hex));
  if (!pub.ok()) return InvalidArgument("invalid public key: not hex");
  SecretBytes ephemeral = crypto::Secp256k1GeneratePrivateKey();
  ASSIGN_OR_RETURN(SecretBytes shared, crypto::Secp256k1SharedPoint(ephemeral, *pub));
  ASSIGN_OR_RETURN(std::string e_pub, crypto::Secp256k1PublicKey(ephemeral, /*compressed=*/false));
  SecretBytes key = DeriveKey(e_pub, shared);
  std::string out = e_pub;
  out.resize(kHeaderSize + plaintext.size());
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  crypto::RandomFill(base + e_pub.size(), kNonceSize);
  Gcm(true, key, base + e_pub.size(), reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      base + kHeaderSize, base + e_pub.size() + kNonceSize);
  return std::string(kEncryptedPrefix) + Base64Encode(out);
}

StatusOr<std::string> DecryptValue(const SecretBytes& private_key, std::string_view value) {
  if (!IsEncrypted(value)) return InvalidArgument("malformed encrypted data: missing \"encrypted:\" prefix");
  StatusOr<std::string> raw = Base64Decode(value.substr(kEncryptedPrefix.size()));
  if (!raw.ok()) return InvalidArgument("malformed encrypted data: not base64");
  if (raw->size() < kHeaderSize) return InvalidArgument("malformed encrypted data: too short");
  std::string_view e_pub = std::string_view(*raw).substr(0, crypto::kSecp256k1UncompressedSize);
  StatusOr<SecretBytes> shared = crypto::Secp256k1SharedPoint(private_key, e_pub);
  if (!shared.ok()) {
    if (!crypto::Secp256k1IsValidPrivateKey(private_key)) return InvalidArgument("invalid private key");
    return InvalidArgument("malformed encrypted data: bad ephemeral key");
  }
  SecretBytes key = DeriveKey(e_pub, *shared);
  const auto* base = reinterpret_cast<const unsigned char*>(raw->data());
  size_t len = raw->size() - kHeaderSize;
  std::string out(len, '\0');
  unsigned char tag[kTagSize];
  std::copy(base + e_pub.size() + kNonceSize, base + kHeaderSize, tag);
  if (!Gcm(false, key, base + e_pub.size(), base + kHeaderSize, len, reinterpret_cast<unsigned char*>(out.data()),
           tag)) {
    SecureWipe(out.data(), out.size());
    return DataLoss("wrong private key (or the encrypted data was tampered with)");
  }
  return out;
}

KeyNames KeyNamesFor(std::string_view file_path, const Document& doc) {
  for (const Entry& e : doc.entries()) {
    if (e.key.rfind("DOTENV_PUBLIC_KEY", 0) == 0) {
      return {e.key, "DOTENV_PRIVATE_KEY" + e.key.substr(std::string_view("DOTENV_PUBLIC_KEY").size())};
    }
  }
  std::string name = BaseName(file_path);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.rfind(".env", 0) == 0 && name.size() >= 4 && name.compare(name.size() - 4, 4, ".txt") == 0 &&
      name.size() > 4) {
    name.resize(name.size() - 4);
  }
  if (name == ".env") return {"DOTENV_PUBLIC_KEY", "DOTENV_PRIVATE_KEY"};
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string env;
  if (parts.size() <= 2) {
    env = name;
    if (size_t p = env.find(".env"); p != std::string::npos) env.replace(p, 4, "development");
  } else if (parts.size() == 3) {
    env = parts[2];
  } else {
    env = parts[2] + "_" + parts[3];
  }
  env = ToUpper(env);
  return {"DOTENV_PUBLIC_KEY_" + env, "DOTENV_PRIVATE_KEY_" + env};
}

std::string FileComment(std::string_view file_path) { return "# " + BaseName(file_path); }

bool IsPlainKey(std::string_view key) {
  return key.rfind("DOTENV_PUBLIC_KEY", 0) == 0 ||
         (key.size() >= 6 && key.substr(key.size() - 6) == "_PLAIN");
}

bool GlobMatch(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0, star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = pi++;
      star_t = ti;
      continue;
    }
    bool ok = false;
    size_t next = pi + 1;
    if (pi < p.size()) {
      if (p[pi] == '?') {
        ok = true;
      } else if (p[pi] == '[') {
        size_t close = p.find(']', pi + 1);
        if (close != std::string_view::npos) {
          bool negate = pi + 1 < close && (p[pi + 1] == '!' || p[pi + 1] == '^');
          bool in = false;
          for (size_t k = pi + 1 + (negate ? 1 : 0); k < close; ++k) {
            if (k + 2 < close && p[k + 1] == '-') {
              if (t[ti] >= p[k] && t[ti] <= p[k + 2]) in = true;
              k += 2;
            } else if (p[k] == t[ti]) {
              in = true;
            }
          }
          ok = in != negate;
          next = close + 1;
        } else {
          ok = p[pi] == t[ti];
        }
      } else {
        ok = p[pi] == t[ti];
      }
    }
    if (ok) {
      pi = next;
      ++ti;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      ti = ++star_t;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace coffer::dotenv
