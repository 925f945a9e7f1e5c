#include "s3/object.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "crypto/chacha20poly1305.h"
#include "crypto/random.h"
#include "formats/age/age.h"
#include "formats/age/io.h"

namespace coffer::s3 {
namespace {

using ojson = nlohmann::ordered_json;

Status Bad(std::string_view field, std::string_view why) {
  return DataLoss("invalid secret object: field \"" + std::string(field) + "\" " + std::string(why));
}

// Standard padded base64, canonical (re-encodes to the same text), as Sindri writes it.
StatusOr<std::string> DecodeB64Field(const nlohmann::json& j, std::string_view field) {
  if (!j.is_string()) return Bad(field, "must be a base64 string");
  const std::string& s = j.get_ref<const std::string&>();
  auto d = Base64Decode(s);
  if (!d.ok() || Base64Encode(*d, true) != s) return Bad(field, "is not valid padded base64");
  return std::move(*d);
}

StatusOr<std::string> StringField(const nlohmann::json& obj, std::string_view field, std::string_view name) {
  auto it = obj.find(std::string(name));
  if (it == obj.end()) return Bad(field, "is missing");
  if (!it->is_string()) return Bad(field, "must be a string");
  return it->get<std::string>();
}

StatusOr<std::optional<std::string>> OptStringField(const nlohmann::json& obj, std::string_view field,
                                                    std::string_view name) {
  auto it = obj.find(std::string(name));
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Bad(field, "must be a string or null");
  return std::optional<std::string>(it->get<std::string>());
}

int DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

}  // namespace

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  return buf;
}

StatusOr<int64_t> ParseRfc3339(std::string_view s) {
  auto bad = [] { return InvalidArgument("not an RFC 3339 timestamp"); };
  auto num = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || s.size() < 20 || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' || !num(8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, &h) || s[13] != ':' || !num(14, 2, &mi) ||
      s[16] != ':' || !num(17, 2, &se)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return bad();
  size_t p = 19;
  int64_t nanos = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t digits = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[p] - '0');
      ++digits;
      ++p;
    }
    if (digits == 0) return bad();
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int oh, om;
    if (!num(p + 1, 2, &oh) || p + 3 >= s.size() || s[p + 3] != ':' || !num(p + 4, 2, &om)) return bad();
    offset = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
    p += 6;
  } else {
    return bad();
  }
  if (p != s.size()) return bad();
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset;
  // Nanoseconds in int64 reach the year 2262; later timestamps are out of range.
  if (secs > INT64_MAX / 1000000000 - 1 || secs < INT64_MIN / 1000000000 + 1) return bad();
  return secs * 1000000000 + nanos;
}

std::string SerializeObject(const SecretObject& o) {
  ojson j;
  j["version"] = o.version;
  j["secret_name"] = o.secret_name;
  j["created_at"] = o.created_at;
  j["updated_at"] = o.updated_at;
  ojson enc;
  enc["algorithm"] = o.algorithm;
  enc["key_derivation"] = o.key_derivation;
  enc["recipients"] = o.recipients;
  j["encryption"] = enc;
  j["encrypted_dek"] = Base64Encode(o.encrypted_dek, true);
  j["encrypted_value"] = Base64Encode(o.encrypted_value, true);
  j["nonce"] = Base64Encode(o.nonce, true);
  ojson meta;
  meta["rotation_count"] = o.rotation_count;
  meta["last_rotated_by"] = o.last_rotated_by ? ojson(*o.last_rotated_by) : ojson(nullptr);
  meta["description"] = o.description ? ojson(*o.description) : ojson(nullptr);
  meta["tags"] = ojson::object();
  for (const auto& [k, v] : o.tags) meta["tags"][k] = v;
  j["metadata"] = meta;
  return j.dump(2);
}

StatusOr<SecretObject> ParseObject(std::string_view text) {
  if (text.size() > 16 * 1024 * 1024) return DataLoss("invalid secret object: too large");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return DataLoss("invalid secret object: not valid JSON");
  if (!j.is_object()) return DataLoss("invalid secret object: not a JSON object");
  SecretObject o;
  // serde's default for a missing version is "1.0".
  if (auto it = j.find("version"); it != j.end()) {
    if (!it->is_string()) return Bad("version", "must be a string");
    o.version = it->get<std::string>();
  }
  if (o.version != kVersionSindri && o.version != kVersionBound) {
    return Bad("version", "is \"" + o.version + "\"; this Coffer reads \"1.0\" and \"1.1\"");
  }
  ASSIGN_OR_RETURN(o.secret_name, StringField(j, "secret_name", "secret_name"));
  if (o.secret_name.empty()) return Bad("secret_name", "is empty");
  ASSIGN_OR_RETURN(o.created_at, StringField(j, "created_at", "created_at"));
  if (!ParseRfc3339(o.created_at).ok()) return Bad("created_at", "is not an RFC 3339 timestamp");
  ASSIGN_OR_RETURN(o.updated_at, StringField(j, "updated_at", "updated_at"));
  if (!ParseRfc3339(o.updated_at).ok()) return Bad("updated_at", "is not an RFC 3339 timestamp");
  auto enc = j.find("encryption");
  if (enc == j.end() || !enc->is_object()) return Bad("encryption", "must be an object");
  ASSIGN_OR_RETURN(o.algorithm, StringField(*enc, "encryption.algorithm", "algorithm"));
  if (o.algorithm != "chacha20poly1305") return Bad("encryption.algorithm", "must be \"chacha20poly1305\"");
  ASSIGN_OR_RETURN(o.key_derivation, StringField(*enc, "encryption.key_derivation", "key_derivation"));
  if (o.key_derivation != "age-x25519") return Bad("encryption.key_derivation", "must be \"age-x25519\"");
  auto rec = enc->find("recipients");
  if (rec == enc->end() || !rec->is_array()) return Bad("encryption.recipients", "must be an array");
  for (const auto& r : *rec) {
    if (!r.is_string() || !age::X25519Recipient::Parse(r.get<std::string>()).ok()) {
      return Bad("encryption.recipients", "holds something that is not an age1... recipient");
    }
    o.recipients.push_back(r.get<std::string>());
  }
  if (o.recipients.empty()) return Bad("encryption.recipients", "is empty");
  auto field = [&](const char* name) -> const nlohmann::json& {
    static const nlohmann::json kNull;
    auto it = j.find(name);
    return it == j.end() ? kNull : *it;
  };
  ASSIGN_OR_RETURN(o.encrypted_dek, DecodeB64Field(field("encrypted_dek"), "encrypted_dek"));
  if (o.encrypted_dek.rfind("age-encryption.org/v1\n", 0) != 0) {
    return Bad("encrypted_dek", "is not a binary age v1 file");
  }
  ASSIGN_OR_RETURN(o.encrypted_value, DecodeB64Field(field("encrypted_value"), "encrypted_value"));
  if (o.encrypted_value.size() < crypto::ChaCha20Poly1305::kTagSize) {
    return Bad("encrypted_value", "is shorter than the 16-byte tag");
  }
  ASSIGN_OR_RETURN(o.nonce, DecodeB64Field(field("nonce"), "nonce"));
  if (o.nonce.size() != kNonceSize) return Bad("nonce", "must be 12 bytes");
  if (auto m = j.find("metadata"); m != j.end() && !m->is_null()) {
    if (!m->is_object()) return Bad("metadata", "must be an object");
    if (auto rc = m->find("rotation_count"); rc != m->end()) {
      if (!rc->is_number_unsigned() || rc->get<uint64_t>() > UINT32_MAX) {
        return Bad("metadata.rotation_count", "must be a non-negative integer");
      }
      o.rotation_count = rc->get<uint32_t>();
    }
    ASSIGN_OR_RETURN(o.last_rotated_by, OptStringField(*m, "metadata.last_rotated_by", "last_rotated_by"));
    ASSIGN_OR_RETURN(o.description, OptStringField(*m, "metadata.description", "description"));
    if (auto t = m->find("tags"); t != m->end() && !t->is_null()) {
      if (!t->is_object()) return Bad("metadata.tags", "must be an object of strings");
      for (auto it = t->begin(); it != t->end(); ++it) {
        if (!it->is_string()) return Bad("metadata.tags", "must be an object of strings");
        o.tags[it.key()] = it->get<std::string>();
      }
    }
  }
  return o;
}

std::string BoundAad(std::string_view name, std::string_view path) {
  std::string aad = "coffer-s3-object-v1.1";
  auto put = [&](std::string_view s) {
    uint32_t n = static_cast<uint32_t>(s.size());
    for (int i = 3; i >= 0; --i) aad.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    aad.append(s);
  };
  put(name);
  put(path);
  return aad;
}

namespace {

StatusOr<std::string> WrapDek(const SecretBytes& dek, const std::vector<age::X25519Recipient>& recipients) {
  if (recipients.empty()) return InvalidArgument("no recipients to encrypt to");
  std::vector<const age::Recipient*> rs;
  for (const auto& r : recipients) rs.push_back(&r);
  age::StringReader in(AsStringView(dek));
  std::string out;
  age::StringWriter w(&out);
  RETURN_IF_ERROR(age::Encrypt(rs, in, w, false));
  return out;
}

// ChaCha20-Poly1305 with associated data; crypto::ChaCha20Poly1305 has none, so objects with AAD
// go through a separate small OpenSSL path in aad_cipher.cc.
}  // namespace

StatusOr<SecretBytes> AeadOpenWithAad(const SecretBytes& key, std::string_view nonce, std::string_view ct,
                                      std::string_view aad);
Status AeadSealWithAad(const SecretBytes& key, std::string_view nonce, const SecretBytes& pt, std::string_view aad,
                       std::string* out);

StatusOr<SecretObject> SealSecret(std::string_view name, std::string_view path, const SecretBytes& value,
                                  const std::vector<age::X25519Recipient>& recipients, bool bind_aad) {
  if (name.empty()) return InvalidArgument("secret name is empty");
  SecretObject o;
  o.version = bind_aad ? kVersionBound : kVersionSindri;
  o.secret_name = std::string(name);
  o.created_at = o.updated_at = NowRfc3339();
  SecretBytes dek = crypto::RandomSecret(kDekSize);
  o.nonce = crypto::RandomBytes(kNonceSize);
  if (bind_aad) {
    RETURN_IF_ERROR(AeadSealWithAad(dek, o.nonce, value, BoundAad(name, path), &o.encrypted_value));
  } else {
    ASSIGN_OR_RETURN(auto aead, crypto::ChaCha20Poly1305::New(dek));
    o.encrypted_value.resize(value.size() + crypto::ChaCha20Poly1305::kTagSize);
    aead->Seal(reinterpret_cast<const uint8_t*>(o.nonce.data()), value.data(), value.size(),
               reinterpret_cast<uint8_t*>(o.encrypted_value.data()));
  }
  RETURN_IF_ERROR(RewrapDek(&o, dek, recipients));
  return o;
}

Status RewrapDek(SecretObject* obj, const SecretBytes& dek, const std::vector<age::X25519Recipient>& recipients) {
  ASSIGN_OR_RETURN(obj->encrypted_dek, WrapDek(dek, recipients));
  obj->recipients.clear();
  for (const auto& r : recipients) obj->recipients.push_back(r.String());
  return OkStatus();
}

StatusOr<SecretBytes> UnwrapDek(const SecretObject& obj, const std::vector<age::X25519Identity>& identities) {
  std::vector<const age::Identity*> ids;
  for (const auto& i : identities) ids.push_back(&i);
  age::StringReader in(obj.encrypted_dek);
  std::string out;
  age::StringWriter w(&out);
  Status s = age::Decrypt(ids, in, w);
  if (!s.ok()) {
    SecureWipe(out.data(), out.size());
    if (s.code() == StatusCode::kPermissionDenied) {
      for (const auto& id : identities) {
        for (const auto& r : obj.recipients) {
          if (r == id.recipient().String()) {
            return DataLoss("secret \"" + obj.secret_name +
                            "\": encrypted_dek does not decrypt although this key is a listed recipient (tampered)");
          }
        }
      }
      return PermissionDenied("secret \"" + obj.secret_name + "\" is not encrypted to this key (" + s.message() + ")");
    }
    return DataLoss("secret \"" + obj.secret_name + "\": encrypted_dek does not decrypt: " + s.message());
  }
  SecretBytes dek(out.begin(), out.end());
  SecureWipe(out.data(), out.size());
  if (dek.size() != kDekSize) return DataLoss("secret \"" + obj.secret_name + "\": the data key is not 32 bytes");
  return dek;
}

StatusOr<SecretBytes> DecryptValue(const SecretObject& obj, std::string_view path, const SecretBytes& dek) {
  auto fail = [&] {
    return DataLoss("secret \"" + obj.secret_name +
                    "\": encrypted_value does not authenticate (tampered, or moved from another secret)");
  };
  if (obj.version == kVersionBound) {
    auto v = AeadOpenWithAad(dek, obj.nonce, obj.encrypted_value, BoundAad(obj.secret_name, path));
    if (!v.ok()) return fail();
    return v;
  }
  ASSIGN_OR_RETURN(auto aead, crypto::ChaCha20Poly1305::New(dek));
  size_t n = obj.encrypted_value.size();
  SecretBytes out(n - crypto::ChaCha20Poly1305::kTagSize);
  if (!aead->Open(reinterpret_cast<const uint8_t*>(obj.nonce.data()),
                  reinterpret_cast<const uint8_t*>(obj.encrypted_value.data()), n, out.data())) {
    return fail();
  }
  return out;
}

StatusOr<SecretBytes> OpenSecret(const SecretObject& obj, std::string_view path,
                                 const std::vector<age::X25519Identity>& identities) {
  ASSIGN_OR_RETURN(SecretBytes dek, UnwrapDek(obj, identities));
  return DecryptValue(obj, path, dek);
}

}  // namespace coffer::s3
