#include "hcl/hcl.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace coffer::hcl {
namespace {

using Json = nlohmann::json;

Body MustParse(std::string_view text) {
  StatusOr<Body> body = Parse(text, "test.hcl");
  EXPECT_TRUE(body.ok()) << body.status().message();
  return body.ok() ? *std::move(body) : Body();
}

std::string ErrorOf(std::string_view text, std::string_view filename = "policy.hcl") {
  StatusOr<Body> body = Parse(text, filename);
  EXPECT_FALSE(body.ok()) << "parsed unexpectedly: " << text;
  if (body.ok()) return "";
  EXPECT_EQ(body.status().code(), StatusCode::kInvalidArgument);
  return body.status().message();
}

TEST(HclParse, VaultPolicyWithSeveralPathBlocks) {
  Body body = MustParse(R"(# Dev servers have version 2 of KV mounted by default
path "secret/data/*" {
  capabilities = ["create", "update"]
}

// read-only access to a sub-tree
path "secret/data/foo" {
  capabilities = ["read"]
}

/* parameters: an object
   spanning lines */
path "secret/restricted" {
  capabilities = ["create"]
  allowed_parameters = {
    "foo" = []
    "bar" = ["zip", "zap"]
  }
  min_wrapping_ttl = "1s"
}
)");
  ASSERT_EQ(body.blocks.size(), 3u);
  EXPECT_TRUE(body.attributes.empty());
  const Block& first = body.blocks[0];
  EXPECT_EQ(first.type, "path");
  ASSERT_EQ(first.labels.size(), 1u);
  EXPECT_EQ(first.labels[0], "secret/data/*");
  EXPECT_EQ(first.pos.line, 2);
  EXPECT_EQ(first.pos.column, 1);
  const Attribute* caps = first.body.FindAttribute("capabilities");
  ASSERT_NE(caps, nullptr);
  EXPECT_EQ(caps->pos.line, 3);
  EXPECT_EQ(caps->pos.column, 3);
  ASSERT_EQ(caps->value.kind, Value::Kind::kList);
  ASSERT_EQ(caps->value.list.size(), 2u);
  EXPECT_EQ(caps->value.list[1].string_value, "update");
  EXPECT_EQ(caps->value.list[1].pos.line, 3);
  EXPECT_EQ(caps->value.list[1].pos.column, 29);

  const Attribute* params = body.blocks[2].body.FindAttribute("allowed_parameters");
  ASSERT_NE(params, nullptr);
  ASSERT_EQ(params->value.kind, Value::Kind::kObject);
  const Attribute* foo = params->value.object.FindAttribute("foo");
  ASSERT_NE(foo, nullptr);
  EXPECT_EQ(foo->value.kind, Value::Kind::kList);
  EXPECT_TRUE(foo->value.list.empty());

  EXPECT_EQ(ToJson(body), Json::parse(R"({
    "path": {
      "secret/data/*": {"capabilities": ["create", "update"]},
      "secret/data/foo": {"capabilities": ["read"]},
      "secret/restricted": {
        "capabilities": ["create"],
        "allowed_parameters": {"foo": [], "bar": ["zip", "zap"]},
        "min_wrapping_ttl": "1s"
      }
    }
  })"));
}

TEST(HclParse, VaultServerConfig) {
  Body body = MustParse(R"(
ui            = true
cluster_addr  = "https://127.0.0.1:8201"
api_addr      = "https://127.0.0.1:8200"
disable_mlock = true
max_lease_ttl = "768h"

storage "raft" {
  path    = "/path/to/raft/data"
  node_id = "raft_node_id"
}

listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/path/to/full-chain.pem"
  tls_key_file  = "/path/to/private-key.pem"
}

listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = 1
}

telemetry {
  statsite_address = "127.0.0.1:8125"
  disable_hostname = true
}
)");
  EXPECT_EQ(body.attributes.size(), 5u);
  EXPECT_EQ(body.BlocksOfType("listener").size(), 2u);
  EXPECT_EQ(body.BlocksOfType("telemetry").at(0)->labels.size(), 0u);
  EXPECT_TRUE(body.FindAttribute("ui")->value.bool_value);
  EXPECT_EQ(body.FindAttribute("ui")->value.kind, Value::Kind::kBool);
  EXPECT_EQ(body.FindAttribute("nope"), nullptr);

  EXPECT_EQ(ToJson(body), Json::parse(R"({
    "ui": true,
    "cluster_addr": "https://127.0.0.1:8201",
    "api_addr": "https://127.0.0.1:8200",
    "disable_mlock": true,
    "max_lease_ttl": "768h",
    "storage": {"raft": {"path": "/path/to/raft/data", "node_id": "raft_node_id"}},
    "listener": {"tcp": [
      {"address": "127.0.0.1:8200", "tls_cert_file": "/path/to/full-chain.pem",
       "tls_key_file": "/path/to/private-key.pem"},
      {"address": "127.0.0.1:8300", "tls_disable": 1}
    ]},
    "telemetry": {"statsite_address": "127.0.0.1:8125", "disable_hostname": true}
  })"));
}

TEST(HclParse, ScalarsAndEscapes) {
  Body body = MustParse(
      "a = 42\n"
      "b = -7\n"
      "c = 1.5\n"
      "d = -2.5e3\n"
      "e = false\n"
      "f = \"quote \\\" backslash \\\\ nl \\n tab \\t e-acute \\u00e9 smile \\U0001F600\"\n"
      "g = 9223372036854775807\n");
  EXPECT_EQ(body.FindAttribute("a")->value.kind, Value::Kind::kInt);
  EXPECT_EQ(body.FindAttribute("a")->value.int_value, 42);
  EXPECT_EQ(body.FindAttribute("b")->value.int_value, -7);
  EXPECT_EQ(body.FindAttribute("c")->value.kind, Value::Kind::kFloat);
  EXPECT_DOUBLE_EQ(body.FindAttribute("c")->value.float_value, 1.5);
  EXPECT_DOUBLE_EQ(body.FindAttribute("d")->value.float_value, -2500.0);
  EXPECT_EQ(body.FindAttribute("e")->value.kind, Value::Kind::kBool);
  EXPECT_FALSE(body.FindAttribute("e")->value.bool_value);
  EXPECT_EQ(body.FindAttribute("f")->value.string_value,
            "quote \" backslash \\ nl \n tab \t e-acute \xC3\xA9 smile \xF0\x9F\x98\x80");
  EXPECT_EQ(body.FindAttribute("g")->value.int_value, INT64_MAX);
  EXPECT_EQ(ToJson(body)["d"], Json(-2500.0));
}

TEST(HclParse, ListsTrailingCommasAndNesting) {
  Body body = MustParse(R"(
list = [
  "a",
  "b",   # comment inside a list
  [1, 2,],
  { x = 1, y = 2 },
]
empty = []
)");
  const Value& list = body.FindAttribute("list")->value;
  ASSERT_EQ(list.list.size(), 4u);
  EXPECT_EQ(list.list[2].list.size(), 2u);
  EXPECT_EQ(list.list[3].kind, Value::Kind::kObject);
  EXPECT_EQ(ToJson(body), Json::parse(R"({"list": ["a", "b", [1, 2], {"x": 1, "y": 2}], "empty": []})"));
}

TEST(HclParse, ObjectsWithOptionalCommasAndQuotedKeys) {
  Body body = MustParse(R"(
obj = { a = 1, "b c" = "two"
  d-e.f_g = true }
inline = { one = 1 two = 2 }
)");
  EXPECT_EQ(ToJson(body), Json::parse(R"({"obj": {"a": 1, "b c": "two", "d-e.f_g": true},
                                         "inline": {"one": 1, "two": 2}})"));
}

TEST(HclParse, BlocksWithSeveralBareAndQuotedLabels) {
  Body body = MustParse(R"(
resource aws_instance "web" { ami = "x" }
resource "aws_instance" db { ami = "y" }
empty {}
)");
  ASSERT_EQ(body.blocks.size(), 3u);
  EXPECT_EQ(body.blocks[0].labels, (std::vector<std::string>{"aws_instance", "web"}));
  EXPECT_EQ(body.blocks[1].labels, (std::vector<std::string>{"aws_instance", "db"}));
  EXPECT_EQ(ToJson(body), Json::parse(R"({
    "resource": {"aws_instance": {"web": {"ami": "x"}, "db": {"ami": "y"}}},
    "empty": {}
  })"));
}

TEST(HclParse, BlockBraceMayFollowOnTheNextLine) {
  Body body = MustParse("path \"a\"\n{\n  capabilities = []\n}\n");
  ASSERT_EQ(body.blocks.size(), 1u);
  EXPECT_EQ(body.blocks[0].labels.at(0), "a");
}

TEST(HclParse, Hcl1AssignmentFormsOfBlocks) {
  Body body = MustParse(R"(
path "a" = { capabilities = ["read"] }
storage = { path = "/x" }
)");
  ASSERT_EQ(body.blocks.size(), 1u);
  EXPECT_EQ(body.blocks[0].type, "path");
  EXPECT_EQ(ToJson(body), Json::parse(R"({"path": {"a": {"capabilities": ["read"]}},
                                         "storage": {"path": "/x"}})"));
}

TEST(HclParse, RepeatedAttributeKeepsLastValue) {
  Body body = MustParse("a = 1\na = 2\n");
  EXPECT_EQ(body.FindAttribute("a")->value.int_value, 2);
  EXPECT_EQ(ToJson(body), Json::parse(R"({"a": 2})"));
}

TEST(HclParse, RepeatedBlocksBecomeArrays) {
  Body body = MustParse(R"(
path "a" { capabilities = ["read"] }
path "a" { capabilities = ["list"] }
path "a" { capabilities = ["deny"] }
path "b" { capabilities = ["sudo"] }
seal {}
seal {}
)");
  EXPECT_EQ(ToJson(body), Json::parse(R"({
    "path": {
      "a": [{"capabilities": ["read"]}, {"capabilities": ["list"]}, {"capabilities": ["deny"]}],
      "b": {"capabilities": ["sudo"]}
    },
    "seal": [{}, {}]
  })"));
}

TEST(HclParse, Heredocs) {
  Body body = MustParse(
      "plain = <<EOF\n"
      "line one\n"
      "  line two\n"
      "EOF\n"
      "indented = <<-EOT\n"
      "    alpha\n"
      "      beta\n"
      "\n"
      "    gamma\n"
      "    EOT\n"
      "uneven = <<-X\n"
      "  a\n"
      " b\n"
      "  X\n"
      "empty = <<E\n"
      "E\n"
      "after = 1\n");
  EXPECT_EQ(body.FindAttribute("plain")->value.string_value, "line one\n  line two\n");
  EXPECT_EQ(body.FindAttribute("indented")->value.string_value, "alpha\n  beta\n\ngamma\n");
  // Not every line carries the closing anchor's indentation: the text is kept as written.
  EXPECT_EQ(body.FindAttribute("uneven")->value.string_value, "  a\n b\n");
  EXPECT_EQ(body.FindAttribute("empty")->value.string_value, "");
  const Attribute* after = body.FindAttribute("after");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->pos.line, 17);
  EXPECT_EQ(after->pos.column, 1);
}

TEST(HclParse, PolicyFromHeredocInsideList) {
  Body body = MustParse("policies = [<<EOF\npath \"x\" {}\nEOF\n, \"second\"]\n");
  const Value& list = body.FindAttribute("policies")->value;
  ASSERT_EQ(list.list.size(), 2u);
  EXPECT_EQ(list.list[0].string_value, "path \"x\" {}\n");
}

TEST(HclParse, ColumnsCountCharactersNotBytes) {
  Body body = MustParse("\"caf\xC3\xA9\" = 1   b = 2\n");
  const Attribute* b = body.FindAttribute("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->pos.line, 1);
  EXPECT_EQ(b->pos.column, 14);
}

TEST(HclParse, EmptyInputsAndCommentsOnly) {
  EXPECT_TRUE(MustParse("").attributes.empty());
  EXPECT_TRUE(MustParse("# only a comment").blocks.empty());
  EXPECT_TRUE(MustParse("/* x */ // y\n").blocks.empty());
  EXPECT_EQ(ToJson(MustParse("")), Json::object());
  EXPECT_EQ(MustParse("\xEF\xBB\xBF" "a = 1").FindAttribute("a")->pos.column, 1);
}

TEST(HclErrors, UnterminatedStringPointsAtOpeningQuote) {
  EXPECT_EQ(ErrorOf("path \"secret/*\" {\n  capabilities = [\"read]\n}\n"),
            "policy.hcl:2:19: unterminated string: the closing '\"' is missing on this line");
  EXPECT_EQ(ErrorOf("a = \"abc"), "policy.hcl:1:5: unterminated string: the closing '\"' is missing on this line");
}

TEST(HclErrors, MissingEquals) {
  EXPECT_EQ(ErrorOf("path \"a\" {\n  capabilities [\"read\"]\n}\n"),
            "policy.hcl:2:16: expected '=' or '{' after capabilities, found '['");
  EXPECT_EQ(ErrorOf("key 42"), "policy.hcl:1:5: expected '=' or '{' after key, found a number");
  EXPECT_EQ(ErrorOf("path \"a\" \"b\""), "policy.hcl:1:13: expected '{' to open the path block, found end of file");
  EXPECT_EQ(ErrorOf("path \"a\" ["), "policy.hcl:1:10: expected '{' to open the path block, found '['");
  EXPECT_EQ(ErrorOf("listener \"tcp\" {\n  tls_disable true\n}\n"),
            "policy.hcl:2:15: expected '=' or '{' after tls_disable, found a bare word");
  EXPECT_EQ(ErrorOf("listener \"tcp\" {\n  address \"0.0.0.0:8200\"\n  tls_disable = true\n}\n"),
            "policy.hcl:2:11: expected '=' or '{' after address, found a string");
}

TEST(HclErrors, UnbalancedBraces) {
  EXPECT_EQ(ErrorOf("path \"a\" {\n  capabilities = [\"read\"]\n"),
            "policy.hcl:3:1: expected '}' to close the '{' at 1:10, found end of file");
  EXPECT_EQ(ErrorOf("path \"a\" {\n}\n}\n"), "policy.hcl:3:1: unexpected '}': there is no open block to close");
  EXPECT_EQ(ErrorOf("a = [1, 2"), "policy.hcl:1:10: expected ']' to close the '[' at 1:5, found end of file");
  EXPECT_EQ(ErrorOf("a = [1 2]"), "policy.hcl:1:8: expected ',' or ']' in the list opened at 1:5, found a number");
}

TEST(HclErrors, BadEscapes) {
  EXPECT_EQ(ErrorOf("a = \"x\\qy\""),
            "policy.hcl:1:7: invalid escape \"\\q\" in string (valid: \\\" \\\\ \\n \\t \\r \\uXXXX)");
  EXPECT_EQ(ErrorOf("a = \"\\u12\""), "policy.hcl:1:6: invalid escape: \\u needs 4 hex digits");
  EXPECT_EQ(ErrorOf("a = \"\\ud800\""), "policy.hcl:1:6: invalid escape: not a Unicode code point");
}

TEST(HclErrors, ValuesMustBeQuotedAndNumbersValid) {
  EXPECT_EQ(ErrorOf("ttl = 768h"),
            "policy.hcl:1:7: invalid number (a value with letters, such as a duration, needs quotes: \"30m\")");
  EXPECT_EQ(ErrorOf("n = 99999999999999999999"), "policy.hcl:1:5: integer out of range");
  EXPECT_EQ(ErrorOf("f = 1e999"), "policy.hcl:1:5: number out of range");
  std::string bare = ErrorOf("password = hunter2");
  EXPECT_EQ(bare, "policy.hcl:1:12: expected a value (string, number, true/false, list or object), "
                  "found a bare word; strings need double quotes");
  EXPECT_EQ(ErrorOf("a = }"), "policy.hcl:1:5: expected a value (string, number, true/false, list or object), "
                              "found '}'");
  EXPECT_EQ(ErrorOf("= 1"), "policy.hcl:1:1: expected a key (a name or a quoted string), found '='");
}

TEST(HclErrors, ErrorsNeverQuoteStringContents) {
  std::string message = ErrorOf("token = \"s.hunter2-very-secret\ncapabilities = 1");
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  message = ErrorOf("a = [\"s.hunter2\" \"s.other\"]");
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(HclErrors, CommentsHeredocsAndCharacters) {
  EXPECT_EQ(ErrorOf("a = 1\n  /* never closed"), "policy.hcl:2:3: comment opened with '/*' is never closed with '*/'");
  EXPECT_EQ(ErrorOf("a = <<EOF\nno end\n"),
            "policy.hcl:1:5: heredoc is never closed: no line containing only \"EOF\"");
  EXPECT_EQ(ErrorOf("a = <<\nEOF\n"), "policy.hcl:1:5: heredoc needs an anchor word after '<<', such as <<EOF");
  EXPECT_EQ(ErrorOf("a = <<EOF x\nEOF\n"), "policy.hcl:1:10: heredoc anchor must be followed by a line break");
  EXPECT_EQ(ErrorOf("a = 1\nb = @"), "policy.hcl:2:5: unexpected character '@'");
  EXPECT_EQ(ErrorOf("a = \"ok\"\nb = \"\xFF\""), "policy.hcl:2:6: invalid UTF-8 encoding");
  EXPECT_EQ(ErrorOf("a = \"\xED\xA0\x80\""), "policy.hcl:1:6: invalid UTF-8 encoding");  // a surrogate
}

TEST(HclErrors, UsesTheGivenFileName) {
  EXPECT_EQ(ErrorOf("}", "/etc/coffer/server.hcl"),
            "/etc/coffer/server.hcl:1:1: unexpected '}': there is no open block to close");
}

TEST(HclErrors, NestingIsLimited) {
  std::string ok_lists = "a = " + std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
  EXPECT_TRUE(Parse(ok_lists, "x").ok());
  std::string deep_lists = "a = " + std::string(kMaxDepth + 1, '[') + std::string(kMaxDepth + 1, ']');
  EXPECT_EQ(ErrorOf(deep_lists), "policy.hcl:1:105: nesting is deeper than 100 levels");

  std::string deep_blocks;
  for (int i = 0; i <= kMaxDepth; ++i) deep_blocks += "b {";
  EXPECT_EQ(ErrorOf(deep_blocks), "policy.hcl:1:303: nesting is deeper than 100 levels");

  std::string deep_objects = "a = ";
  for (int i = 0; i <= kMaxDepth; ++i) deep_objects += "{b=";
  EXPECT_EQ(ErrorOf(deep_objects), "policy.hcl:1:305: nesting is deeper than 100 levels");

  // Labels nest in the JSON form, so they count as levels too.
  std::string many_labels = "path";
  for (int i = 0; i < kMaxDepth; ++i) many_labels += " a";
  EXPECT_EQ(ErrorOf(many_labels + " {}"), "policy.hcl:1:206: nesting is deeper than 100 levels");
  EXPECT_TRUE(Parse(many_labels.substr(0, many_labels.size() - 2) + " {}", "x").ok());

  // Far deeper than any stack could take if the limit were missing.
  std::string huge = "a = " + std::string(1 << 20, '[');
  EXPECT_EQ(ErrorOf(huge), "policy.hcl:1:105: nesting is deeper than 100 levels");
}

}  // namespace
}  // namespace coffer::hcl
