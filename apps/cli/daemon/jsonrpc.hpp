// The daemon's wire format (docs/cli.md, "Wire format"; JSON-RPC 2.0 specification):
// newline-delimited JSON, one request, response or notification (or a batch array) per line,
// at most 1 MiB per line, parsed strictly with Boost.JSON.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secchats::cli::daemon {

inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;  // 1 MiB, without '\n'

// JSON-RPC 2.0's own error codes (§5.1). Command failures use the CLI's exit codes (>= 1).
enum RpcCode : int {
  kParseError = -32700,      // the line is not JSON
  kInvalidRequest = -32600,  // JSON, but not a JSON-RPC 2.0 request
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
};

// A well-formed request. `id` is absent for a notification (run, never answered).
struct Call {
  std::string method;
  boost::json::object params;  // by name; {} when the request had none
  std::optional<boost::json::value> id;
};

// One request of a line: a Call to run, or (if `call` is empty) `answer`, the error
// response already due (-32700, -32600, -32602 for params that are not an object).
struct LineItem {
  std::optional<Call> call;
  std::string answer;
};

// What a line holds: its items in order; `batch` when it was an array (answered as one
// array of the responses, in the spec's terms; an empty batch is a single -32600 answer).
struct ParsedLine {
  bool batch = false;
  std::vector<LineItem> items;
};

// Parses one line (without its '\n'). Never fails: every defect becomes an error answer.
// Members other than jsonrpc, method, params, id make a request invalid (-32600).
ParsedLine parse_line(std::string_view line);

// {"jsonrpc":"2.0","id":ID,"result":RESULT} on one line, no newline.
std::string result_response(const boost::json::value& id, boost::json::value result);
// {"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MESSAGE}}; id null if unknown.
std::string error_response(const boost::json::value& id, int code, std::string_view message);
// {"jsonrpc":"2.0","method":METHOD,"params":PARAMS} (progress, event).
std::string notification(std::string_view method, boost::json::object params);

}  // namespace secchats::cli::daemon
