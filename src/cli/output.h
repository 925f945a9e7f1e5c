// Output formatting with Vault's CLI conventions: Key/Value tables (columns glued by four
// spaces, a `---` underline, empty cells shown as n/a), `== Section ==` headings, JSON indented
// like Go's json.MarshalIndent(v, "", "  ") and YAML like ghodss/yaml (keys sorted).
// Pure functions of their input; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::cli {

// A value as Go's fmt "%v" prints the JSON-decoded value: strings raw, null as <nil>,
// arrays as [a b], objects as map[k:v k2:v2] (keys sorted).
std::string GoValue(const nlohmann::json& v);

// Vault's humanDuration: seconds as a Go duration without zero tails ("1h", "1m30s", "0s").
std::string HumanDuration(int64_t seconds);
// Keys Vault shows as durations: ttl, *_ttl, period, *_period, duration, *_duration, lease_max, ttl_max.
bool LooksLikeDuration(std::string_view key);

// Columnizes rows: the first row is the header and gets a `---` underline row; columns are
// padded to the widest cell and glued with four spaces; an empty cell prints as n/a. No
// trailing newline. Empty input gives "".
std::string Table(const std::vector<std::vector<std::string>>& rows);

// "Key/Value" table of an object (keys sorted, duration-like keys humanized); "" when empty.
std::string KeyValueTable(const nlohmann::json& object);
// Vault's table for a whole API response (lease/refresh_interval rows, auth rows, then data).
std::string SecretTable(const nlohmann::json& response);
// "Keys\n----\n..." of a list response's keys (sorted).
std::string ListTable(const nlohmann::json& keys);
// Vault's section heading: the title centred in '=' to a total width.
std::string PadEqualSigns(std::string_view title, size_t total_len);
// Heading for a Key/Value table of `object`: width is the longest key + 9.
std::string HeaderForMap(std::string_view title, const nlohmann::json& object);

// JSON exactly as Go's json.MarshalIndent(v, "", "  ") prints it (keys sorted, <>& escaped).
std::string GoJson(const nlohmann::json& v);
// The response envelope in the field order of Vault's api.Secret (request_id, lease_id,
// lease_duration, renewable, data, warnings, auth, wrap_info, mount_type), indented as above.
std::string SecretJson(const nlohmann::json& response);
// YAML as Vault prints it (ghodss/yaml over go-yaml v2), without a trailing newline.
std::string Yaml(const nlohmann::json& v);

// Vault's "WARNING! The following warnings were returned from Vault:" block ("" if none).
std::string WarningsBlock(const nlohmann::json& response);

// The value of -field in a response: auth fields (token, token_accessor, token_duration,
// token_renewable, token_policies, ...), lease fields, then data[field]. Null when absent.
nlohmann::json SecretField(const nlohmann::json& response, std::string_view field);

}  // namespace coffer::cli
