#include "logical/token_fields.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace coffer::logical {
namespace {

std::vector<Field> Schema() {
  std::vector<Field> s;
  TokenFields::AddFieldsTo(&s);
  return s;
}

Status Apply(TokenFields* t, const nlohmann::json& body) {
  static const std::vector<Field> schema = Schema();
  auto f = FieldData::Parse(schema, body, {});
  if (!f.ok()) return f.status();
  return t->Update(*f);
}

TEST(TokenFieldsTest, ParsesEveryFieldAndRoundTrips) {
  TokenFields t;
  ASSERT_TRUE(Apply(&t, {{"token_policies", "Dev, ops,dev"},
                         {"token_ttl", "1h"},
                         {"token_max_ttl", 7200},
                         {"token_explicit_max_ttl", "3h"},
                         {"token_period", "30m"},
                         {"token_num_uses", 5},
                         {"token_bound_cidrs", "10.1.2.3/8,127.0.0.1"},
                         {"token_no_default_policy", true},
                         {"token_type", "service"}})
                  .ok());
  EXPECT_EQ(t.policies, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(t.ttl, 3600);
  EXPECT_EQ(t.max_ttl, 7200);
  EXPECT_EQ(t.explicit_max_ttl, 10800);
  EXPECT_EQ(t.period, 1800);
  EXPECT_EQ(t.num_uses, 5);
  EXPECT_EQ(t.bound_cidrs, (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1/32"}));
  EXPECT_TRUE(t.no_default_policy);
  EXPECT_EQ(t.type, "service");

  TokenFields back = TokenFields::FromStorage(t.ToStorage());
  EXPECT_EQ(back.ToStorage(), t.ToStorage());

  Auth auth;
  t.PopulateAuth(&auth);
  EXPECT_EQ(auth.policies, t.policies);
  EXPECT_EQ(auth.ttl, 3600);
  EXPECT_EQ(auth.num_uses, 5);
  EXPECT_TRUE(auth.no_default_policy);
}

TEST(TokenFieldsTest, ReadShapeHasEveryKey) {
  nlohmann::json d = nlohmann::json::object();
  TokenFields().AddToResponse(&d);
  for (const char* k : {"token_policies", "token_ttl", "token_max_ttl", "token_explicit_max_ttl", "token_period",
                        "token_num_uses", "token_bound_cidrs", "token_no_default_policy", "token_type"}) {
    EXPECT_TRUE(d.contains(k)) << k;
  }
  EXPECT_TRUE(d["token_policies"].is_array());
  EXPECT_EQ(d["token_type"], "default");
}

TEST(TokenFieldsTest, BadValuesAreRejectedAndChangeNothing) {
  TokenFields t;
  ASSERT_TRUE(Apply(&t, {{"token_ttl", 60}}).ok());
  struct Case {
    nlohmann::json body;
    const char* message;
  } cases[] = {
      {{{"token_ttl", -1}}, "'token_ttl' cannot be negative"},
      {{{"token_num_uses", -2}}, "'token_num_uses' cannot be negative"},
      {{{"token_period", -5}}, "'token_period' cannot be negative"},
      {{{"token_ttl", 100}, {"token_max_ttl", 50}}, "'token_ttl' cannot be greater than 'token_max_ttl'"},
      {{{"token_bound_cidrs", "10.0.0.0/99"}}, "token_bound_cidrs"},
      {{{"token_type", "batch"}}, "batch tokens are not supported"},
      {{{"token_type", "weird"}}, "invalid 'token_type' value"},
      {{{"token_ttl", "1x"}}, "token_ttl"},
  };
  for (const auto& c : cases) {
    Status s = Apply(&t, c.body);
    ASSERT_FALSE(s.ok()) << c.body.dump();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
    EXPECT_EQ(t.ttl, 60);
  }
}

}  // namespace
}  // namespace coffer::logical
