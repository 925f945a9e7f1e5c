#include "core/identity_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "logical/inmem_storage.h"

namespace coffer::core {
namespace {

using logical::Operation;
using logical::Response;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kUserpass[] = "auth_userpass_1a2b3c4d";
constexpr char kApprole[] = "auth_approle_5e6f7a8b";

class IdentityBackendTest : public ::testing::Test {
 protected:
  IdentityBackendTest() : view_(&storage_, "sys/identity/"), store_(&view_) {
    EXPECT_TRUE(store_.Setup().ok());
    backend_ = NewIdentityBackend(&store_, [](const std::string& accessor)
                                               -> std::optional<std::pair<std::string, std::string>> {
      if (accessor == kUserpass) return std::make_pair(std::string("userpass"), std::string("auth/userpass/"));
      if (accessor == kApprole) return std::make_pair(std::string("approle"), std::string("auth/approle/"));
      return std::nullopt;
    });
  }

  StatusOr<Response> Do(Operation op, const std::string& path, json data = json::object()) {
    logical::Request req;
    req.operation = op;
    req.path = "identity/" + path;
    req.mount_point = "identity/";
    req.mount_type = "identity";
    req.data = std::move(data);
    req.storage = &view_;
    return backend_->HandleRequest(req);
  }
  json Data(Operation op, const std::string& path, json data = json::object()) {
    auto r = Do(op, path, std::move(data));
    EXPECT_TRUE(r.ok()) << path << ": " << r.status().message();
    return r.ok() ? r->DataJson() : json();
  }
  Status Error(Operation op, const std::string& path, json data = json::object()) {
    auto r = Do(op, path, std::move(data));
    EXPECT_FALSE(r.ok()) << path;
    return r.status();
  }

  logical::InmemStorage storage_;
  logical::StorageView view_;
  IdentityStore store_;
  std::unique_ptr<logical::Backend> backend_;
};

TEST_F(IdentityBackendTest, CreateReadUpdateDeleteAnEntity) {
  json created = Data(Operation::kUpdate, "entity",
                      {{"name", "web"}, {"metadata", {{"team", "payments"}}}, {"policies", "dev, ops"}});
  ASSERT_TRUE(created.is_object());
  const std::string id = created["id"];
  EXPECT_EQ(created["name"], "web");
  EXPECT_TRUE(created.contains("aliases"));

  json read = Data(Operation::kRead, "entity/id/" + id);
  EXPECT_EQ(read["id"], id);
  EXPECT_EQ(read["name"], "web");
  EXPECT_EQ(read["metadata"], (json{{"team", "payments"}}));
  EXPECT_EQ(read["policies"], (json{"dev", "ops"}));
  EXPECT_EQ(read["disabled"], false);
  EXPECT_EQ(read["aliases"], json::array());
  EXPECT_EQ(read["group_ids"], json::array());
  EXPECT_EQ(read["namespace_id"], "root");
  EXPECT_THAT(read["creation_time"].get<std::string>(), MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z"));
  EXPECT_EQ(Data(Operation::kRead, "entity/name/web")["id"], id);

  // Updates answer 204 and change only what they name.
  auto update = Do(Operation::kUpdate, "entity/id/" + id, {{"disabled", true}, {"policies", json::array({"a"})}});
  ASSERT_TRUE(update.ok());
  EXPECT_TRUE(update->Empty());
  read = Data(Operation::kRead, "entity/id/" + id);
  EXPECT_EQ(read["disabled"], true);
  EXPECT_EQ(read["policies"], (json{"a"}));
  EXPECT_EQ(read["metadata"], (json{{"team", "payments"}}));
  // Through `entity` with the id in the body too.
  ASSERT_TRUE(Do(Operation::kUpdate, "entity", {{"id", id}, {"name", "web2"}})->Empty());
  EXPECT_EQ(Data(Operation::kRead, "entity/id/" + id)["name"], "web2");

  ASSERT_TRUE(Do(Operation::kDelete, "entity/id/" + id)->Empty());
  EXPECT_EQ(Error(Operation::kRead, "entity/id/" + id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Do(Operation::kDelete, "entity/id/" + id)->Empty());  // deleting twice is fine
}

TEST_F(IdentityBackendTest, EntityByNameCreatesUpdatesAndDeletes) {
  json created = Data(Operation::kUpdate, "entity/name/svc-a", {{"policies", json::array({"p"})}});
  EXPECT_EQ(created["name"], "svc-a");
  auto again = Do(Operation::kUpdate, "entity/name/svc-a", {{"metadata", {{"k", "v"}}}});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Empty());
  json read = Data(Operation::kRead, "entity/name/svc-a");
  EXPECT_EQ(read["id"], created["id"]);
  EXPECT_EQ(read["metadata"], (json{{"k", "v"}}));
  EXPECT_EQ(read["policies"], (json{"p"}));
  ASSERT_TRUE(Do(Operation::kDelete, "entity/name/svc-a")->Empty());
  EXPECT_EQ(Error(Operation::kRead, "entity/name/svc-a").code(), StatusCode::kNotFound);
  EXPECT_TRUE(Do(Operation::kDelete, "entity/name/svc-a")->Empty());
}

TEST_F(IdentityBackendTest, ListsHaveKeysAndKeyInfo) {
  EXPECT_EQ(Error(Operation::kList, "entity/id/").code(), StatusCode::kNotFound);
  EXPECT_EQ(Error(Operation::kList, "entity/name").code(), StatusCode::kNotFound);
  EXPECT_EQ(Error(Operation::kList, "entity-alias/id").code(), StatusCode::kNotFound);
  std::string b = Data(Operation::kUpdate, "entity", {{"name", "b"}})["id"];
  std::string a = Data(Operation::kUpdate, "entity", {{"name", "a"}})["id"];
  json alias = Data(Operation::kUpdate, "entity-alias", {{"name", "bob"}, {"mount_accessor", kUserpass}, {"canonical_id", b}});

  json by_id = Data(Operation::kList, "entity/id/");
  EXPECT_EQ(by_id["keys"], (a < b ? json{a, b} : json{b, a}));
  EXPECT_EQ(by_id["key_info"][a], (json{{"name", "a"}}));
  EXPECT_EQ(by_id["key_info"][b]["aliases"][0],
            (json{{"id", alias["id"]}, {"name", "bob"}, {"mount_accessor", kUserpass}, {"mount_type", "userpass"},
                  {"mount_path", "auth/userpass/"}}));
  json by_name = Data(Operation::kList, "entity/name");
  EXPECT_EQ(by_name["keys"], (json{"a", "b"}));
  EXPECT_TRUE(by_name["key_info"].contains(a));  // keyed by id, as Vault does

  json aliases = Data(Operation::kList, "entity-alias/id/");
  EXPECT_EQ(aliases["keys"], (json{alias["id"]}));
  EXPECT_EQ(aliases["key_info"][alias["id"].get<std::string>()],
            (json{{"canonical_id", b}, {"custom_metadata", json::object()}, {"local", false},
                  {"mount_accessor", kUserpass}, {"mount_path", "auth/userpass/"}, {"mount_type", "userpass"},
                  {"name", "bob"}}));
}

TEST_F(IdentityBackendTest, AliasCreateReadUpdateDelete) {
  // Without canonical_id a new entity is made for the alias.
  json created = Data(Operation::kUpdate, "entity-alias",
                      {{"name", "alice"}, {"mount_accessor", kUserpass}, {"custom_metadata", {{"cost", "42"}}}});
  const std::string alias_id = created["id"];
  const std::string entity_id = created["canonical_id"];
  json alias = Data(Operation::kRead, "entity-alias/id/" + alias_id);
  EXPECT_EQ(alias["name"], "alice");
  EXPECT_EQ(alias["canonical_id"], entity_id);
  EXPECT_EQ(alias["mount_accessor"], kUserpass);
  EXPECT_EQ(alias["mount_type"], "userpass");
  EXPECT_EQ(alias["mount_path"], "auth/userpass/");
  EXPECT_EQ(alias["custom_metadata"], (json{{"cost", "42"}}));
  EXPECT_EQ(alias["metadata"], nullptr);
  EXPECT_EQ(Data(Operation::kRead, "entity/id/" + entity_id)["aliases"][0]["id"], alias_id);

  // A login through that mount now finds the same entity.
  auto login = store_.EntityForLogin(kUserpass, "userpass", "auth/userpass/", logical::Alias{"alice", {}});
  ASSERT_TRUE(login.ok());
  EXPECT_EQ((*login)->id, entity_id);

  // Update by id: rename; a no-op answers 204.
  json renamed = Data(Operation::kUpdate, "entity-alias/id/" + alias_id, {{"name", "alice2"}});
  EXPECT_EQ(renamed, (json{{"id", alias_id}, {"canonical_id", entity_id}}));
  auto noop = Do(Operation::kUpdate, "entity-alias/id/" + alias_id, {{"name", "alice2"}});
  ASSERT_TRUE(noop.ok());
  EXPECT_TRUE(noop->Empty());
  EXPECT_EQ(Data(Operation::kRead, "entity-alias/id/" + alias_id)["name"], "alice2");

  // Move it to another entity.
  std::string other = Data(Operation::kUpdate, "entity", {{"name", "other"}})["id"];
  json moved = Data(Operation::kUpdate, "entity-alias", {{"id", alias_id}, {"canonical_id", other}});
  EXPECT_EQ(moved["canonical_id"], other);
  EXPECT_EQ(Data(Operation::kRead, "entity/id/" + other)["aliases"].size(), 1u);

  ASSERT_TRUE(Do(Operation::kDelete, "entity-alias/id/" + alias_id)->Empty());
  EXPECT_EQ(Error(Operation::kRead, "entity-alias/id/" + alias_id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Do(Operation::kDelete, "entity-alias/id/" + alias_id)->Empty());
  EXPECT_EQ(Data(Operation::kRead, "entity/id/" + other)["aliases"], json::array());
}

TEST_F(IdentityBackendTest, BadRequestsAre400sNamingTheProblem) {
  Status s = Error(Operation::kUpdate, "entity-alias", {{"name", "x"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "'id' or 'mount_accessor' and 'name' must be provided");
  s = Error(Operation::kUpdate, "entity-alias", {{"name", "x"}, {"mount_accessor", "auth_nope_00000000"}});
  EXPECT_EQ(s.message(), "invalid mount accessor \"auth_nope_00000000\"");
  s = Error(Operation::kUpdate, "entity-alias", {{"name", "x"}, {"mount_accessor", kUserpass}, {"canonical_id", "nope"}});
  EXPECT_EQ(s.message(), "invalid canonical ID");
  s = Error(Operation::kUpdate, "entity-alias/id/nope", {{"name", "y"}});
  EXPECT_EQ(s.message(), "invalid alias ID provided");
  s = Error(Operation::kUpdate, "entity/id/nope", {{"name", "y"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "entity not found from id");
  s = Error(Operation::kUpdate, "entity", {{"policies", json::array({"root"})}});
  EXPECT_EQ(s.message(), "policies cannot contain root");
  s = Error(Operation::kUpdate, "entity", {{"metadata", json::array({1, 2})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"metadata\""));
  s = Error(Operation::kUpdate, "entity", {{"disabled", "maybe"}});
  EXPECT_THAT(s.message(), HasSubstr("\"disabled\""));
  s = Error(Operation::kUpdate, "entity-alias", {{"name", "x"}, {"mount_accessor", kUserpass}, {"custom_metadata", 5}});
  EXPECT_THAT(s.message(), HasSubstr("\"custom_metadata\""));
  Data(Operation::kUpdate, "entity", {{"name", "taken"}});
  std::string other = Data(Operation::kUpdate, "entity", {{"name", "free"}})["id"];
  EXPECT_EQ(Error(Operation::kUpdate, "entity", {{"id", other}, {"name", "taken"}}).message(),
            "entity name is already in use");
  EXPECT_EQ(Error(Operation::kRead, "entity").code(), StatusCode::kUnsupportedOperation);
  EXPECT_EQ(Error(Operation::kRead, "group/id/x").code(), StatusCode::kNotFound);  // groups: not implemented
}

TEST_F(IdentityBackendTest, LookupEntity) {
  json created = Data(Operation::kUpdate, "entity-alias", {{"name", "alice"}, {"mount_accessor", kUserpass}});
  const std::string entity_id = created["canonical_id"];
  const std::string name = Data(Operation::kRead, "entity/id/" + entity_id)["name"];
  for (const json& query : {json{{"id", entity_id}}, json{{"name", name}}, json{{"alias_id", created["id"]}},
                            json{{"alias_name", "ALICE"}, {"alias_mount_accessor", kUserpass}}}) {
    EXPECT_EQ(Data(Operation::kUpdate, "lookup/entity", query)["id"], entity_id) << query.dump();
  }
  auto none = Do(Operation::kUpdate, "lookup/entity", {{"name", "nobody"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->Empty());  // 204
  EXPECT_EQ(Error(Operation::kUpdate, "lookup/entity", json::object()).message(), "query parameter not supplied");
  EXPECT_EQ(Error(Operation::kUpdate, "lookup/entity", {{"id", entity_id}, {"name", name}}).message(),
            "query parameter conflict; please supply distinct set of query parameters");
  EXPECT_EQ(Error(Operation::kUpdate, "lookup/entity", {{"alias_name", "alice"}}).message(),
            "both 'alias_name' and 'alias_mount_accessor' needs to be set");
}

TEST_F(IdentityBackendTest, LookupEntityAlias) {
  json created = Data(Operation::kUpdate, "entity-alias", {{"name", "alice"}, {"mount_accessor", kApprole}});
  const std::string alias_id = created["id"];
  EXPECT_EQ(Data(Operation::kUpdate, "lookup/entity-alias", {{"id", alias_id}})["name"], "alice");
  json by_factors = Data(Operation::kUpdate, "lookup/entity-alias", {{"name", "alice"}, {"mount_accessor", kApprole}});
  EXPECT_EQ(by_factors["id"], alias_id);
  EXPECT_EQ(by_factors["mount_type"], "approle");
  auto none = Do(Operation::kUpdate, "lookup/entity-alias", {{"name", "alice"}, {"mount_accessor", kUserpass}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->Empty());
  EXPECT_EQ(Error(Operation::kUpdate, "lookup/entity-alias", {{"name", "alice"}}).message(),
            "both 'name' and 'mount_accessor' needs to be set");
  EXPECT_EQ(Error(Operation::kUpdate, "lookup/entity-alias", {{"id", alias_id}, {"name", "alice"}}).message(),
            "query parameter conflict; please supply distinct set of query parameters");
  EXPECT_EQ(Error(Operation::kUpdate, "lookup/entity-alias", json::object()).message(), "query parameter not supplied");
}

}  // namespace
}  // namespace coffer::core
