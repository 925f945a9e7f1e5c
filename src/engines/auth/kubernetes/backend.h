// The `kubernetes` auth method (Vault's Kubernetes auth method). Endpoints, relative to the
// mount:
//   config       read/update: kubernetes_host, kubernetes_ca_cert, token_reviewer_jwt, pem_keys,
//                issuer, disable_iss_validation (default true), disable_local_ca_jwt
//   role/:name   read/create/update/delete; role/ list: bound_service_account_names,
//                bound_service_account_namespaces (globs), audience, alias_name_source, token_*
//   login        {role, jwt} without a token
// A login checks the service-account JWT locally (signature with pem_keys when set, issuer,
// audience, name and namespace bindings) and, when a token_reviewer_jwt is configured or no
// pem_keys are, asks the cluster's TokenReview API whether the token is still valid.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/http_call.h"
#include "logical/backend.h"

namespace coffer::kubernetes {

struct KubernetesBackendOptions {
  std::function<int64_t()> now;                                        // default: system clock
  std::function<StatusOr<net::HttpReply>(const net::HttpCall&)> http;  // default: net::Perform
  // Where a pod finds its own CA and token (used unless disable_local_ca_jwt).
  std::string local_ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string local_jwt_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
};

StatusOr<std::unique_ptr<logical::Backend>> NewKubernetesBackend(const logical::BackendConfig& config);
StatusOr<std::unique_ptr<logical::Backend>> NewKubernetesBackendWithOptions(const logical::BackendConfig& config,
                                                                            KubernetesBackendOptions options);

}  // namespace coffer::kubernetes
