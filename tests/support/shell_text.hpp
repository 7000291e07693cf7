// Small text helpers the end-to-end tests share when they drive a shell or read back a file.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace secchats::testing {

// S as one single-quoted bash word: every ' becomes '\'' so no character is interpreted.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The whole file at P as text; "" if it cannot be read (the caller's assertion says why).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace secchats::testing
