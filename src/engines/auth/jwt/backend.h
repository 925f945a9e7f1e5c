// The `jwt` auth method (Vault's JWT/OIDC auth method, JWT part only: no OIDC browser flow,
// no OIDC discovery). Endpoints, relative to the mount:
//   config       read/update: jwt_validation_pubkeys | jwks_url (+ jwks_ca_pem) | jwks_json,
//                bound_issuer, jwt_supported_algs (default RS256), default_role
//   role/:name   read/create/update/delete; role/ list
//   login        {role, jwt} without a token: verifies the JWT and returns a logical::Auth
// Storage (the mount's view): "config" and "role/<name>", JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "base/status.h"
#include "net/http_call.h"
#include "logical/backend.h"

namespace coffer::jwt {

// Seams for tests: the clock (Unix seconds) and the HTTP client used to fetch jwks_url.
struct JwtBackendOptions {
  std::function<int64_t()> now;                              // default: system clock
  std::function<StatusOr<net::HttpReply>(const net::HttpCall&)> http;  // default: net::Perform
};

StatusOr<std::unique_ptr<logical::Backend>> NewJwtBackend(const logical::BackendConfig& config);
StatusOr<std::unique_ptr<logical::Backend>> NewJwtBackendWithOptions(const logical::BackendConfig& config,
                                                                     JwtBackendOptions options);

}  // namespace coffer::jwt
