// Whole-file reads and atomic, durable replacement of files (keys, env files, caches, exports).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "base/status.h"

namespace coffer {

// The file's contents, nullopt when it does not exist; an error naming the path otherwise.
StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path);

struct WriteOptions {
  bool keep_existing_mode = false;  // an existing file keeps its mode instead of `mode`
  bool exclusive = false;           // fail with kPreconditionFailed "... already exists" if path exists
};

// Replaces path with data atomically: a temporary file in the same directory, fsync, rename
// (link for exclusive), fsync of the directory. `mode` is applied to the new file. Never leaves
// a partial file at `path`; errors are kUnavailable naming the path, never the data.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode, WriteOptions options = {});

// True when the file exists and group or others may read it.
bool IsGroupOrWorldReadable(const std::string& path);

}  // namespace coffer
