// The command registry: every CLI command and command group, by its full name ("kv get").
//
// HOW TO ADD A COMMAND GROUP
//   1. Create src/cli/cmd_<group>.cc with your Command subclasses (see command.h) and one function
//        void Register<Group>Commands(Registry& r) {
//          r.AddGroup("token", "Interact with tokens", kTokenHelp);            // optional, for "token -h"
//          r.Add<TokenCreateCommand>("token create");                          // both names
//          r.Add<MyCofferOnlyCommand>("mything", Personality::kCofferOnly);   // not under `vault`
//        }
//   2. Declare it in the list in commands.cc and add one line `Register<Group>Commands(r);` to
//      RegisterAllCommands there.
//   3. Add cmd_<group>.cc to SRCS in src/cli/CMakeLists.txt.
// Factories run only for the command actually invoked (and for `-h` listings), so registering is
// cheap: no static initialisation, nothing constructed until needed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"

namespace coffer::cli {

enum class Personality {
  kBoth,        // `coffer X` and `vault X`
  kCofferOnly,  // only `coffer X` (Coffer extensions that Vault does not have)
  kVaultOnly,   // only `vault X`
};

class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Command>()>;

  struct Entry {
    std::string name;      // full name, words separated by one space: "kv metadata get"
    Factory factory;       // null for a pure group
    std::string synopsis;  // groups only (commands give theirs through Command::Synopsis)
    std::string help;      // groups only
    Personality personality = Personality::kBoth;
    bool hidden = false;
  };

  template <typename T>
  void Add(std::string name, Personality p = Personality::kBoth) {
    AddFactory(
        std::move(name), [] { return std::unique_ptr<Command>(new T()); }, p);
  }
  void AddFactory(std::string name, Factory factory, Personality p = Personality::kBoth);
  // A group ("kv", "kv metadata"): `help` is printed above the list of its subcommands.
  void AddGroup(std::string name, std::string synopsis, std::string help, Personality p = Personality::kBoth);
  void Hide(std::string_view name);

  // Entries visible in the given personality.
  std::vector<const Entry*> Visible(bool vault_mode) const;
  const Entry* Find(std::string_view name, bool vault_mode) const;
  // The direct children of `prefix` ("" for top level) visible in the personality, sorted.
  std::vector<std::string> Children(std::string_view prefix, bool vault_mode) const;

 private:
  std::vector<Entry> entries_;
};

// Registers every command group (the central list lives in commands.cc).
void RegisterAllCommands(Registry& r);

}  // namespace coffer::cli
