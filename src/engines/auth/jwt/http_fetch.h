// A small blocking HTTP(S) client (libcurl) for the auth methods' outbound calls: fetching a
// JWKS document and posting a Kubernetes TokenReview. http and https only, no redirects,
// bounded time and response size. Header values (bearer tokens) never appear in errors.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"

namespace coffer::jwt {

struct HttpCall {
  std::string method = "GET";  // "GET" or "POST"
  std::string url;
  std::string body;                  // POST body
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

}  // namespace coffer::jwt
