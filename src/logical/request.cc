#include "logical/request.h"

namespace coffer::logical {

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kRead:
      return "read";
    case Operation::kList:
      return "list";
    case Operation::kCreate:
      return "create";
    case Operation::kUpdate:
      return "update";
    case Operation::kPatch:
      return "patch";
    case Operation::kDelete:
      return "delete";
    case Operation::kHelp:
      return "help";
  }
  return "unknown";
}

std::string Request::RelativePath() const {
  if (mount_point.empty()) return path;
  if (path.size() >= mount_point.size() && path.compare(0, mount_point.size(), mount_point) == 0) {
    return path.substr(mount_point.size());
  }
  // "secret" addresses the root of the mount "secret/".
  if (path.size() + 1 == mount_point.size() && mount_point.back() == '/' &&
      mount_point.compare(0, path.size(), path) == 0) {
    return "";
  }
  return path;
}

}  // namespace coffer::logical
