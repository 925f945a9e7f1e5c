// Reads one field through coffer::SecretsManager (TTL cache, env fallback, token renewal).
//   VAULT_ADDR=... VAULT_TOKEN=... build/examples/secrets_manager database/connection url
// When the server cannot be reached, the value comes from the derived variable (DATABASE_URL).
#include <coffer/secrets_manager.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " PATH KEY   (a logical path under the `secret` mount)\n";
    return 2;
  }
  auto manager = coffer::SecretsManager::Create(coffer::SecretsManager::Options{});
  auto value = manager->GetSecret(argv[1], argv[2]);
  if (!value.ok()) {
    std::cerr << "error: " << value.error().message << "\n";
    return value.error().code == coffer::SecretsErrorCode::kNotFound ? 1 : 3;
  }
  if (value.from_env_fallback()) std::cerr << "(from $" << manager->EnvVarFor(argv[1], argv[2]) << ")\n";
  std::cout << value.value() << "\n";
  return 0;
}
