// AppRole's per-field role endpoints, as Vault keeps them for older clients:
// role/:role_name/{policies, bind-secret-id, bound-cidr-list, secret-id-bound-cidrs,
// token-bound-cidrs, secret-id-num-uses, secret-id-ttl, period, token-num-uses, token-ttl,
// token-max-ttl} (read, update, delete = back to the default) and local-secret-ids (read).
#include <functional>
#include <mutex>
#include <shared_mutex>

#include "base/duration.h"
#include "engines/auth/approle/approle.h"

namespace coffer::approle {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;

namespace {

struct FieldEndpoint {
  std::string suffix{};
  std::vector<logical::Field> fields{};
  std::function<json(const Role&)> read{};
  // Applies the request to the role; empty for read-only endpoints.
  std::function<Status(const Store&, const FieldData&, Role*)> update{};
  std::function<void(Role*)> reset{};  // what DELETE restores
  std::string read_warning{};
};

Status Missing(const std::string& field) { return InvalidArgument("missing " + field); }

StatusOr<Response> HandleRead(Store& store, const FieldEndpoint& ep, Request& req, const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::shared_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  if (!role) return NotFound();
  Response resp = Response::WithData(ep.read(*role));
  if (!ep.read_warning.empty()) resp.warnings.push_back(ep.read_warning);
  return resp;
}

// Update (reset == false) or delete (reset == true) of one field.
StatusOr<Response> HandleWrite(Store& store, const FieldEndpoint& ep, bool reset, Request& req,
                               const FieldData& fields) {
  ASSIGN_OR_RETURN(std::string name, RoleNameOf(fields));
  ASSIGN_OR_RETURN(logical::Storage * storage, StorageOf(req));
  std::unique_lock lock(store.RoleLock(name));
  ASSIGN_OR_RETURN(std::optional<Role> role, LoadRole(*storage, name));
  if (!role) return reset ? StatusOr<Response>(Response()) : StatusOr<Response>(NotFound("unsupported path"));
  if (reset) {
    ep.reset(&*role);
  } else {
    RETURN_IF_ERROR(ep.update(store, fields, &*role));
  }
  RETURN_IF_ERROR(SaveRole(store, *storage, *role, role->role_id));
  return Response();
}

// An integer or duration field stored in the role: read as {name: value}, update requires it.
FieldEndpoint Scalar(const std::string& suffix, const std::string& field, FieldType type, int64_t Role::*member,
                     std::function<Status(const Store&, Role*)> check = nullptr) {
  return FieldEndpoint{
      .suffix = suffix,
      .fields = {{field, type, ""}},
      .read =
          [field, member](const Role& r) {
            return json{{field, r.*member}};
          },
      .update = [field, type, member, check](const Store& store, const FieldData& f, Role* r) -> Status {
        if (!f.Has(field)) return Missing(field);
        r->*member = type == FieldType::kInt ? f.GetInt(field) : f.GetDurationSeconds(field);
        return check ? check(store, r) : OkStatus();
      },
      .reset = [member](Role* r) { r->*member = 0; },
  };
}

// The same for a member of the role's TokenFields.
FieldEndpoint TokenScalar(const std::string& suffix, const std::string& field, FieldType type,
                          int64_t logical::TokenFields::*member, std::function<Status(const Role&)> check) {
  return FieldEndpoint{
      .suffix = suffix,
      .fields = {{field, type, ""}},
      .read =
          [field, member](const Role& r) {
            return json{{field, r.token.*member}};
          },
      .update = [field, type, member, check](const Store&, const FieldData& f, Role* r) -> Status {
        if (!f.Has(field)) return Missing(field);
        r->token.*member = type == FieldType::kInt ? f.GetInt(field) : f.GetDurationSeconds(field);
        if (r->token.*member < 0) return InvalidArgument("'" + field + "' cannot be negative");
        return check(*r);
      },
      .reset = [member](Role* r) { r->token.*member = 0; },
  };
}

// Sets secret_id_bound_cidrs from `field` (Vault's pathRoleBoundCIDRUpdateCommon).
std::function<Status(const Store&, const FieldData&, Role*)> SecretIdCidrUpdate(const std::string& field) {
  return [field](const Store&, const FieldData& f, Role* r) -> Status {
    std::vector<std::string> blocks = f.GetStringSlice(field);
    if (blocks.empty()) return Missing("bound_cidr_list");
    ASSIGN_OR_RETURN(r->secret_id_bound_cidrs, ParseCidrs(blocks, field, "failed to validate CIDR blocks"));
    return OkStatus();
  };
}

std::vector<FieldEndpoint> Endpoints() {
  std::vector<FieldEndpoint> eps;
  eps.push_back(FieldEndpoint{
      .suffix = "local-secret-ids",
      .read =
          [](const Role& r) {
            return json{{"local_secret_ids", r.local_secret_ids}};
          },
  });
  eps.push_back(FieldEndpoint{
      .suffix = "policies",
      .fields = {{"token_policies", FieldType::kStringSlice, ""}, {"policies", FieldType::kStringSlice, ""}},
      .read =
          [](const Role& r) {
            json d = {{"token_policies", r.token.policies}};
            if (!r.policies.empty()) d["policies"] = r.policies;
            return d;
          },
      .update = [](const Store&, const FieldData& f, Role* r) -> Status {
        if (f.Has("token_policies")) {
          r->token.policies = logical::NormalizePolicyNames(f.GetStringSlice("token_policies"));
          r->policies = f.Has("policies") ? r->token.policies : std::vector<std::string>{};
        } else if (f.Has("policies")) {
          r->policies = logical::NormalizePolicyNames(f.GetStringSlice("policies"));
          r->token.policies = r->policies;
        } else {
          return Missing("token_policies");
        }
        return OkStatus();
      },
      .reset =
          [](Role* r) {
            r->token.policies.clear();
            r->policies.clear();
          },
  });
  eps.push_back(FieldEndpoint{
      .suffix = "bind-secret-id",
      .fields = {{"bind_secret_id", FieldType::kBool, "", true}},
      .read =
          [](const Role& r) {
            return json{{"bind_secret_id", r.bind_secret_id}};
          },
      .update = [](const Store&, const FieldData& f, Role* r) -> Status {
        if (!f.Has("bind_secret_id")) return Missing("bind_secret_id");
        r->bind_secret_id = f.GetBool("bind_secret_id");
        return OkStatus();
      },
      .reset = [](Role* r) { r->bind_secret_id = true; },
  });
  auto cidrs_json = [](const Role& r) {
    return r.secret_id_bound_cidrs.empty() ? json(nullptr) : json(r.secret_id_bound_cidrs);
  };
  eps.push_back(FieldEndpoint{
      .suffix = "bound-cidr-list",
      .fields = {{"bound_cidr_list", FieldType::kStringSlice, ""}},
      .read =
          [cidrs_json](const Role& r) {
            return json{{"bound_cidr_list", cidrs_json(r)}};
          },
      .update = SecretIdCidrUpdate("bound_cidr_list"),
      .reset = [](Role* r) { r->secret_id_bound_cidrs.clear(); },
      .read_warning = "The \"bound_cidr_list\" field is deprecated and will be removed. Please use "
                      "\"secret_id_bound_cidrs\" instead.",
  });
  eps.push_back(FieldEndpoint{
      .suffix = "secret-id-bound-cidrs",
      .fields = {{"secret_id_bound_cidrs", FieldType::kStringSlice, ""}},
      .read =
          [cidrs_json](const Role& r) {
            return json{{"secret_id_bound_cidrs", cidrs_json(r)}};
          },
      .update = SecretIdCidrUpdate("secret_id_bound_cidrs"),
      .reset = [](Role* r) { r->secret_id_bound_cidrs.clear(); },
  });
  eps.push_back(FieldEndpoint{
      .suffix = "token-bound-cidrs",
      .fields = {{"token_bound_cidrs", FieldType::kStringSlice, ""}},
      .read =
          [](const Role& r) {
            return json{{"token_bound_cidrs", r.token.bound_cidrs}};
          },
      .update = [](const Store&, const FieldData& f, Role* r) -> Status {
        if (!f.Has("token_bound_cidrs")) return OkStatus();  // Vault saves the role unchanged
        ASSIGN_OR_RETURN(r->token.bound_cidrs, ParseCidrs(f.GetStringSlice("token_bound_cidrs"), "token_bound_cidrs",
                                                          "failed to parse token_bound_cidrs"));
        return OkStatus();
      },
      .reset = [](Role* r) { r->token.bound_cidrs.clear(); },
  });
  eps.push_back(Scalar("secret-id-num-uses", "secret_id_num_uses", FieldType::kInt, &Role::secret_id_num_uses,
                       [](const Store&, Role* r) {
                         return r->secret_id_num_uses < 0 ? InvalidArgument("secret_id_num_uses cannot be negative")
                                                          : OkStatus();
                       }));
  eps.push_back(
      Scalar("secret-id-ttl", "secret_id_ttl", FieldType::kDuration, &Role::secret_id_ttl, [](const Store&, Role* r) {
        return r->secret_id_ttl < 0 ? InvalidArgument("secret_id_ttl cannot be negative") : OkStatus();
      }));
  eps.push_back(FieldEndpoint{
      .suffix = "period",
      .fields = {{"token_period", FieldType::kDuration, ""}, {"period", FieldType::kDuration, ""}},
      .read =
          [](const Role& r) {
            json d = {{"token_period", r.token.period}};
            if (r.period > 0) d["period"] = r.period;
            return d;
          },
      .update = [](const Store& store, const FieldData& f, Role* r) -> Status {
        if (f.Has("token_period")) {
          r->token.period = f.GetDurationSeconds("token_period");
          r->period = f.Has("period") ? r->token.period : 0;
        } else if (f.Has("period")) {
          r->period = r->token.period = f.GetDurationSeconds("period");
        } else {
          return Missing("period");
        }
        if (r->token.period < 0) return InvalidArgument("'token_period' cannot be negative");
        if (r->token.period > store.max_lease_ttl()) {
          return InvalidArgument("period of \"" + FormatDuration(r->token.period) +
                                 "\" is greater than the backend's maximum lease TTL of \"" +
                                 FormatDuration(store.max_lease_ttl()) + "\"");
        }
        return OkStatus();
      },
      .reset = [](Role* r) { r->token.period = r->period = 0; },
  });
  eps.push_back(TokenScalar("token-num-uses", "token_num_uses", FieldType::kInt, &logical::TokenFields::num_uses,
                            [](const Role&) { return OkStatus(); }));
  eps.push_back(
      TokenScalar("token-ttl", "token_ttl", FieldType::kDuration, &logical::TokenFields::ttl, [](const Role& r) {
        return r.token.max_ttl > 0 && r.token.ttl > r.token.max_ttl
                   ? InvalidArgument("token_ttl should not be greater than token_max_ttl")
                   : OkStatus();
      }));
  eps.push_back(TokenScalar("token-max-ttl", "token_max_ttl", FieldType::kDuration, &logical::TokenFields::max_ttl,
                            [](const Role& r) {
                              return r.token.max_ttl > 0 && r.token.ttl > r.token.max_ttl
                                         ? InvalidArgument("token_max_ttl should be greater than or equal to token_ttl")
                                         : OkStatus();
                            }));
  return eps;
}

const logical::Field kRoleNameField{"role_name", FieldType::kString, "Name of the role. Must be less than 4096 bytes."};

}  // namespace

std::vector<logical::Path> RoleFieldPaths(std::shared_ptr<Store> store) {
  std::vector<logical::Path> paths;
  for (FieldEndpoint& ep : Endpoints()) {
    auto shared = std::make_shared<FieldEndpoint>(std::move(ep));
    logical::Path p;
    p.pattern = "role/{role_name}/" + shared->suffix;
    p.fields = shared->fields;
    p.fields.insert(p.fields.begin(), kRoleNameField);
    p.operations[Operation::kRead] = [store, shared](Request& req, const FieldData& f) {
      return HandleRead(*store, *shared, req, f);
    };
    if (shared->update) {
      auto update = [store, shared](Request& req, const FieldData& f) {
        return HandleWrite(*store, *shared, /*reset=*/false, req, f);
      };
      p.operations[Operation::kUpdate] = update;
      p.operations[Operation::kCreate] = update;
      p.operations[Operation::kDelete] = [store, shared](Request& req, const FieldData& f) {
        return HandleWrite(*store, *shared, /*reset=*/true, req, f);
      };
    }
    p.help_synopsis = "Reads, updates or resets the role's " + shared->suffix + " setting.";
    paths.push_back(std::move(p));
  }
  return paths;
}

}  // namespace coffer::approle
