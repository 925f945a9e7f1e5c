#include "engines/auth/userpass/user_entry.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace coffer::userpass {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<std::string> Strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

int64_t Integer(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

std::string UserEntry::Encode() const {
  nlohmann::json j = token.ToStorage();
  if (password) j["password_hash"] = password->ToJson();
  j["policies"] = policies;
  j["bound_cidrs"] = bound_cidrs;
  j["ttl"] = ttl;
  j["max_ttl"] = max_ttl;
  return j.dump();
}

StatusOr<UserEntry> UserEntry::Decode(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLoss("userpass: stored user record is malformed");
  UserEntry out;
  out.token = logical::TokenFields::FromStorage(j);
  if (auto it = j.find("password_hash"); it != j.end()) {
    ASSIGN_OR_RETURN(out.password, PasswordHash::FromJson(*it));
  }
  out.policies = Strings(j, "policies");
  out.bound_cidrs = Strings(j, "bound_cidrs");
  out.ttl = Integer(j, "ttl");
  out.max_ttl = Integer(j, "max_ttl");
  return out;
}

bool ValidUsername(std::string_view name) {
  if (name.empty() || !IsWordChar(name.front()) || !IsWordChar(name.back())) return false;
  for (char c : name) {
    if (!IsWordChar(c) && c != '-' && c != '.') return false;
  }
  return true;
}

StatusOr<std::string> NormalizeUsername(std::string_view name) {
  if (!ValidUsername(name)) {
    return InvalidArgument(
        "field \"username\": expected letters, digits, '_', '-' or '.', starting and ending with a letter, digit or "
        "'_'");
  }
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

StatusOr<std::optional<UserEntry>> LoadUser(logical::Storage& storage, const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, storage.Get(kUserPrefix + name));
  if (!stored) return std::optional<UserEntry>();
  ASSIGN_OR_RETURN(UserEntry entry, UserEntry::Decode(*stored));
  return std::optional<UserEntry>(std::move(entry));
}

Status SaveUser(logical::Storage& storage, const std::string& name, const UserEntry& entry) {
  return storage.Put(kUserPrefix + name, entry.Encode());
}

}  // namespace coffer::userpass
