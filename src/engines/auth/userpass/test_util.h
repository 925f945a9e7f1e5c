// Test support: a userpass backend over an InmemStorage, driven through HandleRequest.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engines/auth/userpass/backend.h"
#include "logical/inmem_storage.h"
#include "logical/request.h"

namespace coffer::userpass {

// Cheap enough that a test can hash hundreds of passwords; the real cost is tested separately.
inline constexpr ScryptParams kTestParams{.log2_n = 6, .r = 8, .p = 1};

class UserpassTest : public ::testing::Test {
 protected:
  explicit UserpassTest(ScryptParams params = kTestParams) {
    logical::BackendConfig config;
    config.storage = &storage_;
    config.mount_path = "auth/userpass/";
    config.mount_accessor = "auth_userpass_12345678";
    auto backend = NewUserpassBackendWithParams(config, params);
    if (!backend.ok()) {
      ADD_FAILURE() << backend.status().message();
      return;
    }
    backend_ = std::move(*backend);
  }

  logical::Request MakeRequest(logical::Operation op, const std::string& rel, nlohmann::json data,
                               std::string remote = "127.0.0.1:43210") {
    logical::Request req;
    req.id = "req-" + std::to_string(++request_count_);
    req.operation = op;
    req.mount_point = "auth/userpass/";
    req.mount_type = "userpass";
    req.mount_accessor = "auth_userpass_12345678";
    req.path = "auth/userpass/" + rel;
    req.data = std::move(data);
    req.remote_address = std::move(remote);
    req.storage = &storage_;
    return req;
  }

  StatusOr<logical::Response> Do(logical::Operation op, const std::string& rel,
                                 nlohmann::json data = nlohmann::json::object(),
                                 std::string remote = "127.0.0.1:43210") {
    auto req = MakeRequest(op, rel, std::move(data), std::move(remote));
    return backend_->HandleRequest(req);
  }

  // Do, failing the test on an error (the response is then empty).
  logical::Response Must(logical::Operation op, const std::string& rel,
                         nlohmann::json data = nlohmann::json::object()) {
    auto r = Do(op, rel, data);
    EXPECT_TRUE(r.ok()) << logical::OperationName(op) << " " << rel << ": " << r.status().message();
    return r.ok() ? std::move(*r) : logical::Response();
  }

  void CreateUser(const std::string& name, const std::string& password, nlohmann::json extra = {}) {
    nlohmann::json body = extra.is_object() ? extra : nlohmann::json::object();
    body["password"] = password;
    Must(logical::Operation::kCreate, "users/" + name, body);
  }

  StatusOr<logical::Response> Login(const std::string& name, const std::string& password,
                                    std::string remote = "127.0.0.1:43210") {
    return Do(logical::Operation::kUpdate, "login/" + name, {{"password", password}}, std::move(remote));
  }

  // Every key and value in storage.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> out;
    for (const std::string& key : storage_.Keys()) {
      auto value = storage_.Get(key);
      if (value.ok() && value->has_value()) out[key] = **value;
    }
    return out;
  }

  nlohmann::json StoredUser(const std::string& name) {
    auto value = storage_.Get("user/" + name);
    if (!value.ok() || !value->has_value()) return nullptr;
    return nlohmann::json::parse(**value);
  }

  logical::InmemStorage storage_;
  std::unique_ptr<logical::Backend> backend_;
  std::atomic<int> request_count_{0};
};

}  // namespace coffer::userpass
