#include "config/server_config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace coffer::config {
namespace {

ServerConfig MustParseHcl(std::string_view text) {
  StatusOr<ServerConfig> config = ParseConfig(text, "server.hcl", /*json=*/false);
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *std::move(config) : ServerConfig();
}

ServerConfig MustParseJson(std::string_view text) {
  StatusOr<ServerConfig> config = ParseConfig(text, "server.json", /*json=*/true);
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *std::move(config) : ServerConfig();
}

std::string HclError(std::string_view text) {
  StatusOr<ServerConfig> config = ParseConfig(text, "server.hcl", /*json=*/false);
  EXPECT_FALSE(config.ok()) << "accepted: " << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  return config.status().message();
}

std::string JsonError(std::string_view text) {
  StatusOr<ServerConfig> config = ParseConfig(text, "server.json", /*json=*/true);
  EXPECT_FALSE(config.ok()) << "accepted: " << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  return config.status().message();
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "coffer-config-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, std::string_view text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr std::string_view kFullHcl = R"(# A production-style Vault config.
storage "sqlite" {
  path = "/var/lib/coffer/coffer.db"
  busy_timeout = 5000
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  tls_cert_file   = "/etc/coffer/tls.crt"
  tls_key_file    = "/etc/coffer/tls.key"
  tls_min_version = "tls13"
}

listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = "true"
}

api_addr          = "https://coffer.example.com:8200"
cluster_addr      = "https://coffer.example.com:8201"
disable_mlock     = true
default_lease_ttl = "1h"
max_lease_ttl     = 86400
log_level         = "Debug"
ui                = true
)";

TEST(ServerConfigHcl, ReadsEverySupportedSetting) {
  ServerConfig c = MustParseHcl(kFullHcl);
  ASSERT_TRUE(c.storage.has_value());
  EXPECT_EQ(c.storage->type, "sqlite");
  EXPECT_EQ(c.storage->options.at("path"), "/var/lib/coffer/coffer.db");
  EXPECT_EQ(c.storage->options.at("busy_timeout"), "5000");
  EXPECT_EQ(c.storage->source, "server.hcl:2");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].type, "tcp");
  EXPECT_EQ(c.listeners[0].address, "0.0.0.0:8200");
  EXPECT_FALSE(c.listeners[0].tls_disable);
  EXPECT_EQ(c.listeners[0].tls_cert_file, "/etc/coffer/tls.crt");
  EXPECT_EQ(c.listeners[0].tls_key_file, "/etc/coffer/tls.key");
  EXPECT_EQ(c.listeners[0].tls_min_version, "tls13");
  EXPECT_EQ(c.listeners[0].source, "server.hcl:7");
  EXPECT_EQ(c.listeners[1].address, "127.0.0.1:8300");
  EXPECT_TRUE(c.listeners[1].tls_disable);
  EXPECT_EQ(c.api_addr, "https://coffer.example.com:8200");
  EXPECT_TRUE(c.disable_mlock);
  EXPECT_EQ(c.default_lease_ttl, 3600);
  EXPECT_EQ(c.max_lease_ttl, 86400);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.ui);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
}

TEST(ServerConfigHcl, EmptyFileGivesDefaults) {
  ServerConfig c = MustParseHcl("# nothing here\n");
  EXPECT_FALSE(c.storage.has_value());
  EXPECT_TRUE(c.listeners.empty());
  EXPECT_EQ(c.api_addr, "");
  EXPECT_FALSE(c.disable_mlock);
  EXPECT_EQ(c.default_lease_ttl, 768 * 3600);
  EXPECT_EQ(c.max_lease_ttl, 768 * 3600);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.ui);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(c.explicit_keys.empty());
}

TEST(ServerConfigHcl, ListenerDefaults) {
  ServerConfig c = MustParseHcl("listener \"tcp\" {\n  tls_disable = true\n}\n");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1:8200");
  EXPECT_EQ(c.listeners[0].tls_min_version, "tls12");
  EXPECT_EQ(c.listeners[0].tls_cert_file, "");
}

TEST(ServerConfigHcl, TlsDisableAcceptsVaultBooleanForms) {
  for (std::string_view form : {"true", "\"true\"", "1", "\"1\"", "\"t\"", "\"TRUE\""}) {
    ServerConfig c = MustParseHcl("listener \"tcp\" { tls_disable = " + std::string(form) + " }");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_TRUE(c.listeners[0].tls_disable) << form;
  }
  for (std::string_view form : {"false", "\"false\"", "0", "\"0\"", "\"F\""}) {
    ServerConfig c = MustParseHcl("listener \"tcp\" {\n tls_disable = " + std::string(form) +
                                  "\n tls_cert_file = \"c.pem\"\n tls_key_file = \"k.pem\"\n}");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_FALSE(c.listeners[0].tls_disable) << form;
  }
}

TEST(ServerConfigHcl, OlderBackendSpellingAndInmem) {
  ServerConfig c = MustParseHcl("backend \"inmem\" {}\n");
  ASSERT_TRUE(c.storage.has_value());
  EXPECT_EQ(c.storage->type, "inmem");
  EXPECT_TRUE(c.storage->options.empty());

  c = MustParseHcl("backend \"sqlite\" { path = \"/data/c.db\" }\n");
  EXPECT_EQ(c.storage->type, "sqlite");
  EXPECT_EQ(c.storage->options.at("path"), "/data/c.db");
}

TEST(ServerConfigHcl, FileStorageIsServedBySqliteInThatDirectory) {
  ServerConfig c = MustParseHcl("storage \"file\" {\n  path = \"/opt/vault/data/\"\n}\n");
  ASSERT_TRUE(c.storage.has_value());
  EXPECT_EQ(c.storage->type, "sqlite");
  EXPECT_EQ(c.storage->options.at("path"), "/opt/vault/data/coffer.db");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "server.hcl:1: storage \"file\" is served by the embedded SQLite store at /opt/vault/data/coffer.db");
}

TEST(ServerConfigHcl, DurationsAndLogLevels) {
  ServerConfig c = MustParseHcl("default_lease_ttl = \"30m\"\nmax_lease_ttl = \"1h30m\"\nlog_level = \"ERR\"\n");
  EXPECT_EQ(c.default_lease_ttl, 1800);
  EXPECT_EQ(c.max_lease_ttl, 5400);
  EXPECT_EQ(c.log_level, "error");

  // Zero means "not set" in Vault: the default stays and a later file does not override with it.
  c = MustParseHcl("default_lease_ttl = 0\nlog_level = \"warn\"\n");
  EXPECT_EQ(c.default_lease_ttl, 768 * 3600);
  EXPECT_EQ(c.explicit_keys.count("default_lease_ttl"), 0u);
  EXPECT_EQ(c.log_level, "warn");

  for (std::string_view level : {"trace", "debug", "info", "error"}) {
    EXPECT_EQ(MustParseHcl("log_level = \"" + std::string(level) + "\"").log_level, level);
  }
}

TEST(ServerConfigHcl, UnknownKeysAreWarningsWithLines) {
  ServerConfig c = MustParseHcl(R"(ui = true
plugin_directory = "/plugins"
telemetry {
  statsite_address = "127.0.0.1:8125"
}
listener "tcp" {
  address = "127.0.0.1:8200"
  tls_disable = true
  proxy_protocol_behavior = "use_always"
  cluster_address = "127.0.0.1:8201"
}
)");
  ASSERT_EQ(c.warnings.size(), 3u);
  EXPECT_EQ(c.warnings[0], "server.hcl:2: unknown key \"plugin_directory\" ignored");
  EXPECT_EQ(c.warnings[1], "server.hcl:3: unknown key \"telemetry\" ignored");
  EXPECT_EQ(c.warnings[2], "server.hcl:9: listener \"tcp\": unknown key \"proxy_protocol_behavior\" ignored");
  EXPECT_TRUE(c.ui);
  EXPECT_EQ(c.listeners.size(), 1u);
}

TEST(ServerConfigErrors, TlsMinVersion) {
  EXPECT_EQ(HclError(R"(storage "inmem" {}

listener "tcp" {
  address = "0.0.0.0:8200"
  tls_cert_file = "c.pem"
  tls_key_file = "k.pem"
  tls_min_version = "tls9"
}
)"),
            "server.hcl:7: listener \"tcp\": tls_min_version must be one of tls10, tls11, tls12, tls13, got \"tls9\"");
}

TEST(ServerConfigErrors, UnsupportedStorageType) {
  EXPECT_EQ(HclError("ui = true\nstorage \"consul\" {\n  address = \"127.0.0.1:8500\"\n}\n"),
            "server.hcl:2: storage type \"consul\" is not supported (supported: sqlite, inmem, file)");
  EXPECT_EQ(HclError("backend \"raft\" {}\n"),
            "server.hcl:1: backend type \"raft\" is not supported (supported: sqlite, inmem, file)");
}

TEST(ServerConfigErrors, MoreThanOneStorageBlock) {
  EXPECT_EQ(HclError("storage \"inmem\" {}\n\nbackend \"sqlite\" {\n  path = \"/x.db\"\n}\n"),
            "server.hcl:3: only one storage block is allowed; the first is at server.hcl:1");
}

TEST(ServerConfigErrors, StorageNeedsPathAndOneLabel) {
  EXPECT_EQ(HclError("storage \"sqlite\" {\n}\n"), "server.hcl:1: storage \"sqlite\": path is required");
  EXPECT_EQ(HclError("\nstorage \"file\" { path = \"\" }\n"), "server.hcl:2: storage \"file\": path is required");
  EXPECT_EQ(HclError("storage {\n path = \"/x\"\n}\n"),
            "server.hcl:1: a storage block needs exactly one label, its type, as in storage \"sqlite\" { ... }");
  EXPECT_EQ(HclError("storage \"sqlite\" {\n  path = [\"/x\"]\n}\n"),
            "server.hcl:2: storage \"sqlite\": path must be a string, number or bool, got a list");
  EXPECT_EQ(HclError("listener = { tcp = {} }\n"),
            "server.hcl:1: listener must be a block, as in listener \"tcp\" { ... }");
}

TEST(ServerConfigErrors, ListenerTypeOtherThanTcp) {
  EXPECT_EQ(HclError("listener \"tcp\" { tls_disable = true }\nlistener \"unix\" {\n  address = \"/run/v.sock\"\n}\n"),
            "server.hcl:2: listener type \"unix\" is not supported (supported: tcp)");
}

TEST(ServerConfigErrors, TlsWithoutCertificateOrKey) {
  EXPECT_EQ(HclError("\n\nlistener \"tcp\" {\n  address = \"0.0.0.0:8200\"\n}\n"),
            "server.hcl:3: listener \"tcp\": tls_cert_file is required when TLS is enabled "
            "(set tls_disable = true to serve plain HTTP)");
  EXPECT_EQ(HclError("listener \"tcp\" {\n  tls_disable = false\n  tls_cert_file = \"c.pem\"\n}\n"),
            "server.hcl:1: listener \"tcp\": tls_key_file is required when TLS is enabled "
            "(set tls_disable = true to serve plain HTTP)");
}

TEST(ServerConfigErrors, BadScalarValues) {
  EXPECT_EQ(HclError("listener \"tcp\" {\n  tls_disable = \"maybe\"\n}\n"),
            "server.hcl:2: listener \"tcp\": tls_disable must be true or false, got \"maybe\"");
  EXPECT_EQ(HclError("disable_mlock = 2\n"), "server.hcl:1: disable_mlock must be true or false, got 2");
  EXPECT_EQ(HclError("ui = true\nlog_level = \"loud\"\n"),
            "server.hcl:2: log_level must be one of trace, debug, info, warn, err, error, got \"loud\"");
  EXPECT_EQ(HclError("default_lease_ttl = \"forever\"\n"),
            "server.hcl:1: default_lease_ttl must be a duration such as \"768h\" or \"30m\", or a number of seconds, "
            "got \"forever\"");
  EXPECT_EQ(HclError("\nmax_lease_ttl = \"-5m\"\n"), "server.hcl:2: max_lease_ttl must not be negative");
  EXPECT_EQ(HclError("api_addr = 8200\n"), "server.hcl:1: api_addr must be a string, got a number");
  EXPECT_EQ(HclError("listener \"tcp\" {\n  tls_disable = 1\n  address = \"localhost\"\n}\n"),
            "server.hcl:3: listener \"tcp\": address must be host:port such as \"0.0.0.0:8200\", got \"localhost\"");
}

TEST(ServerConfigErrors, HclSyntaxErrorsKeepLineAndColumn) {
  EXPECT_EQ(HclError("ui = true\nlistener \"tcp\" {\n  address = \"0.0.0.0:8200\n}\n"),
            "server.hcl:3:13: unterminated string: the closing '\"' is missing on this line");
  EXPECT_EQ(HclError("listener \"tcp\" {\n  tls_disable true\n}\n"),
            "server.hcl:2:15: expected '=' or '{' after tls_disable, found a bare word");
}

TEST(ServerConfigHcl, AddressForms) {
  for (std::string_view address : {"0.0.0.0:8200", ":8200", "[::]:8200", "[::1]:0", "vault.internal:443"}) {
    ServerConfig c = MustParseHcl("listener \"tcp\" {\n tls_disable = 1\n address = \"" + std::string(address) + "\"\n}");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0].address, address);
  }
  for (std::string_view address : {"::1:8200", "host:", "host:99999", "host:http", "[::1:8200"}) {
    StatusOr<ServerConfig> c =
        ParseConfig("listener \"tcp\" {\n tls_disable = 1\n address = \"" + std::string(address) + "\"\n}",
                    "server.hcl", false);
    EXPECT_FALSE(c.ok()) << address;
  }
}

TEST(ServerConfigJson, VaultJsonShape) {
  ServerConfig c = MustParseJson(R"({
    "storage": {"sqlite": {"path": "/x/coffer.db"}},
    "listener": [
      {"tcp": {"address": "0.0.0.0:8200", "tls_disable": true}},
      {"tcp": {"address": "0.0.0.0:8201", "tls_cert_file": "c.pem", "tls_key_file": "k.pem"}}
    ],
    "disable_mlock": true,
    "default_lease_ttl": "10m",
    "max_lease_ttl": 7200,
    "api_addr": "http://127.0.0.1:8200",
    "log_level": "trace",
    "ui": "true"
  })");
  ASSERT_TRUE(c.storage.has_value());
  EXPECT_EQ(c.storage->type, "sqlite");
  EXPECT_EQ(c.storage->options.at("path"), "/x/coffer.db");
  EXPECT_EQ(c.storage->source, "server.json: storage.sqlite");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_TRUE(c.listeners[0].tls_disable);
  EXPECT_EQ(c.listeners[1].address, "0.0.0.0:8201");
  EXPECT_EQ(c.listeners[1].source, "server.json: listener[1].tcp");
  EXPECT_TRUE(c.disable_mlock);
  EXPECT_EQ(c.default_lease_ttl, 600);
  EXPECT_EQ(c.max_lease_ttl, 7200);
  EXPECT_EQ(c.api_addr, "http://127.0.0.1:8200");
  EXPECT_EQ(c.log_level, "trace");
  EXPECT_TRUE(c.ui);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ServerConfigJson, ListenerAsObjectAndBackendSpelling) {
  ServerConfig c = MustParseJson(R"({"backend": {"inmem": {}},
                                     "listener": {"tcp": {"address": "127.0.0.1:9000", "tls_disable": 1}}})");
  EXPECT_EQ(c.storage->type, "inmem");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1:9000");

  c = MustParseJson(R"({"listener": {"tcp": [{"tls_disable": "1"}, {"tls_disable": true, "address": ":1"}]}})");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[1].address, ":1");
  EXPECT_EQ(c.listeners[1].source, "server.json: listener.tcp[1]");
}

TEST(ServerConfigJson, EmptyObjectGivesDefaults) {
  ServerConfig c = MustParseJson("{}");
  EXPECT_FALSE(c.storage.has_value());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.max_lease_ttl, 768 * 3600);
}

TEST(ServerConfigJson, UnknownKeysAreWarningsWithKeyPaths) {
  ServerConfig c = MustParseJson(R"({"telemetry": {"x": 1}, "cluster_addr": "https://a:8201",
                                     "listener": [{"tcp": {"tls_disable": true, "bogus": 1}}]})");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0], "server.json: unknown key \"telemetry\" ignored");
  EXPECT_EQ(c.warnings[1], "server.json: unknown key \"listener[0].tcp.bogus\" ignored");
}

TEST(ServerConfigJsonErrors, NameTheKeyPath) {
  EXPECT_EQ(JsonError(R"({"listener": [{"tcp": {"tls_disable": true}}, {"tcp": {"tls_disable": true,
                        "tls_min_version": "tls9"}}]})"),
            "server.json: listener[1].tcp.tls_min_version must be one of tls10, tls11, tls12, tls13, got \"tls9\"");
  EXPECT_EQ(JsonError(R"({"storage": {"s3": {"bucket": "b"}}})"),
            "server.json: storage.s3: storage type \"s3\" is not supported (supported: sqlite, inmem, file)");
  EXPECT_EQ(JsonError(R"({"storage": [{"inmem": {}}, {"inmem": {}}]})"),
            "server.json: storage[1].inmem: only one storage block is allowed; the first is at storage[0].inmem");
  EXPECT_EQ(JsonError(R"({"listener": {"unix": {}}})"),
            "server.json: listener.unix: listener type \"unix\" is not supported (supported: tcp)");
  EXPECT_EQ(JsonError(R"({"listener": [{"tcp": {"tls_key_file": "k.pem"}}]})"),
            "server.json: listener[0].tcp: listener \"tcp\": tls_cert_file is required when TLS is enabled "
            "(set tls_disable = true to serve plain HTTP)");
  EXPECT_EQ(JsonError(R"({"disable_mlock": "sometimes"})"),
            "server.json: disable_mlock must be true or false, got \"sometimes\"");
  EXPECT_EQ(JsonError(R"({"max_lease_ttl": [1]})"),
            "server.json: max_lease_ttl must be a duration such as \"768h\" or \"30m\", or a number of seconds, "
            "got a list");
  EXPECT_EQ(JsonError(R"({"listener": "tcp"})"),
            "server.json: listener must be an object such as {\"tcp\": {...}} or a list of them");
  EXPECT_EQ(JsonError(R"({"listener": [{"tcp": 5}]})"), "server.json: listener[0].tcp must be an object");
  EXPECT_EQ(JsonError("[1, 2]"), "server.json: the configuration must be a JSON object");
}

TEST(ServerConfigJsonErrors, SyntaxErrorsHaveLineAndColumnButNoContent) {
  std::string message = JsonError("{\n  \"api_addr\": \"s.secret-ish\",\n  \"ui\": tru\n}");
  EXPECT_EQ(message.rfind("server.json:3:", 0), 0u) << message;
  EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret-ish"), std::string::npos) << message;
  EXPECT_EQ(message.find("last read"), std::string::npos) << message;
}

TEST(MergeConfigs, LaterFilesOverrideOnlyWhatTheySet) {
  ServerConfig a = MustParseHcl(R"(storage "sqlite" { path = "/a.db" }
listener "tcp" { tls_disable = true }
log_level = "debug"
ui = true
disable_mlock = true
default_lease_ttl = "1h"
bogus = 1
)");
  ServerConfig b = MustParseJson(R"({"listener": {"tcp": {"address": "0.0.0.0:9200", "tls_disable": true}},
                                    "disable_mlock": false, "max_lease_ttl": "2h", "other": 2})");
  ServerConfig merged = MergeConfigs(a, b);
  ASSERT_TRUE(merged.storage.has_value());
  EXPECT_EQ(merged.storage->options.at("path"), "/a.db");  // b has none: a's stays
  ASSERT_EQ(merged.listeners.size(), 2u);
  EXPECT_EQ(merged.listeners[0].address, "127.0.0.1:8200");
  EXPECT_EQ(merged.listeners[1].address, "0.0.0.0:9200");
  EXPECT_EQ(merged.log_level, "debug");       // not set in b
  EXPECT_TRUE(merged.ui);                     // not set in b
  EXPECT_FALSE(merged.disable_mlock);         // b sets it explicitly
  EXPECT_EQ(merged.default_lease_ttl, 3600);  // from a
  EXPECT_EQ(merged.max_lease_ttl, 7200);      // from b
  ASSERT_EQ(merged.warnings.size(), 2u);
  EXPECT_EQ(merged.warnings[0], "server.hcl:7: unknown key \"bogus\" ignored");
  EXPECT_EQ(merged.warnings[1], "server.json: unknown key \"other\" ignored");

  ServerConfig c = MustParseHcl("storage \"inmem\" {}\nlog_level = \"info\"\n");
  merged = MergeConfigs(merged, c);
  EXPECT_EQ(merged.storage->type, "inmem");  // the later storage wins
  EXPECT_EQ(merged.log_level, "info");       // written explicitly, even though it is the default
  EXPECT_EQ(merged.listeners.size(), 2u);
}

TEST(LoadConfigFile, PicksSyntaxByExtension) {
  TempDir dir;
  std::string hcl = dir.Write("server.hcl", "ui = true\nlistener \"tcp\" { tls_disable = true }\n");
  std::string json = dir.Write("server.json", R"({"ui": false, "storage": {"inmem": {}}})");
  StatusOr<ServerConfig> from_hcl = LoadConfigFile(hcl);
  ASSERT_TRUE(from_hcl.ok()) << from_hcl.status().message();
  EXPECT_TRUE(from_hcl->ui);
  StatusOr<ServerConfig> from_json = LoadConfigFile(json);
  ASSERT_TRUE(from_json.ok()) << from_json.status().message();
  EXPECT_EQ(from_json->storage->type, "inmem");

  std::string bad = dir.Write("bad.hcl", "ui = true\nlog_level = 3\n");
  StatusOr<ServerConfig> error = LoadConfigFile(bad);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().message(), bad + ":2: log_level must be one of trace, debug, info, warn, err, error, got a number");
}

TEST(LoadConfigFile, DirectoryMergesFilesInNameOrder) {
  TempDir dir;
  dir.Write("10-base.hcl", "log_level = \"debug\"\nstorage \"sqlite\" { path = \"/a.db\" }\n");
  dir.Write("20-override.json", R"({"log_level": "warn", "listener": {"tcp": {"tls_disable": true}}})");
  dir.Write("README.md", "not a config");
  StatusOr<ServerConfig> c = LoadConfigFile(dir.path());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_EQ(c->storage->options.at("path"), "/a.db");
  EXPECT_EQ(c->listeners.size(), 1u);
}

TEST(LoadConfigFile, MissingFileOrEmptyDirectory) {
  TempDir dir;
  StatusOr<ServerConfig> missing = LoadConfigFile(dir.path() + "/nope.hcl");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            "cannot read config file \"" + dir.path() + "/nope.hcl\": No such file or directory");
  StatusOr<ServerConfig> empty = LoadConfigFile(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "config directory \"" + dir.path() + "\" has no .hcl or .json files");
}

TEST(LoadConfigFile, RejectsHugeFiles) {
  TempDir dir;
  std::string big = dir.Write("big.hcl", std::string(kMaxConfigFileBytes + 1, '#'));
  StatusOr<ServerConfig> c = LoadConfigFile(big);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "config file \"" + big + "\" is larger than 4 MiB");
}

}  // namespace
}  // namespace coffer::config
