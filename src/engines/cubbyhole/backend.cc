#include "engines/cubbyhole/backend.h"

#include "engines/kv/backend.h"
#include "logical/storage.h"

namespace coffer::cubbyhole {
namespace {

class CubbyholeBackend final : public logical::Backend {
 public:
  explicit CubbyholeBackend(std::unique_ptr<logical::Backend> kv) : kv_(std::move(kv)) {}

  StatusOr<logical::Response> HandleRequest(logical::Request& req) override {
    if (req.operation == logical::Operation::kPatch) return UnsupportedOperation();
    return WithTokenView(req, [&] { return kv_->HandleRequest(req); });
  }

  StatusOr<std::optional<bool>> ExistenceCheck(logical::Request& req) override {
    return WithTokenView(req, [&] { return kv_->ExistenceCheck(req); });
  }

 private:
  // Narrows the request's storage to the caller's own space for the duration of `fn`.
  template <typename Fn>
  auto WithTokenView(logical::Request& req, Fn fn) -> decltype(fn()) {
    if (req.client_token_accessor.empty()) return InvalidArgument("client token empty");
    if (req.storage == nullptr) return InternalError("cubbyhole: request has no storage view");
    logical::StorageView view(req.storage, PrefixForToken(req.client_token_accessor));
    logical::Storage* mount_view = req.storage;
    req.storage = &view;
    auto result = fn();
    req.storage = mount_view;
    return result;
  }

  std::unique_ptr<logical::Backend> kv_;
};

}  // namespace

std::string PrefixForToken(const std::string& token_accessor) { return token_accessor + "/"; }

StatusOr<std::unique_ptr<logical::Backend>> NewCubbyholeBackend(const logical::BackendConfig& config) {
  logical::BackendConfig kv_config = config;
  kv_config.default_lease_ttl_seconds = 0;  // cubbyhole reads carry no lease hint
  ASSIGN_OR_RETURN(auto kv, kv::NewKvV1Backend(kv_config));
  return std::unique_ptr<logical::Backend>(new CubbyholeBackend(std::move(kv)));
}

}  // namespace coffer::cubbyhole
