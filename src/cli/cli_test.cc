#include "cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/command.h"
#include "cli/suggest.h"

namespace coffer::cli {
namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result RunCli(const std::vector<std::string>& args, bool vault = false) {
  std::istringstream in;
  std::ostringstream out, err;
  int rc = RunArgs(args, vault, in, out, err);
  return {rc, out.str(), err.str()};
}

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("kv", "kv"), 0u);
  EXPECT_EQ(EditDistance("sever", "server"), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(SuggestTest, SuggestsNearest) {
  std::vector<std::string> names = {"server", "secrets", "status", "kv", "policy"};
  EXPECT_EQ(Suggest("sever", names), std::vector<std::string>{"server"});
  EXPECT_EQ(Suggest("polcy", names), std::vector<std::string>{"policy"});
  EXPECT_TRUE(Suggest("zzzzzzzz", names).empty());
}

TEST(CliTest, VersionLinePerPersonality) {
  auto c = RunCli({"version"});
  EXPECT_EQ(c.rc, 0);
  EXPECT_EQ(c.out.rfind("Coffer v", 0), 0u) << c.out;
  auto v = RunCli({"-version"}, true);
  EXPECT_EQ(v.rc, 0);
  EXPECT_EQ(v.out.rfind("Vault v1.15.0 (coffer ", 0), 0u) << v.out;
}

TEST(CliTest, UnknownCommandSuggests) {
  auto r = RunCli({"sever"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("Did you mean \"server\"?"), std::string::npos) << r.err;
}

TEST(CliTest, UnknownSubcommandSuggests) {
  auto r = RunCli({"kv", "gte", "secret/x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("Did you mean \"kv get\"?"), std::string::npos) << r.err;
}

TEST(CliTest, UnknownFlagIsUsageError) {
  auto r = RunCli({"server", "-bogus"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("flag provided but not defined: -bogus"), std::string::npos) << r.err;
}

TEST(CliTest, UnknownFlagSuggestsNearest) {
  auto r = RunCli({"kv", "get", "-feild=x", "secret/x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("Did you mean -field?"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
}

TEST(CliTest, HelpForCommand) {
  auto r = RunCli({"server", "-h"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("Usage: coffer server", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  -dev\n"), std::string::npos) << r.out;
}

TEST(CliTest, InvalidFormat) {
  auto r = RunCli({"kv", "get", "-format=xml", "secret/x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("Invalid output format: xml"), std::string::npos) << r.err;
}

TEST(CliTest, BadLogLevel) {
  auto r = RunCli({"server", "-dev", "-log-level=loud"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("-log-level"), std::string::npos);
}

TEST(CliTest, VaultNameDetection) {
  EXPECT_TRUE(IsVaultName("vault"));
  EXPECT_TRUE(IsVaultName("/usr/local/bin/vault"));
  EXPECT_FALSE(IsVaultName("/usr/bin/coffer"));
  EXPECT_FALSE(IsVaultName("vaultx"));
}

TEST(CliTest, CompletionScripts) {
  auto b = RunCli({"completion", "bash"});
  EXPECT_EQ(b.rc, 0);
  EXPECT_NE(b.out.find("complete -o default -F _coffer_complete coffer"), std::string::npos);
  auto z = RunCli({"completion", "zsh"});
  EXPECT_NE(z.out.find("compdef _coffer_complete coffer"), std::string::npos);
  EXPECT_EQ(RunCli({"completion", "bash"}, true).rc, 2);  // not a Vault command
  auto c = RunCli({"__complete", "kv"});
  EXPECT_NE(c.out.find("get\n"), std::string::npos) << c.out;
  auto f = RunCli({"__complete", "server"});
  EXPECT_NE(f.out.find("-dev\n"), std::string::npos) << f.out;
}

TEST(KeyValuesTest, FormsAndRepeats) {
  std::istringstream in("{\"j\": 1, \"k\": \"from-json\"}");
  std::string error;
  auto v = ParseKeyValues({"a=1", "b=x=y", "a=2", "-", ""}, in, &error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ((*v)["a"], nlohmann::json::array({"1", "2"}));
  EXPECT_EQ((*v)["b"], "x=y");
  EXPECT_EQ((*v)["j"], 1);
  EXPECT_EQ((*v)["k"], "from-json");
}

TEST(KeyValuesTest, StdinValue) {
  std::istringstream in("multi\nline\n");
  std::string error;
  auto v = ParseKeyValues({"cert=-"}, in, &error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ((*v)["cert"], "multi\nline\n");
}

TEST(KeyValuesTest, ErrorsNameTheArgumentNotTheValue) {
  std::istringstream in("{\"secret\": \"hunter2\"");
  std::string error;
  EXPECT_FALSE(ParseKeyValues({"hunter2"}, in, &error));
  EXPECT_NE(error.find("argument 1"), std::string::npos);
  EXPECT_EQ(error.find("hunter2"), std::string::npos);
  EXPECT_FALSE(ParseKeyValues({"-"}, in, &error));
  EXPECT_NE(error.find("invalid JSON on stdin"), std::string::npos);
  EXPECT_EQ(error.find("hunter2"), std::string::npos);
  EXPECT_FALSE(ParseKeyValues({"k=@/nonexistent/x"}, in, &error));
  EXPECT_NE(error.find("/nonexistent/x"), std::string::npos);
  std::istringstream in2("a");
  EXPECT_FALSE(ParseKeyValues({"a=-", "b=-"}, in2, &error));
  EXPECT_NE(error.find("only once"), std::string::npos);
}

TEST(ContextTest, FieldNewlineOnlyOnTerminal) {
  std::istringstream in;
  std::ostringstream out, err;
  Context ctx(in, out, err, false);
  EXPECT_EQ(ctx.OutputField(nlohmann::json("v"), "f"), 0);
  EXPECT_EQ(out.str(), "v");
  std::ostringstream tty_out;
  Context tty(in, tty_out, err, false);
  tty.set_stdout_is_terminal(true);
  EXPECT_EQ(tty.OutputField(nlohmann::json("v"), "f"), 0);
  EXPECT_EQ(tty_out.str(), "v\n");
  EXPECT_EQ(ctx.OutputField(nlohmann::json(), "missing"), 1);
  EXPECT_NE(err.str().find("Field \"missing\" not present in secret"), std::string::npos);
}

TEST(CliTest, NoArgumentsPrintsHelp) {
  auto r = RunCli({});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("Usage: coffer <command> [args]", 0), 0u);
  auto v = RunCli({}, true);
  EXPECT_EQ(v.out.rfind("Usage: vault <command> [args]", 0), 0u);
  EXPECT_EQ(v.out.find("completion"), std::string::npos);
}

TEST(CliTest, SanitizePath) {
  EXPECT_EQ(SanitizePath(" /secret/foo/ "), "secret/foo");
  EXPECT_EQ(SanitizePath("///"), "");
}

}  // namespace
}  // namespace coffer::cli
