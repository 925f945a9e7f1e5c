// Small file helpers for env and keys files: whole-file reads and atomic replacement.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

#include "base/status.h"

namespace coffer::dotenv {

// The file's contents, nullopt when it does not exist; an error naming the path otherwise.
StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path);

// Replaces path with data atomically: a temporary file in the same directory, fsync, rename,
// fsync of the directory. `mode` is applied to the new file (an existing file's mode is kept
// when keep_existing_mode and the file exists). Never leaves a partial file at `path`.
Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode, bool keep_existing_mode);

// True when the file exists and group or others may read it.
bool IsGroupOrWorldReadable(const std::string& path);

}  // namespace coffer::dotenv
