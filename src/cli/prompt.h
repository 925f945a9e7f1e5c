// Reading a secret (unseal key, token) interactively: without echo when stdin is a terminal,
// else one line from the input stream. Used by `login` and `operator unseal`.
#pragma once

#include <optional>
#include <string_view>

#include "base/secret_bytes.h"

namespace coffer::cli {

class Context;

// Writes `prompt` to `prompt_to` (only when stdin is a terminal), reads one line with echo
// off, and returns it without surrounding whitespace. Without a terminal reads one line from
// ctx.in() silently. nullopt at end of input or on a read error.
std::optional<SecretString> ReadSecretLine(Context& ctx, std::string_view prompt, std::ostream& prompt_to);

}  // namespace coffer::cli
