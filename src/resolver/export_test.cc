#include "resolver/export.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "formats/dotenv/parser.h"

namespace coffer::resolver {
namespace {

ExportOptions Fmt(std::string format, std::string name = "coffer") {
  ExportOptions o;
  o.format = std::move(format);
  o.name = std::move(name);
  return o;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ParseProjectConfig(
        "secrets:\n- {name: A, source: env}\n- {name: B, source: env}\n"
        "- {name: T, source: file, path: ./t.key, mountPath: /etc/t.key, permissions: '0600'}\n"
        "- {name: MISSING, source: env}\n",
        "coffer.yaml", "/proj", ProcessEnv());
    ASSERT_TRUE(c.ok());
    cfg_ = *c;
    for (const auto& s : cfg_.secrets) {
      Resolved r;
      r.spec = &s;
      res_.secrets.push_back(std::move(r));
    }
    Set(0, "it's \"quoted\" $HOME\nsecond line");
    Set(1, "plain");
    Set(2, "KEYDATA");
  }
  void Set(size_t i, const std::string& v) {
    res_.secrets[i].found = true;
    res_.secrets[i].value = ToSecretBytes(v);
  }
  ProjectConfig cfg_;
  Resolution res_;
};

TEST_F(ExportTest, DotenvReadsBackExactly) {
  auto out = Export(res_, Fmt("dotenv"));
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto doc = dotenv::Document::Parse(*out);
  auto back = dotenv::Resolve(doc, dotenv::ResolveOptions{});  // expansion included
  ASSERT_NE(back.Get("A"), nullptr);
  EXPECT_EQ(*back.Get("A"), "it's \"quoted\" $HOME\nsecond line");
  EXPECT_EQ(*back.Get("B"), "plain");
  EXPECT_EQ(*back.Get("T_BASE64"), "S0VZREFUQQ==");
  EXPECT_EQ(doc.Find("MISSING"), nullptr);
}

TEST_F(ExportTest, JsonAndShellAndFly) {
  auto j = nlohmann::json::parse(*Export(res_, Fmt("json")));
  EXPECT_EQ(j["B"], "plain");
  EXPECT_EQ(j["T"]["permissions"], "0600");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  auto fly = *Export(res_, Fmt("fly"));
  EXPECT_NE(fly.find("B=plain\n"), std::string::npos);
  EXPECT_NE(fly.find("A=\"\"\"it's"), std::string::npos);
}

TEST_F(ExportTest, K8sAndComposeAreYaml) {
  auto docs = YAML::LoadAll(*Export(res_, Fmt("k8s", "app")));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "Secret");
  EXPECT_EQ(docs[0]["metadata"]["name"].as<std::string>(), "app-secrets");
  EXPECT_EQ(docs[0]["data"]["B"].as<std::string>(), "cGxhaW4=");
  EXPECT_EQ(docs[1]["data"]["t.key"].as<std::string>(), "S0VZREFUQQ==");
  ExportOptions o = Fmt("compose", "app");
  o.config_dir = "/proj";
  auto compose = YAML::Load(*Export(res_, o));
  EXPECT_EQ(compose["services"]["app"]["env_file"][0].as<std::string>(), ".env.secrets");
  EXPECT_EQ(compose["services"]["app"]["secrets"][0]["target"].as<std::string>(), "/etc/t.key");
  EXPECT_EQ(compose["secrets"]["t"]["file"].as<std::string>(), "/proj/t.key");
  EXPECT_FALSE(Export(res_, Fmt("xml")).ok());
}

TEST_F(ExportTest, DevcontainerHoldsNoValues) {
  ExportOptions o = Fmt("devcontainer");
  o.config_dir = "/proj";
  auto out = *Export(res_, o);
  EXPECT_EQ(out.find("plain"), std::string::npos);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["containerEnv"]["B"], "${localEnv:B}");
  EXPECT_EQ(j["mounts"][0], "source=/proj/t.key,target=/etc/t.key,type=bind,readonly");
}

}  // namespace
}  // namespace coffer::resolver
