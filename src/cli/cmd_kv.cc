// `kv ...`: the key/value commands, for KV version 1 and 2 mounts alike. The version is found the
// way Vault's CLI finds it (GET sys/internal/ui/mounts/<path>, through the client's
// ResolveKvMount); output follows Vault's kv commands (`== Secret Path ==`, `=== Metadata ===`,
// `=== Data ===` sections in table format, the API response otherwise).
#include <coffer/client.h>

#include <algorithm>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/registry.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

constexpr char kMountUsage[] =
    "Specifies the path where the KV backend is mounted. If specified, the next argument will be "
    "interpreted as the secret path. If this flag is not specified, the next argument will be "
    "interpreted as the combined mount path and secret path, with /data/ automatically appended "
    "between KV v2 secrets.";

// path.Join for API paths: joins non-empty parts with one '/', no leading or trailing '/'.
std::string JoinPath(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    std::string clean = SanitizePath(p);
    if (clean.empty()) continue;
    if (!out.empty()) out += '/';
    out += clean;
  }
  return out;
}

struct KvTarget {
  std::string mount;  // "secret/" (empty when the server does not know the mount)
  int version = 1;
  std::string relative;  // the key below the mount
  // The API path with a v2 prefix ("data", "metadata", "delete", ...); v1 ignores the prefix.
  std::string Path(std::string_view v2_prefix) const {
    if (version == 2) return JoinPath({mount, v2_prefix, relative});
    return JoinPath({mount, relative});
  }
};

// Resolves KEY (and -mount) to a mount and version; prints the error and sets *rc on failure.
std::optional<KvTarget> ResolveKv(Context& ctx, const std::string& mount_flag, const std::string& key, int* rc) {
  client::VaultClient* c = ctx.Client();
  if (c == nullptr) {
    *rc = kExitUsage;
    return std::nullopt;
  }
  std::string partial = key;
  while (!partial.empty() && partial.front() == '/') partial.erase(partial.begin());
  std::string lookup = mount_flag.empty() ? partial : SanitizePath(mount_flag);
  if (lookup.empty()) {
    *rc = ctx.UsageError("Invalid path: the KV path must not be empty");
    return std::nullopt;
  }
  client::Response error;
  auto mount = c->ResolveKvMount(lookup, &error);
  if (!mount) {
    *rc = ctx.ApiError("Error determining the KV version of " + lookup, error);
    return std::nullopt;
  }
  KvTarget t;
  t.version = mount->version;
  t.mount = mount->mount_path;
  if (!mount_flag.empty()) {
    if (t.mount.empty()) t.mount = SanitizePath(mount_flag) + "/";
    t.relative = partial;
  } else {
    t.relative = mount->mount_path.empty() ? partial : mount->relative;
  }
  return t;
}

// "-versions=1,2 -versions 3" → [1,2,3]; a non-number is a usage error.
std::optional<json> ParseVersions(Context& ctx, const std::vector<std::string>& raw, int* rc) {
  json out = json::array();
  for (const auto& v : raw) {
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 18) {
      *rc = ctx.UsageError("Invalid -versions value \"" + v + "\": expected version numbers such as 1,2");
      return std::nullopt;
    }
    out.push_back(std::stoll(v));
  }
  return out;
}

bool HasData(const json& body) { return body.is_object() && body.contains("data") && body["data"].is_object(); }

// A 404 that still carries a body with data (a deleted or destroyed KV v2 version reads this way).
bool NotFoundWithData(const client::Response& r) {
  return r.status == 404 && HasData(r.body) && !r.body["data"].empty();
}

void OutputPath(Context& ctx, const std::string& path, std::string_view title) {
  ctx.Info(PadEqualSigns(title, path.size()));
  ctx.Info(path);
  ctx.Info("");
}

// kv put / patch / rollback output: the version metadata under a Secret Path heading.
int OutputWriteResult(Context& ctx, const KvTarget& t, const std::string& full_path, const client::Response& r) {
  if (r.body.is_null()) {
    if (ctx.options().format == "table") ctx.Info("Success! Data written to: " + full_path);
    return kExitOk;
  }
  if (!ctx.options().field.empty()) return ctx.OutputSecret(r.body);
  if (ctx.options().format != "table") return ctx.OutputSecret(r.body);
  ctx.err() << WarningsBlock(r.body);
  const json data = HasData(r.body) ? r.body["data"] : json::object();
  if (t.version == 2) OutputPath(ctx, full_path, "Secret Path");
  ctx.Info(HeaderForMap("Metadata", data));
  std::string table = KeyValueTable(data);
  if (!table.empty()) ctx.Info(table);
  return kExitOk;
}

// Common base: -mount and the KEY argument.
class KvCommand : public Command {
 public:
  void AddFlags(FlagSet& f) override {
    f.Section("Common Options");
    f.String("mount", &mount_, kMountUsage);
    AddOwnFlags(f);
  }

 protected:
  virtual void AddOwnFlags(FlagSet& f) {}
  std::string mount_;
};

class KvGetCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Retrieves data from the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv get [options] KEY

  Retrieves the value from the key-value store at the given key name. If no
  key exists with that name, an error is returned. If a key exists with that
  name but has no data, nothing is returned.

      $ {{prog}} kv get -mount=secret foo

  The path-like syntax can also be used (for KV v2 the /data/ part is added):

      $ {{prog}} kv get secret/foo

  To view the given key name at a specific version in time, specify the
  "-version" flag:

      $ {{prog}} kv get -mount=secret -version=1 foo)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddOwnFlags(FlagSet& f) override {
    f.Int("version", &version_, "If passed, the value at the version number will be returned.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    const std::string full = t->Path("data");
    std::map<std::string, std::string> query;
    if (t->version == 2 && version_ > 0) query["version"] = std::to_string(version_);
    client::Response r = ctx.Send("GET", full, nullptr, query);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok() && !NotFoundWithData(r)) {
      if (r.status == 404) return ctx.Error("No value found at " + full);
      return ctx.ApiError("Error reading " + full, r);
    }
    if (r.body.is_null() || !HasData(r.body)) return ctx.Error("No value found at " + full);
    const json& data_block = r.body["data"];

    const std::string& field = ctx.options().field;
    if (!field.empty()) {
      if (t->version == 2) {
        if (!data_block.contains("data") || !data_block["data"].is_object()) {
          return ctx.Error("No data found at " + full);
        }
        const json& inner = data_block["data"];
        if (field == "data" && !inner.contains("data")) return ctx.OutputField(data_block["data"], field);
        return ctx.OutputField(inner.contains(field) ? inner[field] : json(), field);
      }
      return ctx.OutputSecret(r.body);
    }
    if (ctx.options().format != "table") return ctx.OutputSecret(r.body);

    ctx.err() << WarningsBlock(r.body);
    if (t->version == 2) OutputPath(ctx, full, "Secret Path");
    if (data_block.contains("metadata") && data_block["metadata"].is_object()) {
      ctx.Info(HeaderForMap("Metadata", data_block["metadata"]));
      std::string table = KeyValueTable(data_block["metadata"]);
      if (!table.empty()) ctx.Info(table);
      ctx.Info("");
    }
    json data = data_block;
    if (t->version == 2) data = data_block.contains("data") ? data_block["data"] : json();
    if (data.is_object()) {
      ctx.Info(HeaderForMap("Data", data));
      std::string table = KeyValueTable(data);
      if (!table.empty()) ctx.Info(table);
    }
    return kExitOk;
  }

 private:
  int64_t version_ = 0;
};

class KvPutCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Sets or updates data in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. The data can be of
  any type.

      $ {{prog}} kv put -mount=secret foo bar=baz

  The data can also be consumed from a file on disk by prefixing with the "@"
  symbol, or from stdin with "-":

      $ {{prog}} kv put -mount=secret foo @data.json
      $ echo '{"bar":"baz"}' | {{prog}} kv put -mount=secret foo -
      $ {{prog}} kv put -mount=secret foo password=@password.txt)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddOwnFlags(FlagSet& f) override {
    f.Int("cas", &cas_,
          "Specifies to use a Check-And-Set operation. If not set the write will be allowed. If set to 0 a "
          "write will only be allowed if the key doesn't exist. If the index is non-zero the write will only "
          "be allowed if the key's current version matches the version specified in the cas parameter.");
    f.DefaultText("cas", "-1");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.empty()) return ctx.UsageError("Not enough arguments (expected >1, got 0)");
    if (args.size() == 1) return ctx.UsageError("Must supply data");
    std::string error;
    auto data = ParseKeyValues({args.begin() + 1, args.end()}, ctx.in(), &error);
    if (!data) return ctx.UsageError(error);
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    const std::string full = t->Path("data");
    json body = *data;
    if (t->version == 2) {
      body = json{{"data", *data}, {"options", json::object()}};
      if (cas_ > -1) body["options"]["cas"] = cas_;
    }
    client::Response r = ctx.Send("PUT", full, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error writing data to " + full, r);
    return OutputWriteResult(ctx, *t, full, r);
  }

 private:
  int64_t cas_ = -1;
};

class KvPatchCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Sets or updates data in the KV store without overwriting"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv patch [options] KEY [DATA]

  *NOTE*: This is only supported for KV v2 engine mounts.

  Writes the data to the given path in the key-value store, merging it with the
  latest version. The data can be of any type.

      $ {{prog}} kv patch -mount=secret foo bar=baz

  By default an HTTP PATCH (JSON merge patch) is used, falling back to a read
  followed by a check-and-set write when PATCH is not permitted. Choose one
  with -method=patch or -method=rw:

      $ {{prog}} kv patch -mount=secret -method=rw foo bar=baz

  Remove keys with -remove-data:

      $ {{prog}} kv patch -mount=secret -remove-data=bar foo)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddOwnFlags(FlagSet& f) override {
    f.Int("cas", &cas_,
          "Specifies to use a Check-And-Set operation. If set to 0 a write will only be allowed if the key "
          "doesn't exist; if non-zero only if the key's current version matches.");
    f.DefaultText("cas", "-1");
    f.String("method", &method_,
             "Specifies which method of patching to use. If set to \"patch\", then an HTTP PATCH request will "
             "be issued. If set to \"rw\", then a read will be performed, then a local update, followed by a "
             "remote update.");
    f.StringList("remove-data", &remove_, "Key to remove from the secret. May be repeated.", true);
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.empty()) return ctx.UsageError("Not enough arguments (expected >1, got 0)");
    if (args.size() == 1 && remove_.empty()) return ctx.UsageError("Must supply data");
    if (!method_.empty() && method_ != "patch" && method_ != "rw") {
      return ctx.UsageError("Unsupported method provided to -method flag: " + method_ + " (use patch or rw)");
    }
    std::string error;
    auto data = ParseKeyValues({args.begin() + 1, args.end()}, ctx.in(), &error);
    if (!data) return ctx.UsageError(error);
    for (const auto& k : remove_) (*data)[k] = nullptr;
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    if (t->version != 2) return ctx.UsageError("K/V engine mount must be version 2 for patch support");
    const std::string full = t->Path("data");

    client::Response r;
    if (method_ == "rw") {
      r = ReadThenWrite(ctx, full, *data, &rc);
      if (rc) return rc;
    } else {
      json body = json{{"data", *data}, {"options", json::object()}};
      if (cas_ > 0) body["options"]["cas"] = cas_;
      r = ctx.Send("PATCH", full, &body);
      if (ctx.curl_printed()) return kExitOk;
      if (r.status == 404) return ctx.Error("No value found at " + full);
      if (method_.empty() && (r.status == 403 || r.status == 405)) {
        if (r.status == 403) {
          ctx.Warn("Data was written to " + full +
                   " but we recommend that you add the \"patch\" capability to "
                   "your ACL policy in order to use HTTP PATCH in the future.");
        }
        r = ReadThenWrite(ctx, full, *data, &rc);
        if (rc) return rc;
      } else if (!r.ok()) {
        return ctx.ApiError("Error writing data to " + full, r);
      }
    }
    return OutputWriteResult(ctx, *t, full, r);
  }

 private:
  client::Response ReadThenWrite(Context& ctx, const std::string& full, const json& patch, int* rc) {
    client::Response cur = ctx.Send("GET", full);
    if (ctx.curl_printed()) {
      *rc = kExitOk;
      return cur;
    }
    if (cur.status == 404 || (cur.ok() && !HasData(cur.body))) {
      *rc = ctx.Error("No value found at " + full);
      return cur;
    }
    if (!cur.ok()) {
      *rc = ctx.ApiError("Error doing pre-read at " + full, cur);
      return cur;
    }
    const json& block = cur.body["data"];
    if (!block.contains("metadata") || !block["metadata"].is_object()) {
      *rc = ctx.Error("No metadata found at " + full + "; patch only works on existing data");
      return cur;
    }
    json merged = block.contains("data") && block["data"].is_object() ? block["data"] : json::object();
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (it->is_null()) {
        merged.erase(it.key());
      } else {
        merged[it.key()] = *it;
      }
    }
    json body = json{{"data", merged}, {"options", {{"cas", block["metadata"].value("version", json(0))}}}};
    client::Response r = ctx.Send("PUT", full, &body);
    if (!r.ok()) *rc = ctx.ApiError("Error writing data to " + full, r);
    return r;
  }

  int64_t cas_ = -1;
  std::string method_;
  std::vector<std::string> remove_;
};

class KvDeleteCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Deletes versions in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv delete [options] PATH

  Deletes the data for the provided version and path in the key-value store. The
  versioned data will not be fully removed, but marked as deleted and will no
  longer be returned in normal get requests.

  To delete the latest version of the key "foo":

      $ {{prog}} kv delete -mount=secret foo

  To delete version 3 of key foo:

      $ {{prog}} kv delete -mount=secret -versions=3 foo)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddOwnFlags(FlagSet& f) override {
    f.StringList("versions", &versions_, "Specifies the version numbers to delete.", true);
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    int rc = 0;
    auto versions = ParseVersions(ctx, versions_, &rc);
    if (!versions) return rc;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    const std::string full = t->Path("data");
    client::Response r;
    if (t->version == 2 && !versions->empty()) {
      json body = json{{"versions", *versions}};
      r = ctx.Send("PUT", t->Path("delete"), &body);
    } else {
      r = ctx.Send("DELETE", full);
    }
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error deleting " + full, r);
    if (ctx.options().format == "table") ctx.Info("Success! Data deleted (if it existed) at: " + full);
    return kExitOk;
  }

 private:
  std::vector<std::string> versions_;
};

// undelete and destroy: POST/PUT <mount>/<verb>/<key> {"versions": [...]}; KV v2 only.
class KvVersionsCommand : public KvCommand {
 public:
  KvVersionsCommand(std::string verb, std::string method) : verb_(std::move(verb)), method_(std::move(method)) {}
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddOwnFlags(FlagSet& f) override {
    f.StringList("versions", &versions_, "Specifies the version numbers to " + verb_ + ".", true);
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    if (versions_.empty()) {
      return ctx.UsageError("No versions provided, use the \"-versions\" flag to specify the version to " + verb_ +
                            ".");
    }
    int rc = 0;
    auto versions = ParseVersions(ctx, versions_, &rc);
    if (!versions) return rc;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    if (t->version != 2) {
      std::string cap = verb_;
      cap[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(cap[0])));
      return ctx.UsageError(cap + " not supported on KV Version 1");
    }
    const std::string path = t->Path(verb_);
    json body = json{{"versions", *versions}};
    client::Response r = ctx.Send(method_, path, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error writing data to " + path, r);
    if (!r.body.is_null()) return ctx.OutputSecret(r.body);
    if (ctx.options().format == "table") ctx.Info("Success! Data written to: " + path);
    return kExitOk;
  }

 private:
  std::string verb_;
  std::string method_;
  std::vector<std::string> versions_;
};

class KvUndeleteCommand : public KvVersionsCommand {
 public:
  KvUndeleteCommand() : KvVersionsCommand("undelete", "PUT") {}
  std::string Synopsis() const override { return "Undeletes versions in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv undelete [options] KEY

  Undeletes the data for the provided version and path in the key-value store.
  This restores the data, allowing it to be returned on get requests.

  To undelete version 3 of key "foo":

      $ {{prog}} kv undelete -mount=secret -versions=3 foo)";
  }
};

class KvDestroyCommand : public KvVersionsCommand {
 public:
  KvDestroyCommand() : KvVersionsCommand("destroy", "PUT") {}
  std::string Synopsis() const override { return "Permanently removes one or more versions in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv destroy [options] KEY

  Permanently removes the specified versions' data from the key-value store. If
  no key exists at the path, no action is taken.

  To destroy version 3 of key foo:

      $ {{prog}} kv destroy -mount=secret -versions=3 foo)";
  }
};

class KvRollbackCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Rolls back to a previous version of data"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv rollback [options] KEY

  *NOTE*: This is only supported for KV v2 engine mounts.

  Restores a given previous version to the current version at the given path.
  The value is written as a new version; for instance, if the current version
  is 5 and the rollback version is 2, the data from version 2 will become
  version 6.

      $ {{prog}} kv rollback -mount=secret -version=2 foo)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  void AddOwnFlags(FlagSet& f) override {
    f.Int("version", &version_, "Specifies the version number that should be made current again.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    if (version_ <= 0) return ctx.UsageError("Must specify a version to rollback to with -version=N (N > 0)");
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    if (t->version != 2) return ctx.UsageError("Rollback not supported on KV Version 1");
    const std::string full = t->Path("data");
    const std::string meta_path = t->Path("metadata");

    client::Response meta = ctx.Send("GET", meta_path);
    if (ctx.curl_printed()) return kExitOk;
    if (meta.status == 404 || (meta.ok() && !HasData(meta.body))) return ctx.Error("No value found at " + full);
    if (!meta.ok()) return ctx.ApiError("Error reading secret metadata at " + meta_path, meta);
    const json& md = meta.body["data"];
    const json current_json = md.value("current_version", json(0));
    const int64_t current = current_json.is_number_integer() ? current_json.get<int64_t>() : 0;
    const std::string v = std::to_string(version_);
    if (!md.contains("versions") || !md["versions"].is_object() || !md["versions"].contains(v)) {
      return ctx.Error("Version " + v + " does not exist at " + full);
    }
    const json& info = md["versions"][v];
    if (!info.is_object()) return ctx.Error("Version " + v + " of " + full + " has no metadata");
    if (info.contains("destroyed") && info["destroyed"].is_boolean() && info["destroyed"].get<bool>()) {
      return ctx.Error("Cannot roll back to a version that has been destroyed (version " + v + ")");
    }
    if (info.contains("deletion_time") && info["deletion_time"].is_string() &&
        !info["deletion_time"].get<std::string>().empty()) {
      return ctx.Error("Cannot roll back to a version that has been deleted (version " + v + ")");
    }
    client::Response old = ctx.Send("GET", full, nullptr, {{"version", v}});
    if (!old.ok() || !HasData(old.body) || !old.body["data"].contains("data") ||
        !old.body["data"]["data"].is_object()) {
      if (old.ok() || old.status == 404) return ctx.Error("No data found at version " + v + " of " + full);
      return ctx.ApiError("Error reading version " + v + " of " + full, old);
    }
    json body = json{{"data", old.body["data"]["data"]}, {"options", {{"cas", current}}}};
    client::Response r = ctx.Send("PUT", full, &body);
    if (!r.ok()) return ctx.ApiError("Error writing data to " + full, r);
    return OutputWriteResult(ctx, *t, full, r);
  }

 private:
  int64_t version_ = 0;
};

class KvListCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "List data or secrets"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv list [options] PATH

  Lists data from the key-value store at the given path.

  List values under the key "my-app":

      $ {{prog}} kv list -mount=secret my-app/)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (args.empty() && !mount_.empty()) return RunPath(ctx, "");
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    return RunPath(ctx, args[0]);
  }

 private:
  int RunPath(Context& ctx, const std::string& arg) {
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, arg.empty() ? SanitizePath(mount_) : arg, &rc);
    if (!t) return rc;
    if (arg.empty()) t->relative.clear();
    const std::string full = t->Path("metadata");
    client::Response r = ctx.Send("LIST", full);
    if (ctx.curl_printed()) return kExitOk;
    if (r.status == 404) return ctx.Error("No value found at " + full);
    if (!r.ok()) return ctx.ApiError("Error listing " + full, r);
    if (!HasData(r.body) || !r.body["data"].contains("keys")) return ctx.Error("No entries found at " + full);
    return ctx.OutputList(r.body);
  }
};

// ---- kv metadata ----

class KvMetadataGetCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Retrieves key metadata from the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv metadata get [options] KEY

  Retrieves the metadata from the key-value store at the given key name. If no
  key exists with that name, an error is returned.

      $ {{prog}} kv metadata get -mount=secret foo)";
  }
  unsigned Flags() const override { return kHttpFlags | kOutputFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    if (t->version != 2) return ctx.UsageError("Metadata not supported on KV Version 1");
    const std::string full = t->Path("metadata");
    client::Response r = ctx.Send("GET", full);
    if (ctx.curl_printed()) return kExitOk;
    if (r.status == 404 || (r.ok() && !HasData(r.body))) return ctx.Error("No value found at " + full);
    if (!r.ok()) return ctx.ApiError("Error reading " + full, r);
    if (!ctx.options().field.empty()) {
      const json& d = r.body["data"];
      const std::string& f = ctx.options().field;
      return ctx.OutputField(d.contains(f) ? d[f] : json(), f);
    }
    if (ctx.options().format != "table") return ctx.OutputSecret(r.body);

    json response = r.body;
    json versions = response["data"].contains("versions") ? response["data"]["versions"] : json();
    response["data"].erase("versions");
    ctx.err() << WarningsBlock(response);
    OutputPath(ctx, full, "Metadata Path");
    ctx.Info(HeaderForMap("Metadata", response["data"]));
    std::string table = SecretTable(response);
    if (!table.empty()) ctx.Info(table);
    if (versions.is_object()) {
      std::vector<int64_t> numbers;
      for (auto it = versions.begin(); it != versions.end(); ++it) {
        try {
          numbers.push_back(std::stoll(it.key()));
        } catch (...) {
        }
      }
      std::sort(numbers.begin(), numbers.end());
      for (int64_t n : numbers) {
        const json& v = versions[std::to_string(n)];
        ctx.Info("\n" + HeaderForMap("Version " + std::to_string(n), v));
        std::string vt = KeyValueTable(v);
        if (!vt.empty()) ctx.Info(vt);
      }
    }
    return kExitOk;
  }
};

// metadata put / patch share their flags.
class KvMetadataWriteCommand : public KvCommand {
 public:
  explicit KvMetadataWriteCommand(bool patch) : patch_(patch) {}
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  void AddOwnFlags(FlagSet& f) override {
    f.Int("max-versions", &max_versions_,
          "The number of versions to keep. If not set, the backend's configured max version is used.");
    f.DefaultText("max-versions", "");
    f.Bool("cas-required", &cas_required_,
           "If true the key will require the cas parameter to be set on all write requests. If false, the "
           "backend's configuration will be used.");
    f.DefaultText("cas-required", "");
    f.Duration("delete-version-after", &delete_version_after_,
               "Specifies the length of time before a version is deleted. If not set, the backend's configured "
               "delete-version-after is used. Cannot be greater than the backend's delete-version-after. The "
               "delete-version-after is specified as a numeric string with a suffix like \"30s\" or \"3h25m19s\".");
    f.StringMap("custom-metadata", &custom_metadata_,
                "Specifies arbitrary version-agnostic key=value metadata meant to describe a secret. This can "
                "be specified multiple times to add multiple pieces of metadata.");
    if (patch_) {
      f.StringList("remove-custom-metadata", &remove_custom_metadata_,
                   "Key to remove from custom metadata. To specify multiple values, specify this flag multiple "
                   "times.");
    }
    flags_ = &f;
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    json body = json::object();
    if (flags_->IsSet("max-versions")) {
      if (max_versions_ < 0) return ctx.UsageError("Invalid -max-versions: must be 0 or more");
      body["max_versions"] = max_versions_;
    }
    if (flags_->IsSet("cas-required")) body["cas_required"] = cas_required_;
    if (flags_->IsSet("delete-version-after")) body["delete_version_after"] = delete_version_after_;
    if (!custom_metadata_.empty() || !remove_custom_metadata_.empty()) {
      json cm = json::object();
      for (const auto& [k, v] : custom_metadata_) cm[k] = v;
      for (const auto& k : remove_custom_metadata_) cm[k] = nullptr;
      body["custom_metadata"] = cm;
    }
    if (patch_ && body.empty()) return ctx.UsageError("No metadata provided: give at least one flag to patch");
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    if (t->version != 2) return ctx.UsageError("Metadata not supported on KV Version 1");
    const std::string full = t->Path("metadata");
    client::Response r = ctx.Send(patch_ ? "PATCH" : "PUT", full, &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error writing data to " + full, r);
    if (!r.body.is_null()) return ctx.OutputSecret(r.body);
    if (ctx.options().format == "table") ctx.Info("Success! Data written to: " + full);
    return kExitOk;
  }

 private:
  bool patch_;
  FlagSet* flags_ = nullptr;
  int64_t max_versions_ = -1;
  bool cas_required_ = false;
  std::string delete_version_after_;
  std::map<std::string, std::string> custom_metadata_;
  std::vector<std::string> remove_custom_metadata_;
};

class KvMetadataPutCommand : public KvMetadataWriteCommand {
 public:
  KvMetadataPutCommand() : KvMetadataWriteCommand(false) {}
  std::string Synopsis() const override { return "Sets or updates key settings in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv metadata put [options] KEY

  This command can be used to create a blank key in the key-value store or to
  update key configuration for a specified key.

  Create a key in the key-value store with no data:

      $ {{prog}} kv metadata put -mount=secret foo

  Set a max versions setting on the key:

      $ {{prog}} kv metadata put -mount=secret -max-versions=5 foo

  Require Check-and-Set for this key:

      $ {{prog}} kv metadata put -mount=secret -cas-required foo

  Set custom metadata on the key:

      $ {{prog}} kv metadata put -mount=secret -custom-metadata=foo=abc -custom-metadata=bar=123 foo)";
  }
};

class KvMetadataPatchCommand : public KvMetadataWriteCommand {
 public:
  KvMetadataPatchCommand() : KvMetadataWriteCommand(true) {}
  std::string Synopsis() const override { return "Patches key settings in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv metadata patch [options] KEY

  This command can be used to patch an existing key's metadata: only the
  settings given as flags change.

      $ {{prog}} kv metadata patch -mount=secret -max-versions=5 foo
      $ {{prog}} kv metadata patch -mount=secret -custom-metadata=foo=abc foo
      $ {{prog}} kv metadata patch -mount=secret -remove-custom-metadata=foo foo)";
  }
};

class KvMetadataDeleteCommand : public KvCommand {
 public:
  std::string Synopsis() const override { return "Deletes all versions and metadata for a key in the KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv metadata delete [options] PATH

  Deletes all versions and metadata for the provided key.

      $ {{prog}} kv metadata delete -mount=secret foo)";
  }
  unsigned Flags() const override { return kHttpFlags | kFormatFlag; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    int rc = 0;
    auto t = ResolveKv(ctx, mount_, args[0], &rc);
    if (!t) return rc;
    if (t->version != 2) return ctx.UsageError("Metadata not supported on KV Version 1");
    const std::string full = t->Path("metadata");
    client::Response r = ctx.Send("DELETE", full);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error deleting " + full, r);
    if (ctx.options().format == "table") ctx.Info("Success! Data deleted (if it existed) at: " + full);
    return kExitOk;
  }
};

class KvEnableVersioningCommand : public Command {
 public:
  std::string Synopsis() const override { return "Turns on versioning for a KV store"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} kv enable-versioning [options] KEY

  This command turns on versioning for the backend at the provided path: a
  KV version 1 mount is upgraded to version 2 and its data stays readable.

      $ {{prog}} kv enable-versioning secret)";
  }
  unsigned Flags() const override { return kHttpFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    std::string mount = SanitizePath(args[0]);
    if (mount.empty()) return ctx.UsageError("Invalid path: the mount path must not be empty");
    json body = {{"options", {{"version", "2"}}}};
    client::Response r = ctx.Send("POST", "sys/mounts/" + mount + "/tune", &body);
    if (ctx.curl_printed()) return kExitOk;
    if (!r.ok()) return ctx.ApiError("Error tuning secrets engine " + mount, r);
    ctx.err() << WarningsBlock(r.body);
    ctx.Info("Success! Tuned the secrets engine at: " + mount);
    return kExitOk;
  }
};

constexpr char kKvHelp[] = R"(Usage: {{prog}} kv <subcommand> [options] [args]

  This command has subcommands for interacting with the key-value store
  (KV version 1 and 2 mounts). Here are some simple examples, and more
  detailed examples are available in the subcommands or the documentation.

  Create or update the key named "foo" in the "secret" mount with the value
  "bar=baz":

      $ {{prog}} kv put -mount=secret foo bar=baz

  Read this value back:

      $ {{prog}} kv get -mount=secret foo

  Get metadata for the key:

      $ {{prog}} kv metadata get -mount=secret foo

  Get a specific version of the key:

      $ {{prog}} kv get -mount=secret -version=1 foo

  Please see the individual subcommand help for detailed usage information.)";

constexpr char kKvMetadataHelp[] = R"(Usage: {{prog}} kv metadata <subcommand> [options] [args]

  This command has subcommands for interacting with the metadata endpoint of
  KV version 2 mounts.

  Create or update a metadata entry for a key:

      $ {{prog}} kv metadata put -mount=secret -max-versions=5 -delete-version-after=3h25m19s foo

  Get the metadata for a key, this provides information about each existing
  version:

      $ {{prog}} kv metadata get -mount=secret foo

  Delete a key and all existing versions:

      $ {{prog}} kv metadata delete -mount=secret foo)";

}  // namespace

void RegisterKvCommands(Registry& r) {
  r.AddGroup("kv", "Interact with the key-value store", kKvHelp);
  r.Add<KvGetCommand>("kv get");
  r.Add<KvPutCommand>("kv put");
  r.Add<KvPatchCommand>("kv patch");
  r.Add<KvDeleteCommand>("kv delete");
  r.Add<KvUndeleteCommand>("kv undelete");
  r.Add<KvDestroyCommand>("kv destroy");
  r.Add<KvRollbackCommand>("kv rollback");
  r.Add<KvListCommand>("kv list");
  r.Add<KvEnableVersioningCommand>("kv enable-versioning");
  r.AddGroup("kv metadata", "Interact with key metadata in the KV store", kKvMetadataHelp);
  r.Add<KvMetadataGetCommand>("kv metadata get");
  r.Add<KvMetadataPutCommand>("kv metadata put");
  r.Add<KvMetadataPatchCommand>("kv metadata patch");
  r.Add<KvMetadataDeleteCommand>("kv metadata delete");
}

}  // namespace coffer::cli
