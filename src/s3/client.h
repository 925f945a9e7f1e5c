// An S3 client over libcurl, signing with curl's built-in AWS SigV4 (CURLOPT_AWS_SIGV4).
//
// ObjectStore is the small interface the encrypted store needs (one bucket); S3Client implements
// it against AWS S3 or any S3-compatible endpoint (path-style addressing when an endpoint is
// given), MemoryObjectStore implements it in memory for tests.
//
// Errors are one readable line without secrets: kPermissionDenied (AccessDenied, bad signature),
// kNotFound (NoSuchKey; NoSuchBucket names the bucket), kInvalidArgument (wrong region, naming
// the region the bucket expects), kUnavailable (unreachable endpoint, 5xx after retries).
// S3Client is thread-safe: each request borrows a pooled curl handle, so sequential requests
// reuse one keep-alive connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "s3/credentials.h"

namespace coffer::s3 {

struct ObjectInfo {
  std::string key;
  std::string etag;           // as S3 returns it, quotes removed
  std::string last_modified;  // as S3 returns it
  uint64_t size = 0;
};

struct Object {
  std::string body;
  std::string etag;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // kNotFound when the key does not exist.
  virtual StatusOr<Object> Get(const std::string& key) = 0;
  virtual Status Put(const std::string& key, std::string_view body, std::string_view content_type) = 0;
  // nullopt when the key does not exist.
  virtual StatusOr<std::optional<ObjectInfo>> Head(const std::string& key) = 0;
  virtual Status Delete(const std::string& key) = 0;
  // Every key under prefix (all pages), in key order.
  virtual StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // Is the bucket there and reachable with these credentials? kNotFound when it does not exist.
  virtual Status CheckBucket() = 0;
  virtual Status CreateBucket() = 0;
  virtual std::string Describe() const = 0;  // "s3://bucket" for messages
};

struct ClientOptions {
  std::string bucket;
  std::string region = "us-east-1";
  std::string endpoint;  // "" = AWS (virtual-hosted style); else path-style under this URL
  int max_retries = 4;
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{2000};
  long connect_timeout_ms = 5000;
  long timeout_ms = 60000;
  int list_page_size = 0;  // ListObjectsV2 max-keys; 0 = the server's default (1000 on AWS)
};

// One HTTP request as it will be handed to curl (before signing). Exposed for tests.
struct HttpRequest {
  std::string method;
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

// S3's URI encoding (RFC 3986 unreserved kept, everything else %XX upper-case); '/' is kept when
// encoding a key path.
std::string UriEncode(std::string_view s, bool keep_slash);
// Builds the URL and headers for an operation. key may be empty (bucket operations); query is
// sorted (S3 signs the canonical query in key order; curl re-sorts it anyway).
HttpRequest BuildRequest(const ClientOptions& opts, std::string_view method, std::string_view key,
                         const std::map<std::string, std::string>& query, std::string body,
                         std::string_view content_type);
// curl's CURLOPT_AWS_SIGV4 parameter: "aws:amz:<region>:s3".
std::string SigV4Param(const ClientOptions& opts);

struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_token;
};
StatusOr<ListPage> ParseListObjectsV2(std::string_view xml);

// An S3 error document's fields.
struct S3Error {
  std::string code, message, region, endpoint;
};
S3Error ParseS3Error(std::string_view xml);
// The one-line Status for an HTTP error answer (or HEAD without body, err empty).
Status TranslateError(const ClientOptions& opts, int http_status, const S3Error& err, std::string_view key,
                      const std::string& region_header);
// True for answers worth retrying: 5xx, 429, and throttling codes (SlowDown, Throttling, ...).
bool IsRetryable(int http_status, const S3Error& err);

class S3Client final : public ObjectStore {
 public:
  static StatusOr<std::unique_ptr<S3Client>> Create(ClientOptions opts, Credentials creds);
  ~S3Client() override;

  StatusOr<Object> Get(const std::string& key) override;
  Status Put(const std::string& key, std::string_view body, std::string_view content_type) override;
  StatusOr<std::optional<ObjectInfo>> Head(const std::string& key) override;
  Status Delete(const std::string& key) override;
  StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status CheckBucket() override;
  Status CreateBucket() override;
  std::string Describe() const override { return "s3://" + opts_.bucket; }

  struct Response;

 private:
  struct Pool;
  S3Client(ClientOptions opts, Credentials creds);
  StatusOr<Response> Send(const HttpRequest& req, bool head);
  ClientOptions opts_;
  Credentials creds_;
  std::unique_ptr<Pool> pool_;
};

// In-memory ObjectStore for tests. Thread-safe.
class MemoryObjectStore final : public ObjectStore {
 public:
  explicit MemoryObjectStore(bool bucket_exists = true) : exists_(bucket_exists) {}
  StatusOr<Object> Get(const std::string& key) override;
  Status Put(const std::string& key, std::string_view body, std::string_view content_type) override;
  StatusOr<std::optional<ObjectInfo>> Head(const std::string& key) override;
  Status Delete(const std::string& key) override;
  StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status CheckBucket() override { return exists_ ? OkStatus() : NotFound("bucket does not exist"); }
  Status CreateBucket() override {
    exists_ = true;
    return OkStatus();
  }
  std::string Describe() const override { return "memory://"; }
  // Direct access for tamper tests.
  std::map<std::string, std::string>& objects() { return objects_; }
  int puts() const { return puts_; }

 private:
  std::mutex mu_;
  bool exists_;
  std::map<std::string, std::string> objects_;
  int puts_ = 0;
};

}  // namespace coffer::s3
