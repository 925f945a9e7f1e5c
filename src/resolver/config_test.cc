#include "resolver/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace coffer::resolver {
namespace {

EnvLookup Env(std::map<std::string, std::string> m) {
  return [m](const std::string& n) -> std::optional<std::string> {
    auto it = m.find(n);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

StatusOr<ProjectConfig> Parse(const std::string& text, std::map<std::string, std::string> env = {}) {
  return ParseProjectConfig(text, "coffer.yaml", "/proj", Env(std::move(env)));
}

TEST(ConfigTest, FlatListWithEveryField) {
  auto c = Parse(R"(version: "3"
name: my-app
secrets:
  - name: ANTHROPIC_API_KEY
    source: env
    required: true
  - name: AUTHORIZED_KEYS
    source: env
    fromFile: ~/.ssh/id_ed25519.pub
  - name: TLS_KEY
    source: file
    path: ./certs/tls.key
    mountPath: /etc/ssl/private/app.key
    permissions: "0600"
  - name: DATABASE_PASSWORD
    source: vault
    vaultPath: secret/data/sindri/prod/database
    vaultKey: password
    vaultMount: secret
    description: db
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->secrets.size(), 4u);
  EXPECT_EQ(c->project_name, "my-app");
  EXPECT_TRUE(c->secrets[0].required);
  EXPECT_EQ(c->secrets[0].line, 4);
  EXPECT_EQ(c->secrets[1].from_file, "~/.ssh/id_ed25519.pub");
  EXPECT_EQ(c->secrets[2].permissions, 0600u);
  EXPECT_EQ(c->secrets[2].mount_path, "/etc/ssl/private/app.key");
  EXPECT_EQ(c->secrets[3].source, SourceKind::kVault);
  EXPECT_EQ(c->secrets[3].vault_key, "password");
  EXPECT_EQ(c->secrets[1].permissions, 0644u);
}

TEST(ConfigTest, BackendFormAndBothSpellings) {
  auto c = Parse(R"(secrets:
  backend:
    type: s3
    bucket: b
  secrets:
    - name: A
      source: s3
      s3_path: anthropic/api-key
      fallback: env
    - name: B
      source: s3
      s3Path: b/path
    - name: C
      source: vault
      vault_path: app/prod
      vault_key: k
      vault_mount: kv
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->has_backend);
  EXPECT_EQ(c->secrets[0].s3_path, "anthropic/api-key");
  EXPECT_EQ(c->secrets[0].fallback, SourceKind::kEnv);
  EXPECT_EQ(c->secrets[1].s3_path, "b/path");
  EXPECT_EQ(c->secrets[2].vault_mount, "kv");
  EXPECT_TRUE(c->secrets[2].vault_mount_set);
}

TEST(ConfigTest, TemplatingAndUnsetVariable) {
  const std::string text = R"(secrets:
  - name: API
    source: vault
    vaultPath: secret/data/${ENV}/${SERVICE}/api
    vaultKey: k
)";
  auto c = Parse(text, {{"ENV", "prod"}, {"SERVICE", "web"}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->secrets[0].vault_path, "secret/data/prod/web/api");
  auto bad = Parse(text, {{"ENV", "prod"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "coffer.yaml:4: secret API: vaultPath: environment variable SERVICE is not set (used as ${SERVICE})");
}

struct BadCase {
  const char* yaml;
  const char* message;
};

TEST(ConfigTest, SchemaErrorsNameSecretFieldAndLine) {
  const BadCase cases[] = {
      {"secrets:\n  - name: X\n    source: gcp\n", "coffer.yaml:3: secret X: source: unknown source \"gcp\""},
      {"secrets:\n  - name: F\n    source: file\n    mountPath: /a\n", "coffer.yaml:2: secret F: path: missing"},
      {"secrets:\n  - name: F\n    source: file\n    path: ./a\n", "coffer.yaml:2: secret F: mountPath: missing"},
      {"secrets:\n  - name: F\n    source: file\n    path: ./a\n    mountPath: /a\n    permissions: \"0999\"\n",
       "coffer.yaml:6: secret F: permissions: expected an octal string"},
      {"secrets:\n  - name: F\n    source: file\n    path: ../etc/passwd\n    mountPath: /a\n",
       "coffer.yaml:4: secret F: path: must not contain '..' components"},
      {"secrets:\n  - name: A\n    source: env\n  - name: A\n    source: env\n",
       "coffer.yaml:4: secret A: name: duplicate name (first declared at line 2)"},
      {"secrets:\n  - name: V\n    source: vault\n    vaultPath: a/b\n", "coffer.yaml:2: secret V: vaultKey: missing"},
      {"secrets:\n  - name: E\n    source: env\n    vaultpath: x\n",
       "coffer.yaml:4: secret E: vaultpath: unknown field"},
      {"secrets:\n  - name: 1X\n    source: env\n", "coffer.yaml:2: secret 1X: name: must be an environment"},
      {"secrets:\n  - name: E\n    source: env\n    required: maybe\n", "coffer.yaml:4: secret E: required: expected"},
      {"secrets: [\n", "coffer.yaml:2: invalid YAML"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u) << r.status().message();
  }
}

TEST(ConfigTest, DiscoveryPrefersCofferYamlAndWalksUp) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("coffer-cfg-" + std::to_string(::getpid()));
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "sindri.yaml") << "secrets: []\n";
  auto found = FindConfigFile((root / "a" / "b").string());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, (root / "sindri.yaml").string());
  std::ofstream(root / "coffer.yaml") << "secrets: []\n";
  EXPECT_EQ(*FindConfigFile((root / "a" / "b").string()), (root / "coffer.yaml").string());
  std::ofstream(root / "a" / "sindri.yaml") << "secrets: []\n";
  EXPECT_EQ(*FindConfigFile((root / "a" / "b").string()), (root / "a" / "sindri.yaml").string());
  fs::remove_all(root);
}

}  // namespace
}  // namespace coffer::resolver
