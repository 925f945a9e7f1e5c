#include "http/target.h"

#include <gtest/gtest.h>

namespace coffer::http {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

TEST(PercentDecodeTest, DecodesEscapesAndOptionallyPlus) {
  std::string out;
  ASSERT_TRUE(PercentDecode("a%20b%2Fc+d", /*plus_is_space=*/false, &out).ok());
  EXPECT_EQ(out, "a b/c+d");
  ASSERT_TRUE(PercentDecode("a%20b%2fc+d", /*plus_is_space=*/true, &out).ok());
  EXPECT_EQ(out, "a b/c d");
  ASSERT_TRUE(PercentDecode("%e2%82%AC", false, &out).ok());
  EXPECT_EQ(out, "\xe2\x82\xac");
}

TEST(PercentDecodeTest, RejectsMalformedEscapesWithoutEchoingInput) {
  std::string out;
  for (const char* bad : {"%", "%4", "%zz", "abc%4g", "secret%"}) {
    Status s = PercentDecode(bad, false, &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().find("secret"), std::string::npos);
  }
}

TEST(ParseRequestTargetTest, SplitsAndDecodesPathAndQuery) {
  std::string path;
  Query query;
  ASSERT_TRUE(
      ParseRequestTarget("/v1/secret/a%20b+c?list=true&x=a+b%21&&flag&k%3D=v=w", &path, &query)
          .ok());
  EXPECT_EQ(path, "/v1/secret/a b+c");
  EXPECT_EQ(query, (Query{{"list", "true"}, {"x", "a b!"}, {"flag", ""}, {"k=", "v=w"}}));
}

TEST(ParseRequestTargetTest, PathWithoutQueryClearsPreviousQuery) {
  std::string path = "old";
  Query query = {{"stale", "1"}};
  ASSERT_TRUE(ParseRequestTarget("/v1/sys/health", &path, &query).ok());
  EXPECT_EQ(path, "/v1/sys/health");
  EXPECT_TRUE(query.empty());
}

TEST(ParseRequestTargetTest, AcceptsAbsoluteForm) {
  std::string path;
  Query query;
  ASSERT_TRUE(ParseRequestTarget("http://vault:8200/v1/kv/x?version=2", &path, &query).ok());
  EXPECT_EQ(path, "/v1/kv/x");
  EXPECT_EQ(query, (Query{{"version", "2"}}));
  ASSERT_TRUE(ParseRequestTarget("HTTPS://vault?a=1", &path, &query).ok());
  EXPECT_EQ(path, "/");
  EXPECT_EQ(query, (Query{{"a", "1"}}));
}

TEST(ParseRequestTargetTest, RejectsMalformedTargets) {
  std::string path;
  Query query;
  for (const char* bad : {"", "*", "v1/secret", "?x=1", "/v1/%zz", "/v1/a%00b", "/v1/a#frag",
                          "/v1/a?x=%g1", "http://", "http:///v1/a"}) {
    EXPECT_EQ(ParseRequestTarget(bad, &path, &query).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace coffer::http
