#include "cli/prompt.h"

#include <termios.h>
#include <unistd.h>

#include <istream>
#include <ostream>

#include "cli/command.h"

namespace coffer::cli {
namespace {

// Turns terminal echo off for its lifetime (restored even on early return).
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

}  // namespace

std::optional<SecretString> ReadSecretLine(Context& ctx, std::string_view prompt, std::ostream& prompt_to) {
  SecretString line;
  bool got = false;
  auto read_line = [&] {
    std::istream& in = ctx.in();
    char c;
    while (in.get(c)) {
      got = true;
      if (c == '\n') break;
      line.push_back(c);
    }
  };
  if (ctx.stdin_is_terminal()) {
    prompt_to << prompt << std::flush;
    EchoOff quiet;
    read_line();
  } else {
    read_line();
  }
  if (!got) return std::nullopt;
  size_t b = 0, e = line.size();
  while (b < e && IsSpace(line[b])) ++b;
  while (e > b && IsSpace(line[e - 1])) --e;
  return SecretString(line.begin() + static_cast<std::ptrdiff_t>(b), line.begin() + static_cast<std::ptrdiff_t>(e));
}

}  // namespace coffer::cli
