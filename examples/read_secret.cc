// read_secret: prints one field of a KV secret, like `vault kv get -field=FIELD PATH`.
//
//   export VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=...
//   read_secret secret/app password
//
// Works with KV v1 and v2 mounts (the version is detected the way Vault's CLI does it).
#include <coffer/client.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: read_secret PATH FIELD\n";
    return 2;
  }
  const std::string path = argv[1];
  const std::string field = argv[2];

  // VAULT_ADDR, VAULT_TOKEN (or ~/.vault-token), VAULT_CACERT, VAULT_MAX_RETRIES, ...
  std::string env_error;
  coffer::client::Config config = coffer::client::Config::FromEnvironment(&env_error);
  if (!env_error.empty()) {
    std::cerr << "Error: " << env_error << "\n";
    return 2;
  }
  coffer::client::VaultClient client(std::move(config));

  coffer::client::Response error;
  auto mount = client.ResolveKvMount(path, &error);
  if (!mount) {
    std::cerr << error.ErrorText() << "\n";
    return 1;
  }
  // KV v2 keeps the secret under <mount>/data/<path> and wraps it in a second "data" object.
  std::string api_path = mount->version == 2 ? mount->mount_path + "data/" + mount->relative : path;
  coffer::client::Response r = client.Read(api_path);
  if (r.status == 404) {
    std::cerr << "No value found at " << api_path << "\n";
    return 2;
  }
  if (!r.ok()) {
    std::cerr << r.ErrorText() << "\n";
    return 1;
  }
  const nlohmann::json& data = mount->version == 2 ? r.body["data"]["data"] : r.body["data"];
  if (!data.is_object() || !data.contains(field)) {
    std::cerr << "Field \"" << field << "\" not present in secret\n";
    return 1;
  }
  const nlohmann::json& value = data[field];
  std::cout << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  return 0;
}
