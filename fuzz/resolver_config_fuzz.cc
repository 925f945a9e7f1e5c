// libFuzzer target: resolver::ParseProjectConfig (coffer.yaml / sindri.yaml) on arbitrary bytes.
// Errors must be InvalidArgument starting with the file name; a parsed config must satisfy what
// the resolver relies on: valid unique names, paths without '..', file secrets with path and
// mountPath, vault secrets with vaultPath and vaultKey, permissions within 0777.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "resolver/config.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

bool HasDotDot(const std::string& p) {
  return p == ".." || p.rfind("../", 0) == 0 || p.find("/../") != std::string::npos ||
         (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Every ${VAR} resolves except ${UNSET}, so both templating paths run.
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "UNSET") return std::nullopt;
    return std::string("v");
  };
  auto cfg = coffer::resolver::ParseProjectConfig(text, "coffer.yaml", "/proj", env);
  if (!cfg.ok()) {
    Require(cfg.status().code() == coffer::StatusCode::kInvalidArgument);
    Require(cfg.status().message().rfind("coffer.yaml", 0) == 0);
    return 0;
  }
  std::set<std::string> names;
  for (const auto& s : cfg->secrets) {
    Require(!s.name.empty() && names.insert(s.name).second);
    Require(s.permissions <= 0777);
    Require(!HasDotDot(s.path) && !HasDotDot(s.from_file) && !HasDotDot(s.mount_path) && !HasDotDot(s.vault_path));
    if (s.source == coffer::resolver::SourceKind::kFile) Require(!s.path.empty() && !s.mount_path.empty());
    if (s.source == coffer::resolver::SourceKind::kVault) Require(!s.vault_path.empty() && !s.vault_key.empty());
    if (s.fallback) Require(*s.fallback != s.source);
  }
  return 0;
}
