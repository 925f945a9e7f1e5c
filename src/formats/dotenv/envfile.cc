#include "formats/dotenv/envfile.h"

#include <algorithm>
#include <atomic>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>

namespace coffer::dotenv {
namespace {

void SplitKeys(std::string_view list, std::vector<SecretString>* out) {
  size_t start = 0;
  for (;;) {
    size_t comma = list.find(',', start);
    std::string_view one = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (!one.empty()) out->emplace_back(one);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

// Runs fn(i) for i in [0, n) on up to four threads: each value's ECIES work is independent and
// dominated by curve arithmetic, so large files go about as many times faster as there are cores.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  size_t threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 4, n / 16 + 1});
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The keys document for a keys text (empty document when absent).
Document KeysDoc(const std::optional<std::string>& keys_text) {
  return Document::Parse(keys_text ? std::string_view(*keys_text) : std::string_view());
}

}  // namespace

Environment EnvironmentFrom(char** envp) {
  Environment env;
  for (char** p = envp; p != nullptr && *p != nullptr; ++p) {
    const char* eq = std::strchr(*p, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*p, eq - *p), std::string(eq + 1));
  }
  return env;
}

std::vector<SecretString> PrivateKeyCandidates(std::string_view private_name, const Environment& env,
                                               const Document* keys_doc) {
  std::vector<SecretString> out;
  if (auto it = env.find(std::string(private_name)); it != env.end()) SplitKeys(it->second, &out);
  if (keys_doc != nullptr) {
    if (const Entry* e = keys_doc->Find(private_name)) SplitKeys(e->value, &out);
  }
  return out;
}

Decryptor::Decryptor(std::string private_name, std::vector<SecretString> candidates)
    : private_name_(std::move(private_name)), candidates_(std::move(candidates)) {
  for (const SecretString& c : candidates_) {
    StatusOr<SecretBytes> key = ParsePrivateKey(std::string_view(c.data(), c.size()));
    if (key.ok()) valid_keys_.push_back(std::move(*key));
  }
}

StatusOr<SecretBytes> Decryptor::FirstValidKey() const {
  if (candidates_.empty()) {
    return Status(StatusCode::kNotFound, "[MISSING_PRIVATE_KEY] no private key " + private_name_ +
                                             " in the environment or the .env.keys file");
  }
  if (!valid_keys_.empty()) return valid_keys_.front();
  return InvalidArgument("[INVALID_PRIVATE_KEY] " + private_name_ +
                         " is not a valid private key (expected 64 hex characters of a secp256k1 key)");
}

StatusOr<std::string> Decryptor::Decrypt(std::string_view key, std::string_view value) const {
  if (candidates_.empty()) {
    return Status(StatusCode::kNotFound, "[MISSING_PRIVATE_KEY] could not decrypt " + std::string(key) +
                                             ": no private key " + private_name_ +
                                             " in the environment or the .env.keys file");
  }
  bool any_valid = !valid_keys_.empty();
  for (const SecretBytes& k : valid_keys_) {
    StatusOr<std::string> plain = DecryptValue(k, value);
    if (plain.ok()) return plain;
    if (plain.status().code() == StatusCode::kInvalidArgument) {
      return InvalidArgument("[MALFORMED_ENCRYPTED_DATA] could not decrypt " + std::string(key) + ": " +
                             plain.status().message());
    }
  }
  if (!any_valid) {
    return InvalidArgument("[INVALID_PRIVATE_KEY] could not decrypt " + std::string(key) + ": " + private_name_ +
                           " is not a valid private key (expected 64 hex characters of a secp256k1 key)");
  }
  return DataLoss("[WRONG_PRIVATE_KEY] could not decrypt " + std::string(key) + ": " + private_name_ +
                  " does not match the key it was encrypted for (or the value was tampered with)");
}

bool KeyFilter::Matches(std::string_view key) const {
  for (const std::string& p : exclude) {
    if (GlobMatch(p, key)) return false;
  }
  if (include.empty()) return true;
  for (const std::string& p : include) {
    if (GlobMatch(p, key)) return true;
  }
  return false;
}

StatusOr<std::string> UpsertKeysFile(const std::optional<std::string>& keys_text, std::string_view file_path,
                                     std::string_view name, std::string_view value) {
  Document doc = KeysDoc(keys_text);
  if (doc.Find(name) != nullptr) {
    RETURN_IF_ERROR(doc.Set(name, value, Quote::kNone));
    return doc.text();
  }
  std::string out;
  if (!keys_text || keys_text->empty()) {
    out = kKeysFileBanner;
  } else {
    out = doc.text();
    if (out.back() != '\n') out.push_back('\n');
  }
  out += "\n" + FileComment(file_path) + "\n" + std::string(name) + "=" + std::string(value) + "\n";
  return out;
}

StatusOr<FileResult> EncryptEnvFile(std::string_view file_path, std::string_view env_text,
                                    const std::optional<std::string>& keys_text, const Environment& env,
                                    const KeyFilter& filter) {
  Document doc = Document::Parse(env_text);
  KeyNames names = KeyNamesFor(file_path, doc);
  Document keys_doc = KeysDoc(keys_text);
  FileResult result;
  const Entry* pub_entry = doc.Find(names.public_name);  // valid until doc changes
  const bool empty_public_key = pub_entry != nullptr && pub_entry->value.empty();
  bool add_banner = false;
  if (pub_entry != nullptr && !pub_entry->value.empty()) {
    Status ok = ValidatePublicKey(pub_entry->value);
    if (!ok.ok()) return InvalidArgument(names.public_name + " in " + std::string(file_path) + ": " + ok.message());
    result.public_key_hex = pub_entry->value;
  } else {
    Decryptor existing(names.private_name, PrivateKeyCandidates(names.private_name, env, &keys_doc));
    if (existing.has_keys()) {
      ASSIGN_OR_RETURN(SecretBytes priv, existing.FirstValidKey());
      result.public_key_hex = PublicKeyHex(priv);
    } else {
      KeyPair kp = GenerateKeyPair();
      result.public_key_hex = kp.public_key_hex;
      SecretString hex = kp.PrivateKeyHex();
      ASSIGN_OR_RETURN(std::string keys,
                       UpsertKeysFile(keys_text, file_path, names.private_name, std::string_view(hex.data(), hex.size())));
      result.keys_text = std::move(keys);
    }
    add_banner = pub_entry == nullptr;
  }
  std::vector<size_t> selected;
  for (size_t i = 0; i < doc.entries().size(); ++i) {
    const Entry& e = doc.entries()[i];
    if (IsPlainKey(e.key) || IsEncrypted(e.value) || !filter.Matches(e.key)) continue;
    selected.push_back(i);
    result.changed_keys.push_back(e.key);
  }
  std::vector<StatusOr<std::string>> encrypted(selected.size(), InternalError("not run"));
  ParallelFor(selected.size(), [&](size_t k) {
    encrypted[k] = EncryptValue(result.public_key_hex, doc.entries()[selected[k]].value);
  });
  std::vector<Document::Edit> edits;
  for (size_t k = 0; k < selected.size(); ++k) {
    if (!encrypted[k].ok()) return encrypted[k].status();
    edits.push_back({selected[k], std::move(*encrypted[k])});
  }
  RETURN_IF_ERROR(doc.Apply(edits));
  if (empty_public_key) {
    RETURN_IF_ERROR(doc.Set(names.public_name, result.public_key_hex));
  }
  if (add_banner) {
    doc.Prepend(std::string(kPublicKeyBanner) + names.public_name + "=" + Quoted(result.public_key_hex) + "\n\n" +
                FileComment(file_path) + "\n");
  }
  result.env_text = doc.text();
  return result;
}

StatusOr<FileResult> DecryptEnvFile(std::string_view file_path, std::string_view env_text,
                                    const std::optional<std::string>& keys_text, const Environment& env,
                                    const KeyFilter& filter) {
  Document doc = Document::Parse(env_text);
  KeyNames names = KeyNamesFor(file_path, doc);
  Document keys_doc = KeysDoc(keys_text);
  Decryptor dec(names.private_name, PrivateKeyCandidates(names.private_name, env, &keys_doc));
  FileResult result;
  std::vector<size_t> selected;
  for (size_t i = 0; i < doc.entries().size(); ++i) {
    const Entry& e = doc.entries()[i];
    if (!IsEncrypted(e.value) || !filter.Matches(e.key)) continue;
    selected.push_back(i);
    result.changed_keys.push_back(e.key);
  }
  std::vector<StatusOr<std::string>> plain(selected.size(), InternalError("not run"));
  ParallelFor(selected.size(), [&](size_t k) {
    const Entry& e = doc.entries()[selected[k]];
    plain[k] = dec.Decrypt(e.key, e.value);
  });
  std::vector<Document::Edit> edits;
  for (size_t k = 0; k < selected.size(); ++k) {
    if (!plain[k].ok()) return plain[k].status().WithContext(std::string(file_path));
    edits.push_back({selected[k], std::move(*plain[k])});
  }
  RETURN_IF_ERROR(doc.Apply(edits));
  result.env_text = doc.text();
  return result;
}

StatusOr<RotatePlan> PlanRotate(std::string_view file_path, std::string_view env_text,
                                const std::optional<std::string>& keys_text, const Environment& env) {
  Document doc = Document::Parse(env_text);
  KeyNames names = KeyNamesFor(file_path, doc);
  Document keys_doc = KeysDoc(keys_text);
  Decryptor dec(names.private_name, PrivateKeyCandidates(names.private_name, env, &keys_doc));
  KeyPair kp = GenerateKeyPair();
  RotatePlan plan;
  plan.public_key_hex = kp.public_key_hex;
  std::vector<Document::Edit> edits;
  for (size_t i = 0; i < doc.entries().size(); ++i) {
    const Entry& e = doc.entries()[i];
    if (!IsEncrypted(e.value)) continue;
    StatusOr<std::string> plain = dec.Decrypt(e.key, e.value);
    if (!plain.ok()) return plain.status().WithContext(std::string(file_path));
    ASSIGN_OR_RETURN(std::string enc, EncryptValue(kp.public_key_hex, *plain));
    SecureWipe(plain->data(), plain->size());
    edits.push_back({i, std::move(enc)});
  }
  plan.reencrypted = edits.size();
  RETURN_IF_ERROR(doc.Apply(edits));
  if (doc.Find(names.public_name) != nullptr) {
    RETURN_IF_ERROR(doc.Set(names.public_name, kp.public_key_hex));
  } else {
    doc.Prepend(std::string(kPublicKeyBanner) + names.public_name + "=" + Quoted(kp.public_key_hex) + "\n\n" +
                FileComment(file_path) + "\n");
  }
  plan.env_text = doc.text();
  SecretString new_hex = kp.PrivateKeyHex();
  SecretString transition = new_hex;
  if (const Entry* old = keys_doc.Find(names.private_name); old != nullptr && !old->value.empty()) {
    transition.append(",");
    transition.append(old->value);
  }
  ASSIGN_OR_RETURN(plan.keys_transition,
                   UpsertKeysFile(keys_text, file_path, names.private_name,
                                  std::string_view(transition.data(), transition.size())));
  ASSIGN_OR_RETURN(plan.keys_final, UpsertKeysFile(keys_text, file_path, names.private_name,
                                                   std::string_view(new_hex.data(), new_hex.size())));
  return plan;
}

Status CommitRotate(const RotatePlan& plan, const std::string& env_path, const std::string& keys_path,
                    const std::optional<std::string>& old_keys, const FileWriter& write, std::string* warning) {
  Status s = write(keys_path, plan.keys_transition, 0600, false);
  if (!s.ok()) return s.WithContext("rotate: nothing changed");
  s = write(env_path, plan.env_text, 0644, true);
  if (!s.ok()) {
    if (old_keys) {
      Status back = write(keys_path, *old_keys, 0600, false);
      if (!back.ok()) {
        return s.WithContext("rotate: " + env_path + " unchanged; " + keys_path +
                             " lists the new key before the old one (both work)");
      }
    } else {
      ::unlink(keys_path.c_str());
    }
    return s.WithContext("rotate: old files restored");
  }
  s = write(keys_path, plan.keys_final, 0600, false);
  if (!s.ok() && warning != nullptr) {
    *warning = keys_path + " still lists the old key after the new one (both work): " + s.message();
  }
  return OkStatus();
}

Resolved ResolveEnvFile(std::string_view file_path, std::string_view env_text,
                        const std::optional<std::string>& keys_text, const Environment& env, bool overload) {
  Document doc = Document::Parse(env_text);
  KeyNames names = KeyNamesFor(file_path, doc);
  Document keys_doc = KeysDoc(keys_text);
  Decryptor dec(names.private_name, PrivateKeyCandidates(names.private_name, env, &keys_doc));
  ResolveOptions options;
  options.process_env = &env;
  options.overload = overload;
  // Decrypt the file's own values up front, in parallel; Resolve then only looks them up.
  std::vector<size_t> selected;
  for (size_t i = 0; i < doc.entries().size(); ++i) {
    if (IsEncrypted(doc.entries()[i].value)) selected.push_back(i);
  }
  std::vector<StatusOr<std::string>> plain(selected.size(), InternalError("not run"));
  ParallelFor(selected.size(), [&](size_t k) {
    const Entry& e = doc.entries()[selected[k]];
    plain[k] = dec.Decrypt(e.key, e.value);
  });
  std::map<std::pair<std::string_view, std::string_view>, const StatusOr<std::string>*> done;
  for (size_t k = 0; k < selected.size(); ++k) {
    const Entry& e = doc.entries()[selected[k]];
    done[{e.key, e.value}] = &plain[k];
  }
  options.decrypt = [&](const std::string& key, const std::string& value) -> StatusOr<std::string> {
    auto it = done.find({key, value});
    if (it != done.end()) return *it->second;
    return dec.Decrypt(key, value);
  };
  return Resolve(doc, options);
}

}  // namespace coffer::dotenv
