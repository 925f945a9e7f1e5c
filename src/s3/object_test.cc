#include "s3/object.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace coffer::s3 {
namespace {

struct Fixture {
  age::X25519Identity id = age::X25519Identity::Generate();
  age::X25519Identity other = age::X25519Identity::Generate();
};

SecretBytes V(std::string_view s) { return ToSecretBytes(s); }

TEST(ObjectTest, SerializesInSindriFieldOrderAndRoundTrips) {
  Fixture f;
  auto o = SealSecret("DB_PASSWORD", "db/password", V("hunter2"), {f.id.recipient()}, false);
  ASSERT_TRUE(o.ok());
  std::string json = SerializeObject(*o);
  std::vector<std::string> order{"\"version\"", "\"secret_name\"", "\"created_at\"", "\"updated_at\"", "\"encryption\"",
                                 "\"algorithm\"", "\"key_derivation\"", "\"recipients\"", "\"encrypted_dek\"",
                                 "\"encrypted_value\"", "\"nonce\"", "\"metadata\"", "\"rotation_count\"",
                                 "\"last_rotated_by\"", "\"description\"", "\"tags\""};
  size_t pos = 0;
  for (const auto& k : order) {
    size_t p = json.find(k, pos);
    ASSERT_NE(p, std::string::npos) << k;
    pos = p;
  }
  EXPECT_NE(json.find("{\n  \"version\": \"1.0\",\n  \"secret_name\": \"DB_PASSWORD\","), std::string::npos);
  EXPECT_NE(json.find("\"last_rotated_by\": null"), std::string::npos);
  EXPECT_NE(json.find("\"tags\": {}"), std::string::npos);
  auto back = ParseObject(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(SerializeObject(*back), json);
  auto v = OpenSecret(*back, "db/password", {f.id});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(AsStringView(*v), "hunter2");
  EXPECT_EQ(back->nonce.size(), 12u);
  EXPECT_EQ(back->encrypted_value.size(), 7u + 16u);
}

TEST(ObjectTest, WrongKeyIsPermissionDenied) {
  Fixture f;
  auto o = SealSecret("A", "A", V("x"), {f.id.recipient()}, false);
  auto v = OpenSecret(*o, "A", {f.other});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kPermissionDenied);
}

TEST(ObjectTest, SeveralRecipientsEachDecrypt) {
  Fixture f;
  auto o = SealSecret("A", "A", V("x"), {f.id.recipient(), f.other.recipient()}, false);
  EXPECT_TRUE(OpenSecret(*o, "A", {f.id}).ok());
  EXPECT_TRUE(OpenSecret(*o, "A", {f.other}).ok());
  EXPECT_EQ(o->recipients.size(), 2u);
}

TEST(ObjectTest, BoundObjectsRejectAnotherPathOrName) {
  Fixture f;
  auto o = SealSecret("A", "p/a", V("value"), {f.id.recipient()}, true);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->version, "1.1");
  EXPECT_TRUE(OpenSecret(*o, "p/a", {f.id}).ok());
  EXPECT_EQ(OpenSecret(*o, "p/b", {f.id}).status().code(), StatusCode::kDataLoss);
  SecretObject renamed = *o;
  renamed.secret_name = "B";
  EXPECT_EQ(OpenSecret(renamed, "p/a", {f.id}).status().code(), StatusCode::kDataLoss);
}

TEST(ObjectTest, EveryTamperFailsClearly) {
  Fixture f;
  auto o1 = SealSecret("A", "A", V("value-one"), {f.id.recipient()}, false);
  auto o2 = SealSecret("B", "B", V("value-two"), {f.id.recipient()}, false);
  std::string good = SerializeObject(*o1);
  auto mutate = [&](auto fn) {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(good);
    fn(j);
    return j.dump(2);
  };
  auto flip = [](std::string b64) {
    std::string raw = *Base64Decode(b64);
    raw[raw.size() / 2] ^= 1;
    return Base64Encode(raw);
  };
  std::vector<std::pair<std::string, std::string>> cases = {
      {"version", mutate([](auto& j) { j["version"] = "9.9"; })},
      {"secret_name", mutate([](auto& j) { j.erase("secret_name"); })},
      {"created_at", mutate([](auto& j) { j["created_at"] = "yesterday"; })},
      {"updated_at", mutate([](auto& j) { j["updated_at"] = 5; })},
      {"encryption.algorithm", mutate([](auto& j) { j["encryption"]["algorithm"] = "aes256gcm"; })},
      {"encryption.key_derivation", mutate([](auto& j) { j["encryption"]["key_derivation"] = "kms"; })},
      {"encryption.recipients", mutate([](auto& j) { j["encryption"]["recipients"] = {"age1nope"}; })},
      {"encrypted_dek", mutate([](auto& j) { j["encrypted_dek"] = "bm90IGFnZQ=="; })},
      {"encrypted_value", mutate([](auto& j) { j["encrypted_value"] = "AAAA"; })},
      {"nonce", mutate([](auto& j) { j["nonce"] = "AAAAAAAA"; })},
      {"nonce", mutate([](auto& j) { j["nonce"] = "not base64!"; })},
      {"metadata.rotation_count", mutate([](auto& j) { j["metadata"]["rotation_count"] = -1; })},
      {"metadata.tags", mutate([](auto& j) { j["metadata"]["tags"] = {{"a", 1}}; })},
      {"JSON", "{not json"},
  };
  for (const auto& [field, text] : cases) {
    auto p = ParseObject(text);
    ASSERT_FALSE(p.ok()) << field;
    EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(p.status().message().find(field), std::string::npos) << p.status().message();
  }
  // Well-formed but tampered: each must fail to decrypt.
  std::vector<std::string> crypto_cases = {
      mutate([&](auto& j) { j["encrypted_value"] = flip(j["encrypted_value"]); }),
      mutate([&](auto& j) { j["nonce"] = flip(j["nonce"]); }),
      mutate([&](auto& j) { j["encrypted_dek"] = flip(j["encrypted_dek"]); }),
      mutate([&](auto& j) { j["encrypted_value"] = Base64Encode(o2->encrypted_value); }),  // swapped
  };
  for (const auto& text : crypto_cases) {
    auto p = ParseObject(text);
    ASSERT_TRUE(p.ok()) << p.status().message();
    auto v = OpenSecret(*p, "A", {f.id});
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kDataLoss) << v.status().message();
    EXPECT_EQ(v.status().message().find("value-one"), std::string::npos);
  }
}

TEST(ObjectTest, ReadsSindriDefaultsForOptionalFields) {
  Fixture f;
  auto o = SealSecret("A", "A", V("x"), {f.id.recipient()}, false);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(SerializeObject(*o));
  j.erase("version");
  j.erase("metadata");
  j["unknown_field"] = true;
  auto p = ParseObject(j.dump());
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->version, "1.0");
  EXPECT_TRUE(OpenSecret(*p, "A", {f.id}).ok());
}

TEST(ObjectTest, Rfc3339) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:01Z"), 1000000000);
  EXPECT_EQ(*ParseRfc3339("1970-01-01T01:00:00.5+01:00"), 500000000);
  EXPECT_TRUE(ParseRfc3339(NowRfc3339()).ok());
  EXPECT_FALSE(ParseRfc3339("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-01-01T00:00:00").ok());
}

TEST(ObjectTest, RewrapKeepsValueCiphertext) {
  Fixture f;
  auto o = SealSecret("A", "A", V("x"), {f.id.recipient()}, false);
  auto dek = UnwrapDek(*o, {f.id});
  ASSERT_TRUE(dek.ok());
  std::string before = o->encrypted_value;
  ASSERT_TRUE(RewrapDek(&*o, *dek, {f.other.recipient()}).ok());
  EXPECT_EQ(o->encrypted_value, before);
  EXPECT_FALSE(OpenSecret(*o, "A", {f.id}).ok());
  EXPECT_TRUE(OpenSecret(*o, "A", {f.other}).ok());
}

}  // namespace
}  // namespace coffer::s3
