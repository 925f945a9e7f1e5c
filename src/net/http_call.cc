#include "net/http_call.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace coffer::net {
namespace {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  std::string* out;
  size_t limit;
  bool overflow = false;
};

size_t Write(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (sink->out->size() + len > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->out->append(data, len);
  return len;
}

// The URL without query or userinfo, for error messages.
std::string ShownUrl(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  size_t scheme = u.find("://");
  size_t at = u.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  size_t slash = u.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) u.erase(scheme + 3, at - scheme - 2);
  return u.substr(0, 256);
}

}  // namespace

StatusOr<HttpReply> Perform(const HttpCall& call) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (call.url.rfind("http://", 0) != 0 && call.url.rfind("https://", 0) != 0) {
    return InvalidArgument("URL must start with http:// or https://");
  }
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return InternalError("libcurl: cannot create a handle");
  HttpReply reply;
  Sink sink{&reply.body, call.max_response_bytes};
  std::unique_ptr<curl_slist, SlistFree> headers;
  for (const auto& h : call.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) return InternalError("libcurl: out of memory");
    (void)headers.release();
    headers.reset(next);
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, call.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, call.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // outbound auth calls never go through a proxy from the environment
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_blob ca{};
  if (!call.ca_pem.empty()) {
    ca.data = const_cast<char*>(call.ca_pem.data());
    ca.len = call.ca_pem.size();
    ca.flags = CURL_BLOB_COPY;
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (call.method == "POST" || call.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    if (call.method == "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  } else if (call.method == "DELETE") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else if (call.method != "GET") {
    return InvalidArgument("unsupported HTTP method");
  }
  CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) {
    return Unavailable(call.method + " " + ShownUrl(call.url) + ": response larger than " +
                       std::to_string(call.max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    if (rc == CURLE_SSL_CACERT_BADFILE) return InvalidArgument("the CA PEM could not be loaded");
    return Unavailable(call.method + " " + ShownUrl(call.url) + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace coffer::net
