// Request-target parsing for the HTTP transport: splits the target into a percent-decoded
// path and decoded query parameters, as Go's net/url does for Vault (URL.Path, ParseQuery).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace coffer::http {

// Decodes %XX escapes; with plus_is_space a '+' becomes ' ' (query encoding). Writes into
// *out (cleared first, capacity kept). Errors (InvalidArgument) on a '%' not followed by two
// hex digits; the message never echoes the input.
Status PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// Parses an origin-form ("/v1/a%20b?list=true") or absolute-form ("http://host/v1/a?x=1")
// request-target. On success *path is the decoded path (starts with '/') and *query holds
// the decoded parameters in order: split on '&', empty pieces skipped, key and value split at
// the first '=' (value "" when absent), '+' means space. Both outputs are overwritten.
// Errors (InvalidArgument, message safe to return to the client): a target that is not in
// origin or absolute form, contains '#', has a malformed escape, or decodes to a path with
// a NUL byte.
Status ParseRequestTarget(std::string_view target, std::string* path,
                          std::vector<std::pair<std::string, std::string>>* query);

}  // namespace coffer::http
