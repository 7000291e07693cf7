#include "command.hpp"

#include <charconv>
#include <iostream>
#include <iterator>

#include "input_files.hpp"

namespace secchats::cli {

Client& Command::client() {
  if (served_.client) return *served_.client;
  if (client_) return *client_;
  if (!Client::exists(args_.home)) {
    throw Failure{"no account in " + args_.home + " (run: secchats init --server URL --nick NAME)",
                  kExitNotFound};
  }
  SecretString password =
      password_or_fail({"SECCHATS_PASSWORD", args_.password_file, "Password: ", false});
  auto opened = Client::open(args_.home, password);
  if (!opened.ok()) {
    const auto& e = opened.error();
    throw Failure{e.message(),
                  e.code() == ErrorCode::kUnauthenticated ? kExitWrongPassword : exit_code_for(e)};
  }
  client_ = std::move(*opened);
  return *client_;
}

SecretString Command::password_or_fail(const PasswordSource& source) {
  auto p = read_password(source);
  if (!p.ok()) throw Failure{p.error().message(), kExitUsage};
  return std::move(*p);
}

// A photo FILE for send-image: read whole (the library decodes, orients and scales it),
// but never more than the largest photo the library takes plus one byte, which is refused
// here without reading on (docs/cli.md, exit 2).
constexpr std::size_t kImageReadLimit = Client::kMaxPhotoInputBytes + 1;

std::vector<std::uint8_t> read_image_or_fail(const std::string& path) {
  auto bytes = read_input_file(path, kImageReadLimit);
  if (!bytes.ok()) throw Failure{bytes.error().message(), kExitUsage};
  if (bytes->size() > Client::kMaxPhotoInputBytes) {
    throw Failure{path + ": photo larger than 64 MiB", kExitUsage};
  }
  return std::move(bytes).value();
}

void check_input_or_fail(const std::string& path) {
  if (Status s = check_input_file(path); !s.ok()) throw Failure{s.error().message(), kExitUsage};
}

std::int64_t parse_message_id(const std::string& text) {
  std::int64_t v = 0;
  std::string_view s = text;
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (!s.empty() && s.front() == '#') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    throw Failure{
        "MESSAGE_ID must be a message id: digits, as --json prints it or as shown "
        "after # in history",
        kExitUsage};
  }
  return v;
}

std::string text_argument(const Command& c, const std::string& text) {
  if (text != "-" || c.served()) return text;
  std::string all{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r'))
    all.pop_back();
  return all;
}

}  // namespace secchats::cli
