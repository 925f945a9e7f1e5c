#include "formats/age/keys.h"

#include <ctime>

#include "base/encoding.h"
#include "crypto/chacha20poly1305.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/scrypt.h"
#include "crypto/x25519.h"
#include "formats/age/bech32.h"

namespace coffer::age {
namespace {

constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "AGE-SECRET-KEY-";
constexpr std::string_view kX25519Info = "age-encryption.org/v1/X25519";
constexpr std::string_view kScryptSaltLabel = "age-encryption.org/v1/scrypt";
constexpr uint8_t kZeroNonce[crypto::ChaCha20Poly1305::kNonceSize] = {};

// ChaCha20-Poly1305 with a one-time wrap key and the zero nonce, as every stanza body uses.
std::string SealFileKey(const SecretBytes& wrap_key, const SecretBytes& file_key) {
  auto aead = crypto::ChaCha20Poly1305::New(wrap_key);
  std::string body(file_key.size() + crypto::ChaCha20Poly1305::kTagSize, '\0');
  (*aead)->Seal(kZeroNonce, file_key.data(), file_key.size(), reinterpret_cast<uint8_t*>(body.data()));
  return body;
}

std::optional<SecretBytes> OpenFileKey(const SecretBytes& wrap_key, std::string_view body) {
  auto aead = crypto::ChaCha20Poly1305::New(wrap_key);
  SecretBytes key(body.size() - crypto::ChaCha20Poly1305::kTagSize);
  if (!(*aead)->Open(kZeroNonce, reinterpret_cast<const uint8_t*>(body.data()), body.size(), key.data())) {
    return std::nullopt;
  }
  return key;
}

// Splits text into lines (without "\n" and a trailing "\r"), calling fn(line, number).
template <typename Fn>
Status ForEachLine(std::string_view text, Fn fn) {
  size_t number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    RETURN_IF_ERROR(fn(line, number));
  }
  return OkStatus();
}

std::string LocalRfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  long off = tm.tm_gmtoff;
  if (off == 0) return out + "Z";
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  std::snprintf(buf, sizeof(buf), "%c%02ld:%02ld", sign, off / 3600, (off % 3600) / 60);
  return out + buf;
}

}  // namespace

std::string B64Encode(std::string_view bytes) { return Base64Encode(bytes, /*pad=*/false); }

StatusOr<std::string> B64DecodeStrict(std::string_view text) {
  if (text.find('=') != std::string_view::npos) return InvalidArgument("base64 padding is not allowed");
  // Base64Decode rejects other characters, impossible lengths and non-zero trailing bits.
  return Base64Decode(text);
}

// ---- X25519 ----

StatusOr<X25519Recipient> X25519Recipient::Parse(std::string_view text) {
  if (text.substr(0, 4) == "ssh-") return InvalidArgument("SSH recipients are not supported");
  auto decoded = Bech32Decode(text);
  if (!decoded.ok()) return InvalidArgument("malformed recipient: " + decoded.status().message());
  if (decoded->hrp != kRecipientHrp) {
    return InvalidArgument("unsupported recipient type \"" + decoded->hrp + "\" (want age1...)");
  }
  if (decoded->data.size() != crypto::kX25519KeySize) return InvalidArgument("malformed recipient: wrong key length");
  return X25519Recipient(std::string(AsStringView(decoded->data)));
}

StatusOr<X25519Recipient> X25519Recipient::FromPublicKey(std::string_view public_key) {
  if (public_key.size() != crypto::kX25519KeySize) return InvalidArgument("X25519 public key must be 32 bytes");
  return X25519Recipient(std::string(public_key));
}

std::string X25519Recipient::String() const { return Bech32Encode(kRecipientHrp, public_key_); }

StatusOr<Stanza> X25519Recipient::Wrap(const SecretBytes& file_key) const {
  SecretBytes ephemeral = crypto::X25519GeneratePrivateKey();
  ASSIGN_OR_RETURN(std::string share, crypto::X25519PublicKey(ephemeral));
  ASSIGN_OR_RETURN(SecretBytes shared, crypto::X25519SharedSecret(ephemeral, public_key_));
  SecretBytes wrap_key = crypto::HkdfSha256(AsStringView(shared), share + public_key_, kX25519Info, 32);
  Stanza s;
  s.args = {"X25519", B64Encode(share)};
  s.body = SealFileKey(wrap_key, file_key);
  return s;
}

X25519Identity X25519Identity::Generate() {
  SecretBytes key = crypto::X25519GeneratePrivateKey();
  auto pub = crypto::X25519PublicKey(key);
  return X25519Identity(std::move(key), *X25519Recipient::FromPublicKey(*pub));
}

StatusOr<X25519Identity> X25519Identity::Parse(std::string_view text) {
  auto decoded = Bech32Decode(text);
  if (!decoded.ok()) return InvalidArgument("malformed secret key: " + decoded.status().message());
  if (decoded->hrp != kIdentityHrp) return InvalidArgument("malformed secret key: unknown type");
  if (decoded->data.size() != crypto::kX25519KeySize) return InvalidArgument("malformed secret key: wrong length");
  ASSIGN_OR_RETURN(std::string pub, crypto::X25519PublicKey(decoded->data));
  ASSIGN_OR_RETURN(X25519Recipient r, X25519Recipient::FromPublicKey(pub));
  return X25519Identity(std::move(decoded->data), std::move(r));
}

SecretString X25519Identity::String() const {
  std::string s = Bech32Encode(kIdentityHrp, key_.data(), key_.size());
  SecretString out(s.begin(), s.end());
  SecureWipe(s.data(), s.size());
  return out;
}

StatusOr<std::optional<SecretBytes>> X25519Identity::Unwrap(const std::vector<Stanza>& stanzas) const {
  for (const Stanza& s : stanzas) {
    if (s.args.empty() || s.args[0] != "X25519") continue;
    // The header parser already checked the shape; check again so this works on its own.
    if (s.args.size() != 2) return DataLoss("invalid X25519 recipient block");
    ASSIGN_OR_RETURN(std::string share, B64DecodeStrict(s.args[1]));
    if (share.size() != crypto::kX25519KeySize || s.body.size() != kFileKeySize + 16) {
      return DataLoss("invalid X25519 recipient block");
    }
    auto shared = crypto::X25519SharedSecret(key_, share);
    if (!shared.ok()) return DataLoss("invalid X25519 recipient: low-order point (zero shared secret)");
    SecretBytes wrap_key = crypto::HkdfSha256(AsStringView(*shared), share + recipient_.public_key(), kX25519Info, 32);
    if (auto key = OpenFileKey(wrap_key, s.body)) return std::optional<SecretBytes>(std::move(*key));
  }
  return std::optional<SecretBytes>();
}

// ---- scrypt ----

StatusOr<Stanza> ScryptRecipient::Wrap(const SecretBytes& file_key) const {
  if (work_factor_ < 1 || work_factor_ > 30) return InvalidArgument("invalid scrypt work factor");
  std::string salt = crypto::RandomBytes(16);
  ASSIGN_OR_RETURN(SecretBytes wrap_key, crypto::Scrypt(std::string_view(passphrase_.data(), passphrase_.size()),
                                                        std::string(kScryptSaltLabel) + salt, work_factor_, 8, 1, 32));
  Stanza s;
  s.args = {"scrypt", B64Encode(salt), std::to_string(work_factor_)};
  s.body = SealFileKey(wrap_key, file_key);
  return s;
}

StatusOr<std::optional<SecretBytes>> ScryptIdentity::Unwrap(const std::vector<Stanza>& stanzas) const {
  for (const Stanza& s : stanzas) {
    if (s.args.empty() || s.args[0] != "scrypt") continue;
    if (stanzas.size() != 1) return DataLoss("an scrypt recipient must be the only one in the header");
    if (s.args.size() != 3) return DataLoss("invalid scrypt recipient block");
    ASSIGN_OR_RETURN(std::string salt, B64DecodeStrict(s.args[1]));
    const std::string& wf = s.args[2];
    if (salt.size() != 16 || s.body.size() != kFileKeySize + 16 || wf.empty() || wf.size() > 2 || wf[0] < '1' ||
        wf[0] > '9' || (wf.size() == 2 && (wf[1] < '0' || wf[1] > '9'))) {
      return DataLoss("invalid scrypt recipient block");
    }
    int log2_n = std::stoi(wf);
    if (log2_n > max_work_factor_) {
      return DataLoss("scrypt work factor too large: " + wf + " (the limit is " + std::to_string(max_work_factor_) +
                      ")");
    }
    ASSIGN_OR_RETURN(SecretBytes wrap_key, crypto::Scrypt(std::string_view(passphrase_.data(), passphrase_.size()),
                                                          std::string(kScryptSaltLabel) + salt, log2_n, 8, 1, 32));
    if (auto key = OpenFileKey(wrap_key, s.body)) return std::optional<SecretBytes>(std::move(*key));
  }
  return std::optional<SecretBytes>();
}

// ---- files ----

StatusOr<std::vector<X25519Identity>> ParseIdentities(std::string_view text) {
  if (text.substr(0, 19) == "age-encryption.org/" || text.substr(0, 34) == "-----BEGIN AGE ENCRYPTED FILE-----") {
    return InvalidArgument("passphrase-protected identity files are not supported");
  }
  std::vector<X25519Identity> out;
  Status st = ForEachLine(text, [&](std::string_view line, size_t n) -> Status {
    if (line.substr(0, 11) == "AGE-PLUGIN-") {
      return InvalidArgument("error at line " + std::to_string(n) + ": age plugins are not supported");
    }
    if (line.substr(0, 10) == "-----BEGIN" || line.substr(0, 4) == "ssh-") {
      return InvalidArgument("error at line " + std::to_string(n) + ": SSH keys are not supported");
    }
    auto id = X25519Identity::Parse(line);
    if (!id.ok()) return InvalidArgument("error at line " + std::to_string(n) + ": " + id.status().message());
    out.push_back(std::move(*id));
    return OkStatus();
  });
  RETURN_IF_ERROR(st);
  if (out.empty()) return InvalidArgument("no secret keys found");
  return out;
}

StatusOr<std::vector<X25519Recipient>> ParseRecipients(std::string_view text) {
  std::vector<X25519Recipient> out;
  Status st = ForEachLine(text, [&](std::string_view line, size_t n) -> Status {
    auto r = X25519Recipient::Parse(line);
    if (!r.ok()) return InvalidArgument("error at line " + std::to_string(n) + ": " + r.status().message());
    out.push_back(std::move(*r));
    return OkStatus();
  });
  RETURN_IF_ERROR(st);
  if (out.empty()) return InvalidArgument("no recipients found");
  return out;
}

SecretString FormatIdentityFile(const X25519Identity& identity, int64_t unix_seconds) {
  std::string head =
      "# created: " + LocalRfc3339(unix_seconds) + "\n# public key: " + identity.recipient().String() + "\n";
  SecretString out(head.begin(), head.end());
  out += identity.String();
  out += "\n";
  return out;
}

}  // namespace coffer::age
