// Fuzzes the whole Vault API surface below the socket: verb mapping, JSON body parsing, field
// validation, the system backend and KV, against a dev-mode core in memory.
// Input: byte 0 picks the method, then the path up to '\n', then the body.
// Property checked besides memory safety: no request answers 5xx (a client mistake is a 4xx).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/core.h"
#include "engines/kv/backend.h"
#include "http/handler.h"
#include "physical/inmem.h"
#include "server/api_handler.h"

namespace {

struct Fixture {
  std::unique_ptr<coffer::core::Core> core;
  std::unique_ptr<coffer::server::ApiHandler> handler;
  Fixture() {
    coffer::core::CoreOptions opts;
    opts.storage = coffer::physical::NewInmemBackend();
    core = std::move(*coffer::core::Core::Create(std::move(opts)));
    core->RegisterEngine("kv", coffer::kv::NewKvBackend);
    if (!core->InitializeDev("root").ok()) abort();
    coffer::core::MountEntry kv;
    kv.path = "secret/";
    kv.type = "kv";
    if (!core->EnableMount(kv).ok()) abort();
    handler = std::make_unique<coffer::server::ApiHandler>(core.get());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  if (size < 1) return 0;
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "LIST", "HEAD", "OPTIONS"};
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  coffer::http::ApiRequest req;
  req.method = kMethods[data[0] % 8];
  size_t nl = input.find('\n');
  std::string path = input.substr(0, nl);
  req.body = nl == std::string::npos ? "" : input.substr(nl + 1);
  // Sealing or re-initializing would make every later input uninteresting.
  if (path.find("seal") != std::string::npos || path.find("init") != std::string::npos) return 0;
  req.path = "/v1/" + path;
  req.headers = {{"x-vault-token", "root"}};
  if (data[0] & 0x10) req.headers.push_back({"content-type", "application/merge-patch+json"});
  if (data[0] & 0x20) req.query = {{"list", "true"}};
  coffer::http::ApiResponse resp = fixture->handler->Handle(req);
  if (resp.status >= 500) {
    fprintf(stderr, "5xx answer %d for a client request: %s\n", resp.status, resp.body.c_str());
    abort();
  }
  return 0;
}
