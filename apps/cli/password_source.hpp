// Where the CLI gets passwords: $SECCHATS_PASSWORD, --password-file, or a no-echo prompt on
// the terminal. Never from a command-line argument (it would show in `ps`).
#pragma once

#include <optional>
#include <string>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::cli {

struct PasswordSource {
  std::string env_var;                          // e.g. SECCHATS_PASSWORD
  std::optional<std::string> file;              // first line of this file
  std::string prompt;                           // shown on the terminal
  bool confirm = false;                         // prompt twice (new passwords)
  std::string file_option = "--password-file";  // named in the error when there is no source
};

Result<SecretString> read_password(const PasswordSource& source);

}  // namespace secchats::cli
