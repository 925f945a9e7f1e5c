#include "http/handler.h"

namespace coffer::http {

const std::string& ApiRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return kEmpty;
}

}  // namespace coffer::http
