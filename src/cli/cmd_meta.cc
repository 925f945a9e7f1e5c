// Commands about the CLI itself: `version`, `completion bash|zsh` and the hidden `__complete`
// that the completion scripts call back.
#include <iostream>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"

namespace coffer::core {
extern const char kVaultApiVersion[];
extern const char kCofferVersion[];
}  // namespace coffer::core

namespace coffer::cli {
namespace {

class VersionCommand : public Command {
 public:
  std::string Synopsis() const override { return "Prints the version"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} version

  Prints the version of this binary. Under the name "vault" the line names the
  Vault API level Coffer implements, so tools parsing Vault's version line work.

      $ {{prog}} version)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (ctx.vault_mode()) {
      ctx.out() << "Vault v" << core::kVaultApiVersion << " (coffer " << core::kCofferVersion << ")\n";
    } else {
      ctx.out() << "Coffer v" << core::kCofferVersion << " (Vault API " << core::kVaultApiVersion << ")\n";
    }
    return kExitOk;
  }
};

class CompletionCommand : public Command {
 public:
  std::string Synopsis() const override { return "Print a shell completion script"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} completion bash|zsh

  Prints a completion script for the shell. Load it in the current shell with

      $ source <({{prog}} completion bash)

  or for zsh

      $ source <({{prog}} completion zsh))";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    if (int rc = CheckArgCount(ctx, args, 1, 1)) return rc;
    const std::string prog = ctx.program();
    const std::string fn = "_" + prog + "_complete";
    if (args[0] == "bash") {
      ctx.out() << "# bash completion for " << prog << "\n"
                << fn << "() {\n"
                << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
                << "  local words\n"
                << "  words=$(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD-1}\" 2>/dev/null)\n"
                << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                << "}\n"
                << "complete -o default -F " << fn << " " << prog << "\n";
      return kExitOk;
    }
    if (args[0] == "zsh") {
      ctx.out() << "#compdef " << prog << "\n"
                << fn << "() {\n"
                << "  local -a candidates\n"
                << "  candidates=(${(f)\"$(${words[1]} __complete ${words[2,CURRENT-1]} 2>/dev/null)\"})\n"
                << "  compadd -- $candidates\n"
                << "}\n"
                << "compdef " << fn << " " << prog << "\n";
      return kExitOk;
    }
    return ctx.UsageError("Unsupported shell \"" + args[0] + "\": use bash or zsh");
  }
};

// Prints completion candidates for the words typed so far: subcommands of a group, or the
// flags of a command.
class CompleteCommand : public Command {
 public:
  std::string Synopsis() const override { return "Completion helper"; }
  std::string Help() const override { return "Usage: {{prog}} __complete WORDS..."; }
  unsigned Flags() const override { return kNoGlobalFlags; }
  void AddFlags(FlagSet& f) override {}
  int Run(Context& ctx, const std::vector<std::string>& args) override {
    const Registry* r = ctx.registry();
    if (r == nullptr) return kExitOk;
    std::string prefix;
    for (const auto& w : args) {
      if (w.empty() || w[0] == '-') continue;
      std::string candidate = prefix.empty() ? w : prefix + " " + w;
      const Registry::Entry* e = r->Find(candidate, ctx.vault_mode());
      if (e == nullptr) break;
      prefix = candidate;
      if (e->factory) break;
    }
    const Registry::Entry* e = prefix.empty() ? nullptr : r->Find(prefix, ctx.vault_mode());
    if (e != nullptr && e->factory) {
      auto cmd = e->factory();
      FlagSet flags;
      cmd->AddFlags(flags);
      for (const auto& n : flags.Names()) ctx.out() << "-" << n << "\n";
      return kExitOk;
    }
    for (const auto& c : r->Children(prefix, ctx.vault_mode())) {
      if (c != "__complete") ctx.out() << c << "\n";
    }
    return kExitOk;
  }
};

}  // namespace

void RegisterMetaCommands(Registry& r) {
  r.Add<VersionCommand>("version");
  // Not Vault commands: under the `vault` name only Vault's command set exists.
  r.Add<CompletionCommand>("completion", Personality::kCofferOnly);
  r.Add<CompleteCommand>("__complete", Personality::kCofferOnly);
  r.Hide("__complete");
}

}  // namespace coffer::cli
