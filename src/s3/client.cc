// S3Client over libcurl. curl types stay in this file.
#include "s3/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>
#include <thread>

#include "base/encoding.h"
#include "crypto/hash.h"
#include "s3/xml.h"

namespace coffer::s3 {

// ---------------------------------------------------------------------------------------------
// Request building

std::string UriEncode(std::string_view s, bool keep_slash) { return PercentEncode(s, keep_slash ? "/" : ""); }

namespace {

std::string StripSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Bucket names with dots break virtual-hosted TLS certificates; AWS recommends path style then.
bool VirtualHostable(const std::string& bucket) {
  if (bucket.empty() || bucket.find('.') != std::string::npos) return false;
  for (unsigned char c : bucket) {
    if (!(std::islower(c) || std::isdigit(c) || c == '-')) return false;
  }
  return true;
}

}  // namespace

std::string SigV4Param(const ClientOptions& opts) {
  return "aws:amz:" + (opts.region.empty() ? std::string("us-east-1") : opts.region) + ":s3";
}

HttpRequest BuildRequest(const ClientOptions& opts, std::string_view method, std::string_view key,
                         const std::map<std::string, std::string>& query, std::string body,
                         std::string_view content_type) {
  HttpRequest r;
  r.method = std::string(method);
  std::string path = "/" + UriEncode(key, true);
  if (!opts.endpoint.empty()) {
    r.url = StripSlash(opts.endpoint) + "/" + UriEncode(opts.bucket, false) + (key.empty() ? "" : path);
  } else {
    std::string region = opts.region.empty() ? "us-east-1" : opts.region;
    if (VirtualHostable(opts.bucket)) {
      r.url = "https://" + opts.bucket + ".s3." + region + ".amazonaws.com" + path;
    } else {
      r.url = "https://s3." + region + ".amazonaws.com/" + UriEncode(opts.bucket, false) + (key.empty() ? "" : path);
    }
  }
  if (!query.empty()) {
    std::string q;
    for (const auto& [k, v] : query) {
      if (!q.empty()) q.push_back('&');
      q += UriEncode(k, false);
      q.push_back('=');
      q += UriEncode(v, false);
    }
    r.url += "?" + q;
  }
  // curl 7.88's SigV4 does not add the x-amz-content-sha256 header S3 requires. Only headers
  // that are really sent may be listed here: curl signs every one (a "Name:" removal line would
  // be signed as an empty header that the server never receives). A PUT always carries an
  // explicit Content-Type so curl's form-urlencoded default is never used.
  r.headers.push_back("x-amz-content-sha256: " + HexEncode(crypto::Sha256(body)));
  if (!content_type.empty()) {
    r.headers.push_back("Content-Type: " + std::string(content_type));
  } else if (method == "PUT" || method == "POST") {
    r.headers.push_back("Content-Type: application/octet-stream");
  }
  r.body = std::move(body);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Responses

StatusOr<ListPage> ParseListObjectsV2(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  if (root.name != "ListBucketResult") return DataLoss("unexpected S3 list response <" + root.name + ">");
  ListPage page;
  for (const auto& c : root.children) {
    if (c.name != "Contents") continue;
    ObjectInfo o;
    o.key = c.ChildText("Key");
    if (o.key.empty()) return DataLoss("S3 list response has an entry without a Key");
    o.etag = c.ChildText("ETag");
    o.etag.erase(std::remove(o.etag.begin(), o.etag.end(), '"'), o.etag.end());
    o.last_modified = c.ChildText("LastModified");
    std::string size = c.ChildText("Size");
    uint64_t n = 0;
    for (char ch : size) {
      if (ch < '0' || ch > '9' || n > (UINT64_MAX - 9) / 10) {
        n = 0;
        break;
      }
      n = n * 10 + static_cast<uint64_t>(ch - '0');
    }
    o.size = n;
    page.objects.push_back(std::move(o));
  }
  page.truncated = root.ChildText("IsTruncated") == "true";
  page.next_token = root.ChildText("NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    return DataLoss("S3 list response is truncated but has no NextContinuationToken");
  }
  return page;
}

S3Error ParseS3Error(std::string_view xml) {
  S3Error e;
  auto root = ParseXml(xml);
  if (!root.ok() || root->name != "Error") return e;
  e.code = root->ChildText("Code");
  e.message = root->ChildText("Message");
  e.region = root->ChildText("Region");
  e.endpoint = root->ChildText("Endpoint");
  return e;
}

bool IsRetryable(int http_status, const S3Error& err) {
  if (err.code == "SlowDown" || err.code == "Throttling" || err.code == "ThrottlingException" ||
      err.code == "RequestThrottled" || err.code == "RequestLimitExceeded" || err.code == "InternalError" ||
      err.code == "ServiceUnavailable" || err.code == "RequestTimeout") {
    return true;
  }
  return http_status == 429 || (http_status >= 500 && http_status != 501);
}

Status TranslateError(const ClientOptions& opts, int http_status, const S3Error& err, std::string_view key,
                      const std::string& region_header) {
  std::string where = "s3://" + opts.bucket + (key.empty() ? "" : "/" + std::string(key));
  std::string code = err.code;
  if (code.empty()) {
    if (http_status == 403) code = "AccessDenied";
    if (http_status == 404) code = key.empty() ? "NoSuchBucket" : "NoSuchKey";
    if (http_status == 301) code = "PermanentRedirect";
  }
  std::string expected = !err.region.empty() ? err.region : region_header;
  // HEAD answers have no body: the x-amz-bucket-region header alone tells a region mismatch.
  if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException" ||
      (http_status == 301 && !expected.empty()) ||
      (http_status >= 300 && http_status < 500 && !region_header.empty() && region_header != opts.region)) {
    if (!expected.empty() && expected != opts.region) {
      return InvalidArgument("wrong region: bucket \"" + opts.bucket + "\" is in region \"" + expected + "\", not \"" +
                             opts.region + "\" (set `region: " + expected + "` or --region " + expected + ")");
    }
    return InvalidArgument("wrong region or endpoint for bucket \"" + opts.bucket + "\" (S3 answered " + code +
                           (err.endpoint.empty() ? "" : ", use endpoint " + err.endpoint) + ")");
  }
  if (code == "NoSuchBucket") return NotFound("bucket \"" + opts.bucket + "\" does not exist (NoSuchBucket)");
  if (code == "NoSuchKey") return NotFound(where + " does not exist");
  if (code == "AccessDenied" || code == "AllAccessDisabled") {
    return PermissionDenied("access denied to " + where + " (AccessDenied: check the credentials' IAM permissions)");
  }
  if (code == "InvalidAccessKeyId") return PermissionDenied("the AWS access key id is not valid (InvalidAccessKeyId)");
  if (code == "SignatureDoesNotMatch") {
    return PermissionDenied("the request signature does not match (SignatureDoesNotMatch: check the secret key)");
  }
  if (code == "ExpiredToken" || code == "TokenRefreshRequired") {
    return PermissionDenied("the AWS session token has expired (" + code + ")");
  }
  if (code == "BucketAlreadyOwnedByYou") return Status(StatusCode::kConflict, "bucket already exists (owned by you)");
  if (code == "BucketAlreadyExists") {
    return Status(StatusCode::kConflict, "bucket name \"" + opts.bucket + "\" is taken by another account");
  }
  std::string msg = "S3 error on " + where + ": HTTP " + std::to_string(http_status);
  if (!code.empty()) msg += " " + code;
  if (!err.message.empty()) msg += ": " + err.message;
  if (http_status >= 500 || http_status == 429) return Unavailable(msg);
  return Status(http_status == 404 ? StatusCode::kNotFound : StatusCode::kInvalidArgument, msg);
}

// ---------------------------------------------------------------------------------------------
// curl plumbing

struct S3Client::Response {
  int status = 0;
  std::string body;
  std::string etag;
  std::string bucket_region;
  std::string last_modified;
  uint64_t content_length = 0;
};

struct S3Client::Pool {
  std::mutex mu;
  std::vector<CURL*> idle;
  ~Pool() {
    for (CURL* c : idle) curl_easy_cleanup(c);
  }
  CURL* Take() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!idle.empty()) {
        CURL* c = idle.back();
        idle.pop_back();
        return c;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* c) {
    curl_easy_reset(c);  // keeps the connection cache
    std::lock_guard<std::mutex> l(mu);
    idle.push_back(c);
  }
};

namespace {

size_t WriteBody(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<std::string*>(ud);
  if (s->size() + size * n > 64 * 1024 * 1024) return 0;  // far beyond any secret object
  s->append(p, size * n);
  return size * n;
}

size_t WriteHeader(char* p, size_t size, size_t n, void* ud) {
  auto* r = static_cast<S3Client::Response*>(ud);
  std::string_view line(p, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = AsciiLower(std::string(line.substr(0, colon)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    if (name == "etag") {
      r->etag = std::string(v);
      r->etag.erase(std::remove(r->etag.begin(), r->etag.end(), '"'), r->etag.end());
    } else if (name == "x-amz-bucket-region") {
      r->bucket_region = std::string(v);
    } else if (name == "last-modified") {
      r->last_modified = std::string(v);
    } else if (name == "content-length") {
      r->content_length = std::strtoull(std::string(v).c_str(), nullptr, 10);
    }
  }
  return size * n;
}

bool RetryableCurl(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
         rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

std::chrono::milliseconds Backoff(const ClientOptions& o, int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(o.min_backoff.count()) * std::pow(2.0, std::min(attempt, 20));
  double jitter = std::uniform_real_distribution<double>(0.0, 0.5)(rng);
  double w = std::min(base * (1.0 + jitter), static_cast<double>(o.max_backoff.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(w));
}

std::string EndpointName(const ClientOptions& o) {
  return o.endpoint.empty() ? "s3." + o.region + ".amazonaws.com" : o.endpoint;
}

}  // namespace

S3Client::S3Client(ClientOptions opts, Credentials creds)
    : opts_(std::move(opts)), creds_(std::move(creds)), pool_(std::make_unique<Pool>()) {}
S3Client::~S3Client() = default;

StatusOr<std::unique_ptr<S3Client>> S3Client::Create(ClientOptions opts, Credentials creds) {
  static const bool curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ok) return InternalError("cannot initialise libcurl");
  if (opts.bucket.empty()) return InvalidArgument("bucket: must be set");
  if (opts.region.empty()) opts.region = "us-east-1";
  if (!opts.endpoint.empty() && opts.endpoint.rfind("http://", 0) != 0 && opts.endpoint.rfind("https://", 0) != 0) {
    return InvalidArgument("endpoint: must start with http:// or https:// (got \"" + opts.endpoint + "\")");
  }
  return std::unique_ptr<S3Client>(new S3Client(std::move(opts), std::move(creds)));
}

StatusOr<S3Client::Response> S3Client::Send(const HttpRequest& req, bool head) {
  for (int attempt = 0;; ++attempt) {
    CURL* c = pool_->Take();
    if (!c) return InternalError("cannot create a curl handle");
    Response resp;
    curl_slist* hdrs = nullptr;
    for (const auto& h : req.headers) hdrs = curl_slist_append(hdrs, h.c_str());
    std::string token_header;
    if (!creds_.session_token.empty()) {
      token_header = "x-amz-security-token: " + std::string(creds_.session_token.data(), creds_.session_token.size());
      hdrs = curl_slist_append(hdrs, token_header.c_str());
      SecureWipe(token_header.data(), token_header.size());
    }
    std::string sigv4 = SigV4Param(opts_);
    SecretString userpwd;
    userpwd.append(creds_.access_key_id);
    userpwd.push_back(':');
    userpwd.append(creds_.secret_access_key);
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opts_.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts_.timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (head) {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (req.method == "PUT" || req.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      }
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    pool_->Give(c);
    resp.status = static_cast<int>(status);
    bool more = attempt < opts_.max_retries;
    if (rc != CURLE_OK) {
      if (more && RetryableCurl(rc)) {
        std::this_thread::sleep_for(Backoff(opts_, attempt));
        continue;
      }
      std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      return Unavailable("cannot reach S3 endpoint " + EndpointName(opts_) + ": " + why);
    }
    if (resp.status >= 200 && resp.status < 300) return resp;
    S3Error err = ParseS3Error(resp.body);
    if (more && IsRetryable(resp.status, err)) {
      std::this_thread::sleep_for(Backoff(opts_, attempt));
      continue;
    }
    return resp;  // the caller translates the error (404 may be expected)
  }
}

StatusOr<Object> S3Client::Get(const std::string& key) {
  ASSIGN_OR_RETURN(Response r, Send(BuildRequest(opts_, "GET", key, {}, "", ""), false));
  if (r.status != 200) return TranslateError(opts_, r.status, ParseS3Error(r.body), key, r.bucket_region);
  return Object{std::move(r.body), std::move(r.etag)};
}

Status S3Client::Put(const std::string& key, std::string_view body, std::string_view content_type) {
  HttpRequest req = BuildRequest(opts_, "PUT", key, {}, std::string(body), content_type);
  req.headers.push_back("x-amz-server-side-encryption: AES256");
  ASSIGN_OR_RETURN(Response r, Send(req, false));
  if (r.status != 200) return TranslateError(opts_, r.status, ParseS3Error(r.body), key, r.bucket_region);
  return OkStatus();
}

StatusOr<std::optional<ObjectInfo>> S3Client::Head(const std::string& key) {
  ASSIGN_OR_RETURN(Response r, Send(BuildRequest(opts_, "HEAD", key, {}, "", ""), true));
  if (r.status == 404) return std::optional<ObjectInfo>();
  if (r.status != 200) return TranslateError(opts_, r.status, S3Error{}, key, r.bucket_region);
  ObjectInfo info{key, r.etag, r.last_modified, r.content_length};
  return std::optional<ObjectInfo>(std::move(info));
}

Status S3Client::Delete(const std::string& key) {
  ASSIGN_OR_RETURN(Response r, Send(BuildRequest(opts_, "DELETE", key, {}, "", ""), false));
  if (r.status != 204 && r.status != 200) {
    return TranslateError(opts_, r.status, ParseS3Error(r.body), key, r.bucket_region);
  }
  return OkStatus();
}

StatusOr<std::vector<ObjectInfo>> S3Client::List(const std::string& prefix) {
  std::vector<ObjectInfo> all;
  std::string token;
  for (int page = 0; page < 100000; ++page) {
    std::map<std::string, std::string> q{{"list-type", "2"}};
    if (!prefix.empty()) q["prefix"] = prefix;
    if (!token.empty()) q["continuation-token"] = token;
    if (opts_.list_page_size > 0) q["max-keys"] = std::to_string(opts_.list_page_size);
    ASSIGN_OR_RETURN(Response r, Send(BuildRequest(opts_, "GET", "", q, "", ""), false));
    if (r.status != 200) return TranslateError(opts_, r.status, ParseS3Error(r.body), "", r.bucket_region);
    ASSIGN_OR_RETURN(ListPage p, ParseListObjectsV2(r.body));
    for (auto& o : p.objects) all.push_back(std::move(o));
    if (!p.truncated) break;
    if (p.next_token == token) return DataLoss("S3 list pagination did not advance");
    token = p.next_token;
  }
  std::sort(all.begin(), all.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return all;
}

Status S3Client::CheckBucket() {
  ASSIGN_OR_RETURN(Response r, Send(BuildRequest(opts_, "HEAD", "", {}, "", ""), true));
  if (r.status == 200) return OkStatus();
  if (r.status == 404) return NotFound("bucket \"" + opts_.bucket + "\" does not exist (NoSuchBucket)");
  return TranslateError(opts_, r.status, S3Error{}, "", r.bucket_region);
}

Status S3Client::CreateBucket() {
  std::string body;
  if (opts_.region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           opts_.region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  ASSIGN_OR_RETURN(Response r, Send(BuildRequest(opts_, "PUT", "", {}, body, body.empty() ? "" : "application/xml"),
                                    false));
  if (r.status == 200) return OkStatus();
  Status s = TranslateError(opts_, r.status, ParseS3Error(r.body), "", r.bucket_region);
  if (s.message().find("owned by you") != std::string::npos) return OkStatus();
  return s;
}

// ---------------------------------------------------------------------------------------------
// MemoryObjectStore

StatusOr<Object> MemoryObjectStore::Get(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFound("memory://" + key + " does not exist");
  return Object{it->second, HexEncode(crypto::Sha256(it->second)).substr(0, 32)};
}

Status MemoryObjectStore::Put(const std::string& key, std::string_view body, std::string_view) {
  std::lock_guard<std::mutex> l(mu_);
  objects_[key] = std::string(body);
  ++puts_;
  return OkStatus();
}

StatusOr<std::optional<ObjectInfo>> MemoryObjectStore::Head(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::optional<ObjectInfo>();
  return std::optional<ObjectInfo>(ObjectInfo{key, "", "", it->second.size()});
}

Status MemoryObjectStore::Delete(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  objects_.erase(key);
  return OkStatus();
}

StatusOr<std::vector<ObjectInfo>> MemoryObjectStore::List(const std::string& prefix) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<ObjectInfo> out;
  for (const auto& [k, v] : objects_) {
    if (k.rfind(prefix, 0) == 0) out.push_back(ObjectInfo{k, "", "", v.size()});
  }
  return out;
}

}  // namespace coffer::s3
