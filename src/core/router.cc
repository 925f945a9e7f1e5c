#include "core/router.h"

#include <algorithm>
#include <mutex>

namespace coffer::core {

Status Router::Mount(std::shared_ptr<Route> route) {
  std::unique_lock lock(mu_);
  const std::string& p = route->entry.path;
  for (const auto& r : routes_) {
    const std::string& q = r->entry.path;
    if (p.rfind(q, 0) == 0 || q.rfind(p, 0) == 0) {
      return InvalidArgument("path is already in use at " + q);
    }
  }
  routes_.push_back(std::move(route));
  std::sort(routes_.begin(), routes_.end(),
            [](const auto& a, const auto& b) { return a->entry.path < b->entry.path; });
  return OkStatus();
}

std::shared_ptr<Route> Router::Unmount(std::string_view path) {
  std::unique_lock lock(mu_);
  for (auto it = routes_.begin(); it != routes_.end(); ++it) {
    if ((*it)->entry.path == path) {
      auto r = *it;
      routes_.erase(it);
      return r;
    }
  }
  return nullptr;
}

std::shared_ptr<Route> Router::Match(std::string_view path) const {
  std::shared_lock lock(mu_);
  std::shared_ptr<Route> best;
  for (const auto& r : routes_) {
    const std::string& m = r->entry.path;
    bool prefix = path.size() >= m.size() && path.compare(0, m.size(), m) == 0;
    bool bare = path.size() + 1 == m.size() && m.compare(0, path.size(), path) == 0;
    if ((prefix || bare) && (!best || m.size() > best->entry.path.size())) best = r;
  }
  return best;
}

std::shared_ptr<Route> Router::Get(std::string_view path) const {
  std::shared_lock lock(mu_);
  for (const auto& r : routes_)
    if (r->entry.path == path) return r;
  return nullptr;
}

std::vector<std::shared_ptr<Route>> Router::All() const {
  std::shared_lock lock(mu_);
  return routes_;
}

void Router::Clear() {
  std::unique_lock lock(mu_);
  routes_.clear();
}

}  // namespace coffer::core
