#include "cli_app.hpp"

#include <cctype>
#include <cstdlib>

#include "attachment_commands.hpp"
#include "core_commands.hpp"
#include "daemon/daemon_command.hpp"
#include "group_commands.hpp"

namespace secchats::cli {

std::string default_home() {
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.secchats";
  return ".secchats";
}

std::string camel_case(std::string_view name) {
  while (!name.empty() && name.front() == '-')
    name.remove_prefix(1);
  std::string out;
  bool upper_next = false;
  for (const char ch : name) {
    if (ch == '-' || ch == '_') {
      upper_next = !out.empty();
      continue;
    }
    const auto u = static_cast<unsigned char>(ch);
    out += static_cast<char>(upper_next ? std::toupper(u) : std::tolower(u));
    upper_next = false;
  }
  return out;
}

std::string method_name(const CLI::App& leaf) {
  std::string name = camel_case(leaf.get_name());
  for (const CLI::App* p = leaf.get_parent(); p && p->get_parent(); p = p->get_parent()) {
    name = camel_case(p->get_name()) + "." + name;
  }
  return name;
}

std::pair<CLI::App*, Handler> CliApp::parsed() const {
  for (const auto& [subcommand, fn] : handlers) {
    if (subcommand->parsed()) return {subcommand, fn};
  }
  return {nullptr, nullptr};
}

std::unique_ptr<CliApp> make_cli_app(const std::string& home) {
  auto cli = std::make_unique<CliApp>();
  Args& a = cli->args;
  CLI::App& app = cli->app;
  a.home = home;
  app.require_subcommand(1);
  app.add_option("--home", a.home, "account directory")->capture_default_str();
  app.add_flag("--json", a.json, "one JSON object per line of output");
  app.add_option("--password-file", a.password_file,
                 "read the password from this file (else $SECCHATS_PASSWORD or a prompt)");
  app.add_flag("--no-daemon", cli->no_daemon,
               "run the command here even if a secchats daemon serves the account (also "
               "SECCHATS_NO_DAEMON=1)");

  auto& handlers = cli->handlers;
  const AddSubcommand sub = [&handlers](CLI::App* parent, const char* name, const char* help,
                                        Handler fn) {
    CLI::App* s = parent->add_subcommand(name, help);
    handlers.emplace_back(s, fn);
    return s;
  };
  add_core_commands(app, a, sub);
  CLI::App* group = add_group_commands(app, a, sub);
  add_attachment_commands(app, *group, a, sub);
  sub(&app, "daemon", "unlock once and serve every command on a Unix socket (JSON-RPC 2.0)",
      cmd_daemon)
      ->add_option("--socket", a.socket, "the socket (default: HOME/daemon.sock)");
  cli->group = group;

  // Global options may also follow the command (`secchats friends --json`).
  for (auto* s : app.get_subcommands({}))
    s->fallthrough();
  group->fallthrough();
  for (auto* s : group->get_subcommands({}))
    s->fallthrough();
  return cli;
}

}  // namespace secchats::cli
