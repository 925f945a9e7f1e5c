#include "cli/output.h"

#include <gtest/gtest.h>

namespace coffer::cli {
namespace {

using json = nlohmann::json;

TEST(OutputTest, GoValue) {
  EXPECT_EQ(GoValue(json("x")), "x");
  EXPECT_EQ(GoValue(json()), "<nil>");
  EXPECT_EQ(GoValue(json::array({"a", 1, true})), "[a 1 true]");
  EXPECT_EQ(GoValue(json{{"b", 1}, {"a", "x"}}), "map[a:x b:1]");
}

TEST(OutputTest, HumanDuration) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(3600), "1h");
  EXPECT_EQ(HumanDuration(90), "1m30s");
  EXPECT_EQ(HumanDuration(60), "1m");
  EXPECT_EQ(HumanDuration(3601), "1h1s");
  EXPECT_EQ(HumanDuration(2764800), "768h");
}

TEST(OutputTest, KeyValueTable) {
  json data = {{"foo", "bar"}, {"longer_key", ""}, {"ttl", 3600}};
  EXPECT_EQ(KeyValueTable(data),
            "Key           Value\n"
            "---           -----\n"
            "foo           bar\n"
            "longer_key    n/a\n"
            "ttl           1h");
}

TEST(OutputTest, ListTable) { EXPECT_EQ(ListTable(json::array({"b", "a/"})), "Keys\n----\na/\nb"); }

TEST(OutputTest, Headers) {
  EXPECT_EQ(PadEqualSigns("Secret Path", 17), "== Secret Path ==");
  EXPECT_EQ(PadEqualSigns("Secret Path", 15), "= Secret Path =");
  EXPECT_EQ(PadEqualSigns("Data", 3), "== Data ==");
  json meta = {{"created_time", 1}, {"custom_metadata", 1}, {"deletion_time", 1}, {"destroyed", 1}, {"version", 1}};
  EXPECT_EQ(HeaderForMap("Metadata", meta), "======= Metadata =======");
  EXPECT_EQ(HeaderForMap("Data", json{{"foo", 1}}), "=== Data ===");
}

TEST(OutputTest, GoJson) {
  json v = {{"b", json::array({1, 2})}, {"a", "<x&y>"}, {"e", json::object()}, {"n", nullptr}};
  EXPECT_EQ(
      GoJson(v),
      "{\n  \"a\": \"\\u003cx\\u0026y\\u003e\",\n  \"b\": [\n    1,\n    2\n  ],\n  \"e\": {},\n  \"n\": null\n}");
}

TEST(OutputTest, SecretJsonFieldOrder) {
  json r = {{"data", {{"k", "v"}}}, {"request_id", "id"}, {"lease_id", ""},
            {"lease_duration", 0},  {"renewable", false}, {"warnings", nullptr},
            {"wrap_info", nullptr}, {"auth", nullptr},    {"mount_type", "kv"}};
  EXPECT_EQ(SecretJson(r),
            "{\n  \"request_id\": \"id\",\n  \"lease_id\": \"\",\n  \"lease_duration\": 0,\n  \"renewable\": false,\n"
            "  \"data\": {\n    \"k\": \"v\"\n  },\n  \"warnings\": null,\n  \"mount_type\": \"kv\"\n}");
}

TEST(OutputTest, Yaml) {
  json v = {{"data", {{"keys", json::array({"a", "b"})}, {"n", 2}, {"t", "true"}, {"e", ""}}},
            {"warnings", nullptr},
            {"m", "line1\nline2"},
            {"time", "2026-11-23T06:28:03.4Z"}};
  EXPECT_EQ(Yaml(v),
            "data:\n  e: \"\"\n  keys:\n  - a\n  - b\n  \"n\": 2\n  t: \"true\"\nm: |-\n  line1\n  line2\ntime: "
            "\"2026-11-23T06:28:03.4Z\"\nwarnings: null");
}

TEST(OutputTest, SecretTableWithLease) {
  json r = {{"lease_duration", 2764800}, {"lease_id", ""}, {"data", {{"foo", "bar"}}}};
  EXPECT_EQ(SecretTable(r),
            "Key                 Value\n---                 -----\nrefresh_interval    768h\nfoo                 bar");
}

TEST(OutputTest, SecretField) {
  json r = {{"data", {{"foo", "bar"}}}, {"auth", {{"client_token", "t"}}}};
  EXPECT_EQ(SecretField(r, "foo"), json("bar"));
  EXPECT_EQ(SecretField(r, "token"), json("t"));
  EXPECT_TRUE(SecretField(r, "nope").is_null());
}

}  // namespace
}  // namespace coffer::cli
