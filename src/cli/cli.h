// The `coffer` command line (and its `vault` personality). Flags follow Vault's Go-style syntax
// (see flags.h); commands live in cmd_<group>.cc files registered through registry.h.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace coffer::cli {

// Runs the command in argv and returns the process exit code: 0 success, 1 error,
// 2 usage error or invalid input (one clear line on stderr naming the problem).
// argv[0]'s base name decides the personality: "vault" gives only Vault's command set.
int Run(int argc, char** argv);

// The same with explicit arguments (without the program name) and streams; for tests.
int RunArgs(const std::vector<std::string>& args, bool vault_mode, std::istream& in, std::ostream& out,
            std::ostream& err, bool stdout_is_terminal = false);

// True when the program name (argv[0]) selects the Vault personality.
bool IsVaultName(const std::string& argv0);

}  // namespace coffer::cli
