#include "physical/fault.h"

#include <thread>

namespace coffer::physical {
namespace {

Status InjectedFault() { return Unavailable("injected fault"); }

}  // namespace

FaultInjectingBackend::FaultInjectingBackend(Backend* inner) : inner_(inner) {}

FaultInjectingBackend::FaultInjectingBackend(std::unique_ptr<Backend> inner)
    : owned_(std::move(inner)), inner_(owned_.get()) {}

void FaultInjectingBackend::FailWrite(uint64_t n, bool and_after) {
  std::lock_guard lock(mu_);
  writes_seen_ = 0;
  fail_write_n_ = n;
  fail_write_and_after_ = and_after;
}

void FaultInjectingBackend::FailWritesWithPrefix(std::string prefix) {
  std::lock_guard lock(mu_);
  fail_write_prefix_ = std::move(prefix);
}

void FaultInjectingBackend::SetFailAfterApply(bool after_apply) {
  std::lock_guard lock(mu_);
  fail_after_apply_ = after_apply;
}

void FaultInjectingBackend::FailReads(std::string prefix) {
  std::lock_guard lock(mu_);
  fail_read_prefix_ = std::move(prefix);
}

void FaultInjectingBackend::SetDelay(std::chrono::microseconds delay) {
  std::lock_guard lock(mu_);
  delay_ = delay;
}

void FaultInjectingBackend::ClearFaults() {
  std::lock_guard lock(mu_);
  fail_write_n_ = 0;
  fail_write_and_after_ = false;
  fail_write_prefix_.reset();
  fail_read_prefix_.reset();
  fail_after_apply_ = false;
  delay_ = std::chrono::microseconds(0);
}

FaultInjectingBackend::Counters FaultInjectingBackend::counters() const {
  Counters c;
  c.gets = gets_.load();
  c.puts = puts_.load();
  c.deletes = deletes_.load();
  c.lists = lists_.load();
  c.transactions = transactions_.load();
  c.injected_faults = injected_faults_.load();
  return c;
}

FaultInjectingBackend::WriteFault FaultInjectingBackend::DecideWrite(
    const std::vector<std::string_view>& keys) {
  std::lock_guard lock(mu_);
  uint64_t number = ++writes_seen_;
  bool fail = false;
  if (fail_write_n_ != 0) {
    fail = fail_write_and_after_ ? number >= fail_write_n_ : number == fail_write_n_;
  }
  if (!fail && fail_write_prefix_) {
    for (std::string_view key : keys) {
      if (key.starts_with(*fail_write_prefix_)) {
        fail = true;
        break;
      }
    }
    // A transaction without operations touches no key but still counts as a write.
    if (keys.empty() && fail_write_prefix_->empty()) fail = true;
  }
  if (!fail) return WriteFault::kNone;
  return fail_after_apply_ ? WriteFault::kAfterApply : WriteFault::kBeforeApply;
}

bool FaultInjectingBackend::ShouldFailRead(std::string_view key) {
  std::lock_guard lock(mu_);
  return fail_read_prefix_ && key.starts_with(*fail_read_prefix_);
}

void FaultInjectingBackend::Delay() {
  std::chrono::microseconds delay;
  {
    std::lock_guard lock(mu_);
    delay = delay_;
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

Status FaultInjectingBackend::RunWrite(const std::vector<std::string_view>& keys,
                                       const std::function<Status()>& apply) {
  Delay();
  WriteFault fault = DecideWrite(keys);
  if (fault == WriteFault::kBeforeApply) {
    ++injected_faults_;
    return InjectedFault();
  }
  Status status = apply();
  if (fault == WriteFault::kAfterApply) {
    ++injected_faults_;
    return InjectedFault();
  }
  return status;
}

StatusOr<std::optional<std::string>> FaultInjectingBackend::Get(std::string_view key) {
  ++gets_;
  Delay();
  if (ShouldFailRead(key)) {
    ++injected_faults_;
    return InjectedFault();
  }
  return inner_->Get(key);
}

Status FaultInjectingBackend::Put(std::string_view key, std::string_view value) {
  ++puts_;
  return RunWrite({key}, [&] { return inner_->Put(key, value); });
}

Status FaultInjectingBackend::Delete(std::string_view key) {
  ++deletes_;
  return RunWrite({key}, [&] { return inner_->Delete(key); });
}

StatusOr<std::vector<std::string>> FaultInjectingBackend::List(std::string_view prefix) {
  ++lists_;
  Delay();
  if (ShouldFailRead(prefix)) {
    ++injected_faults_;
    return InjectedFault();
  }
  return inner_->List(prefix);
}

Status FaultInjectingBackend::Transaction(const std::vector<TxnOp>& ops) {
  ++transactions_;
  std::vector<std::string_view> keys;
  keys.reserve(ops.size());
  for (const TxnOp& op : ops) keys.push_back(op.key);
  return RunWrite(keys, [&] { return inner_->Transaction(ops); });
}

}  // namespace coffer::physical
