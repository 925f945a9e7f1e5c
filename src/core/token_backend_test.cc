#include "core/token_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>

#include "logical/inmem_storage.h"

namespace coffer::core {
namespace {

using logical::Operation;
using logical::Response;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStart = 1'700'000'000;
constexpr int64_t kDay = 24 * 3600;

class TokenBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.SetClock([this] { return now_.load(); });
    ASSERT_TRUE(store_.Setup().ok());
    auto root = store_.CreateRootToken("");
    ASSERT_TRUE(root.ok());
    root_ = root->first;
    TokenBackendOptions opts;
    opts.default_lease_ttl = 32 * kDay;
    opts.max_lease_ttl = 32 * kDay;
    opts.policy_exists = [](const std::string& name) { return name != "missing"; };
    backend_ = NewTokenBackend(&store_, opts);
  }

  // Sends a request as the core would: authenticated token, root flag from its policies,
  // update turned into create when the existence check says the target is new.
  StatusOr<Response> Do(Operation op, const std::string& path, json data, const std::string& token, bool sudo = false) {
    logical::Request req;
    req.id = "req-1";
    req.operation = op;
    req.path = "auth/token/" + path;
    req.mount_point = "auth/token/";
    req.mount_type = "token";
    req.data = std::move(data);
    req.client_token = token;
    auto entry = store_.Lookup(token);
    if (entry.ok() && entry->has_value()) {
      req.client_root = (*entry)->IsRoot();
      req.client_token_accessor = (*entry)->accessor;
    }
    req.client_sudo = sudo || req.client_root;
    if (req.operation == Operation::kUpdate) {
      auto exists = backend_->ExistenceCheck(req);
      if (exists.ok() && exists->has_value() && !**exists) req.operation = Operation::kCreate;
    }
    return backend_->HandleRequest(req);
  }
  StatusOr<Response> Post(const std::string& path, json data, const std::string& token, bool sudo = false) {
    return Do(Operation::kUpdate, path, std::move(data), token, sudo);
  }

  // Creates a token and returns its auth block (fails the test otherwise).
  json Create(const std::string& path, json data, const std::string& token, bool sudo = false) {
    auto r = Post(path, std::move(data), token, sudo);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return json();
    EXPECT_TRUE(r->data.is_null());
    return r->auth;
  }

  std::string Error(const StatusOr<Response>& r) { return r.ok() ? "(ok)" : r.status().message(); }
  StatusCode Code(const StatusOr<Response>& r) { return r.status().code(); }

  logical::InmemStorage mem_;
  logical::StorageView view_{&mem_, "sys/token/"};
  TokenStore store_{&view_};
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<logical::Backend> backend_;
  std::string root_;
};

TEST_F(TokenBackendTest, CreateAnswersWithVaultsAuthBlock) {
  auto r = Post("create", {{"policies", {"web"}}, {"meta", {{"user", "armon"}}}}, root_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->data.is_null());
  EXPECT_TRUE(r->warnings.empty());
  const json& auth = r->auth;
  std::set<std::string> keys;
  for (const auto& [k, v] : auth.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"client_token", "accessor", "policies", "token_policies", "identity_policies",
                                         "metadata", "lease_duration", "renewable", "entity_id", "token_type", "orphan",
                                         "mfa_requirement", "num_uses"}));
  EXPECT_EQ(auth["client_token"].get<std::string>().substr(0, 4), "hvs.");
  EXPECT_EQ(auth["accessor"].get<std::string>().size(), 24u);
  EXPECT_EQ(auth["policies"], json({"default", "web"}));
  EXPECT_EQ(auth["token_policies"], json({"default", "web"}));
  EXPECT_TRUE(auth["identity_policies"].is_null());
  EXPECT_EQ(auth["metadata"], json({{"user", "armon"}}));
  EXPECT_EQ(auth["lease_duration"], 32 * kDay);
  EXPECT_EQ(auth["renewable"], true);
  EXPECT_EQ(auth["entity_id"], "");
  EXPECT_EQ(auth["token_type"], "service");
  EXPECT_EQ(auth["orphan"], false);
  EXPECT_TRUE(auth["mfa_requirement"].is_null());
  EXPECT_EQ(auth["num_uses"], 0);
  // The new token works.
  auto self = Do(Operation::kRead, "lookup-self", json::object(), auth["client_token"]);
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->data["path"], "auth/token/create");
  EXPECT_EQ(self->data["display_name"], "token");
}

TEST_F(TokenBackendTest, RootParentWithoutPoliciesMakesANonExpiringRootToken) {
  json auth = Create("create", json::object(), root_);
  EXPECT_EQ(auth["policies"], json({"root"}));
  EXPECT_EQ(auth["lease_duration"], 0);
  EXPECT_EQ(auth["renewable"], false);
  EXPECT_TRUE(auth["metadata"].is_null());
  // An expiring root token cannot create a non-expiring one.
  json expiring = Create("create", {{"ttl", "1h"}}, root_);
  EXPECT_EQ(expiring["policies"], json({"root"}));
  EXPECT_EQ(expiring["lease_duration"], 3600);
  auto r = Post("create", json::object(), expiring["client_token"]);
  EXPECT_EQ(Error(r), "expiring root tokens cannot create non-expiring root tokens");
  EXPECT_EQ(Create("create", {{"ttl", "10m"}}, expiring["client_token"])["lease_duration"], 600);
  // A root token bound by explicit_max_ttl gets it as its TTL.
  EXPECT_EQ(Create("create", {{"explicit_max_ttl", 120}}, root_)["lease_duration"], 120);
}

TEST_F(TokenBackendTest, ChildPoliciesMustBeASubsetOfTheParents) {
  json parent = Create("create", {{"policies", {"web", "db"}}}, root_);
  ASSERT_EQ(parent["policies"], json({"db", "default", "web"}));
  std::string p = parent["client_token"];

  EXPECT_EQ(Create("create", {{"policies", {"web"}}}, p)["policies"], json({"default", "web"}));
  EXPECT_EQ(Create("create", {{"policies", "WEB, db"}}, p)["policies"], json({"db", "default", "web"}));
  EXPECT_EQ(Create("create", json::object(), p)["policies"], json({"db", "default", "web"}));
  EXPECT_EQ(Create("create", {{"policies", {"web"}}, {"no_default_policy", true}}, p)["policies"], json({"web"}));

  auto r = Post("create", {{"policies", {"web", "admin"}}}, p);
  EXPECT_EQ(Code(r), StatusCode::kInvalidArgument);
  EXPECT_EQ(Error(r), "child policies must be subset of parent");
  // With sudo on the path the subset rule does not apply...
  EXPECT_EQ(Create("create", {{"policies", {"admin"}}}, p, /*sudo=*/true)["policies"], json({"admin", "default"}));
  // ...but the root policy needs a root parent.
  r = Post("create", {{"policies", {"root"}}}, p, /*sudo=*/true);
  EXPECT_EQ(Error(r), "root tokens may not be created without parent token being root");
  r = Post("create", {{"policies", {"response-wrapping"}}}, root_);
  EXPECT_EQ(Error(r), "cannot assign policy \"response-wrapping\"");
}

TEST_F(TokenBackendTest, DefaultPolicyIsAddedUnlessAskedOrTheParentLacksIt) {
  EXPECT_EQ(Create("create", {{"policies", {"web"}}}, root_)["policies"], json({"default", "web"}));
  json bare = Create("create", {{"policies", {"web"}}, {"no_default_policy", true}}, root_);
  EXPECT_EQ(bare["policies"], json({"web"}));
  // A parent without "default" passes none on.
  EXPECT_EQ(Create("create", {{"policies", {"web"}}}, bare["client_token"])["policies"], json({"web"}));
  EXPECT_EQ(Create("create", json::object(), bare["client_token"])["policies"], json({"web"}));
}

TEST_F(TokenBackendTest, CustomIdNeedsRootOrSudo) {
  json plain = Create("create", {{"policies", {"web"}}}, root_);
  auto r = Post("create", {{"id", "my-token"}}, plain["client_token"]);
  EXPECT_EQ(Error(r), "root or sudo privileges required to specify token id");

  json custom = Create("create", {{"id", "my-token"}, {"policies", {"web"}}}, root_);
  EXPECT_EQ(custom["client_token"], "my-token");
  auto self = Do(Operation::kRead, "lookup-self", json::object(), "my-token");
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->data["id"], "my-token");
  EXPECT_EQ(Error(Post("create", {{"id", "my-token"}}, root_)), "cannot create a token with a duplicate ID");
  EXPECT_EQ(Error(Post("create", {{"id", "hvs.abc"}}, root_)), "custom token ID cannot have the 'hvs.' prefix");
}

TEST_F(TokenBackendTest, OrphanRules) {
  json parent = Create("create", {{"policies", {"web"}}}, root_);
  std::string p = parent["client_token"];
  auto r = Post("create", {{"no_parent", true}}, p);
  EXPECT_EQ(Error(r), "root or sudo privileges required to create orphan token");
  json via_sudo = Create("create", {{"no_parent", true}}, p, /*sudo=*/true);
  EXPECT_EQ(via_sudo["orphan"], true);
  // create-orphan is governed by its own ACL path, no sudo needed.
  json orphan = Create("create-orphan", json::object(), p);
  EXPECT_EQ(orphan["orphan"], true);
  json child = Create("create", json::object(), p);
  EXPECT_EQ(child["orphan"], false);

  ASSERT_TRUE(Post("revoke", {{"token", p}}, root_).ok());
  EXPECT_TRUE(Do(Operation::kRead, "lookup-self", json::object(), orphan["client_token"]).ok());
  EXPECT_TRUE(Do(Operation::kRead, "lookup-self", json::object(), via_sudo["client_token"]).ok());
  EXPECT_EQ(Code(Post("lookup", {{"token", child["client_token"]}}, root_)), StatusCode::kPermissionDenied);
}

TEST_F(TokenBackendTest, LimitedUseTokensCannotCreateChildren) {
  json limited = Create("create", {{"num_uses", 5}}, root_);
  EXPECT_EQ(limited["num_uses"], 5);
  auto r = Post("create", json::object(), limited["client_token"]);
  EXPECT_EQ(Error(r), "restricted use token cannot generate child tokens");
}

TEST_F(TokenBackendTest, TtlRules) {
  EXPECT_EQ(Create("create", {{"ttl", "1h"}}, root_)["lease_duration"], 3600);
  EXPECT_EQ(Create("create", {{"ttl", 90}, {"policies", {"web"}}}, root_)["lease_duration"], 90);
  EXPECT_EQ(Create("create", {{"policies", {"web"}}}, root_)["lease_duration"], 32 * kDay);
  // Beyond the system max: capped, with Vault's warning.
  auto r = Post("create", {{"ttl", "800h"}, {"policies", {"web"}}}, root_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->auth["lease_duration"], 32 * kDay);
  EXPECT_THAT(r->warnings, ElementsAre("TTL of \"800h0m0s\" exceeded the effective max_ttl of \"768h0m0s\"; TTL "
                                       "value is capped accordingly"));
  EXPECT_EQ(
      Create("create", {{"ttl", "1h"}, {"explicit_max_ttl", "10m"}, {"policies", {"web"}}}, root_)["lease_duration"],
      600);
  json periodic = Create("create", {{"period", "30m"}, {"ttl", "5m"}, {"policies", {"web"}}}, root_);
  EXPECT_EQ(periodic["lease_duration"], 1800);

  json plain = Create("create", {{"policies", {"web"}}}, root_);
  EXPECT_EQ(Error(Post("create", {{"period", "30m"}}, plain["client_token"])),
            "root or sudo privileges required to create periodic token");
  EXPECT_EQ(Error(Post("create", {{"ttl", "-5"}}, root_)), "ttl must be positive");
  EXPECT_EQ(Error(Post("create", {{"explicit_max_ttl", "-5s"}}, root_)), "explicit_max_ttl must be positive");
  EXPECT_EQ(Error(Post("create", {{"period", -1}}, root_)), "period must be positive");
}

TEST_F(TokenBackendTest, BadInputsAre400sNamingTheField) {
  struct Case {
    json data;
    std::string needle;
  } cases[] = {
      {{{"ttl", "30x"}}, "field \"ttl\""},
      {{{"num_uses", "many"}}, "field \"num_uses\""},
      {{{"num_uses", -1}}, "number of uses cannot be negative"},
      {{{"renewable", "perhaps"}}, "field \"renewable\""},
      {{{"policies", json::object()}}, "field \"policies\""},
      {{{"meta", 5}}, "field \"meta\""},
      {{{"type", "batch"}}, "batch tokens are not supported by this server"},
      {{{"type", "weird"}}, "field \"type\""},
      {{{"entity_alias", "bob"}}, "'entity_alias' is only allowed in combination with token role"},
  };
  for (const auto& c : cases) {
    auto r = Post("create", c.data, root_);
    ASSERT_FALSE(r.ok()) << c.data.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.data.dump();
    EXPECT_THAT(r.status().message(), HasSubstr(c.needle)) << c.data.dump();
  }
  EXPECT_EQ(Create("create", {{"type", "service"}}, root_)["token_type"], "service");
}

TEST_F(TokenBackendTest, DisplayNamesArePrefixedAndSanitized) {
  json t = Create("create", {{"display_name", "my app!"}, {"policies", {"web"}}}, root_);
  auto self = Do(Operation::kRead, "lookup-self", json::object(), t["client_token"]);
  EXPECT_EQ(self->data["display_name"], "token-my-app");
}

TEST_F(TokenBackendTest, WarnsAboutPoliciesThatDoNotExist) {
  auto r = Post("create", {{"policies", {"missing", "web"}}}, root_);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings, ElementsAre("Policy \"missing\" does not exist"));
}

TEST_F(TokenBackendTest, UnknownFieldsAreReported) {
  auto r = Post("create", {{"role_name", "admin"}, {"policies", {"web"}}}, root_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->auth["policies"], json({"default", "web"}));
  EXPECT_THAT(r->warnings, ElementsAre("Endpoint ignored these unrecognized parameters: [role_name]"));
}

TEST_F(TokenBackendTest, LookupShapes) {
  json t = Create("create", {{"policies", {"web"}}, {"ttl", "1h"}, {"meta", {{"app", "x"}}}}, root_);
  std::string token = t["client_token"];
  now_ = kStart + 600;
  auto r = Post("lookup", {{"token", token}}, root_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const json& d = r->data;
  std::set<std::string> keys;
  for (const auto& [k, v] : d.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"accessor", "creation_time", "creation_ttl", "display_name", "entity_id",
                                         "expire_time", "explicit_max_ttl", "id", "issue_time", "meta", "num_uses",
                                         "orphan", "path", "policies", "renewable", "ttl", "type"}));
  EXPECT_EQ(d["id"], token);
  EXPECT_EQ(d["accessor"], t["accessor"]);
  EXPECT_EQ(d["creation_time"], kStart);
  EXPECT_EQ(d["creation_ttl"], 3600);
  EXPECT_EQ(d["ttl"], 3000);
  EXPECT_EQ(d["expire_time"], "2023-11-14T23:13:20Z");  // kStart + 3600
  EXPECT_EQ(d["issue_time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(d["meta"], json({{"app", "x"}}));
  EXPECT_EQ(d["policies"], json({"default", "web"}));
  EXPECT_EQ(d["renewable"], true);
  EXPECT_EQ(d["orphan"], false);
  EXPECT_EQ(d["type"], "service");

  // lookup-accessor hides the id; lookup-self and GET lookup?token= work too.
  auto by_accessor = Post("lookup-accessor", {{"accessor", t["accessor"]}}, root_);
  ASSERT_TRUE(by_accessor.ok());
  EXPECT_EQ(by_accessor->data["id"], "");
  EXPECT_EQ(by_accessor->data["accessor"], t["accessor"]);
  EXPECT_EQ(Do(Operation::kRead, "lookup-self", json::object(), token)->data["id"], token);
  EXPECT_EQ(Do(Operation::kRead, "lookup", {{"token", token}}, root_)->data["id"], token);

  // The root token from init has no lease: no issue_time, no renewable, never expires.
  auto root = Do(Operation::kRead, "lookup-self", json::object(), root_);
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(root->data.contains("issue_time"));
  EXPECT_TRUE(root->data["expire_time"].is_null());
  EXPECT_EQ(root->data["ttl"], 0);
  EXPECT_EQ(root->data["path"], "auth/token/root");
  EXPECT_EQ(root->data["orphan"], true);
  EXPECT_TRUE(root->data["meta"].is_null());

  auto bad = Post("lookup", {{"token", "hvs.nope"}}, root_);
  EXPECT_EQ(Code(bad), StatusCode::kPermissionDenied);
  EXPECT_EQ(Error(bad), "bad token");
  EXPECT_EQ(Error(Post("lookup-accessor", {{"accessor", "nope"}}, root_)), "invalid accessor");
  EXPECT_EQ(Error(Post("lookup-accessor", json::object(), root_)), "missing accessor");

  // Expired: gone at once.
  now_ = kStart + 3600;
  EXPECT_EQ(Code(Post("lookup", {{"token", token}}, root_)), StatusCode::kPermissionDenied);
}

TEST_F(TokenBackendTest, RenewEndpoints) {
  json t = Create("create", {{"policies", {"web"}}, {"ttl", "1h"}}, root_);
  std::string token = t["client_token"];
  now_ = kStart + 1000;
  auto r = Post("renew", {{"token", token}, {"increment", "2h"}}, root_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->auth["client_token"], token);
  EXPECT_EQ(r->auth["lease_duration"], 7200);
  EXPECT_EQ(r->auth["renewable"], true);
  auto looked = Post("lookup", {{"token", token}}, root_);
  EXPECT_EQ(looked->data["ttl"], 7200);
  EXPECT_EQ(looked->data["creation_ttl"], 3600);
  EXPECT_EQ(looked->data["last_renewal_time"], kStart + 1000);

  r = Post("renew-self", json::object(), token);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->auth["lease_duration"], 7200);  // the last granted TTL

  r = Post("renew-accessor", {{"accessor", t["accessor"]}, {"increment", 60}}, root_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->auth["client_token"], "");
  EXPECT_EQ(r->auth["lease_duration"], 60);

  json fixed = Create("create", {{"policies", {"web"}}, {"renewable", false}}, root_);
  EXPECT_EQ(fixed["renewable"], false);
  EXPECT_EQ(Error(Post("renew", {{"token", fixed["client_token"]}}, root_)), "lease is not renewable");
  EXPECT_EQ(Error(Post("renew-self", json::object(), root_)), "invalid lease ID");
  json root_child = Create("create", json::object(), root_);
  EXPECT_EQ(Error(Post("renew-self", json::object(), root_child["client_token"])), "lease is not renewable");
  EXPECT_EQ(Error(Post("renew", {{"token", "hvs.nope"}}, root_)), "token not found");
  EXPECT_EQ(Error(Post("renew", json::object(), root_)), "missing token ID");
  EXPECT_EQ(Error(Post("renew-accessor", {{"accessor", "nope"}}, root_)), "invalid accessor");
}

TEST_F(TokenBackendTest, RevokeEndpoints) {
  json parent = Create("create", {{"policies", {"web"}}}, root_);
  json child = Create("create", json::object(), parent["client_token"]);
  auto r = Post("revoke", {{"token", parent["client_token"]}}, root_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Empty());  // 204
  EXPECT_EQ(Code(Post("lookup", {{"token", child["client_token"]}}, root_)), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Post("revoke", {{"token", "hvs.unknown"}}, root_)->Empty());
  EXPECT_EQ(Error(Post("revoke", json::object(), root_)), "missing token ID");

  json self = Create("create", {{"policies", {"web"}}}, root_);
  EXPECT_TRUE(Post("revoke-self", json::object(), self["client_token"])->Empty());
  EXPECT_EQ(Code(Post("lookup", {{"token", self["client_token"]}}, root_)), StatusCode::kPermissionDenied);

  json by_accessor = Create("create", {{"policies", {"web"}}}, root_);
  EXPECT_TRUE(Post("revoke-accessor", {{"accessor", by_accessor["accessor"]}}, root_)->Empty());
  EXPECT_EQ(Code(Post("lookup", {{"token", by_accessor["client_token"]}}, root_)), StatusCode::kPermissionDenied);
  auto unknown = Post("revoke-accessor", {{"accessor", "nope"}}, root_);
  ASSERT_TRUE(unknown.ok());
  EXPECT_THAT(unknown->warnings, ElementsAre("No token found with this accessor"));

  // revoke-orphan: sudo only; children survive as orphans.
  json p2 = Create("create", {{"policies", {"web"}}}, root_);
  json kid = Create("create", json::object(), p2["client_token"]);
  EXPECT_EQ(Error(Post("revoke-orphan", {{"token", p2["client_token"]}}, p2["client_token"])),
            "root or sudo privileges required to revoke and orphan");
  EXPECT_EQ(Error(Post("revoke-orphan", {{"token", "hvs.nope"}}, root_)), "token to revoke not found");
  EXPECT_TRUE(Post("revoke-orphan", {{"token", p2["client_token"]}}, root_)->Empty());
  auto kid_lookup = Post("lookup", {{"token", kid["client_token"]}}, root_);
  ASSERT_TRUE(kid_lookup.ok());
  EXPECT_EQ(kid_lookup->data["orphan"], true);
}

TEST_F(TokenBackendTest, AccessorsList) {
  json a = Create("create", {{"policies", {"web"}}}, root_);
  auto r = Do(Operation::kList, "accessors/", json::object(), root_);
  ASSERT_TRUE(r.ok());
  std::set<std::string> keys = r->data["keys"].get<std::set<std::string>>();
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.count(a["accessor"]), 1u);
}

TEST_F(TokenBackendTest, RolesAreStoredReadListedAndDeleted) {
  EXPECT_EQ(Code(Do(Operation::kList, "roles", json::object(), root_)), StatusCode::kNotFound);
  auto w = Post("roles/app",
                {{"allowed_policies", "web, DB"},
                 {"orphan", true},
                 {"path_suffix", "rev1"},
                 {"token_period", "1h"},
                 {"token_num_uses", 3},
                 {"token_bound_cidrs", {"10.0.0.0/8", "127.0.0.1"}}},
                root_);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->Empty());

  auto r = Do(Operation::kRead, "roles/app", json::object(), root_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, (json{{"name", "app"},
                           {"allowed_policies", {"db", "web"}},
                           {"disallowed_policies", json::array()},
                           {"allowed_policies_glob", json::array()},
                           {"disallowed_policies_glob", json::array()},
                           {"orphan", true},
                           {"path_suffix", "rev1"},
                           {"renewable", true},
                           {"period", 0},
                           {"token_period", 3600},
                           {"explicit_max_ttl", 0},
                           {"token_explicit_max_ttl", 0},
                           {"token_type", "default-service"},
                           {"allowed_entity_aliases", json::array()},
                           {"token_no_default_policy", false},
                           {"token_bound_cidrs", {"10.0.0.0/8", "127.0.0.1"}},
                           {"token_num_uses", 3}}));
  // An update changes only what it names.
  ASSERT_TRUE(Post("roles/app", {{"renewable", false}}, root_).ok());
  r = Do(Operation::kRead, "roles/app", json::object(), root_);
  EXPECT_EQ(r->data["renewable"], false);
  EXPECT_EQ(r->data["orphan"], true);
  EXPECT_EQ(r->data["allowed_policies"], json({"db", "web"}));

  EXPECT_EQ(Do(Operation::kList, "roles/", json::object(), root_)->data["keys"], json({"app"}));
  EXPECT_TRUE(Do(Operation::kDelete, "roles/app", json::object(), root_)->Empty());
  EXPECT_EQ(Code(Do(Operation::kRead, "roles/app", json::object(), root_)), StatusCode::kNotFound);
}

TEST_F(TokenBackendTest, RoleFieldsAreValidated) {
  struct Case {
    json data;
    std::string needle;
  } cases[] = {
      {{{"token_type", "bogus"}}, "field \"token_type\""},
      {{{"token_bound_cidrs", "not-an-ip"}}, "field \"token_bound_cidrs\""},
      {{{"token_bound_cidrs", "10.0.0.0/33"}}, "field \"token_bound_cidrs\""},
      {{{"token_num_uses", -1}}, "'token_num_uses' cannot be negative"},
      {{{"token_period", "-1h"}}, "'token_period' cannot be negative"},
      {{{"path_suffix", "../x"}}, "path cannot contain parent references"},
      {{{"path_suffix", "a b"}}, "given role path suffix contains invalid characters"},
      {{{"path_suffix", "v1"}}, "given role path suffix contains invalid characters"},  // as Vault
      {{{"orphan", "sometimes"}}, "field \"orphan\""},
      {{{"token_type", "batch"}}, "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens"},
  };
  for (const auto& c : cases) {
    auto r = Post("roles/r", c.data, root_);
    ASSERT_FALSE(r.ok()) << c.data.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.data.dump();
    EXPECT_THAT(r.status().message(), HasSubstr(c.needle)) << c.data.dump();
  }
  auto bad_name = Post("roles/-bad-", json::object(), root_);
  EXPECT_THAT(Error(bad_name), HasSubstr("field \"role_name\""));
}

TEST_F(TokenBackendTest, CreateAgainstARoleAppliesIt) {
  ASSERT_TRUE(Post("roles/app",
                   {{"allowed_policies", {"web", "db"}},
                    {"orphan", true},
                    {"path_suffix", "rev1"},
                    {"token_num_uses", 3},
                    {"token_explicit_max_ttl", "2h"},
                    {"renewable", false}},
                   root_)
                  .ok());
  // A non-root parent without those policies: the role's allowed list decides, not the parent.
  json parent = Create("create", {{"policies", {"other"}}}, root_);
  json t = Create("create/app", {{"policies", {"web"}}, {"ttl", "3h"}}, parent["client_token"]);
  EXPECT_EQ(t["policies"], json({"default", "web"}));
  EXPECT_EQ(t["orphan"], true);
  EXPECT_EQ(t["num_uses"], 3);
  EXPECT_EQ(t["renewable"], false);
  EXPECT_EQ(t["lease_duration"], 7200);  // bounded by the role's explicit max TTL
  auto looked = Post("lookup", {{"token", t["client_token"]}}, root_);
  ASSERT_TRUE(looked.ok());
  EXPECT_EQ(looked->data["path"], "auth/token/create/app/rev1");
  EXPECT_EQ(looked->data["role"], "app");
  EXPECT_EQ(looked->data["explicit_max_ttl"], 7200);

  // Without policies the role's allowed list is used (plus default).
  EXPECT_EQ(Create("create/app", json::object(), root_)["policies"], json({"db", "default", "web"}));
  auto r = Post("create/app", {{"policies", {"admin"}}}, root_);
  EXPECT_EQ(Error(r),
            "token policies ([\"admin\" \"default\"]) must be subset of the role's allowed policies ([\"db\" "
            "\"default\" \"web\"]) or glob policies ([])");
  EXPECT_EQ(Error(Post("create/nope", json::object(), root_)), "unknown role nope");
  EXPECT_EQ(Error(Post("create/app", {{"entity_alias", "bob"}}, root_)),
            "field \"entity_alias\": entity aliases are not supported by this server");

  ASSERT_TRUE(
      Post("roles/restricted", {{"disallowed_policies", {"admin"}}, {"allowed_policies_glob", {"team-*"}}}, root_)
          .ok());
  EXPECT_EQ(Create("create/restricted", {{"policies", {"team-a"}}}, root_)["policies"], json({"default", "team-a"}));
  EXPECT_EQ(Error(Post("create/restricted", {{"policies", {"admin"}}}, root_)),
            "token policies ([\"admin\" \"default\"]) must be subset of the role's allowed policies ([\"default\"]) "
            "or glob policies ([\"team-*\"])");
  ASSERT_TRUE(Post("roles/deny", {{"disallowed_policies", {"admin"}}}, root_).ok());
  EXPECT_EQ(Error(Post("create/deny", {{"policies", {"admin"}}}, root_)),
            "token policy \"admin\" is disallowed by this role");
  ASSERT_TRUE(Post("roles/batchy", {{"token_type", "default-batch"}}, root_).ok());
  EXPECT_EQ(Error(Post("create/batchy", json::object(), root_)), "batch tokens are not supported by this server");
  // A periodic role: its tokens renew to the period.
  ASSERT_TRUE(Post("roles/periodic", {{"token_period", "10m"}}, root_).ok());
  json periodic = Create("create/periodic", {{"policies", {"web"}}}, root_);
  EXPECT_EQ(periodic["lease_duration"], 600);
  for (int64_t at : {kStart + 500, kStart + 1000, kStart + 1500}) {
    now_ = at;
    auto renewed = Post("renew-self", {{"increment", "24h"}}, periodic["client_token"]);
    ASSERT_EQ(Error(renewed), "(ok)");
    EXPECT_EQ(renewed->auth["lease_duration"], 600);
  }
}

TEST_F(TokenBackendTest, TidyAnswers202WithVaultsWarning) {
  json t = Create("create", {{"policies", {"web"}}, {"ttl", 10}}, root_);
  now_ = kStart + 10;
  auto r = Post("tidy", json::object(), root_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->raw_status.has_value());
  EXPECT_EQ(*r->raw_status, 202);
  EXPECT_EQ(r->raw_body["warnings"],
            json({"Tidy operation successfully started. Any information from the operation will be printed to "
                  "Vault's server logs."}));
  EXPECT_EQ(r->raw_body["request_id"], "req-1");
  EXPECT_TRUE(r->raw_body["data"].is_null());
  // Ran inline: the expired token is gone from storage already.
  auto hash = store_.HashToken(t["client_token"].get<std::string>());
  EXPECT_FALSE(mem_.Get("sys/token/id/" + *hash)->has_value());
}

TEST_F(TokenBackendTest, UnsupportedOperationsAndPaths) {
  EXPECT_EQ(Code(Do(Operation::kRead, "create", json::object(), root_)), StatusCode::kUnsupportedOperation);
  EXPECT_EQ(Code(Do(Operation::kDelete, "lookup-self", json::object(), root_)), StatusCode::kUnsupportedOperation);
  EXPECT_EQ(Code(Post("nope", json::object(), root_)), StatusCode::kNotFound);
}

}  // namespace
}  // namespace coffer::core
