// The authenticated part of the system backend, mounted at sys/: mounts, keyring rotation and
// status, and the random/hash tools. Declared as data with the logical framework.
#include <ctime>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "base/duration.h"
#include "base/encoding.h"
#include "base/time_format.h"
#include "core/core.h"
#include "crypto/random.h"
#include "logical/framework.h"
#include "policy/path_policy.h"

namespace coffer::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;
using nlohmann::json;

constexpr int64_t kMaxRandomBytes = 128 * 1024;

// Mount options arrive as strings from the CLI and sometimes as numbers from libraries
// ({"version": 2}); Vault stores them as strings.
StatusOr<std::map<std::string, std::string>> OptionsFrom(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_null()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
    else if (v.is_number_integer() || v.is_boolean()) out[k] = v.dump();
    else return InvalidArgument("field \"options\": value of \"" + k + "\" must be a string");
  }
  return out;
}

StatusOr<int64_t> TtlFrom(const json& config, const char* name) {
  if (!config.contains(name) || config[name].is_null()) return int64_t{0};
  const json& v = config[name];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty() || s == "system") return int64_t{0};
    auto d = ParseDurationSeconds(s);
    if (!d.ok()) return InvalidArgument(std::string("field \"config.") + name + "\": " + d.status().message());
    return *d;
  }
  return InvalidArgument(std::string("field \"config.") + name + "\": expected a duration");
}

// "kv/tune" → target "kv": sys/mounts/<path>/tune addresses the mount's tunables, as in Vault.
bool IsTunePath(const std::string& captured, std::string* target) {
  constexpr std::string_view kSuffix = "/tune";
  std::string p = captured;
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.size() <= kSuffix.size() || p.compare(p.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) return false;
  *target = p.substr(0, p.size() - kSuffix.size());
  return true;
}

// A TTL for tune: absent → unchanged, "system" or "" or 0 → back to the system default.
StatusOr<std::optional<int64_t>> TuneTtl(const FieldData& f, const char* name) {
  if (!f.Has(name)) return std::optional<int64_t>();
  json v = f.GetJson(name);
  if (v.is_null()) return std::optional<int64_t>();
  json wrapper = {{name, v}};
  ASSIGN_OR_RETURN(int64_t seconds, TtlFrom(wrapper, name));
  return std::optional<int64_t>(seconds);
}

// The mounts of one table as the API names them: secrets engines ("secret/") or auth methods
// ("approle/" for the router path "auth/approle/").
std::vector<MountEntry> TableOf(Core* core, bool auth) { return auth ? core->AuthMounts() : core->Mounts(); }

StatusOr<Response> ReadTune(Core* core, const std::string& target, bool auth) {
  ASSIGN_OR_RETURN(std::string path, NormalizeMountPath(target));
  for (const auto& m : TableOf(core, auth)) {
    if (m.ApiPath() != path) continue;
    json data = {{"default_lease_ttl", m.config.default_lease_ttl > 0 ? m.config.default_lease_ttl : core->default_lease_ttl()},
                 {"max_lease_ttl", m.config.max_lease_ttl > 0 ? m.config.max_lease_ttl : core->max_lease_ttl()},
                 {"force_no_cache", m.config.force_no_cache},
                 {"description", m.description}};
    if (auth) data["token_type"] = "default-service";
    if (!m.options.empty()) data["options"] = m.options;
    return Response::WithData(std::move(data));
  }
  return InvalidArgument("no mount found at \"" + path + "\"");
}

StatusOr<Response> TuneMount(Core* core, const std::string& target, const FieldData& f, bool auth) {
  Core::MountTune tune;
  ASSIGN_OR_RETURN(tune.default_lease_ttl, TuneTtl(f, "default_lease_ttl"));
  ASSIGN_OR_RETURN(tune.max_lease_ttl, TuneTtl(f, "max_lease_ttl"));
  if (f.Has("description")) tune.description = f.GetString("description");
  if (f.Has("options")) {
    ASSIGN_OR_RETURN(auto options, OptionsFrom(f.GetJson("options")));
    tune.options = std::move(options);
  }
  if (auth) {
    ASSIGN_OR_RETURN(std::string rel, NormalizeMountPath(target));
    RETURN_IF_ERROR(core->TuneMount("auth/" + rel, tune));
  } else {
    RETURN_IF_ERROR(core->TuneMount(target, tune));
  }
  return Response();
}

// sys/mounts (secrets engines) or sys/auth (auth methods): the list.
Path MountsPath(Core* core, bool auth) {
  Path p;
  p.pattern = auth ? "auth/?" : "mounts/?";
  p.help_synopsis = auth ? "List the enabled auth methods." : "List the currently mounted secrets engines.";
  p.operations[Operation::kRead] = [core, auth](Request&, const FieldData&) -> StatusOr<Response> {
    json data = json::object();
    for (const auto& m : TableOf(core, auth)) {
      json j = m.ToApiJson();
      if (auth) j["config"]["token_type"] = "default-service";
      data[m.ApiPath()] = std::move(j);
    }
    return Response::WithData(std::move(data));
  };
  return p;
}

// sys/mounts/:path or sys/auth/:path: enable, read, disable, and :path/tune.
Path MountPath(Core* core, bool auth) {
  Path p;
  p.pattern = auth ? "auth/{path+}" : "mounts/{path+}";
  p.fields = {
      {"path", FieldType::kString, "The path to mount to, e.g. \"aws/east\"."},
      {"type", FieldType::kString, "The type of the secrets engine, e.g. \"kv\"."},
      {"description", FieldType::kString, "User-friendly description for this mount."},
      {"config", FieldType::kMap, "Mount configuration: default_lease_ttl, max_lease_ttl, force_no_cache."},
      {"options", FieldType::kMap, "Engine-specific options, e.g. {\"version\": \"1\"} for kv."},
      {"local", FieldType::kBool, "Mark the mount as local (no replication)."},
      {"seal_wrap", FieldType::kBool, "Whether to turn on seal wrapping."},
      {"external_entropy_access", FieldType::kBool, "Accepted for compatibility."},
      {"plugin_name", FieldType::kString, "Older name of \"type\"."},
      {"plugin_version", FieldType::kString, "Accepted for compatibility."},
      {"default_lease_ttl", FieldType::kRaw, "Tune: the default lease TTL (duration or \"system\")."},
      {"max_lease_ttl", FieldType::kRaw, "Tune: the maximum lease TTL (duration or \"system\")."},
  };
  if (auth) {
    p.help_synopsis = "Enable a new auth method, read its configuration, or disable it.";
    p.help_description =
        "POST with {\"type\": \"approle\"} to enable; DELETE to disable (every token its logins issued is revoked "
        "and its data is removed).";
  } else {
    p.help_synopsis = "Mount a new secrets engine, read its configuration, or unmount it.";
    p.help_description = "POST with {\"type\": \"kv\"} to enable; DELETE to disable (all its data is removed).";
  }

  auto enable = [core, auth](Request&, const FieldData& f) -> StatusOr<Response> {
    std::string tune_target;
    if (IsTunePath(f.GetString("path"), &tune_target)) return TuneMount(core, tune_target, f, auth);
    MountEntry e;
    e.path = f.GetString("path");
    e.type = f.GetString("type");
    if (e.type.empty()) e.type = f.GetString("plugin_name");
    if (e.type.empty()) return InvalidArgument("missing required field \"type\"");
    e.description = f.GetString("description");
    e.local = f.GetBool("local");
    e.seal_wrap = f.GetBool("seal_wrap");
    ASSIGN_OR_RETURN(e.options, OptionsFrom(f.GetJson("options")));
    if (e.type == "kv-v2") {  // Vault's alias (Terraform and the CLI use it): kv with version 2
      e.type = "kv";
      e.options["version"] = "2";
    }
    json config = f.GetJson("config");
    if (config.is_null()) config = json::object();
    ASSIGN_OR_RETURN(e.config.default_lease_ttl, TtlFrom(config, "default_lease_ttl"));
    ASSIGN_OR_RETURN(e.config.max_lease_ttl, TtlFrom(config, "max_lease_ttl"));
    if (e.config.default_lease_ttl < 0 || e.config.max_lease_ttl < 0) {
      return InvalidArgument("field \"config\": lease TTLs cannot be negative");
    }
    if (e.config.max_lease_ttl > 0 && e.config.default_lease_ttl > e.config.max_lease_ttl) {
      return InvalidArgument("field \"config\": default_lease_ttl cannot be larger than max_lease_ttl");
    }
    if (config.contains("force_no_cache") && config["force_no_cache"].is_boolean()) {
      e.config.force_no_cache = config["force_no_cache"].get<bool>();
    }
    RETURN_IF_ERROR(auth ? core->EnableAuth(std::move(e)) : core->EnableMount(std::move(e)));
    return Response();
  };
  p.operations[Operation::kCreate] = enable;
  p.operations[Operation::kUpdate] = enable;
  p.operations[Operation::kRead] = [core, auth](Request&, const FieldData& f) -> StatusOr<Response> {
    std::string tune_target;
    if (IsTunePath(f.GetString("path"), &tune_target)) return ReadTune(core, tune_target, auth);
    ASSIGN_OR_RETURN(std::string path, NormalizeMountPath(f.GetString("path")));
    for (const auto& m : TableOf(core, auth)) {
      if (m.ApiPath() == path) return Response::WithData(m.ToApiJson());
    }
    return InvalidArgument("no mount found at \"" + path + "\"");
  };
  p.operations[Operation::kDelete] = [core, auth](Request&, const FieldData& f) -> StatusOr<Response> {
    RETURN_IF_ERROR(auth ? core->DisableAuth(f.GetString("path")) : core->DisableMount(f.GetString("path")));
    return Response();
  };
  return p;
}

std::vector<Path> RemountPaths(Core* core) {
  Path remount;
  remount.pattern = "remount";
  remount.fields = {{"from", FieldType::kString, "The current path of the mount."},
                    {"to", FieldType::kString, "The new path of the mount."}};
  remount.help_synopsis = "Move a mounted secrets engine to a new path; its data moves with it.";
  auto move = [core](Request&, const FieldData& f) -> StatusOr<Response> {
    if (f.GetString("from").empty()) return InvalidArgument("missing required field \"from\"");
    if (f.GetString("to").empty()) return InvalidArgument("missing required field \"to\"");
    RETURN_IF_ERROR(core->RemountMount(f.GetString("from"), f.GetString("to")));
    // Vault runs remounts as migrations and returns their id; ours completes before answering.
    std::string id = crypto::GenerateUuid();
    core->RecordMigration(id, f.GetString("from"), f.GetString("to"));
    return Response::WithData({{"migration_id", id}});
  };
  remount.operations[Operation::kUpdate] = move;
  remount.operations[Operation::kCreate] = move;

  Path status;
  status.pattern = "remount/status/{migration_id}";
  status.fields = {{"migration_id", FieldType::kString, "The id returned by sys/remount."}};
  status.help_synopsis = "The outcome of a remount.";
  status.operations[Operation::kRead] = [core](Request&, const FieldData& f) -> StatusOr<Response> {
    auto migration = core->LookupMigration(f.GetString("migration_id"));
    if (!migration) return NotFound();
    return Response::WithData({{"migration_id", f.GetString("migration_id")},
                               {"migration_info",
                                {{"source_mount", migration->first},
                                 {"target_mount", migration->second},
                                 {"status", "success"}}}});
  };
  return {remount, status};
}

// sys/leases/revoke-prefix/:prefix and its older and "force" spellings. The only leases
// Coffer issues are token leases (KV issues none), so these revoke tokens by creation path.
std::vector<Path> RevokePrefixPaths(Core* core) {
  std::vector<Path> paths;
  for (const char* pattern : {"leases/revoke-prefix/{prefix+}", "leases/revoke-force/{prefix+}",
                              "revoke-prefix/{prefix+}", "revoke-force/{prefix+}"}) {
    Path p;
    p.pattern = pattern;
    p.fields = {{"prefix", FieldType::kString, "The lease id prefix to revoke, e.g. auth/token/create."},
                {"sync", FieldType::kBool, "Wait for the revocation to finish (always done here).", true}};
    p.help_synopsis = "Revoke every lease (token) whose id starts with the prefix.";
    auto revoke = [core](Request&, const FieldData& f) -> StatusOr<Response> {
      RETURN_IF_ERROR(core->RevokeTokenLeasesByPrefix(f.GetString("prefix")).status());
      // Vault answers 202 when the caller asked not to wait; the work is done either way here.
      if (!f.GetBool("sync")) return Response::Raw(202, nullptr);
      return Response();
    };
    p.operations[Operation::kUpdate] = revoke;
    p.operations[Operation::kCreate] = revoke;
    paths.push_back(std::move(p));
  }
  return paths;
}

std::vector<Path> InternalUiMountPaths(Core* core) {
  Path all;
  all.pattern = "internal/ui/mounts";
  all.help_synopsis = "The mounts visible to the calling token.";
  all.operations[Operation::kRead] = [core](Request& req, const FieldData&) -> StatusOr<Response> {
    json secret = json::object();
    for (const auto& m : core->Mounts()) {
      if (core->CallerCanSeeMount(req, m.path)) secret[m.path] = m.ToApiJson();
    }
    json auth = json::object();
    for (const auto& m : core->AuthMounts()) {
      if (core->CallerCanSeeMount(req, m.path)) auth[m.ApiPath()] = m.ToApiJson();
    }
    return Response::WithData({{"secret", secret}, {"auth", auth}});
  };
  Path one;
  one.pattern = "internal/ui/mounts/{path+}";
  one.fields = {{"path", FieldType::kString, "A path inside the mount."}};
  one.help_synopsis = "The mount serving a path, as the vault kv CLI expects.";
  one.operations[Operation::kRead] = [core](Request& req, const FieldData& f) -> StatusOr<Response> {
    auto mount = core->MountFor(f.GetString("path"));
    if (!mount || mount->type == "system" || !core->CallerCanSeeMount(req, mount->path)) {
      // Vault's answer whether the mount is missing or hidden, so callers learn nothing more.
      return PermissionDenied("preflight capability check returned 403, please ensure client's policies grant "
                              "access to path \"" + f.GetString("path").substr(0, 256) + "\"");
    }
    json data = mount->ToApiJson();
    data["path"] = mount->path;
    return Response::WithData(std::move(data));
  };
  return {all, one};
}

// sys/capabilities, sys/capabilities-self, sys/capabilities-accessor.
std::vector<Path> CapabilitiesPaths(Core* core) {
  auto answer = [core](const std::string& who, bool by_accessor, const FieldData& f) -> StatusOr<Response> {
    std::vector<std::string> paths = f.GetStringSlice("paths");
    if (paths.empty() && f.Has("path")) paths = f.GetStringSlice("path");
    if (paths.empty()) return InvalidArgument("missing required field \"paths\"");
    ASSIGN_OR_RETURN(auto caps, core->CapabilitiesOf(who, by_accessor, paths));
    json data = json::object();
    for (size_t i = 0; i < paths.size(); ++i) data[paths[i]] = caps[i];
    if (paths.size() == 1) data["capabilities"] = caps[0];
    return Response::WithData(std::move(data));
  };
  std::vector<Field> common = {{"paths", FieldType::kStringSlice, "Paths to report capabilities for."},
                               {"path", FieldType::kStringSlice, "Older name of \"paths\"."}};
  Path by_token;
  by_token.pattern = "capabilities";
  by_token.fields = common;
  by_token.fields.push_back({"token", FieldType::kString, "The token to check."});
  by_token.help_synopsis = "The capabilities a token has on paths.";
  auto token_handler = [answer](Request&, const FieldData& f) -> StatusOr<Response> {
    if (f.GetString("token").empty()) return InvalidArgument("missing required field \"token\"");
    return answer(f.GetString("token"), false, f);
  };
  by_token.operations[Operation::kUpdate] = token_handler;
  by_token.operations[Operation::kCreate] = token_handler;

  Path self;
  self.pattern = "capabilities-self";
  self.fields = common;
  self.help_synopsis = "The capabilities the calling token has on paths.";
  auto self_handler = [answer](Request& req, const FieldData& f) { return answer(req.client_token, false, f); };
  self.operations[Operation::kUpdate] = self_handler;
  self.operations[Operation::kCreate] = self_handler;

  Path by_accessor;
  by_accessor.pattern = "capabilities-accessor";
  by_accessor.fields = common;
  by_accessor.fields.push_back({"accessor", FieldType::kString, "The accessor of the token to check."});
  by_accessor.help_synopsis = "The capabilities the token with an accessor has on paths.";
  auto accessor_handler = [answer](Request&, const FieldData& f) -> StatusOr<Response> {
    if (f.GetString("accessor").empty()) return InvalidArgument("missing required field \"accessor\"");
    return answer(f.GetString("accessor"), true, f);
  };
  by_accessor.operations[Operation::kUpdate] = accessor_handler;
  by_accessor.operations[Operation::kCreate] = accessor_handler;
  return {by_token, self, by_accessor};
}

Path KeyStatusPath(Core* core) {
  Path p;
  p.pattern = "key-status";
  p.help_synopsis = "The term and install time of the active encryption key.";
  p.operations[Operation::kRead] = [core](Request&, const FieldData&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(auto k, core->ActiveKey());
    return Response::WithData(
        {{"term", k.term}, {"install_time", FormatRfc3339(k.install_time)}, {"encryptions", k.encryptions}});
  };
  return p;
}

Path RotatePath(Core* core) {
  Path p;
  p.pattern = "rotate";
  p.help_synopsis = "Add a new encryption key term; new writes use it, old data stays readable.";
  auto rotate = [core](Request&, const FieldData&) -> StatusOr<Response> {
    RETURN_IF_ERROR(core->RotateKeyring());
    return Response();
  };
  p.operations[Operation::kUpdate] = rotate;
  p.operations[Operation::kCreate] = rotate;
  return p;
}

std::vector<Field> RandomFields() {
  return {
      {"urlbytes", FieldType::kString, "Number of bytes (URL form)."},
      {"source", FieldType::kString, "platform, seal or all.", "platform"},
      {"bytes", FieldType::kInt, "Number of bytes to generate.", 32},
      {"format", FieldType::kString, "hex or base64.", "base64"},
  };
}

StatusOr<Response> GenerateRandom(Request&, const FieldData& f) {
  int64_t n = f.GetInt("bytes");
  std::string source = f.GetString("source");
  if (f.Has("urlbytes")) {
    std::string u = f.GetString("urlbytes");
    if (u.empty() || u.size() > 9 || u.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("field \"bytes\": expected a positive integer in the URL, got \"" + u.substr(0, 32) + "\"");
    }
    n = std::stoll(u);
  }
  if (source != "platform" && source != "seal" && source != "all") {
    return InvalidArgument("field \"source\": expected \"platform\", \"seal\" or \"all\"");
  }
  if (n < 1) return InvalidArgument("field \"bytes\": must be at least 1");
  if (n > kMaxRandomBytes) return InvalidArgument("field \"bytes\": must be at most 131072");
  std::string format = f.GetString("format");
  std::string bytes = crypto::RandomBytes(static_cast<size_t>(n));
  std::string out;
  if (format == "hex") out = HexEncode(bytes);
  else if (format == "base64") out = Base64Encode(bytes);
  else return InvalidArgument("field \"format\": unsupported encoding format \"" + format.substr(0, 32) + "\"; use hex or base64");
  return Response::WithData({{"random_bytes", out}});
}

std::vector<Path> RandomPaths() {
  std::vector<Path> paths;
  for (const char* pattern : {"tools/random", "tools/random/{source}/{urlbytes}"}) {
    Path p;
    p.pattern = pattern;
    p.fields = RandomFields();
    p.help_synopsis = "Generate random bytes.";
    p.operations[Operation::kUpdate] = GenerateRandom;
    p.operations[Operation::kCreate] = GenerateRandom;
    paths.push_back(std::move(p));
  }
  // tools/random/<bytes> or tools/random/<source>: one segment, either meaning.
  Path p;
  p.pattern = "tools/random/{segment}";
  p.fields = RandomFields();
  p.fields.push_back({"segment", FieldType::kString, "A byte count or a source."});
  p.help_synopsis = "Generate random bytes.";
  auto handler = [](Request& req, const FieldData& f) -> StatusOr<Response> {
    std::string seg = f.GetString("segment");
    json data = f.raw().is_object() ? f.raw() : json::object();
    if (seg.find_first_not_of("0123456789") == std::string::npos) data["urlbytes"] = seg;
    else data["source"] = seg;
    static const std::vector<Field> kFields = RandomFields();
    static const std::map<std::string, std::string> kNoCaptures;
    ASSIGN_OR_RETURN(FieldData again, FieldData::Parse(kFields, data, kNoCaptures));
    return GenerateRandom(req, again);
  };
  p.operations[Operation::kUpdate] = handler;
  p.operations[Operation::kCreate] = handler;
  paths.push_back(std::move(p));
  return paths;
}

std::vector<Path> HashPaths() {
  auto handler = [](Request&, const FieldData& f) -> StatusOr<Response> {
    std::string algorithm = f.Has("urlalgorithm") ? f.GetString("urlalgorithm") : f.GetString("algorithm");
    static const std::map<std::string, const char*> kAlgorithms = {
        {"sha2-224", "SHA2-224"}, {"sha2-256", "SHA2-256"}, {"sha2-384", "SHA2-384"}, {"sha2-512", "SHA2-512"},
        {"sha3-224", "SHA3-224"}, {"sha3-256", "SHA3-256"}, {"sha3-384", "SHA3-384"}, {"sha3-512", "SHA3-512"}};
    auto it = kAlgorithms.find(algorithm);
    if (it == kAlgorithms.end()) {
      return InvalidArgument("field \"algorithm\": unsupported algorithm \"" + algorithm.substr(0, 32) + "\"");
    }
    if (!f.Has("input")) return InvalidArgument("missing required field \"input\"");
    auto input = Base64Decode(f.GetString("input"));
    if (!input.ok()) return InvalidArgument("field \"input\": unable to decode input as base64");
    std::string format = f.GetString("format");
    if (format != "hex" && format != "base64") {
      return InvalidArgument("field \"format\": unsupported encoding format \"" + format.substr(0, 32) + "\"; use hex or base64");
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD* digest = EVP_MD_fetch(nullptr, it->second, nullptr);
    if (digest == nullptr) return InternalError("hash algorithm unavailable in this OpenSSL build");
    int ok = EVP_Digest(input->data(), input->size(), md, &md_len, digest, nullptr);
    EVP_MD_free(digest);
    if (ok != 1) return InternalError("hash computation failed");
    std::string sum(reinterpret_cast<char*>(md), md_len);
    return Response::WithData({{"sum", format == "hex" ? HexEncode(sum) : Base64Encode(sum)}});
  };
  std::vector<Path> paths;
  for (const char* pattern : {"tools/hash", "tools/hash/{urlalgorithm}"}) {
    Path p;
    p.pattern = pattern;
    p.fields = {
        {"urlalgorithm", FieldType::kString, "Algorithm (URL form)."},
        {"algorithm", FieldType::kString, "sha2-224, sha2-256, sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512.", "sha2-256"},
        {"input", FieldType::kString, "The base64-encoded input data."},
        {"format", FieldType::kString, "hex or base64.", "hex"},
    };
    p.help_synopsis = "Generate a hash sum for input data.";
    p.operations[Operation::kUpdate] = handler;
    p.operations[Operation::kCreate] = handler;
    paths.push_back(std::move(p));
  }
  return paths;
}

}  // namespace

std::unique_ptr<logical::Backend> NewSystemBackend(Core* core) {
  std::vector<Path> paths = {MountsPath(core, false), MountPath(core, false), MountsPath(core, true),
                             MountPath(core, true),   KeyStatusPath(core),      RotatePath(core)};
  for (auto& p : RemountPaths(core)) paths.push_back(std::move(p));
  for (auto& p : InternalUiMountPaths(core)) paths.push_back(std::move(p));
  for (auto& p : RevokePrefixPaths(core)) paths.push_back(std::move(p));
  for (auto& p : CapabilitiesPaths(core)) paths.push_back(std::move(p));
  for (auto& p : policy::PolicyPaths(core->policies())) paths.push_back(std::move(p));
  for (auto& p : RandomPaths()) paths.push_back(std::move(p));
  for (auto& p : HashPaths()) paths.push_back(std::move(p));
  return std::make_unique<logical::FrameworkBackend>(
      std::move(paths), "The system backend: mounts, keyring, seal and tools.");
}

}  // namespace coffer::core
