// Fuzzes ACL policy parsing (HCL and JSON) and evaluation: any input either fails with an
// InvalidArgument naming the policy, or yields an ACL whose checks never crash.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "logical/request.h"
#include "policy/acl.h"
#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = coffer::policy::ParsePolicy("fuzz", text);
  if (!parsed.ok()) {
    if (parsed.status().code() != coffer::StatusCode::kInvalidArgument) abort();
    return 0;
  }
  auto policy = std::make_shared<const coffer::policy::Policy>(std::move(*parsed));
  auto acl = coffer::policy::Acl::Create({policy});
  static const char* kPaths[] = {"secret/data/app", "secret/", "sys/mounts", "a/b/c", "", "auth/token/create"};
  static const coffer::logical::Operation kOps[] = {
      coffer::logical::Operation::kRead, coffer::logical::Operation::kList, coffer::logical::Operation::kCreate,
      coffer::logical::Operation::kUpdate, coffer::logical::Operation::kPatch, coffer::logical::Operation::kDelete};
  nlohmann::json body = {{"foo", "bar"}, {"n", 1}, {"list", {"a", "b"}}};
  for (const char* path : kPaths) {
    for (auto op : kOps) (void)acl->Check(path, op, body);
    (void)acl->CapabilityNamesFor(path);
    (void)acl->HasMountAccess(path);
  }
  for (const auto& rules : policy->paths) {
    for (auto op : kOps) (void)acl->Check(rules.pattern, op, body);
  }
  return 0;
}
