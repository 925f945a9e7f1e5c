#include "core/core.h"

#include <gtest/gtest.h>

#include "engines/kv/backend.h"
#include "physical/inmem.h"

namespace coffer::core {
namespace {

using logical::Operation;
using logical::Request;

class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoreOptions opts;
    opts.storage = physical::NewInmemBackend();
    auto c = Core::Create(std::move(opts));
    ASSERT_TRUE(c.ok()) << c.status().message();
    core_ = std::move(*c);
    core_->RegisterEngine("kv", kv::NewKvBackend);
  }

  StatusOr<logical::Response> Call(Operation op, const std::string& path, nlohmann::json data = nlohmann::json::object(),
                                    const std::string& token = "") {
    Request req;
    req.operation = op;
    req.path = path;
    req.data = std::move(data);
    req.client_token = token.empty() ? root_ : token;
    return core_->HandleRequest(req);
  }

  InitResult InitAndUnseal(int shares, int threshold) {
    auto init = core_->Initialize(shares, threshold);
    EXPECT_TRUE(init.ok()) << init.status().message();
    for (int i = 0; i < threshold; ++i) {
      auto st = core_->SubmitUnsealKey(init->keys[i]);
      EXPECT_TRUE(st.ok()) << st.status().message();
    }
    root_ = init->root_token;
    return *init;
  }

  std::unique_ptr<Core> core_;
  std::string root_;
};

TEST_F(CoreTest, InitializeValidatesShareCounts) {
  EXPECT_EQ(core_->Initialize(0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(core_->Initialize(3, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(core_->Initialize(3, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(core_->Initialize(256, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(*core_->Initialized());
}

TEST_F(CoreTest, InitLeavesSealedAndUnsealNeedsThresholdShares) {
  auto init = core_->Initialize(5, 3);
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->keys.size(), 5u);
  EXPECT_EQ(init->keys[0].size(), 33u);
  EXPECT_EQ(init->root_token.rfind("hvs.", 0), 0u);
  EXPECT_TRUE(core_->Sealed());
  EXPECT_EQ(core_->Initialize(5, 3).status().code(), StatusCode::kInvalidArgument);  // already initialized

  auto s1 = core_->SubmitUnsealKey(init->keys[4]);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->progress, 1);
  EXPECT_FALSE(s1->nonce.empty());
  auto dup = core_->SubmitUnsealKey(init->keys[4]);
  EXPECT_EQ(dup->progress, 1);
  EXPECT_TRUE(core_->SubmitUnsealKey(init->keys[1])->sealed);
  auto s3 = core_->SubmitUnsealKey(init->keys[2]);
  ASSERT_TRUE(s3.ok());
  EXPECT_FALSE(s3->sealed);
  EXPECT_EQ(s3->progress, 0);
  EXPECT_FALSE(core_->Sealed());
}

TEST_F(CoreTest, WrongSharesFailAndStaySealed) {
  auto init = core_->Initialize(3, 2);
  ASSERT_TRUE(init.ok());
  SecretBytes bogus = init->keys[0];
  bogus[0] ^= 0x55;
  ASSERT_TRUE(core_->SubmitUnsealKey(bogus).ok());
  auto r = core_->SubmitUnsealKey(init->keys[1]);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(core_->Sealed());
  EXPECT_EQ(core_->GetSealState().progress, 0);
  SecretBytes short_key(5, 1);
  EXPECT_EQ(core_->SubmitUnsealKey(short_key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(core_->GetSealState().progress, 0);
  // The right shares still work afterwards.
  ASSERT_TRUE(core_->SubmitUnsealKey(init->keys[0]).ok());
  EXPECT_FALSE(core_->SubmitUnsealKey(init->keys[2])->sealed);
}

TEST_F(CoreTest, TokensGateEveryAuthenticatedRequest) {
  InitAndUnseal(1, 1);
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts", {}, "hvs.bogus").status().code(), StatusCode::kPermissionDenied);
  Request anonymous;
  anonymous.path = "sys/mounts";
  EXPECT_EQ(core_->HandleRequest(anonymous).status().code(), StatusCode::kPermissionDenied);
  auto mounts = Call(Operation::kRead, "sys/mounts");
  ASSERT_TRUE(mounts.ok()) << mounts.status().message();
  EXPECT_TRUE(mounts->data.contains("sys/"));
}

TEST_F(CoreTest, SealedServerAnswersSealedError) {
  InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/seal").ok());
  EXPECT_TRUE(core_->Sealed());
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").status().code(), StatusCode::kSealed);
  // seal-status stays available while sealed.
  auto status = Call(Operation::kRead, "sys/seal-status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->raw_body["sealed"], true);
}

TEST_F(CoreTest, MountsPersistAcrossSealAndDisableRemovesData) {
  InitResult init = InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "kv1/app", {{"password", "s3cret"}}).ok());
  ASSERT_TRUE(core_->Seal().ok());
  auto unsealed = core_->SubmitUnsealKey(init.keys[0]);
  ASSERT_TRUE(unsealed.ok()) << unsealed.status().message();
  auto read = Call(Operation::kRead, "kv1/app");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->DataJson()["password"], "s3cret");

  ASSERT_TRUE(Call(Operation::kDelete, "sys/mounts/kv1").ok());
  EXPECT_EQ(Call(Operation::kRead, "kv1/app").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).ok());
  EXPECT_EQ(Call(Operation::kRead, "kv1/app").status().code(), StatusCode::kNotFound);
}

TEST_F(CoreTest, MountValidation) {
  InitAndUnseal(1, 1);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/x", {{"type", "nope"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/sys", {{"type", "kv"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/x").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/a/b", {{"type", "kv"}}).ok());
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/a", {{"type", "kv"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/a/b/c", {{"type", "kv"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CoreTest, RotateAddsTermAndKeepsOldDataReadable) {
  InitResult init = InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/kv", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "kv/old", {{"v", 1}}).ok());
  auto before = Call(Operation::kRead, "sys/key-status");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->DataJson()["term"], 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/rotate").ok());
  EXPECT_EQ(Call(Operation::kRead, "sys/key-status")->DataJson()["term"], 2);
  ASSERT_TRUE(Call(Operation::kUpdate, "kv/new", {{"v", 2}}).ok());
  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->SubmitUnsealKey(init.keys[0]).ok());
  EXPECT_EQ(Call(Operation::kRead, "kv/old")->DataJson()["v"], 1);
  EXPECT_EQ(Call(Operation::kRead, "kv/new")->DataJson()["v"], 2);
  EXPECT_EQ(Call(Operation::kRead, "sys/key-status")->DataJson()["term"], 2);
}

TEST_F(CoreTest, DevModeUsesGivenRootToken) {
  auto init = core_->InitializeDev("root");
  ASSERT_TRUE(init.ok()) << init.status().message();
  EXPECT_FALSE(core_->Sealed());
  EXPECT_TRUE(Call(Operation::kRead, "sys/mounts", {}, "root").ok());
}

TEST_F(CoreTest, UnknownRouteIsNotFound) {
  InitAndUnseal(1, 1);
  EXPECT_EQ(Call(Operation::kRead, "nothing/here").status().code(), StatusCode::kNotFound);
}

TEST_F(CoreTest, ToolsRandomAndHash) {
  InitAndUnseal(1, 1);
  auto r = Call(Operation::kUpdate, "sys/tools/random/16", {{"format", "hex"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->DataJson()["random_bytes"].get<std::string>().size(), 32u);
  auto h = Call(Operation::kUpdate, "sys/tools/hash", {{"input", "YWJj"}});  // "abc"
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->DataJson()["sum"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Call(Operation::kUpdate, "sys/tools/random", {{"bytes", 0}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/tools/hash", {{"input", "!!"}}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::core

namespace coffer::core {
namespace {

TEST_F(CoreTest, TuneChangesTtlsAndUpgradesKvVersion) {
  InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/kv", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "kv/app", {{"v", 1}}).ok());
  auto tuned = Call(Operation::kUpdate, "sys/mounts/kv/tune", {{"default_lease_ttl", "1h"}, {"description", "d"}});
  ASSERT_TRUE(tuned.ok()) << tuned.status().message();
  auto read = Call(Operation::kRead, "sys/mounts/kv/tune");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->DataJson()["default_lease_ttl"], 3600);
  EXPECT_EQ(read->DataJson()["max_lease_ttl"], 768 * 3600);
  EXPECT_EQ(read->DataJson()["description"], "d");
  EXPECT_EQ(Call(Operation::kRead, "kv/app")->lease_duration, 3600);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/kv/tune", {{"default_lease_ttl", "9999h"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/nope/tune", {{"description", "x"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CoreTest, RemountMovesDataWithTheMount) {
  InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/old", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "old/app", {{"v", "kept"}}).ok());
  auto moved = Call(Operation::kUpdate, "sys/remount", {{"from", "old"}, {"to", "new/place"}});
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  std::string id = moved->DataJson()["migration_id"];
  EXPECT_EQ(Call(Operation::kRead, "new/place/app")->DataJson()["v"], "kept");
  EXPECT_EQ(Call(Operation::kRead, "old/app").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Call(Operation::kRead, "sys/remount/status/" + id)->DataJson()["migration_info"]["status"], "success");
  EXPECT_EQ(Call(Operation::kUpdate, "sys/remount", {{"from", "new/place"}, {"to", "sys/x"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/remount", {{"from", "cubbyhole"}, {"to", "c2"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CoreTest, CubbyholeIsMountedAndPrivatePerToken) {
  InitAndUnseal(1, 1);
  auto mounts = Call(Operation::kRead, "sys/mounts");
  ASSERT_TRUE(mounts->data.contains("cubbyhole/"));
  EXPECT_EQ(mounts->DataJson()["cubbyhole/"]["type"], "cubbyhole");
  ASSERT_TRUE(Call(Operation::kUpdate, "cubbyhole/note", {{"v", "mine"}}).ok());
  EXPECT_EQ(Call(Operation::kRead, "cubbyhole/note")->DataJson()["v"], "mine");
  EXPECT_EQ(Call(Operation::kDelete, "sys/mounts/cubbyhole").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CoreTest, InternalUiMountsDescribesTheMountForTheKvCli) {
  InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/team/kv", {{"type", "kv"}, {"options", {{"version", "1"}}}}).ok());
  auto r = Call(Operation::kRead, "sys/internal/ui/mounts/team/kv/app/db");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->DataJson()["path"], "team/kv/");
  EXPECT_EQ(r->DataJson()["type"], "kv");
  EXPECT_EQ(r->DataJson()["options"]["version"], "1");
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts/nothing/here").status().code(),
            StatusCode::kPermissionDenied);
}

// The per-token caches (decoded token entry, ACL) never outlive a change: policy edits, revocation
// and use counts apply to the very next request of a token whose entries are cached.
TEST_F(CoreTest, CachedTokensAndAclsFollowEveryChangeAtOnce) {
  InitAndUnseal(1, 1);
  ASSERT_TRUE(Call(Operation::kUpdate, "sys/mounts/kv", {{"type", "kv"}, {"options", {{"version", "1"}}}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "kv/x", {{"v", 1}}).ok());
  ASSERT_TRUE(Call(Operation::kUpdate, "kv/y", {{"v", 2}}).ok());
  auto put_policy = [&](const std::string& rules) {
    auto r = Call(Operation::kUpdate, "sys/policies/acl/p", {{"policy", rules}});
    ASSERT_TRUE(r.ok()) << r.status().message();
  };
  auto make_token = [&](nlohmann::json body) {
    auto r = Call(Operation::kUpdate, "auth/token/create", std::move(body));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->auth["client_token"].get<std::string>() : std::string();
  };
  auto can_read = [&](const std::string& path, const std::string& token) {
    auto r = Call(Operation::kRead, path, nlohmann::json::object(), token);
    if (!r.ok()) EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().message();
    return r.ok();
  };

  put_policy(R"(path "kv/x" { capabilities = ["read"] })");
  std::string t = make_token({{"policies", {"p"}}});
  EXPECT_TRUE(can_read("kv/x", t));
  EXPECT_TRUE(can_read("kv/x", t));  // served from the caches now
  EXPECT_FALSE(can_read("kv/y", t));
  put_policy(R"(path "kv/y" { capabilities = ["read"] })");
  EXPECT_FALSE(can_read("kv/x", t));
  EXPECT_TRUE(can_read("kv/y", t));
  ASSERT_TRUE(Call(Operation::kDelete, "sys/policies/acl/p").ok());
  EXPECT_FALSE(can_read("kv/y", t));
  put_policy(R"(path "kv/*" { capabilities = ["read"] })");
  EXPECT_TRUE(can_read("kv/x", t));

  // Revocation: the next request of a cached token is refused.
  ASSERT_TRUE(Call(Operation::kUpdate, "auth/token/revoke-self", nlohmann::json::object(), t).ok());
  EXPECT_FALSE(can_read("kv/x", t));

  // num_uses counts every request durably and the token is gone after its last one.
  std::string limited = make_token({{"policies", {"p"}}, {"num_uses", 2}});
  EXPECT_TRUE(can_read("kv/x", limited));
  EXPECT_TRUE(can_read("kv/y", limited));
  EXPECT_FALSE(can_read("kv/x", limited));
}

}  // namespace
}  // namespace coffer::core
