#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "formats/dotenv/envfile.h"
#include "keysync/config.h"
#include "keysync/sync.h"

namespace coffer::keysync {
namespace {

TEST(KeysyncConfig, EnvdriftToml) {
  auto c = ParseEnvdriftToml(R"(
# comment
[vault]
provider = "hashicorp"

[vault.hashicorp]
url = "http://127.0.0.1:8200"

[vault.sync]
default_vault_name = "kv"
env_keys_filename = ".env.keys"

[[vault.sync.mappings]]
secret_name = "app-key"
folder_path = "services/app"

[[vault.sync.mappings]]
secret_name = 'web-key'  # literal string
folder_path = "web"
environment = "staging"
vault_name = "other"
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->provider, "hashicorp");
  EXPECT_EQ(c->hashicorp_url, "http://127.0.0.1:8200");
  ASSERT_EQ(c->mappings.size(), 2u);
  EXPECT_EQ(c->mappings[0].environment, "production");
  EXPECT_EQ(c->mappings[0].vault_name, "kv");
  EXPECT_EQ(c->mappings[1].secret_name, "web-key");
  EXPECT_EQ(c->mappings[1].vault_name, "other");
  EXPECT_FALSE(ParseEnvdriftToml("[vault]\nprovider = \"gcp\"\n").ok());
  auto bad = ParseEnvdriftToml("[vault\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  EXPECT_FALSE(ParseEnvdriftToml("[[vault.sync.mappings]]\nfolder_path = \"x\"\n").ok());
  // Table headers without a key: a parse error naming the line, never an abort.
  for (const char* text : {"[=]\n", "[[=]]\n", "[ =]\n", "[.a]\n"}) {
    auto keyless = ParseEnvdriftToml(text);
    ASSERT_FALSE(keyless.ok()) << text;
    EXPECT_NE(keyless.status().message().find("line 1"), std::string::npos) << keyless.status().message();
  }
  auto typed = ParseEnvdriftToml("[vault]\n\n[vault.sync]\nenv_keys_filename = 7\n");
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.status().message(), "line 4: vault.sync.env_keys_filename: expected a string");
}

TEST(KeysyncConfig, ProfilesEnvFileAndSelection) {
  auto c = ParseEnvdriftToml(R"(
[[vault.sync.mappings]]
secret_name = "shared"
folder_path = "a"

[[vault.sync.mappings]]
secret_name = "local"
folder_path = "b"
profile = "local"
activate_to = ".env"

[[vault.sync.mappings]]
secret_name = "soak"
folder_path = "b"
profile = "soak"
environment = "staging"
env_file = "custom.env"
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->mappings[0].environment, "production");
  EXPECT_EQ(c->mappings[1].environment, "local");  // the profile, when no environment is given
  EXPECT_EQ(c->mappings[1].activate_to, ".env");
  EXPECT_EQ(c->mappings[2].environment, "staging");  // an explicit environment wins
  EXPECT_EQ(c->mappings[1].EnvFilePath(), "b/.env.local");
  EXPECT_EQ(c->mappings[2].EnvFilePath(), "b/custom.env");
  auto names = [](const std::vector<Mapping>& ms) {
    std::string out;
    for (const auto& m : ms) out += m.secret_name + ",";
    return out;
  };
  EXPECT_EQ(names(SelectMappings(*c, "")), "shared,");
  EXPECT_EQ(names(SelectMappings(*c, "local")), "shared,local,");
  EXPECT_EQ(names(SelectMappings(*c, "soak")), "shared,soak,");
  EXPECT_EQ(names(SelectMappings(*c, "prod")), "shared,");
  auto escape = ParseEnvdriftToml("[[vault.sync.mappings]]\nsecret_name = \"s\"\nfolder_path = \"a\"\n"
                                  "env_file = \"../../etc/passwd\"\n");
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.status().message().find("env_file"), std::string::npos);
  EXPECT_FALSE(ParseEnvdriftToml("[[vault.sync.mappings]]\nsecret_name = \"s\"\nfolder_path = \"a\"\n"
                                 "profile = 3\n").ok());
}

TEST(KeysyncConfig, PyprojectAndPairTxt) {
  auto c = ParseEnvdriftToml("[project]\nname = \"x\"\n[tool.envdrift.vault]\nprovider = \"aws\"\n"
                             "[[tool.envdrift.vault.sync.mappings]]\nsecret_name = \"s\"\nfolder_path = \".\"\n",
                             "tool.envdrift");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->provider, "aws");
  ASSERT_EQ(c->mappings.size(), 1u);
  auto p = ParsePairTxt("# legacy\napp-key=services/app\nmyvault/web-key = web\n\n");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->mappings.size(), 2u);
  EXPECT_EQ(p->mappings[1].vault_name, "myvault");
  EXPECT_EQ(p->mappings[1].secret_name, "web-key");
  EXPECT_FALSE(ParsePairTxt("nonsense\n").ok());
}

constexpr char kHex[] = "ec9e80073d7ace817d35acb8b7293cbf8e5981b4d2f5708ee5be405122993cd1";

TEST(KeysyncNormalize, Forms) {
  for (std::string raw : {std::string(kHex), std::string("  ") + kHex + "\n", std::string("DOTENV_PRIVATE_KEY_PRODUCTION=") + kHex,
                          std::string("{\"value\": \"") + kHex + "\"}",
                          std::string("# keys\nDOTENV_PRIVATE_KEY_PRODUCTION=\"") + kHex + "\"\n"}) {
    auto k = NormalizeKey(raw, "production");
    ASSERT_TRUE(k.ok()) << raw << ": " << k.status().message();
    EXPECT_EQ(std::string(k->c_str()), kHex);
  }
  auto other = NormalizeKey(std::string("DOTENV_PRIVATE_KEY_STAGING=") + kHex, "production");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("STAGING"), std::string::npos);
  EXPECT_EQ(other.status().message().find(kHex), std::string::npos);
  EXPECT_FALSE(NormalizeKey("abcd", "production").ok());
  EXPECT_FALSE(NormalizeKey("{\"nope\":1}", "production").ok());
}

class FakeProvider : public KeyProvider {
 public:
  std::map<std::string, std::string> values;
  StatusOr<SecretString> Fetch(const std::string& name, const std::string&) override {
    auto it = values.find(name);
    if (it == values.end()) return NotFound("no secret " + name);
    return SecretString(it->second);
  }
  Status Store(const std::string& name, const std::string&, std::string_view value) override {
    values[name] = std::string(value);
    return OkStatus();
  }
};

TEST(KeysyncSync, CreateSkipMismatchForceVerify) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("keysync-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "app");
  SyncConfig c;
  Mapping m;
  m.secret_name = "app-key";
  m.folder_path = (dir / "app").string();
  c.mappings.push_back(m);
  FakeProvider p;
  p.values["app-key"] = std::string("DOTENV_PRIVATE_KEY_PRODUCTION=") + kHex;

  EXPECT_EQ(SyncMapping(c, m, p, {}).outcome, Outcome::kCreated);
  EXPECT_EQ(SyncMapping(c, m, p, {}).outcome, Outcome::kSkipped);
  EXPECT_EQ(std::filesystem::status(dir / "app" / ".env.keys").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  dotenv::KeyPair other = dotenv::GenerateKeyPair();
  p.values["app-key"] = std::string(other.PrivateKeyHex().c_str());
  SyncOptions verify;
  verify.verify = true;
  EXPECT_EQ(SyncMapping(c, m, p, verify).outcome, Outcome::kMismatch);
  EXPECT_EQ(SyncMapping(c, m, p, {}).outcome, Outcome::kMismatch);
  SyncOptions force;
  force.force = true;
  SyncResult forced = SyncMapping(c, m, p, force);
  EXPECT_EQ(forced.outcome, Outcome::kUpdated);
  EXPECT_NE(forced.detail.find(".backup."), std::string::npos);
  EXPECT_EQ(std::string(LocalKey(c, m)->c_str()), std::string(other.PrivateKeyHex().c_str()));

  // --check-decryption with a key that does not match the env file.
  auto enc = dotenv::EncryptEnvFile(".env.production", "A=1\n", std::nullopt, {}, {});
  ASSERT_TRUE(enc.ok());
  std::ofstream(dir / "app" / ".env.production") << enc->env_text;
  SyncOptions check;
  check.check_decryption = true;
  SyncResult bad = SyncMapping(c, m, p, check);
  EXPECT_EQ(bad.outcome, Outcome::kError);
  EXPECT_NE(bad.detail.find("does not decrypt"), std::string::npos);

  Mapping missing = m;
  missing.folder_path = (dir / "nope").string();
  EXPECT_EQ(SyncMapping(c, missing, p, {}).outcome, Outcome::kError);
  Mapping absent = m;
  absent.secret_name = "absent";
  EXPECT_EQ(SyncMapping(c, absent, p, {}).outcome, Outcome::kMissing);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace coffer::keysync
