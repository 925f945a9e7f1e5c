#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2_test_util.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

class ConfigTest : public KvV2Test {};

TEST_F(ConfigTest, DefaultsBeforeAnyWrite) {
  EXPECT_EQ(Must(Operation::kRead, "config").data,
            (json{{"cas_required", false}, {"delete_version_after", "0s"}, {"max_versions", 0}}));
}

TEST_F(ConfigTest, WriteIs204AndReadShowsGoDurations) {
  auto w = Must(Operation::kUpdate, "config",
                {{"max_versions", 5}, {"cas_required", true}, {"delete_version_after", "1h30m"}});
  EXPECT_TRUE(w.Empty());
  EXPECT_EQ(Must(Operation::kRead, "config").data,
            (json{{"cas_required", true}, {"delete_version_after", "1h30m0s"}, {"max_versions", 5}}));

  // Fields not sent keep their values.
  Must(Operation::kUpdate, "config", {{"max_versions", 7}});
  EXPECT_EQ(Must(Operation::kRead, "config").data,
            (json{{"cas_required", true}, {"delete_version_after", "1h30m0s"}, {"max_versions", 7}}));
}

TEST_F(ConfigTest, NegativeDeleteVersionAfterDisablesAndZeroClears) {
  Must(Operation::kUpdate, "config", {{"delete_version_after", "-5m"}});
  EXPECT_EQ(Must(Operation::kRead, "config").data["delete_version_after"], "-1s");
  Must(Operation::kUpdate, "config", {{"delete_version_after", "0s"}});
  EXPECT_EQ(Must(Operation::kRead, "config").data["delete_version_after"], "0s");
  Must(Operation::kUpdate, "config", {{"delete_version_after", 90}});
  EXPECT_EQ(Must(Operation::kRead, "config").data["delete_version_after"], "1m30s");
}

TEST_F(ConfigTest, EmptyWriteStoresNothing) {
  auto before = Snapshot(storage_);
  EXPECT_TRUE(Must(Operation::kUpdate, "config", json::object()).Empty());
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(ConfigTest, BadValuesAreRejectedNamingTheFieldAndChangeNothing) {
  Must(Operation::kUpdate, "config", {{"max_versions", 3}});
  auto before = Snapshot(storage_);
  struct Case {
    json body;
    const char* field;
  };
  for (const Case& c :
       {Case{{{"max_versions", -1}}, "max_versions"}, Case{{{"max_versions", 4294967296LL}}, "max_versions"},
        Case{{{"max_versions", "many"}}, "max_versions"}, Case{{{"max_versions", 1.5}}, "max_versions"},
        Case{{{"cas_required", "maybe"}}, "cas_required"},
        Case{{{"delete_version_after", "soon"}}, "delete_version_after"},
        Case{{{"delete_version_after", "100000000000s"}}, "delete_version_after"},
        Case{{{"max_versions", 2}, {"delete_version_after", "soon"}}, "delete_version_after"}}) {
    SCOPED_TRACE(c.body.dump());
    auto r = Do(Operation::kUpdate, "config", c.body);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(std::string("\"") + c.field + "\""));
  }
  EXPECT_EQ(Snapshot(storage_), before);
  EXPECT_EQ(Must(Operation::kRead, "config").data["max_versions"], 3);
}

TEST_F(ConfigTest, DeleteIsUnsupported) {
  EXPECT_EQ(Do(Operation::kDelete, "config").status().code(), StatusCode::kUnsupportedOperation);
}

}  // namespace
}  // namespace coffer::kv
