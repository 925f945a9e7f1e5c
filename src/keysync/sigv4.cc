#include "keysync/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "base/encoding.h"
#include "crypto/hash.h"

namespace coffer::keysync::sigv4 {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Trims and collapses each run of whitespace (including folded lines) to one space.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX → byte; anything else (including '+' and a malformed '%') stays literal.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    params.emplace_back(UriEncode(PercentDecode(name), false), UriEncode(PercentDecode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

bool IsSignerHeader(std::string_view name) {
  std::string n = AsciiLower(name);
  return n == "x-amz-date" || n == "x-amz-security-token" || n == "authorization";
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) { return PercentEncode(s, keep_slash ? "/" : ""); }

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::pair<std::string, std::string> CanonicalHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> merged;  // sorted by lower-cased name
  for (const auto& [name, value] : headers) {
    std::string key = TrimAll(AsciiLower(name));
    auto [it, inserted] = merged.emplace(key, TrimAll(value));
    if (!inserted) it->second += "," + TrimAll(value);
  }
  std::string block, signed_list;
  for (const auto& [name, value] : merged) {
    block += name + ":" + value + "\n";
    if (!signed_list.empty()) signed_list += ';';
    signed_list += name;
  }
  return {block, signed_list};
}

std::string CanonicalRequest(const Request& request, std::string_view payload_sha256_hex) {
  auto [headers, signed_list] = CanonicalHeaders(request.headers);
  std::string path = request.path.empty() ? "/" : request.path;
  std::string out;
  out += request.method + "\n";
  out += UriEncode(path, true) + "\n";
  out += CanonicalQuery(request.query) + "\n";
  out += headers + "\n";
  out += signed_list + "\n";
  out += payload_sha256_hex;
  return out;
}

std::string CredentialScope(std::string_view amz_date, std::string_view region, std::string_view service) {
  return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  for (std::string_view part : {amz_date, scope}) {
    out += '\n';
    out.append(part.data(), part.size());
  }
  out += '\n';
  out += HexEncode(crypto::Sha256(canonical_request));
  return out;
}

SecretBytes SigningKey(std::string_view secret_access_key, std::string_view date, std::string_view region,
                       std::string_view service) {
  SecretString k_secret = "AWS4";
  k_secret.append(secret_access_key.data(), secret_access_key.size());
  std::string k_date = crypto::HmacSha256(std::string_view(k_secret.data(), k_secret.size()), date);
  std::string k_region = crypto::HmacSha256(k_date, region);
  std::string k_service = crypto::HmacSha256(k_region, service);
  std::string k_signing = crypto::HmacSha256(k_service, "aws4_request");
  SecretBytes out = ToSecretBytes(k_signing);
  for (std::string* s : {&k_date, &k_region, &k_service, &k_signing}) SecureWipe(s->data(), s->size());
  return out;
}

Signer::Signer(Credentials credentials, std::string region, std::string service, Clock clock)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

void Signer::Sign(Request& request, std::string_view body) const {
  auto& h = request.headers;
  h.erase(std::remove_if(h.begin(), h.end(), [](const auto& kv) { return IsSignerHeader(kv.first); }), h.end());
  const std::string amz_date = AmzDate(clock_());
  h.emplace_back("X-Amz-Date", amz_date);
  if (!credentials_.session_token.empty()) {
    h.emplace_back("X-Amz-Security-Token",
                   std::string(credentials_.session_token.data(), credentials_.session_token.size()));
  }
  const std::string scope = CredentialScope(amz_date, region_, service_);
  std::string canonical = CanonicalRequest(request, HexEncode(crypto::Sha256(body)));
  const std::string to_sign = StringToSign(amz_date, scope, canonical);
  SecureWipe(canonical.data(), canonical.size());  // holds the session token
  SecretBytes key =
      SigningKey(std::string_view(credentials_.secret_access_key.data(), credentials_.secret_access_key.size()),
                 amz_date.substr(0, 8), region_, service_);
  std::string mac = crypto::HmacSha256(AsStringView(key), to_sign);
  std::string signature = HexEncode(mac);
  SecureWipe(mac.data(), mac.size());
  const std::string signed_list = CanonicalHeaders(h).second;
  std::string authorization(kAlgorithm);
  for (std::string_view part : {std::string_view(" Credential="), std::string_view(credentials_.access_key_id),
                                std::string_view("/"), std::string_view(scope), std::string_view(", SignedHeaders="),
                                std::string_view(signed_list), std::string_view(", Signature="),
                                std::string_view(signature)}) {
    authorization.append(part.data(), part.size());
  }
  h.emplace_back("Authorization", std::move(authorization));
  SecureWipe(signature.data(), signature.size());
}

}  // namespace coffer::keysync::sigv4
