#include "base/status.h"

namespace coffer {

std::string Status::ToString() const { return ok() ? "ok" : message_; }

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnsupportedOperation: return 405;
    case StatusCode::kConflict: return 409;
    case StatusCode::kPreconditionFailed: return 412;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kUnsupportedMediaType: return 415;
    case StatusCode::kRateLimited: return 429;
    case StatusCode::kInternal: return 500;
    case StatusCode::kNotInitialized: return 400;
    case StatusCode::kSealed: return 503;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDataLoss: return 500;
  }
  return 500;
}

int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupportedMediaType:
    case StatusCode::kPayloadTooLarge: return 2;
    default: return 1;
  }
}

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kPermissionDenied: return "permission denied";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kUnsupportedOperation: return "unsupported operation";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kPreconditionFailed: return "precondition failed";
    case StatusCode::kPayloadTooLarge: return "payload too large";
    case StatusCode::kUnsupportedMediaType: return "unsupported media type";
    case StatusCode::kRateLimited: return "rate limited";
    case StatusCode::kInternal: return "internal error";
    case StatusCode::kNotInitialized: return "not initialized";
    case StatusCode::kSealed: return "sealed";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDataLoss: return "data loss";
  }
  return "unknown";
}

}  // namespace coffer
