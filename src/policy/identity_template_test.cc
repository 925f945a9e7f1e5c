#include "policy/identity_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "logical/inmem_storage.h"
#include "policy/acl.h"
#include "policy/policy.h"
#include "policy/policy_store.h"

namespace coffer::policy {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

IdentityContext Alice() {
  IdentityContext c;
  c.entity_id = "6f0b1c2d-0000-4000-8000-000000000001";
  c.entity_name = "alice";
  c.metadata = {{"team", "payments"}, {"region.eu", "west"}};
  IdentityContext::Alias alias;
  alias.id = "a1a1a1a1-0000-4000-8000-000000000001";
  alias.name = "alice@corp";
  alias.metadata = {{"role", "dev"}};
  alias.custom_metadata = {{"cost", "cc42"}};
  c.aliases["auth_userpass_1234abcd"] = alias;
  c.generation = 7;
  return c;
}

std::string ProblemOf(std::string_view pattern) {
  bool templated = false;
  return TemplateProblem(pattern, &templated);
}

TEST(IdentityTemplate, EveryFormRenders) {
  const IdentityContext alice = Alice();
  struct Case {
    const char* pattern;
    const char* want;
  } cases[] = {
      {"kv/{{identity.entity.id}}", "kv/6f0b1c2d-0000-4000-8000-000000000001"},
      {"kv/{{identity.entity.name}}/*", "kv/alice/*"},
      {"kv/{{ identity.entity.name }}", "kv/alice"},  // spaces inside the braces are ignored
      {"kv/{{identity.entity.metadata.team}}", "kv/payments"},
      {"kv/{{identity.entity.metadata.region.eu}}", "kv/west"},  // keys may contain dots
      {"kv/{{identity.entity.aliases.auth_userpass_1234abcd.id}}", "kv/a1a1a1a1-0000-4000-8000-000000000001"},
      {"kv/{{identity.entity.aliases.auth_userpass_1234abcd.name}}", "kv/alice@corp"},
      {"kv/{{identity.entity.aliases.auth_userpass_1234abcd.metadata.role}}", "kv/dev"},
      {"kv/{{identity.entity.aliases.auth_userpass_1234abcd.custom_metadata.cost}}", "kv/cc42"},
      {"kv/{{identity.entity.metadata.team}}/{{identity.entity.name}}/x", "kv/payments/alice/x"},
      {"{{identity.entity.name}}/*", "alice/*"},
      {"no/templates/here", "no/templates/here"},
  };
  for (const Case& c : cases) {
    bool templated = false;
    EXPECT_EQ(TemplateProblem(c.pattern, &templated), "") << c.pattern;
    auto rendered = RenderTemplate(c.pattern, alice);
    ASSERT_TRUE(rendered.has_value()) << c.pattern;
    EXPECT_EQ(*rendered, c.want);
  }
}

TEST(IdentityTemplate, UnresolvableTemplatesGiveNothing) {
  const IdentityContext alice = Alice();
  const char* unresolved[] = {
      "kv/{{identity.entity.metadata.missing}}",
      "kv/{{identity.entity.aliases.auth_other_00000000.name}}",
      "kv/{{identity.entity.aliases.auth_userpass_1234abcd.metadata.missing}}",
      "kv/{{identity.entity.metadata}}",       // a whole map: never in ACL mode
      "kv/{{identity.entity.groups.names}}",   // a list: never in ACL mode
      "kv/{{identity.groups.names.ops.id}}",   // no groups in Coffer
      "kv/{{identity.groups.ids.1234.metadata.x}}",
  };
  for (const char* pattern : unresolved) {
    EXPECT_EQ(ProblemOf(pattern), "") << pattern;
    EXPECT_FALSE(RenderTemplate(pattern, alice).has_value()) << pattern;
  }
  // No entity at all: an empty context resolves nothing.
  EXPECT_FALSE(RenderTemplate("kv/{{identity.entity.id}}", IdentityContext()).has_value());
}

TEST(IdentityTemplate, ValuesThatWouldWidenARuleGiveNothing) {
  IdentityContext c = Alice();
  for (const char* bad : {"*", "a*", "+", "a/+/b", "..", "a/../b", ".", "{{x}}", ""}) {
    c.entity_name = bad;
    EXPECT_FALSE(RenderTemplate("kv/{{identity.entity.name}}/x", c).has_value()) << bad;
  }
  c.entity_name = "team/alice";  // a slash is literal text, as in Vault
  EXPECT_EQ(RenderTemplate("kv/{{identity.entity.name}}", c), "kv/team/alice");
}

TEST(IdentityTemplate, MalformedTemplatesAreProblems) {
  EXPECT_THAT(ProblemOf("kv/{{identity.entity.id"), HasSubstr("\"{{\" is never closed"));
  EXPECT_THAT(ProblemOf("kv/identity.entity.id}}"), HasSubstr("unbalanced templating characters"));
  EXPECT_THAT(ProblemOf("kv/{{identity.entity.id}}}}"), HasSubstr("unbalanced templating characters"));
  EXPECT_THAT(ProblemOf("kv/{{{{identity.entity.id}}"), HasSubstr("never closed"));
  for (const char* unknown : {"kv/{{user.name}}", "kv/{{identity.entity.nam}}", "kv/{{identity.entity.metadata.}}",
                              "kv/{{identity.entity.aliases.acc}}", "kv/{{identity.entity.aliases.acc.bogus}}",
                              "kv/{{identity.groups.ids.x}}", "kv/{{identity.groups.teams.x.id}}",
                              "kv/{{time.now}}", "kv/{{}}"}) {
    EXPECT_THAT(ProblemOf(unknown), HasSubstr("failed to validate policy templating: unknown template parameter"))
        << unknown;
  }
  bool templated = true;
  EXPECT_EQ(TemplateProblem("kv/plain/*", &templated), "");
  EXPECT_FALSE(templated);
  EXPECT_EQ(TemplateProblem("kv/{{identity.entity.id}}", &templated), "");
  EXPECT_TRUE(templated);
}

TEST(IdentityTemplate, MalformedTemplatesAreRejectedWithLineAndColumn) {
  auto p = ParsePolicy("ops", "# header\npath \"kv/a\" { capabilities = [\"read\"] }\n"
                              "  path \"kv/{{identity.entity.nmae}}/*\" { capabilities = [\"read\"] }\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "policy ops: 3:3: path \"kv/{{identity.entity.nmae}}/*\": failed to validate policy templating: unknown "
            "template parameter \"identity.entity.nmae\"");
  auto q = ParsePolicy("ops", "path \"kv/{{identity.entity.name}/*\" { capabilities = [\"read\"] }");
  ASSERT_FALSE(q.ok());
  EXPECT_THAT(q.status().message(), HasSubstr("policy ops: 1:1: path"));
  EXPECT_THAT(q.status().message(), HasSubstr("never closed"));
  // The wildcard rules see a template as one plain word.
  EXPECT_TRUE(ParsePolicy("ops", R"(path "kv/+/{{identity.entity.name}}/*" { capabilities = ["read"] })").ok());
  EXPECT_FALSE(ParsePolicy("ops", R"(path "kv/{{identity.entity.name}}*/x" { capabilities = ["read"] })").ok());
  EXPECT_TRUE(ParsePolicy("ops", R"(path "kv/{{identity.entity.metadata.a+b}}" { capabilities = ["read"] })").ok());
}

std::shared_ptr<const Policy> MakePolicy(const std::string& name, std::string_view text) {
  auto p = ParsePolicy(name, text);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::make_shared<const Policy>(p.ok() ? *std::move(p) : Policy());
}

constexpr char kSeedPolicy[] = R"(
path "secret/data/services/{{identity.entity.name}}/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/services/{{identity.entity.name}}/*" {
  capabilities = ["list"]
}
)";

TEST(TemplatedAcl, TheSeedExampleIsolatesEachEntity) {
  auto policy = MakePolicy("services", kSeedPolicy);
  IdentityContext alice = Alice();
  IdentityContext bob;
  bob.entity_id = "6f0b1c2d-0000-4000-8000-000000000002";
  bob.entity_name = "bob";
  auto for_alice = Acl::Create({policy}, &alice);
  auto for_bob = Acl::Create({policy}, &bob);
  auto for_nobody = Acl::Create({policy});

  EXPECT_TRUE(for_alice->Check("secret/data/services/alice/db", Operation::kRead, json::object()).allowed);
  EXPECT_TRUE(for_alice->Check("secret/metadata/services/alice/", Operation::kList, json::object()).allowed);
  EXPECT_FALSE(for_alice->Check("secret/data/services/bob/db", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE(for_alice->Check("secret/data/services/alice/db", Operation::kUpdate, json::object()).allowed);
  EXPECT_TRUE(for_bob->Check("secret/data/services/bob/db", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE(for_bob->Check("secret/data/services/alice/db", Operation::kRead, json::object()).allowed);
  for (const char* path : {"secret/data/services/alice/db", "secret/data/services/{{identity.entity.name}}/db"}) {
    EXPECT_FALSE(for_nobody->Check(path, Operation::kRead, json::object()).allowed) << path;
  }
}

TEST(TemplatedAcl, AnUnresolvableRuleIsSkippedAndTheOthersApply) {
  auto policy = MakePolicy("mixed", R"(
path "kv/{{identity.entity.metadata.missing}}/*" { capabilities = ["deny"] }
path "kv/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
path "kv/shared" { capabilities = ["read"] }
)");
  IdentityContext alice = Alice();
  auto acl = Acl::Create({policy}, &alice);
  EXPECT_TRUE(acl->Check("kv/payments/x", Operation::kRead, json::object()).allowed);
  EXPECT_TRUE(acl->Check("kv/shared", Operation::kRead, json::object()).allowed);
  EXPECT_EQ(acl->rule_count(), 2u);
}

TEST(TemplatedAcl, RenderedRulesMergeWithPlainOnes) {
  auto templated = MakePolicy("t", R"(path "kv/{{identity.entity.name}}" { capabilities = ["read"] })");
  auto plain = MakePolicy("p", R"(path "kv/alice" { capabilities = ["update"] })");
  IdentityContext alice = Alice();
  auto acl = Acl::Create({templated, plain}, &alice);
  EXPECT_EQ(acl->CapabilityNamesFor("kv/alice"), (std::vector<std::string>{"read", "update"}));
}

TEST(TemplatedAcl, DefaultPolicyLetsATokenReadItsOwnEntity) {
  auto policy = MakePolicy("default", kDefaultPolicyText);
  IdentityContext alice = Alice();
  auto acl = Acl::Create({policy}, &alice);
  EXPECT_TRUE(acl->Check("identity/entity/id/" + alice.entity_id, Operation::kRead, json::object()).allowed);
  EXPECT_TRUE(acl->Check("identity/entity/name/alice", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE(acl->Check("identity/entity/name/bob", Operation::kRead, json::object()).allowed);
}

class TemplatedPolicyStore : public ::testing::Test {
 protected:
  TemplatedPolicyStore() : store_(&storage_) {}
  logical::InmemStorage storage_;
  PolicyStore store_;
};

TEST_F(TemplatedPolicyStore, AclForRendersPerEntityAndCachesByGeneration) {
  ASSERT_TRUE(store_.Put("services", kSeedPolicy).ok());
  ASSERT_TRUE(store_.Put("plain", R"(path "kv/*" { capabilities = ["read"] })").ok());
  IdentityContext alice = Alice();
  IdentityContext bob = Alice();
  bob.entity_id = "6f0b1c2d-0000-4000-8000-000000000002";
  bob.entity_name = "bob";

  auto a1 = store_.AclFor({"services"}, &alice);
  auto b1 = store_.AclFor({"services"}, &bob);
  auto none = store_.AclFor({"services"});
  ASSERT_TRUE(a1.ok() && b1.ok() && none.ok());
  EXPECT_TRUE((*a1)->Check("secret/data/services/alice/x", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE((*b1)->Check("secret/data/services/alice/x", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE((*none)->Check("secret/data/services/alice/x", Operation::kRead, json::object()).allowed);
  EXPECT_EQ(store_.AclFor({"services"}, &alice)->get(), a1->get());  // cached for alice
  EXPECT_EQ(store_.AclFor({"services"})->get(), none->get());

  // The entity changed (new identity generation): rendered again, with the new name.
  alice.entity_name = "alice2";
  alice.generation = 8;
  auto a2 = store_.AclFor({"services"}, &alice);
  ASSERT_TRUE(a2.ok());
  EXPECT_NE(a2->get(), a1->get());
  EXPECT_TRUE((*a2)->Check("secret/data/services/alice2/x", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE((*a2)->Check("secret/data/services/alice/x", Operation::kRead, json::object()).allowed);

  // Untemplated policies: the identity plays no part, one ACL for everyone.
  auto p1 = store_.AclFor({"plain"}, &alice);
  auto p2 = store_.AclFor({"plain"}, &bob);
  auto p3 = store_.AclFor({"plain"});
  ASSERT_TRUE(p1.ok() && p2.ok() && p3.ok());
  EXPECT_EQ(p1->get(), p2->get());
  EXPECT_EQ(p1->get(), p3->get());

  // A policy change invalidates the renderings too.
  ASSERT_TRUE(store_.Put("services", R"(path "other/{{identity.entity.name}}" { capabilities = ["read"] })").ok());
  auto a3 = store_.AclFor({"services"}, &alice);
  ASSERT_TRUE(a3.ok());
  EXPECT_TRUE((*a3)->Check("other/alice2", Operation::kRead, json::object()).allowed);
  EXPECT_FALSE((*a3)->Check("secret/data/services/alice2/x", Operation::kRead, json::object()).allowed);
}

TEST_F(TemplatedPolicyStore, AMalformedTemplateIsRefusedAtWrite) {
  Status s = store_.Put("bad", "path \"kv/{{identity.entity.name\" {\n  capabilities = [\"read\"]\n}\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("policy bad: 1:1: path \"kv/{{identity.entity.name\": failed to validate policy "
                                     "templating"));
  auto stored = store_.Get("bad");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, nullptr);
}

}  // namespace
}  // namespace coffer::policy
