#include "password_source.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "input_files.hpp"

namespace secchats::cli {
namespace {

// Reads one line from the controlling terminal with echo off.
Result<SecretString> prompt_tty(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Error(ErrorCode::kNotFound, "no terminal");  // read_password names the sources
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  termios saved{};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (is_tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n')
    line.push_back(c);
  if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  SecretString secret(std::move(line));
  secure_wipe(&c, 1);
  return secret;
}

}  // namespace

Result<SecretString> read_password(const PasswordSource& source) {
  if (const char* env = std::getenv(source.env_var.c_str()); env && *env) {
    return SecretString(std::string(env));
  }
  if (source.file) {
    // A password is one line: 64 KiB is plenty and keeps a wrong FILE (a disk image) cheap.
    SC_ASSIGN_OR_RETURN(auto bytes, read_input_file(*source.file, 64 * 1024));
    std::string line(bytes.begin(), std::find(bytes.begin(), bytes.end(), '\n'));
    secure_wipe(bytes.data(), bytes.size());
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return Error(ErrorCode::kInvalidArgument, "password file is empty");
    return SecretString(std::move(line));
  }
  auto prompted = prompt_tty(source.prompt);
  if (!prompted.ok()) {
    if (prompted.error().code() != ErrorCode::kNotFound) return std::move(prompted).error();
    return Error(ErrorCode::kInvalidArgument, "no password: set " + source.env_var + ", use " +
                                                  source.file_option + ", or run in a terminal");
  }
  SecretString first = std::move(*prompted);
  if (first.view().empty()) return Error(ErrorCode::kInvalidArgument, "empty password");
  if (source.confirm) {
    SC_ASSIGN_OR_RETURN(SecretString second, prompt_tty("Repeat: "));
    if (first.view() != second.view()) {
      return Error(ErrorCode::kInvalidArgument, "the passwords do not match");
    }
  }
  return first;
}

}  // namespace secchats::cli
