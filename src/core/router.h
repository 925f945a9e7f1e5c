// Router: longest-prefix match from a request path to its mount. Thread-safe: lookups take a
// shared lock and hand out shared_ptrs, so a request keeps its route alive while a concurrent
// unmount removes it from the table.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/mount_table.h"
#include "logical/backend.h"
#include "logical/storage.h"

namespace coffer::core {

// Immutable once mounted: a tune builds a new Route (sharing view and backend with the old
// one), so a request that matched the old route keeps working while the table changes.
struct Route {
  MountEntry entry;
  std::shared_ptr<logical::StorageView> view;
  std::shared_ptr<logical::Backend> backend;
};

class Router {
 public:
  // Adds a route. Error when the path equals, contains or is contained by an existing mount.
  Status Mount(std::shared_ptr<Route> route);
  // Removes and returns the route at exactly `path` (with trailing '/'); nullptr if none.
  std::shared_ptr<Route> Unmount(std::string_view path);
  // The mount serving `path` (longest prefix). A path equal to a mount without its trailing
  // slash ("secret") routes to that mount with an empty relative path. nullptr if none.
  std::shared_ptr<Route> Match(std::string_view path) const;
  // The route mounted exactly at `path`, nullptr if none.
  std::shared_ptr<Route> Get(std::string_view path) const;
  // Every route, sorted by path.
  std::vector<std::shared_ptr<Route>> All() const;
  void Clear();

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<Route>> routes_;  // sorted by path, guarded by mu_
};

}  // namespace coffer::core
