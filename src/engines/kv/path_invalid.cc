// KV v2's catch-all path: a request that names no endpoint (e.g. "secret/foo" instead of
// "secret/data/foo", as a KV v1 client would send) gets Vault's 404 with a warning that points
// at the right API or CLI command.
#include <nlohmann/json.hpp>

#include "engines/kv/kv_v2.h"

namespace coffer::kv::v2 {

using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

const char* CliSubcommand(Operation op) {
  switch (op) {
    case Operation::kCreate:
    case Operation::kUpdate:
      return "put";
    case Operation::kPatch:
      return "patch";
    case Operation::kRead:
      return "get";
    case Operation::kList:
      return "list";
    case Operation::kDelete:
      return "delete";
    case Operation::kHelp:
      break;
  }
  return "";
}

}  // namespace

Response InvalidPathResponse(const Request& req) {
  std::string rel = req.RelativePath();
  // Vault's HTTP layer gives every LIST path a trailing '/'; ours does not, so add it here to
  // pick the same message.
  if (req.operation == Operation::kList && (rel.empty() || rel.back() != '/')) rel += '/';
  if (rel == "metadata" || rel == "data" || rel == "delete" || rel == "undelete" || rel == "destroy") {
    return EnvelopeWithStatus(req, 404, nullptr,
                              {"Non-listing operations on the root of a K/V v2 mount are not supported."});
  }
  return EnvelopeWithStatus(req, 404, nullptr,
                            {std::string("Invalid path for a versioned K/V secrets engine. See the API docs for the "
                                         "appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ") +
                             CliSubcommand(req.operation) + "' for this operation."});
}

logical::Path InvalidPath() {
  auto handler = [](Request& req, const FieldData&) -> StatusOr<Response> { return InvalidPathResponse(req); };
  return logical::Path{
      .pattern = "{path*}",
      .operations = {{Operation::kRead, handler},
                     {Operation::kList, handler},
                     {Operation::kCreate, handler},
                     {Operation::kUpdate, handler},
                     {Operation::kPatch, handler},
                     {Operation::kDelete, handler}},
      .takes_arbitrary_fields = true,
      .help_synopsis = "Not a KV version 2 endpoint.",
      .help_description =
          "A versioned K/V mount serves config, data/<path>, metadata/<path>, delete/<path>, "
          "undelete/<path>, destroy/<path> and subkeys/<path>. Every other path answers 404 with a "
          "warning naming the right endpoint.",
  };
}

}  // namespace coffer::kv::v2
