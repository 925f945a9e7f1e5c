// Status and StatusOr<T>: every fallible call in Coffer returns one of these.
// No exception crosses a module boundary; adapters translate library errors into a Status
// with a readable message. Messages must never contain a secret value, token or key.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace coffer {

// Each code maps once to a Vault HTTP status (HttpStatusFor) and a CLI exit code (ExitCodeFor).
enum class StatusCode {
  kOk,
  kInvalidArgument,       // 400: the client sent something malformed or out of range
  kPermissionDenied,      // 403
  kNotFound,              // 404
  kUnsupportedOperation,  // 405: the path exists but not for this operation
  kConflict,              // 409 (unused by Vault except a few places) kept for completeness
  kPreconditionFailed,    // 412
  kPayloadTooLarge,       // 413
  kUnsupportedMediaType,  // 415
  kRateLimited,           // 429
  kInternal,              // 500: our fault, never the client's
  kNotInitialized,        // 501 (health) / 400 elsewhere, decided by the caller
  kSealed,                // 503: "Vault is sealed"
  kUnavailable,           // 503: storage or dependency unavailable
  kDataLoss,              // 500: stored data failed authentication or is corrupt
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<message>" for errors, "ok" for success: safe to log (messages never carry secrets).
  std::string ToString() const;

  // Prefixes the message with context ("storage: " + message), keeping the code.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status PermissionDenied(std::string m = "permission denied") {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status NotFound(std::string m = "") { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status UnsupportedOperation(std::string m = "unsupported operation") {
  return Status(StatusCode::kUnsupportedOperation, std::move(m));
}
inline Status PreconditionFailed(std::string m) { return Status(StatusCode::kPreconditionFailed, std::move(m)); }
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status SealedError() { return Status(StatusCode::kSealed, "Vault is sealed"); }
inline Status Unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
inline Status DataLoss(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }

// HTTP status code Vault would answer with for this error.
int HttpStatusFor(StatusCode code);
// CLI exit code: 0 ok, 2 usage/invalid input, 1 everything else.
int ExitCodeFor(StatusCode code);
const char* StatusCodeName(StatusCode code);

// StatusOr<T>: a T or an error Status. Accessing the value of an error is a programming bug.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }
  StatusOr(T value) : v_(std::move(value)) {}
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, StatusOr>>>
  StatusOr(U&& value) : v_(T(std::forward<U>(value))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? OkStatus() : std::get<Status>(v_); }

  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace coffer

#define COFFER_CONCAT_INNER(a, b) a##b
#define COFFER_CONCAT(a, b) COFFER_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr): returns the Status of expr from the enclosing function if it is an error.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::coffer::Status coffer_status_ = (expr);          \
    if (!coffer_status_.ok()) return coffer_status_;   \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a StatusOr expression; on error returns its Status,
// otherwise moves the value into lhs (which may be a declaration: `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(COFFER_CONCAT(coffer_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
