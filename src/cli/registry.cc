#include "cli/registry.h"

#include <algorithm>

namespace coffer::cli {
namespace {

bool Visible(Personality p, bool vault_mode) {
  switch (p) {
    case Personality::kBoth:
      return true;
    case Personality::kCofferOnly:
      return !vault_mode;
    case Personality::kVaultOnly:
      return vault_mode;
  }
  return true;
}

}  // namespace

void Registry::AddFactory(std::string name, Factory factory, Personality p) {
  for (auto& e : entries_) {
    // A group entry may gain a factory ("kv metadata" is not, but allow it). A command of the
    // same name for the other personality is a separate entry (`secrets list`: Vault's mount
    // listing under `vault`, the project-aware one under `coffer`).
    bool other_personality = e.factory && e.personality != p && e.personality != Personality::kBoth &&
                             p != Personality::kBoth;
    if (e.name == name && !other_personality) {
      e.factory = std::move(factory);
      e.personality = p;
      return;
    }
  }
  entries_.push_back(Entry{std::move(name), std::move(factory), "", "", p, false});
}

void Registry::AddGroup(std::string name, std::string synopsis, std::string help, Personality p) {
  for (auto& e : entries_) {
    if (e.name == name) {
      e.synopsis = std::move(synopsis);
      e.help = std::move(help);
      return;
    }
  }
  entries_.push_back(Entry{std::move(name), nullptr, std::move(synopsis), std::move(help), p, false});
}

void Registry::Hide(std::string_view name) {
  for (auto& e : entries_) {
    if (e.name == name) e.hidden = true;
  }
}

std::vector<const Registry::Entry*> Registry::Visible(bool vault_mode) const {
  std::vector<const Entry*> out;
  for (const auto& e : entries_) {
    if (cli::Visible(e.personality, vault_mode)) out.push_back(&e);
  }
  return out;
}

const Registry::Entry* Registry::Find(std::string_view name, bool vault_mode) const {
  for (const auto& e : entries_) {
    if (e.name == name && cli::Visible(e.personality, vault_mode)) return &e;
  }
  return nullptr;
}

std::vector<std::string> Registry::Children(std::string_view prefix, bool vault_mode) const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.hidden || !cli::Visible(e.personality, vault_mode)) continue;
    std::string_view name = e.name;
    if (!prefix.empty()) {
      if (name.size() <= prefix.size() + 1 || name.substr(0, prefix.size()) != prefix || name[prefix.size()] != ' ') {
        continue;
      }
      name.remove_prefix(prefix.size() + 1);
    }
    std::string first(name.substr(0, name.find(' ')));
    if (std::find(out.begin(), out.end(), first) == out.end()) out.push_back(first);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace coffer::cli
