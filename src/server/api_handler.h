// ApiHandler: Vault's HTTP API on top of Core. Maps verbs to logical operations (GET, LIST,
// ?list=true, POST/PUT, PATCH with merge-patch, DELETE, ?help=1), takes the token from
// X-Vault-Token or Authorization: Bearer, parses JSON bodies, and renders Vault's response
// envelope and error shapes. Thread-safe; holds no state besides the borrowed Core.
#pragma once

#include "http/handler.h"

namespace coffer::core { class Core; }

namespace coffer::server {

class ApiHandler : public http::Handler {
 public:
  explicit ApiHandler(core::Core* core) : core_(core) {}
  http::ApiResponse Handle(const http::ApiRequest& req) override;
  // Writes wait for a durable commit; reads (GET, HEAD, LIST) are served on the io threads.
  bool MayBlock(const http::ApiRequest& req) const override;

 private:
  core::Core* core_;
};

}  // namespace coffer::server
