// Canonical layout for HCL policy files (`policy fmt`): two-space indentation by nesting depth,
// one space around `=`, `=` aligned within runs of consecutive attributes at the same depth,
// blank-line runs collapsed, trailing whitespace removed, one final newline. Comments and
// heredoc bodies are kept exactly as written. The caller validates the policy first.
#pragma once

#include <string>
#include <string_view>

namespace coffer::cli {

std::string FormatPolicyHcl(std::string_view text);

}  // namespace coffer::cli
