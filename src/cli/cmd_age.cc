// `coffer age ...`: age-compatible keys and files (formats/age), interchangeable with Debian's
// `age` and `age-keygen`:
//   age keygen [-o FILE]                 like age-keygen
//   age recipients [IDENTITY-FILE]       like age-keygen -y
//   age encrypt (-r R | -R FILE | -i FILE)... [-a] [-o OUT] [IN]    like age -e
//   age encrypt -p [-a] [-o OUT] [IN]                               like age -e -p
//   age decrypt [-i FILE]... [-o OUT] [IN]                          like age -d
// Exit codes: 2 for bad flags, keys or unreadable input files (one line naming the flag or
// argument); 1 for decryption failures and I/O errors. With -o the output is written to a
// temporary file beside OUT and renamed into place only on success, so a failed decryption never
// leaves a partial plaintext file. On stdout, as with age, bytes already written stay written.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/registry.h"
#include "formats/age/age.h"
#include "formats/age/keys.h"

namespace coffer::cli {
namespace {

// Identity and recipients files are small; this bounds what a wrong path (a huge file) costs.
constexpr size_t kMaxKeyFileSize = 16 * 1024 * 1024;
constexpr char kPassphraseEnv[] = "COFFER_AGE_PASSPHRASE";

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

bool UsesProcessStdin(Context& ctx) { return &ctx.in() == &std::cin; }
bool UsesProcessStdout(Context& ctx) { return &ctx.out() == &std::cout; }

// Reads a whole small file ("-" = the command's stdin). Error text names the file, never content.
std::optional<std::string> ReadSmallFile(Context& ctx, const std::string& path, std::string* error) {
  std::string data;
  if (path == "-") {
    char buf[4096];
    while (ctx.in().read(buf, sizeof(buf)) || ctx.in().gcount() > 0) {
      data.append(buf, static_cast<size_t>(ctx.in().gcount()));
      if (data.size() > kMaxKeyFileSize) {
        *error = "standard input is too large for a key file";
        return std::nullopt;
      }
    }
    return data;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open \"" + path + "\": " + std::strerror(errno);
    return std::nullopt;
  }
  FdCloser closer(fd);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot read \"" + path + "\": " + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxKeyFileSize) {
      *error = "\"" + path + "\" is too large for a key file";
      return std::nullopt;
    }
  }
  return data;
}

// Reads a passphrase: from COFFER_AGE_PASSPHRASE when set (for scripts; age itself has no such
// fallback), else from the controlling terminal with echo off, like age. Never from stdin, which
// carries the data.
std::optional<SecretString> ReadPassphrase(const char* prompt, std::string* error) {
  if (const char* env = std::getenv(kPassphraseEnv); env != nullptr) return SecretString(env);
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    *error = std::string("cannot read a passphrase: no terminal (set ") + kPassphraseEnv + " for non-interactive use)";
    return std::nullopt;
  }
  FdCloser closer(fd);
  termios saved{};
  bool restore = false;
  if (tcgetattr(fd, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
  }
  (void)!::write(fd, prompt, std::strlen(prompt));
  SecretString line;
  bool got_any = false;
  for (;;) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got_any = true;
    if (c == '\n') break;
    line.push_back(c);
  }
  if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!got_any) {
    *error = "cannot read a passphrase: end of input on the terminal";
    return std::nullopt;
  }
  return line;
}

// The output: stdout, or a temporary file beside the target renamed into place by Commit.
class Output {
 public:
  ~Output() { Abort(); }

  // target empty or "-" = stdout. mode is the final mode of a file target.
  bool Open(Context& ctx, const std::string& target, mode_t mode, std::string* error) {
    if (target.empty() || target == "-") {
      ctx.out().flush();
      if (UsesProcessStdout(ctx)) {
        writer_ = std::make_unique<age::FdWriter>(STDOUT_FILENO, "standard output");
      } else {
        writer_ = std::make_unique<age::OstreamWriter>(ctx.out());
      }
      return true;
    }
    target_ = target;
    size_t slash = target.rfind('/');
    std::string dir = slash == std::string::npos ? "." : target.substr(0, slash == 0 ? 1 : slash);
    std::string tmpl = dir + "/.coffer-age-XXXXXX";
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);  // mode 0600
    if (fd_ < 0) {
      *error = "cannot create output file in \"" + dir + "\": " + std::strerror(errno);
      return false;
    }
    temp_ = tmpl;
    mode_ = mode;
    writer_ = std::make_unique<age::FdWriter>(fd_, "\"" + target + "\"");
    return true;
  }
  age::Writer& writer() { return *writer_; }

  bool Commit(std::string* error) {
    if (fd_ < 0) return true;
    if (::fchmod(fd_, mode_) != 0 || ::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      *error = "cannot write \"" + target_ + "\": " + std::strerror(errno);
      Abort();
      return false;
    }
    fd_ = -1;
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
      *error = "cannot write \"" + target_ + "\": " + std::strerror(errno);
      Abort();
      return false;
    }
    temp_.clear();
    return true;
  }

  void Abort() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_.empty()) ::unlink(temp_.c_str());
    temp_.clear();
  }

 private:
  std::unique_ptr<age::Writer> writer_;
  std::string target_, temp_;
  int fd_ = -1;
  mode_t mode_ = 0600;
};

// The input: stdin or a file.
class Input {
 public:
  ~Input() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Open(Context& ctx, const std::vector<std::string>& args, std::string* error) {
    if (args.empty() || args[0] == "-") {
      if (UsesProcessStdin(ctx)) {
        reader_ = std::make_unique<age::FdReader>(STDIN_FILENO, "standard input");
      } else {
        reader_ = std::make_unique<age::IstreamReader>(ctx.in());
      }
      return true;
    }
    fd_ = ::open(args[0].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      *error = "cannot open input file \"" + args[0] + "\": " + std::strerror(errno);
      return false;
    }
    reader_ = std::make_unique<age::FdReader>(fd_, "\"" + args[0] + "\"");
    return true;
  }
  age::Reader& reader() { return *reader_; }
  bool is_stdin(const std::vector<std::string>& args) const { return args.empty() || args[0] == "-"; }

 private:
  std::unique_ptr<age::Reader> reader_;
  int fd_ = -1;
};

bool LooksLikeSecretKey(std::string_view s) {
  constexpr std::string_view kPrefix = "age-secret-key-";
  if (s.size() < kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != kPrefix[i]) return false;
  }
  return true;
}

mode_t CurrentUmask() {
  mode_t m = ::umask(022);
  ::umask(m);
  return m;
}

// Loads -i files. Returns 0 or the exit code after printing the error.
int LoadIdentities(Context& ctx, const std::vector<std::string>& files, std::vector<age::X25519Identity>* out) {
  for (const std::string& f : files) {
    std::string error;
    auto text = ReadSmallFile(ctx, f, &error);
    if (!text) return ctx.UsageError("Error reading identity file (-i): " + error);
    auto ids = age::ParseIdentities(*text);
    SecureWipe(text->data(), text->size());
    if (!ids.ok()) return ctx.UsageError("Error in identity file \"" + f + "\" (-i): " + ids.status().message());
    for (auto& id : *ids) out->push_back(std::move(id));
  }
  return 0;
}

class AgeKeygenCommand : public Command {
 public:
  std::string Synopsis() const override { return "Generate an age X25519 identity (like age-keygen)"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} age keygen [-o FILE]
       {{prog}} age keygen -y [IDENTITY-FILE]

  Generates a new X25519 identity in age-keygen's format: a "# created:" line,
  a "# public key:" line and the AGE-SECRET-KEY-1... line. With -o the file is
  created with mode 0600 and must not exist yet. When the output is not a
  terminal, "Public key: age1..." is also printed to stderr.

  With -y, prints the recipient of each identity in the file instead (the same
  as "{{prog}} age recipients").

      $ {{prog}} age keygen -o key.txt)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Keygen Options");
    f.String("o", &output_, "Write the identity to FILE (created with mode 0600; must not exist).", "", "FILE");
    f.String("output", &output_, "Same as -o.", "", "FILE");
    f.Bool("y", &convert_, "Print the recipients of an identity file instead of generating one.");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override;

 private:
  std::string output_;
  bool convert_ = false;
};

int PrintRecipients(Context& ctx, const std::vector<std::string>& args) {
  if (int rc = CheckArgCount(ctx, args, 0, 1)) return rc;
  std::string path = args.empty() ? "-" : args[0];
  std::string error;
  auto text = ReadSmallFile(ctx, path, &error);
  if (!text) return ctx.UsageError("Error reading identity file: " + error);
  auto ids = age::ParseIdentities(*text);
  SecureWipe(text->data(), text->size());
  if (!ids.ok()) return ctx.UsageError("Error in identity file \"" + path + "\": " + ids.status().message());
  for (const auto& id : *ids) ctx.out() << id.recipient().String() << "\n";
  ctx.out().flush();
  return kExitOk;
}

int AgeKeygenCommand::Run(Context& ctx, const std::vector<std::string>& args) {
  if (convert_) return PrintRecipients(ctx, args);
  if (!args.empty()) return ctx.UsageError("age keygen takes no arguments (use -o FILE to choose the output)");
  age::X25519Identity id = age::X25519Identity::Generate();
  SecretString text = age::FormatIdentityFile(id, static_cast<int64_t>(std::time(nullptr)));
  if (output_.empty() || output_ == "-") {
    if (!UsesProcessStdout(ctx) || ::isatty(STDOUT_FILENO) != 1) {
      ctx.err() << "Public key: " << id.recipient().String() << "\n";
    }
    ctx.out().write(text.data(), static_cast<std::streamsize>(text.size()));
    ctx.out().flush();
    return ctx.out() ? kExitOk : ctx.Error("Error writing the identity to standard output");
  }
  int fd = ::open(output_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return ctx.UsageError("Error: cannot create output file \"" + output_ + "\" (-o): " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0004) != 0) {
    ctx.Warn("Warning: writing to a world-readable file.");
  }
  age::FdWriter w(fd, "\"" + output_ + "\"");
  Status s = w.Write(std::string_view(text.data(), text.size()));
  if (s.ok() && ::fsync(fd) != 0) s = Unavailable(std::string("fsync: ") + std::strerror(errno));
  ::close(fd);
  if (!s.ok()) {
    ::unlink(output_.c_str());
    return ctx.Error("Error: " + s.message());
  }
  ctx.err() << "Public key: " << id.recipient().String() << "\n";
  return kExitOk;
}

class AgeRecipientsCommand : public Command {
 public:
  std::string Synopsis() const override { return "Print the recipients of an age identity file (like age-keygen -y)"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} age recipients [IDENTITY-FILE]

  Prints the public key (age1...) of every identity in the file, one per line.
  Reads standard input when the file is omitted or "-".

      $ {{prog}} age recipients key.txt > recipients.txt)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  int Run(Context& ctx, const std::vector<std::string>& args) override { return PrintRecipients(ctx, args); }
};

class AgeEncryptCommand : public Command {
 public:
  std::string Synopsis() const override { return "Encrypt a file to age recipients or a passphrase (like age -e)"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} age encrypt (-r RECIPIENT | -R PATH | -i PATH)... [-a] [-o OUTPUT] [INPUT]
       {{prog}} age encrypt -p [-a] [-o OUTPUT] [INPUT]

  Encrypts INPUT (default: standard input) to an age v1 file that the age tool
  (and "{{prog}} age decrypt") can decrypt. Flags may be repeated: every -r, every
  line of every -R file, and the recipient of every identity in an -i file
  receives the file. With -p the file is encrypted with a passphrase instead,
  read from the terminal (or from COFFER_AGE_PASSPHRASE when that is set).

  Binary output is refused on a terminal: use -a for the PEM armor or -o.

      $ {{prog}} age encrypt -r age1... -r age1... -o secrets.tar.age secrets.tar
      $ {{prog}} age encrypt -R team.txt -a < notes.txt > notes.txt.age)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Encrypt Options");
    f.StringList("r", &recipients_, "Encrypt to RECIPIENT (age1...). Can be repeated.", false, "RECIPIENT");
    f.StringList("recipient", &recipients_, "Same as -r.", false, "RECIPIENT");
    f.StringList("R", &recipient_files_, "Encrypt to every recipient listed in PATH. Can be repeated.", false, "PATH");
    f.StringList("recipients-file", &recipient_files_, "Same as -R.", false, "PATH");
    f.StringList("i", &identity_files_, "Encrypt to the recipients of the identities in PATH. Can be repeated.", false,
                 "PATH");
    f.StringList("identity", &identity_files_, "Same as -i.", false, "PATH");
    f.Bool("p", &passphrase_, "Encrypt with a passphrase (scrypt). Cannot be combined with -r, -R or -i.");
    f.Bool("passphrase", &passphrase_, "Same as -p.");
    f.Bool("a", &armor_, "Write the PEM-armored form (-----BEGIN AGE ENCRYPTED FILE-----).");
    f.Bool("armor", &armor_, "Same as -a.");
    f.String("o", &output_, "Write the result to OUTPUT instead of standard output.", "", "OUTPUT");
    f.String("output", &output_, "Same as -o.", "", "OUTPUT");
    f.Bool("e", &ignored_, "Accepted for compatibility with age; encrypting is what this command does.");
    f.Hide("e");
    f.Bool("encrypt", &ignored_, "");
    f.Hide("encrypt");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override;

 private:
  std::vector<std::string> recipients_, recipient_files_, identity_files_;
  bool passphrase_ = false, armor_ = false, ignored_ = false;
  std::string output_;
};

int AgeEncryptCommand::Run(Context& ctx, const std::vector<std::string>& args) {
  if (int rc = CheckArgCount(ctx, args, 0, 1)) return rc;
  bool have_keys = !recipients_.empty() || !recipient_files_.empty() || !identity_files_.empty();
  if (passphrase_ && have_keys) return ctx.UsageError("-p (passphrase) cannot be combined with -r, -R or -i");
  if (!passphrase_ && !have_keys) return ctx.UsageError("Missing recipients: use -r RECIPIENT, -R PATH, -i PATH or -p");
  bool input_is_stdin = args.empty() || args[0] == "-";
  for (const auto& f : recipient_files_) {
    if (f == "-" && input_is_stdin) return ctx.UsageError("-R - and the input cannot both be standard input");
  }
  for (const auto& f : identity_files_) {
    if (f == "-" && input_is_stdin) return ctx.UsageError("-i - and the input cannot both be standard input");
  }

  std::vector<age::X25519Recipient> x25519;
  for (const auto& r : recipients_) {
    if (LooksLikeSecretKey(r)) {
      // Never echo it: it is someone's private key.
      return ctx.UsageError(
          "Invalid recipient (-r): that is a secret key (AGE-SECRET-KEY-1...); pass its public key "
          "(see \"" +
          ctx.program() + " age recipients\")");
    }
    auto parsed = age::X25519Recipient::Parse(r);
    if (!parsed.ok()) return ctx.UsageError("Invalid recipient \"" + r + "\" (-r): " + parsed.status().message());
    x25519.push_back(std::move(*parsed));
  }
  for (const auto& f : recipient_files_) {
    std::string error;
    auto text = ReadSmallFile(ctx, f, &error);
    if (!text) return ctx.UsageError("Error reading recipients file (-R): " + error);
    auto parsed = age::ParseRecipients(*text);
    if (!parsed.ok())
      return ctx.UsageError("Error in recipients file \"" + f + "\" (-R): " + parsed.status().message());
    for (auto& r : *parsed) x25519.push_back(std::move(r));
  }
  std::vector<age::X25519Identity> identities;
  if (int rc = LoadIdentities(ctx, identity_files_, &identities)) return rc;
  for (const auto& id : identities) x25519.push_back(id.recipient());

  bool to_terminal = (output_.empty() || output_ == "-") && UsesProcessStdout(ctx) && ::isatty(STDOUT_FILENO) == 1;
  if (to_terminal && !armor_) {
    return ctx.UsageError("Refusing to write binary output to the terminal: use -a (armor) or -o OUTPUT");
  }

  std::unique_ptr<age::ScryptRecipient> scrypt;
  if (passphrase_) {
    std::string error;
    auto pass = ReadPassphrase("Enter passphrase: ", &error);
    if (!pass) return ctx.UsageError(error);
    if (pass->empty()) return ctx.UsageError("The passphrase must not be empty");
    if (std::getenv(kPassphraseEnv) == nullptr) {
      auto again = ReadPassphrase("Confirm passphrase: ", &error);
      if (!again) return ctx.UsageError(error);
      if (!ConstantTimeEquals(std::string_view(pass->data(), pass->size()),
                              std::string_view(again->data(), again->size()))) {
        return ctx.UsageError("The passphrases do not match");
      }
    }
    scrypt = std::make_unique<age::ScryptRecipient>(std::move(*pass));
  }

  std::vector<const age::Recipient*> rs;
  if (scrypt) rs.push_back(scrypt.get());
  for (const auto& r : x25519) rs.push_back(&r);

  std::string error;
  Input in;
  if (!in.Open(ctx, args, &error)) return ctx.UsageError(error);
  Output out;
  if (!out.Open(ctx, output_, 0666 & ~CurrentUmask(), &error)) return ctx.Error("Error: " + error);
  Status st = age::Encrypt(rs, in.reader(), out.writer(), armor_);
  if (!st.ok()) {
    out.Abort();
    return st.code() == StatusCode::kInvalidArgument ? ctx.UsageError("Error: " + st.message())
                                                     : ctx.Error("Error: " + st.message());
  }
  if (!out.Commit(&error)) return ctx.Error("Error: " + error);
  return kExitOk;
}

class AgeDecryptCommand : public Command {
 public:
  std::string Synopsis() const override { return "Decrypt an age file (like age -d)"; }
  std::string Help() const override {
    return R"(Usage: {{prog}} age decrypt [-i PATH]... [-o OUTPUT] [INPUT]

  Decrypts an age v1 file (binary or armored, detected automatically) from INPUT
  (default: standard input). Every identity in every -i file is tried. A
  passphrase-encrypted file asks for the passphrase on the terminal (or takes
  COFFER_AGE_PASSPHRASE when that is set) and takes no -i.

  With -o the plaintext is written to a temporary file (mode 0600) beside
  OUTPUT and renamed into place only when the whole file decrypted and
  authenticated; on failure nothing is left behind.

      $ {{prog}} age decrypt -i key.txt -o secrets.tar secrets.tar.age)";
  }
  unsigned Flags() const override { return kNoGlobalFlags; }
  void AddFlags(FlagSet& f) override {
    f.Section("Decrypt Options");
    f.StringList("i", &identity_files_, "Use the identities in PATH (age-keygen format). Can be repeated.", false,
                 "PATH");
    f.StringList("identity", &identity_files_, "Same as -i.", false, "PATH");
    f.String("o", &output_, "Write the plaintext to OUTPUT instead of standard output.", "", "OUTPUT");
    f.String("output", &output_, "Same as -o.", "", "OUTPUT");
    f.Bool("d", &ignored_, "Accepted for compatibility with age; decrypting is what this command does.");
    f.Hide("d");
    f.Bool("decrypt", &ignored_, "");
    f.Hide("decrypt");
  }
  int Run(Context& ctx, const std::vector<std::string>& args) override;

 private:
  std::vector<std::string> identity_files_;
  std::string output_;
  bool ignored_ = false;
};

int AgeDecryptCommand::Run(Context& ctx, const std::vector<std::string>& args) {
  if (int rc = CheckArgCount(ctx, args, 0, 1)) return rc;
  bool input_is_stdin = args.empty() || args[0] == "-";
  for (const auto& f : identity_files_) {
    if (f == "-" && input_is_stdin) return ctx.UsageError("-i - and the input cannot both be standard input");
  }
  std::vector<age::X25519Identity> identities;
  if (int rc = LoadIdentities(ctx, identity_files_, &identities)) return rc;

  std::string error;
  Input in;
  if (!in.Open(ctx, args, &error)) return ctx.UsageError(error);
  auto decryptor = age::Decryptor::Open(in.reader());
  if (!decryptor.ok()) return ctx.Error("Error: " + decryptor.status().message());

  std::vector<const age::Identity*> ids;
  std::unique_ptr<age::ScryptIdentity> scrypt;
  if ((*decryptor)->passphrase_encrypted()) {
    if (!identities.empty()) {
      return ctx.Error("Error: the file is passphrase-encrypted but identities were given with -i");
    }
    auto pass = ReadPassphrase("Enter passphrase: ", &error);
    if (!pass) return ctx.UsageError(error);
    scrypt = std::make_unique<age::ScryptIdentity>(std::move(*pass));
    ids.push_back(scrypt.get());
  } else {
    if (identities.empty()) return ctx.UsageError("Missing identities: use -i PATH (an age-keygen identity file)");
    for (const auto& id : identities) ids.push_back(&id);
  }

  Output out;
  if (!out.Open(ctx, output_, 0600, &error)) return ctx.Error("Error: " + error);
  Status st = (*decryptor)->Decrypt(ids, out.writer());
  if (!st.ok()) {
    out.Abort();
    return ctx.Error("Error: " + st.message());
  }
  if (!out.Commit(&error)) return ctx.Error("Error: " + error);
  return kExitOk;
}

constexpr char kAgeHelp[] = R"(Usage: {{prog}} age <subcommand> [options] [args]

  age-compatible file encryption (age-encryption.org/v1). Keys and files are
  interchangeable with the age and age-keygen tools in both directions.

      $ {{prog}} age keygen -o key.txt
      $ {{prog}} age encrypt -r age1... -o file.age file
      $ {{prog}} age decrypt -i key.txt -o file file.age)";

}  // namespace

void RegisterAgeCommands(Registry& r) {
  r.AddGroup("age", "age-compatible file encryption and keys", kAgeHelp, Personality::kCofferOnly);
  r.Add<AgeKeygenCommand>("age keygen", Personality::kCofferOnly);
  r.Add<AgeRecipientsCommand>("age recipients", Personality::kCofferOnly);
  r.Add<AgeEncryptCommand>("age encrypt", Personality::kCofferOnly);
  r.Add<AgeDecryptCommand>("age decrypt", Personality::kCofferOnly);
}

}  // namespace coffer::cli
