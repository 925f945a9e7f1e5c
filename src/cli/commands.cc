// The central list of command groups. To add a group: declare its Register function here and
// call it from RegisterAllCommands (see registry.h).
#include "cli/registry.h"

namespace coffer::cli {

void RegisterServerCommands(Registry& r);
void RegisterMetaCommands(Registry& r);
void RegisterGenericCommands(Registry& r);
void RegisterKvCommands(Registry& r);
void RegisterSecretsCommands(Registry& r);
void RegisterAuthCommands(Registry& r);
void RegisterPolicyCommands(Registry& r);
void RegisterStatusCommands(Registry& r);
void RegisterLoginCommands(Registry& r);
void RegisterOperatorCommands(Registry& r);
void RegisterTokenCommands(Registry& r);
void RegisterAgeCommands(Registry& r);
void RegisterDotenvCommands(Registry& r);
void RegisterS3Commands(Registry& r);
void RegisterProjectCommands(Registry& r);

void RegisterAllCommands(Registry& r) {
  RegisterServerCommands(r);
  RegisterMetaCommands(r);
  RegisterGenericCommands(r);
  RegisterKvCommands(r);
  RegisterSecretsCommands(r);
  RegisterAuthCommands(r);
  RegisterPolicyCommands(r);
  RegisterStatusCommands(r);
  RegisterLoginCommands(r);
  RegisterOperatorCommands(r);
  RegisterTokenCommands(r);
  RegisterAgeCommands(r);
  RegisterDotenvCommands(r);
  RegisterS3Commands(r);
  RegisterProjectCommands(r);
}

}  // namespace coffer::cli
