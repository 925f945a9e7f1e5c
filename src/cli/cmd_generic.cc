// The generic path commands: read, write, list, delete, patch (Vault's `vault read` etc.).
#include <coffer/client.h>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

// key=value arguments as query parameters (read/delete); a repeated key keeps the last value.
std::optional<std::map<std::string, std::string>> QueryFromArgs(Context& ctx, const std::vector<std::string>& args,
                                                                int* rc) {
  std::string error;
  auto data = ParseKeyValues(args, ctx.in(), &error);
  if (!data) {
    *rc = ctx.UsageError(error);
    return std::nullopt;
  }
  std::map<std::string, std::string> query;
  for (auto it = data->begin(); it != data->end(); ++it) {
    const json& v = it->is_array() && !it->empty() ? it->back() : *it;
    query[it.key()] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return query;
}

bool IsNotFound(const client::Response& r) {
  return r.status == 404 && (r.errors.empty() || (r.body.is_object() && r.body.contains("errors") &&
                                                  r.body["errors"].is_array() && r.body["errors"].empty()));
}

class ReadCommand : public Command {
 public:
  std::string Synopsis() const override { return "Read data and retrieves secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} read [options] PATH [K=V...]

  Reads data from the server at the given path. This can be used to read
  secrets, generate dynamic credentials, get configuration details, and more.

  Read a secret from the static secrets engine:

      $ {{prog}} read secret/my-secret

  Optional K=V pairs are sent as query parameters.)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, -1)) return rc;
    std::string path = SanitizePath(args[0]);
    int rc = 0;
    auto query = QueryFromArgs(ctx, {args.begin() + 1, args.end()}, &rc);
    if (!query) return rc;
    client::Response r = ctx.Send("GET", path, nullptr, *query);
    if (ctx.curl_printed()) return kExitOk;
    if (IsNotFound(r) || (r.ok() && r.body.is_null())) return ctx.Error("No value found at " + path);
    if (!r.ok()) return ctx.ApiError("Error reading " + path, r);
    return ctx.OutputSecret(r.body);
  }
};

class WriteCommand : public Command {
 public:
  std::string Synopsis() const override { return "Write data, configuration, and secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} write [options] PATH [DATA K=V...]

  Writes data to the server at the given path. The data can be credentials,
  secrets, configuration, or arbitrary data. The specific behavior of this
  command is determined at the thing mounted at the path.

  Data is specified as "key=value" pairs. If the value begins with an "@", then
  it is loaded from a file. If the value is "-", it is read from stdin. If the
  only argument is "-", a JSON object is read from stdin.

  Persist data in the generic secrets engine:

      $ {{prog}} write secret/my-secret foo=bar

  Create a new encryption key in the transit secrets engine:

      $ {{prog}} write -force transit/keys/my-key

  Load data from a file or stdin:

      $ {{prog}} write secret/my-secret @data.json
      $ echo '{"foo":"bar"}' | {{prog}} write secret/my-secret -)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("force", &force_,
           "Allow the operation to continue with no key=value pairs. This allows writing to keys that do "
           "not need or expect data.");
    f.Bool("f", &force_, "Alias for -force.");
    f.Hide("f");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, -1)) return rc;
    if (args.size() == 1 && !force_) return ctx.UsageError("Must supply data or use -force");
    std::string path = SanitizePath(args[0]);
    std::vector<std::string> kv(args.begin() + 1, args.end());
    std::string error;
    auto data = ParseKeyValues(kv, ctx.in(), &error);
    if (!data) return ctx.UsageError(error);
    client::Response r = ctx.Send("PUT", path, &*data);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error writing data to " + path, r);
    if (r.body.is_null()) {
      if (ctx.options().format == "table") ctx.Info("Success! Data written to: " + path);
      return kExitOk;
    }
    return ctx.OutputSecret(r.body);
  }

 private:
  bool force_ = false;
};

class ListCommand : public Command {
 public:
  std::string Synopsis() const override { return "List data or secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} list [options] PATH

  Lists data from the server at the given path. This can be used to list keys
  in a given secrets engine.

  List values under the "my-app" folder of the generic secrets engine:

      $ {{prog}} list secret/my-app/)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("detailed", &detailed_, "Print the whole response (JSON/YAML) instead of only the keys.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    if (detailed_) ctx.options().detailed = true;
    std::string path = SanitizePath(args[0]);
    client::Response r = ctx.Send("LIST", path);
    if (ctx.curl_printed()) return kExitOk;
    if (IsNotFound(r)) return ctx.Error("No value found at " + path);
    if (!r.ok()) return ctx.ApiError("Error listing " + path, r);
    if (!r.body.is_object() || !r.body.contains("data") || !r.body["data"].is_object() ||
        !r.body["data"].contains("keys")) {
      return ctx.Error("No entries found at " + path);
    }
    return ctx.OutputList(r.body);
  }

 private:
  bool detailed_ = false;
};

class DeleteCommand : public Command {
 public:
  std::string Synopsis() const override { return "Delete secrets and configuration"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} delete [options] PATH [K=V...]

  Deletes secrets and configuration from the server at the given path. The
  behavior of "delete" is delegated to the backend corresponding to the given
  path.

  Remove data in the status secrets engine:

      $ {{prog}} delete secret/my-secret)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, -1)) return rc;
    std::string path = SanitizePath(args[0]);
    int rc = 0;
    auto query = QueryFromArgs(ctx, {args.begin() + 1, args.end()}, &rc);
    if (!query) return rc;
    client::Response r = ctx.Send("DELETE", path, nullptr, *query);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error deleting " + path, r);
    if (r.body.is_object() && r.body.contains("data") && !r.body["data"].is_null()) return ctx.OutputSecret(r.body);
    if (ctx.options().format == "table") ctx.Info("Success! Data deleted (if it existed) at: " + path);
    return kExitOk;
  }
};

class PatchCommand : public Command {
 public:
  std::string Synopsis() const override { return "Patch data, configuration, and secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} patch [options] PATH [DATA K=V...]

  Patches data on the server at the given path with a JSON merge patch. The data
  is given like for "write": "key=value" pairs, "key=@file", "key=-" for stdin, or
  "-" alone for a JSON object on stdin.

      $ {{prog}} patch secret/data/my-secret data=@patch.json
      $ echo '{"data":{"foo":"baz"}}' | {{prog}} patch secret/data/my-secret -)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Command Options");
    f.Bool("force", &force_, "Allow the operation to continue with no key=value pairs.");
    f.Bool("f", &force_, "Alias for -force.");
    f.Hide("f");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, -1)) return rc;
    if (args.size() == 1 && !force_) return ctx.UsageError("Must supply data or use -force");
    std::string path = SanitizePath(args[0]);
    std::string error;
    auto data = ParseKeyValues({args.begin() + 1, args.end()}, ctx.in(), &error);
    if (!data) return ctx.UsageError(error);
    client::Response r = ctx.Send("PATCH", path, &*data);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error writing data to " + path, r);
    if (r.body.is_null()) {
      if (ctx.options().format == "table") ctx.Info("Success! Data written to: " + path);
      return kExitOk;
    }
    return ctx.OutputSecret(r.body);
  }

 private:
  bool force_ = false;
};

}  // namespace

void RegisterGenericCommands(Registry& r) {
  r.Add<ReadCommand>("read");
  r.Add<WriteCommand>("write");
  r.Add<ListCommand>("list");
  r.Add<DeleteCommand>("delete");
  r.Add<PatchCommand>("patch");
}

}  // namespace coffer::cli
