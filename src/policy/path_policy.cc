#include "policy/path_policy.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "base/encoding.h"

namespace coffer::policy {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;
using nlohmann::json;

// Which API generation a path belongs to: sys/policy answers with "rules" and lists under both
// "keys" and "policies"; sys/policies/acl uses "policy" and "keys" only.
enum class Api { kLegacy, kAcl };

logical::Handler ListHandler(PolicyStore* store, Api api) {
  return [store, api](Request&, const FieldData&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::vector<std::string> names, store->List());
    json data = {{"keys", names}};
    if (api == Api::kLegacy) data["policies"] = std::move(names);
    return Response::WithData(std::move(data));
  };
}

logical::Handler ReadHandler(PolicyStore* store, Api api) {
  return [store, api](Request&, const FieldData& f) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::shared_ptr<const Policy> policy, store->Get(f.GetString("name")));
    if (policy == nullptr) return NotFound();
    return Response::WithData({{"name", policy->name}, {api == Api::kLegacy ? "rules" : "policy", policy->raw}});
  };
}

logical::Handler WriteHandler(PolicyStore* store, Api api) {
  return [store, api](Request&, const FieldData& f) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, NormalizePolicyName(f.GetString("name")));
    Response resp;
    std::string text = f.GetString("policy");
    if (text.empty() && api == Api::kLegacy) {
      text = f.GetString("rules");
      resp.warnings.push_back("'rules' is deprecated, please use 'policy' instead");
    }
    if (text.empty()) return InvalidArgument("'policy' parameter not supplied or empty");
    // Vault accepts a base64-encoded policy; a text that merely looks like base64 but does not
    // decode to a policy is taken as written.
    auto decoded = Base64Decode(text);
    if (decoded.ok() && ParsePolicy(name, *decoded).ok()) text = std::move(decoded).value();
    RETURN_IF_ERROR(store->Put(name, text));
    return resp;
  };
}

logical::Handler DeleteHandler(PolicyStore* store) {
  return [store](Request&, const FieldData& f) -> StatusOr<Response> {
    RETURN_IF_ERROR(store->Delete(f.GetString("name")));
    return Response();
  };
}

Path ListPath(PolicyStore* store, std::string pattern, Api api) {
  Path p;
  p.pattern = std::move(pattern);
  p.operations[Operation::kList] = ListHandler(store, api);
  if (api == Api::kLegacy) p.operations[Operation::kRead] = ListHandler(store, api);
  p.help_synopsis = "List the configured access control policies.";
  p.help_description = "Lists every ACL policy by name, including the built-in \"root\" policy.";
  return p;
}

Path NamedPath(PolicyStore* store, std::string pattern, Api api) {
  Path p;
  p.pattern = std::move(pattern);
  p.fields = {
      {"name", FieldType::kString, "The name of the policy, e.g. \"ops\"."},
      {"policy", FieldType::kString, "The policy document, in HCL or JSON (optionally base64-encoded)."},
  };
  if (api == Api::kLegacy) {
    p.fields.push_back({"rules", FieldType::kString, "Deprecated spelling of \"policy\"."});
  }
  p.operations[Operation::kRead] = ReadHandler(store, api);
  p.operations[Operation::kUpdate] = WriteHandler(store, api);
  p.operations[Operation::kCreate] = WriteHandler(store, api);
  p.operations[Operation::kDelete] = DeleteHandler(store);
  p.help_synopsis = "Read, add, update or delete an ACL policy.";
  p.help_description =
      "GET returns the policy text; PUT or POST with {\"policy\": \"...\"} writes it (HCL or JSON); DELETE "
      "removes it. The root policy cannot be changed; the default policy cannot be deleted.";
  return p;
}

}  // namespace

std::vector<Path> PolicyPaths(PolicyStore* store) {
  std::vector<Path> paths;
  // List paths first: the framework takes the first matching pattern.
  paths.push_back(ListPath(store, "policy/?", Api::kLegacy));
  paths.push_back(NamedPath(store, "policy/{name+}", Api::kLegacy));
  paths.push_back(ListPath(store, "policies/acl/?", Api::kAcl));
  paths.push_back(NamedPath(store, "policies/acl/{name+}", Api::kAcl));
  return paths;
}

}  // namespace coffer::policy
