#include "base/duration.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(DurationTest, AcceptsVaultForms) {
  EXPECT_EQ(*ParseDurationSeconds("30"), 30);
  EXPECT_EQ(*ParseDurationSeconds("30s"), 30);
  EXPECT_EQ(*ParseDurationSeconds("768h"), 768 * 3600);
  EXPECT_EQ(*ParseDurationSeconds("1h30m"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("1.5h"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("7d"), 7 * 86400);
  EXPECT_EQ(*ParseDurationSeconds("1500ms"), 1);
  EXPECT_EQ(*ParseDurationSeconds("0"), 0);
}

TEST(DurationTest, RejectsGarbage) {
  EXPECT_FALSE(ParseDurationSeconds("").ok());
  EXPECT_FALSE(ParseDurationSeconds("h").ok());
  EXPECT_FALSE(ParseDurationSeconds("10x").ok());
  EXPECT_FALSE(ParseDurationSeconds("1h30").ok());
  EXPECT_FALSE(ParseDurationSeconds("99999999999999999999").ok());
}

TEST(DurationTest, FormatsLikeGo) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(90), "1m30s");
  EXPECT_EQ(FormatDuration(768 * 3600), "768h0m0s");
}

}  // namespace
}  // namespace coffer
