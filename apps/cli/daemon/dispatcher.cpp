#include "daemon/dispatcher.hpp"

#include <exception>

#include "terminal_text.hpp"

namespace secchats::cli::daemon {
namespace json = boost::json;

namespace {

// Not methods: they need a terminal or their own process (docs/cli.md "Methods").
bool served_command(std::string_view method) {
  return method != "init" && method != "passwd" && method != "listen" && method != "daemon";
}

const CLI::App* find_subcommand(const CLI::App& parent, std::string_view camel) {
  for (const CLI::App* s : parent.get_subcommands({})) {
    if (camel_case(s->get_name()) == camel) return s;
  }
  return nullptr;
}

// The param name of an option: a positional's help name, or its first long name.
std::string param_name(const CLI::Option& opt) {
  if (opt.get_positional()) return camel_case(opt.get_name());
  const auto& long_names = opt.get_lnames();
  return long_names.empty() ? std::string() : camel_case(long_names.front());
}

Error bad_params(std::string text) {
  return Error(ErrorCode::kInvalidArgument, std::move(text));
}

}  // namespace

OptionKind option_kind(const CLI::Option& opt) {
  // CLI11's type names: "INT", "UINT", "FLOAT", "TEXT"…, then ":VALIDATOR" descriptions.
  const std::string type = opt.get_type_name();
  const std::string base = type.substr(0, type.find(':'));
  if (base == "INT" || base == "UINT") return OptionKind::kInteger;
  if (base == "FLOAT" || base == "NUMBER") return OptionKind::kNumber;
  return OptionKind::kText;
}

bool is_transfer_method(std::string_view method) {
  return method == "sendFile" || method == "sendVoice" || method == "download" ||
         method == "group.sendFile" || method == "group.sendVoice";
}

Result<std::vector<std::string>> method_argv(const CliApp& cli, std::string_view method,
                                             const json::object& params, bool* text) {
  *text = false;
  const Error unknown(ErrorCode::kNotFound, "unknown method");
  if (!served_command(method)) return unknown;
  std::vector<std::string> argv;
  const CLI::App* leaf = &cli.app;
  std::string_view rest = method;
  while (!rest.empty()) {
    const std::size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (part.empty()) return unknown;
    leaf = find_subcommand(*leaf, part);
    if (!leaf) return unknown;
    argv.push_back(leaf->get_name());
  }
  bool has_handler = false;
  for (const auto& [subcommand, fn] : cli.handlers)
    has_handler = has_handler || (subcommand == leaf && fn != nullptr);
  if (!has_handler) return unknown;

  std::vector<std::pair<const CLI::Option*, std::string>> positionals;
  for (const auto& member : params) {
    const std::string key(member.key());
    const json::value& v = member.value();
    if (key == "format") {
      if (!v.is_string() || (v.as_string() != "text" && v.as_string() != "json")) {
        return bad_params("format must be \"json\" or \"text\"");
      }
      *text = v.as_string() == "text";
      continue;
    }
    const CLI::Option* opt = nullptr;
    for (const CLI::Option* o : leaf->get_options()) {
      if (o != leaf->get_help_ptr() && o != leaf->get_help_all_ptr() && param_name(*o) == key) {
        opt = o;
      }
    }
    if (!opt) return bad_params("unknown param " + key);
    if (opt->get_expected_max() == 0) {  // a flag
      if (!v.is_bool()) return bad_params("param " + key + " must be true or false");
      if (v.as_bool()) argv.push_back("--" + opt->get_lnames().front());
      continue;
    }
    std::string value;
    switch (option_kind(*opt)) {
      case OptionKind::kInteger:
        if (v.is_int64()) {
          value = std::to_string(v.as_int64());
        } else if (v.is_uint64()) {
          value = std::to_string(v.as_uint64());
        } else {
          return bad_params("param " + key + " must be an integer");
        }
        break;
      case OptionKind::kNumber:
        if (!v.is_number()) return bad_params("param " + key + " must be a number");
        value = json::serialize(v);
        break;
      case OptionKind::kText:
        if (!v.is_string()) return bad_params("param " + key + " must be a string");
        value = std::string(v.as_string());
        break;
    }
    if (opt->get_positional()) {
      positionals.emplace_back(opt, std::move(value));
    } else {
      argv.push_back("--" + opt->get_lnames().front() + "=" + value);
    }
  }
  if (!positionals.empty()) {
    argv.push_back("--");
    // In the order the command declares them.
    for (const CLI::Option* o : leaf->get_options()) {
      for (const auto& [opt, value] : positionals) {
        if (opt == o) argv.push_back(value);
      }
    }
  }
  return argv;
}

Answer run_call(Client& client, const std::string& home, const Call& call,
                const ProgressSink& progress, const CancelCheck& cancelled) {
  Answer answer;
  try {
    auto cli = make_cli_app(home);
    bool text = false;
    auto argv = method_argv(*cli, call.method, call.params, &text);
    if (!argv.ok()) {
      answer.code = argv.error().code() == ErrorCode::kNotFound ? kMethodNotFound : kInvalidParams;
      answer.message = argv.error().message();
      return answer;
    }
    std::vector<std::string> reversed(argv->rbegin(), argv->rend());  // CLI11 pops from the back
    try {
      cli->app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      answer.code = kInvalidParams;
      answer.message = e.what();
      return answer;
    }
    const auto [leaf, handler] = cli->parsed();
    if (!handler) {
      answer.code = kMethodNotFound;
      answer.message = "unknown method";
      return answer;
    }
    cli->args.json = !text;
    json::array lines;
    Output out(!text, [&lines, text](std::string_view line) {
      if (text) {
        lines.emplace_back(valid_utf8(line));
        return true;
      }
      std::error_code ec;
      json::value v = json::parse(line, ec);
      if (ec) return false;
      lines.push_back(std::move(v));
      return true;
    });
    Served served;
    served.client = &client;
    served.progress = [&progress](std::string_view line) {
      std::error_code ec;
      json::value v = json::parse(line, ec);
      if (!ec && v.is_object() && progress) progress(std::move(v.as_object()));
    };
    served.cancelled = cancelled;
    Command command(cli->args, std::move(out), std::move(served));
    try {
      handler(command);
    } catch (const Failure& f) {
      answer.code = f.code;
      answer.message = f.text;
      return answer;
    }
    if (!command.out().written()) {
      answer.code = kExitFailure;
      answer.message = "cannot write output: " + command.out().write_error();
      return answer;
    }
    answer.ok = true;
    answer.result = std::move(lines);
  } catch (const std::exception& e) {
    answer.ok = false;
    answer.code = kExitFailure;
    answer.message = std::string("internal error: ") + e.what();
  }
  return answer;
}

}  // namespace secchats::cli::daemon
