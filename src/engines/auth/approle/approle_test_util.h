// A fixture for the AppRole unit tests: the backend over an InmemStorage with a fake clock,
// driven through HandleRequest exactly as the core does (existence check turns an update of a
// missing object into a create).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "engines/auth/approle/backend.h"
#include "logical/inmem_storage.h"

namespace coffer::approle {

using logical::Operation;
using nlohmann::json;

class AppRoleTest : public ::testing::Test {
 protected:
  static constexpr int64_t kMountMaxTtl = 768 * 3600;

  void SetUp() override {
    logical::BackendConfig config;
    config.storage = &storage_;
    config.mount_path = "auth/approle/";
    config.mount_accessor = "auth_approle_0000";
    config.max_lease_ttl_seconds = kMountMaxTtl;
    auto backend = NewAppRoleBackendWithClock(config, [this] { return now_; });
    ASSERT_TRUE(backend.ok()) << backend.status().message();
    backend_ = std::move(*backend);
  }

  StatusOr<logical::Response> Call(Operation op, const std::string& path, json data = json::object(),
                                   const std::string& remote = "127.0.0.1:40000") {
    logical::Request req;
    req.operation = op;
    req.path = "auth/approle/" + path;
    req.mount_point = "auth/approle/";
    req.mount_type = "approle";
    req.storage = &storage_;
    req.data = std::move(data);
    req.remote_address = remote;
    if (op == Operation::kUpdate) {
      auto exists = backend_->ExistenceCheck(req);
      if (exists.ok() && exists->has_value() && !**exists) req.operation = Operation::kCreate;
    }
    return backend_->HandleRequest(req);
  }
  StatusOr<logical::Response> Write(const std::string& path, json data = json::object()) {
    return Call(Operation::kUpdate, path, std::move(data));
  }
  StatusOr<logical::Response> Read(const std::string& path) { return Call(Operation::kRead, path); }

  // Creates a role (asserting success) and returns its role_id.
  std::string MakeRole(const std::string& name, json data = json::object()) {
    auto w = Write("role/" + name, std::move(data));
    EXPECT_TRUE(w.ok()) << w.status().message();
    auto r = Read("role/" + name + "/role-id");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->DataJson()["role_id"].get<std::string>() : "";
  }
  // Generates a secret ID (asserting success): {secret_id, secret_id_accessor, ...}.
  json MakeSecretId(const std::string& role, json data = json::object()) {
    auto w = Write("role/" + role + "/secret-id", std::move(data));
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? w->DataJson() : json();
  }
  StatusOr<logical::Response> Login(const std::string& role_id, const std::string& secret_id,
                                    const std::string& remote = "127.0.0.1:40000") {
    json body = {{"role_id", role_id}};
    if (!secret_id.empty()) body["secret_id"] = secret_id;
    return Call(Operation::kUpdate, "login", std::move(body), remote);
  }
  void Advance(int64_t seconds) { now_ += std::chrono::seconds(seconds); }

  logical::InmemStorage storage_;
  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
  std::unique_ptr<logical::Backend> backend_;
};

inline std::string ErrorOf(const StatusOr<logical::Response>& r) { return r.ok() ? "<ok>" : r.status().message(); }

}  // namespace coffer::approle
