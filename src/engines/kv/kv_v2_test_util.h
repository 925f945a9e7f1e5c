// Test support for the KV v2 engine: a settable clock, a fixture that drives a v2 backend over
// an InmemStorage, and storage snapshots for "nothing changed" assertions.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engines/kv/backend.h"
#include "logical/inmem_storage.h"
#include "logical/request.h"

namespace coffer::kv {

// 2024-01-02T03:04:05.123456789Z
inline constexpr int64_t kStartNanos = 1704164645123456789;
inline constexpr char kStartTime[] = "2024-01-02T03:04:05.123456789Z";

// A clock that only moves when told to. Thread-safe.
class FakeClock {
 public:
  explicit FakeClock(int64_t start_nanos) : now_(start_nanos) {}
  KvClock AsKvClock() {
    return [this] {
      return std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(now_.load())));
    };
  }
  void Advance(std::chrono::nanoseconds d) { now_ += d.count(); }

 private:
  std::atomic<int64_t> now_;
};

// Every key and value of an InmemStorage.
inline std::map<std::string, std::string> Snapshot(logical::InmemStorage& storage) {
  std::map<std::string, std::string> out;
  for (const std::string& key : storage.Keys()) {
    auto value = storage.Get(key);
    if (value.ok() && value->has_value()) out[key] = **value;
  }
  return out;
}

class KvV2Test : public ::testing::Test {
 protected:
  KvV2Test() { NewBackend(); }

  void NewBackend() {
    logical::BackendConfig config;
    config.storage = &storage_;
    config.options = {{"version", "2"}};
    config.mount_path = "secret/";
    auto backend = NewKvV2Backend(config, clock_.AsKvClock());
    if (!backend.ok()) {
      ADD_FAILURE() << backend.status().message();
      return;
    }
    backend_ = std::move(*backend);
  }

  logical::Request MakeRequest(logical::Operation op, const std::string& rel, nlohmann::json data) {
    logical::Request req;
    req.id = "req-" + std::to_string(++request_count_);
    req.operation = op;
    req.mount_point = "secret/";
    req.mount_type = "kv";
    req.path = "secret/" + rel;
    req.data = std::move(data);
    req.storage = &storage_;
    return req;
  }

  // A response whose "data" was spliced as text (raw_data) comes back parsed into `data`,
  // after checking the text is exactly what rendering the parsed document gives.
  StatusOr<logical::Response> Do(logical::Operation op, const std::string& rel,
                                 nlohmann::json data = nlohmann::json::object()) {
    logical::Request req = MakeRequest(op, rel, std::move(data));
    auto r = backend_->HandleRequest(req);
    if (r.ok() && !r->raw_data.empty()) {
      EXPECT_TRUE(r->data.is_null()) << "data and raw_data both set";
      r->data = nlohmann::json::parse(r->raw_data, nullptr, /*allow_exceptions=*/false);
      EXPECT_TRUE(r->data.is_object()) << rel << ": raw_data is not a JSON object";
      EXPECT_EQ(r->data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), r->raw_data) << rel;
      r->raw_data.clear();
    }
    return r;
  }

  // Do, recording a test failure (and returning an empty response) when the request fails.
  logical::Response Must(logical::Operation op, const std::string& rel,
                         nlohmann::json data = nlohmann::json::object()) {
    auto r = Do(op, rel, std::move(data));
    if (!r.ok()) {
      ADD_FAILURE() << logical::OperationName(op) << " " << rel << ": " << r.status().message();
      return logical::Response();
    }
    return std::move(*r);
  }

  // Writes data/<path> with {"data": data} and returns the new version's metadata.
  nlohmann::json Put(const std::string& path, nlohmann::json data) {
    return Must(logical::Operation::kUpdate, "data/" + path, {{"data", std::move(data)}}).data;
  }

  logical::InmemStorage storage_;
  FakeClock clock_{kStartNanos};
  std::unique_ptr<logical::Backend> backend_;
  int request_count_ = 0;
};

}  // namespace coffer::kv
