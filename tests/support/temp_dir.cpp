#include "support/temp_dir.hpp"

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace secchats::testing {

TempDir::TempDir(const std::string& prefix) {
  auto base = std::filesystem::temp_directory_path() / (prefix + "-XXXXXX");
  std::string pattern = base.string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace secchats::testing
