// The system backend's policy endpoints, in Vault's shapes (relative to the sys/ mount):
//   policy                LIST or GET → {keys, policies}  (names sorted, "root" last)
//   policy/<name>         GET → {name, rules}; PUT/POST {policy} (or the deprecated {rules},
//                         answered with a warning) → 204; DELETE → 204
//   policies/acl          LIST → {keys}
//   policies/acl/<name>   GET → {name, policy}; PUT/POST {policy} → 204; DELETE → 204
// A missing policy reads as 404 with no message. A policy text that is valid base64 and decodes
// to a valid policy is stored decoded, as Vault accepts base64 bodies. Parse errors and refused
// names are 400 with the policy parser's message. Handlers are thread-safe (PolicyStore is).
#pragma once

#include <vector>

#include "logical/framework.h"
#include "policy/policy_store.h"

namespace coffer::policy {

// `store` is borrowed and must outlive the backend holding these paths.
std::vector<logical::Path> PolicyPaths(PolicyStore* store);

}  // namespace coffer::policy
