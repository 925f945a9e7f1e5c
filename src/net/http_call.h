// A small blocking HTTP(S) client (libcurl) for outbound calls that are not Vault's API: the
// auth methods (a JWKS document, a Kubernetes TokenReview) and the key-sync providers (AWS
// Secrets Manager, Azure Key Vault and its OAuth2 token endpoint). http and https only, no
// redirects, no proxy from the environment, bounded time and response size. Header values and
// bodies (bearer tokens, secrets) never appear in errors; callers wipe them after use.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"

namespace coffer::net {

struct HttpCall {
  std::string method = "GET";  // GET, POST, PUT or DELETE
  std::string url;
  std::string body;                  // POST/PUT body
  std::vector<std::string> headers;  // "Name: value"; may hold secrets, never logged
  std::string ca_pem;                // trust only these CAs when set; else the system store
  long timeout_seconds = 10;
  size_t max_response_bytes = 1 << 20;
};

struct HttpReply {
  long status = 0;
  std::string body;
};

// Unavailable for transport failures ("GET https://host/path: Couldn't connect to server"),
// InvalidArgument for a URL that is not http(s) or a CA PEM curl rejects. Any HTTP status is a
// successful call: the caller interprets it.
StatusOr<HttpReply> Perform(const HttpCall& call);

}  // namespace coffer::net
