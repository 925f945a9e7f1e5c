// AWS Signature Version 4, header signing (the Authorization header form), for the AWS Secrets
// Manager key-sync provider. A Signer holds the credentials, region and service; Sign() adds
// X-Amz-Date, X-Amz-Security-Token (when a session token is set; it is signed) and Authorization
// to a request. The steps are public so tests can check each against AWS's published suite.
// Not done (not needed for the JSON protocols): path normalisation of "." / ".." segments,
// S3's single-encoding and UNSIGNED-PAYLOAD rules, presigned (query) signing, SigV4a.
// Thread-safe: Sign() is const and the clock is only called.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/secret_bytes.h"

namespace coffer::keysync::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

struct Credentials {
  std::string access_key_id;
  SecretString secret_access_key;
  SecretString session_token;  // empty: none
};

struct Request {
  std::string method;  // GET, POST, ...
  std::string path;    // decoded (raw UTF-8) path, "/" when empty; encoded for the canonical request
  std::string query;   // as on the wire, without '?': "b=2&a=1" (percent-encoded components)
  // Header names and values as sent; must include Host. Sign() appends its headers here.
  std::vector<std::pair<std::string, std::string>> headers;
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything else is
// %XX (upper-case hex); '/' stays only when keep_slash.
std::string UriEncode(std::string_view s, bool keep_slash);

// "20150830T123600Z" for a time point (UTC).
std::string AmzDate(std::chrono::system_clock::time_point t);

// The canonical headers block ("name:value\n" per header, lower-cased names, sorted, values
// trimmed with inner runs of whitespace (and folded lines) collapsed to one space, repeated
// names joined with ',' in order) and the signed-header list ("host;x-amz-date").
std::pair<std::string, std::string> CanonicalHeaders(const std::vector<std::pair<std::string, std::string>>& headers);

// METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash.
std::string CanonicalRequest(const Request& request, std::string_view payload_sha256_hex);

// "<date>/<region>/<service>/aws4_request" for an X-Amz-Date value.
std::string CredentialScope(std::string_view amz_date, std::string_view region, std::string_view service);

// AWS4-HMAC-SHA256 \n amz_date \n scope \n hex(SHA-256(canonical request)).
std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
SecretBytes SigningKey(std::string_view secret_access_key, std::string_view date, std::string_view region,
                       std::string_view service);

class Signer {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // An empty clock means the system clock.
  Signer(Credentials credentials, std::string region, std::string service, Clock clock = {});

  // Replaces any X-Amz-Date / X-Amz-Security-Token / Authorization header of `request` (names
  // compared case-insensitively), then appends X-Amz-Date, X-Amz-Security-Token when a session
  // token is set, and Authorization for `body`. The Authorization value carries the signature:
  // wipe the headers after use.
  void Sign(Request& request, std::string_view body) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

 private:
  Credentials credentials_;
  std::string region_;
  std::string service_;
  Clock clock_;
};

}  // namespace coffer::keysync::sigv4
