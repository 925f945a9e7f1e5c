// The `coffer` command line. Flags follow Vault's Go-style syntax: -flag, -flag=value,
// -flag value, and the GNU --flag forms are all accepted.
#pragma once

#include <string>
#include <vector>

namespace coffer::cli {

// Runs the command in argv and returns the process exit code: 0 success, 1 error,
// 2 usage error or invalid input (one clear line on stderr naming the problem).
int Run(int argc, char** argv);

// Rewrites Go-style single-dash long flags ("-dev", "-config=x") to "--dev", "--config=x" so
// CLI11 parses them. Arguments after "--" and a lone "-" are left alone.
std::vector<std::string> NormalizeFlags(const std::vector<std::string>& args);

}  // namespace coffer::cli
