#include "core/mount_table.h"

#include <nlohmann/json.hpp>

namespace coffer::core {

std::string MountEntry::StoragePrefix() const {
  if (type == "system") return "sys/";
  return (auth ? "auth/" : "logical/") + uuid + "/";
}

std::string MountEntry::ApiPath() const { return auth && path.rfind("auth/", 0) == 0 ? path.substr(5) : path; }

nlohmann::json MountEntry::ToApiJson() const {
  nlohmann::json opts = nullptr;
  if (!options.empty()) opts = options;
  return {
      {"type", type},
      {"description", description},
      {"accessor", accessor},
      {"uuid", uuid},
      {"config",
       {{"default_lease_ttl", config.default_lease_ttl},
        {"max_lease_ttl", config.max_lease_ttl},
        {"force_no_cache", config.force_no_cache}}},
      {"options", opts},
      {"local", local},
      {"seal_wrap", seal_wrap},
      {"external_entropy_access", false},
      {"plugin_version", ""},
      {"running_plugin_version", ""},
      {"running_sha256", ""},
  };
}

std::string SerializeMountTable(const std::vector<MountEntry>& mounts) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& m : mounts) {
    arr.push_back({{"path", m.path},
                   {"type", m.type},
                   {"description", m.description},
                   {"uuid", m.uuid},
                   {"accessor", m.accessor},
                   {"options", m.options},
                   {"default_lease_ttl", m.config.default_lease_ttl},
                   {"max_lease_ttl", m.config.max_lease_ttl},
                   {"force_no_cache", m.config.force_no_cache},
                   {"local", m.local},
                   {"seal_wrap", m.seal_wrap}});
  }
  return nlohmann::json{{"entries", arr}}.dump();
}

StatusOr<std::vector<MountEntry>> ParseMountTable(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array()) {
    return DataLoss("mount table is corrupt");
  }
  std::vector<MountEntry> out;
  try {
    for (const auto& e : j["entries"]) {
      MountEntry m;
      m.path = e.at("path").get<std::string>();
      m.type = e.at("type").get<std::string>();
      m.description = e.value("description", "");
      m.uuid = e.at("uuid").get<std::string>();
      m.accessor = e.value("accessor", "");
      m.options = e.value("options", std::map<std::string, std::string>{});
      m.config.default_lease_ttl = e.value("default_lease_ttl", int64_t{0});
      m.config.max_lease_ttl = e.value("max_lease_ttl", int64_t{0});
      m.config.force_no_cache = e.value("force_no_cache", false);
      m.local = e.value("local", false);
      m.seal_wrap = e.value("seal_wrap", false);
      out.push_back(std::move(m));
    }
  } catch (const nlohmann::json::exception&) {
    return DataLoss("mount table entry has an unexpected shape");
  }
  return out;
}

StatusOr<std::string> NormalizeMountPath(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return InvalidArgument("path cannot be empty");
  for (unsigned char c : path) {
    if (c < 0x21 || c > 0x7e) return InvalidArgument("path contains an invalid character");
  }
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view seg(p.data() + start, end - start);
    if (seg.empty()) return InvalidArgument("path \"" + p + "/\" contains an empty segment");
    if (seg == ".." || seg == ".") return InvalidArgument("path \"" + p + "/\" contains a relative segment");
    start = end + 1;
  }
  return p + "/";
}

}  // namespace coffer::core
