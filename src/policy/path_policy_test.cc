#include "policy/path_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "logical/inmem_storage.h"

namespace coffer::policy {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kOps[] = "path \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n";

class PolicyPathsTest : public ::testing::Test {
 protected:
  PolicyPathsTest()
      : view_(&storage_, "sys/policy/"), store_(&view_), backend_(PolicyPaths(&store_), "system backend") {}

  void SetUp() override { ASSERT_TRUE(store_.Setup().ok()); }

  StatusOr<Response> Do(Operation op, const std::string& rel, json data = json::object()) {
    Request req;
    req.operation = op;
    req.path = "sys/" + rel;
    req.mount_point = "sys/";
    req.mount_type = "system";
    req.data = std::move(data);
    return backend_.HandleRequest(req);
  }

  logical::InmemStorage storage_;
  logical::StorageView view_;
  PolicyStore store_;
  logical::FrameworkBackend backend_;
};

TEST_F(PolicyPathsTest, LegacyListAnswersKeysAndPolicies) {
  ASSERT_TRUE(Do(Operation::kUpdate, "policy/ops", {{"policy", kOps}}).ok());
  for (Operation op : {Operation::kRead, Operation::kList}) {
    auto r = Do(op, "policy");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->data, (json{{"keys", {"default", "ops", "root"}}, {"policies", {"default", "ops", "root"}}}));
  }
  auto slash = Do(Operation::kList, "policy/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->data["keys"], (json{"default", "ops", "root"}));
}

TEST_F(PolicyPathsTest, AclListAnswersKeysOnly) {
  auto r = Do(Operation::kList, "policies/acl");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->data, (json{{"keys", {"default", "root"}}}));
  // Vault has no GET on sys/policies/acl.
  EXPECT_EQ(Do(Operation::kRead, "policies/acl").status().code(), StatusCode::kUnsupportedOperation);
}

TEST_F(PolicyPathsTest, WriteThenReadInBothApis) {
  auto w = Do(Operation::kUpdate, "policies/acl/Ops", {{"policy", kOps}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->Empty());  // 204

  auto acl = Do(Operation::kRead, "policies/acl/ops");
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->data, (json{{"name", "ops"}, {"policy", kOps}}));

  auto legacy = Do(Operation::kRead, "policy/OPS");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->data, (json{{"name", "ops"}, {"rules", kOps}}));
}

TEST_F(PolicyPathsTest, LegacyWriteAcceptsRulesWithAWarning) {
  auto w = Do(Operation::kCreate, "policy/ops", {{"rules", kOps}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_THAT(w->warnings, ElementsAre("'rules' is deprecated, please use 'policy' instead"));
  EXPECT_EQ((*store_.Get("ops"))->raw, kOps);

  auto plain = Do(Operation::kUpdate, "policy/ops", {{"policy", kOps}});
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT(plain->warnings, IsEmpty());
}

TEST_F(PolicyPathsTest, Base64PoliciesAreStoredDecoded) {
  auto w = Do(Operation::kUpdate, "policies/acl/ops", {{"policy", Base64Encode(kOps)}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/ops")->data["policy"], kOps);
}

TEST_F(PolicyPathsTest, BadInputIs400WithTheParserMessage) {
  auto bad = Do(Operation::kUpdate, "policies/acl/ops", {{"policy", "path \"a\" {\n  capabilities = [\"reed\"]\n}"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "policy ops: 2:19: path \"a\": invalid capability \"reed\"");
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/ops").status().code(), StatusCode::kNotFound);

  auto empty = Do(Operation::kUpdate, "policies/acl/ops", {{"policy", ""}});
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "'policy' parameter not supplied or empty");

  // The ACL API has no "rules" field.
  auto rules = Do(Operation::kUpdate, "policies/acl/ops", {{"rules", kOps}});
  EXPECT_EQ(rules.status().message(), "'policy' parameter not supplied or empty");

  auto name = Do(Operation::kUpdate, "policies/acl/a/b", {{"policy", kOps}});
  EXPECT_EQ(name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(name.status().message(), "invalid policy name \"a/b\": use letters, digits and - _ . @ + = : , only");
}

TEST_F(PolicyPathsTest, MissingPolicyIs404WithoutAMessage) {
  auto r = Do(Operation::kRead, "policy/nope");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "");
}

TEST_F(PolicyPathsTest, RootReadsAsEmptyAndCannotChange) {
  auto r = Do(Operation::kRead, "policies/acl/root");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, (json{{"name", "root"}, {"policy", ""}}));
  EXPECT_EQ(Do(Operation::kUpdate, "policy/root", {{"policy", kOps}}).status().message(),
            "cannot update \"root\" policy");
  EXPECT_EQ(Do(Operation::kDelete, "policy/root").status().message(), "cannot delete \"root\" policy");
  EXPECT_EQ(Do(Operation::kDelete, "policies/acl/default").status().message(), "cannot delete default policy");
}

TEST_F(PolicyPathsTest, DeleteAnswers204AndRemoves) {
  ASSERT_TRUE(Do(Operation::kUpdate, "policies/acl/ops", {{"policy", kOps}}).ok());
  auto d = Do(Operation::kDelete, "policies/acl/ops");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->Empty());
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/ops").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Do(Operation::kDelete, "policy/ops")->Empty());  // again: still 204
}

}  // namespace
}  // namespace coffer::policy
