// FaultInjectingBackend: a physical::Backend wrapper for tests that makes chosen operations fail
// (with kUnavailable "injected fault"), slows operations down, and counts what it saw.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "physical/backend.h"

namespace coffer::physical {

class FaultInjectingBackend : public Backend {
 public:
  // Operations observed, including those that failed by injection.
  struct Counters {
    uint64_t gets = 0;
    uint64_t puts = 0;
    uint64_t deletes = 0;
    uint64_t lists = 0;
    uint64_t transactions = 0;
    uint64_t injected_faults = 0;
  };

  // Borrows `inner`, which must outlive this object.
  explicit FaultInjectingBackend(Backend* inner);
  // Owns `inner`.
  explicit FaultInjectingBackend(std::unique_ptr<Backend> inner);

  // Writes are Put, Delete and Transaction, counted from the moment of this call: the n-th one
  // (n >= 1; 1 is the next write) fails; with `and_after` every later write fails too.
  void FailWrite(uint64_t n, bool and_after = false);
  // Every write that touches a key starting with `prefix` fails ("" matches every write).
  void FailWritesWithPrefix(std::string prefix);
  // When true, an injected write failure is reported only after the write reached the inner
  // backend (a lost acknowledgement: the caller sees an error although the data landed).
  // When false (the default) a failed write leaves the inner backend untouched.
  void SetFailAfterApply(bool after_apply);
  // Get on a key, or List on a prefix, starting with `prefix` fails ("" fails every read).
  void FailReads(std::string prefix = "");
  // Every operation sleeps this long before running (zero, the default, for none).
  void SetDelay(std::chrono::microseconds delay);
  // Removes every injected fault and the delay; counters are kept.
  void ClearFaults();

  Counters counters() const;
  Backend& inner() { return *inner_; }

  StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transaction(const std::vector<TxnOp>& ops) override;

 private:
  enum class WriteFault { kNone, kBeforeApply, kAfterApply };

  // Counts the write now observed (touching `keys`) and decides whether and when it fails.
  WriteFault DecideWrite(const std::vector<std::string_view>& keys);
  bool ShouldFailRead(std::string_view key);
  void Delay();
  Status RunWrite(const std::vector<std::string_view>& keys, const std::function<Status()>& apply);

  std::unique_ptr<Backend> owned_;
  Backend* inner_;

  mutable std::mutex mu_;
  uint64_t writes_seen_ = 0;           // guarded by mu_; writes since the last FailWrite call
  uint64_t fail_write_n_ = 0;          // guarded by mu_; 0 when no n-th write fault is armed
  bool fail_write_and_after_ = false;  // guarded by mu_
  std::optional<std::string> fail_write_prefix_;  // guarded by mu_
  std::optional<std::string> fail_read_prefix_;   // guarded by mu_
  bool fail_after_apply_ = false;                 // guarded by mu_
  std::chrono::microseconds delay_{0};            // guarded by mu_

  std::atomic<uint64_t> gets_{0}, puts_{0}, deletes_{0}, lists_{0}, transactions_{0};
  std::atomic<uint64_t> injected_faults_{0};
};

}  // namespace coffer::physical
