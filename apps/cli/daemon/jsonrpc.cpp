#include "daemon/jsonrpc.hpp"

#include "terminal_text.hpp"

namespace secchats::cli::daemon {
namespace json = boost::json;

namespace {

std::string invalid(std::string_view why, const json::value& id = nullptr) {
  return error_response(id, kInvalidRequest, why);
}

LineItem parse_request(const json::value& v) {
  LineItem item;
  if (!v.is_object()) {
    item.answer = invalid("a request is a JSON object");
    return item;
  }
  const json::object& o = v.as_object();
  json::value id = nullptr;
  const bool has_id = o.contains("id");
  if (has_id) {
    id = o.at("id");
    if (!id.is_string() && !id.is_number() && !id.is_null()) {
      item.answer = invalid("id must be a string, a number or null");
      return item;
    }
  }
  for (const auto& member : o) {
    const std::string_view k = member.key();
    if (k != "jsonrpc" && k != "method" && k != "params" && k != "id") {
      item.answer = invalid("unknown member in the request: " + std::string(k), id);
      return item;
    }
  }
  const json::value* version = o.if_contains("jsonrpc");
  if (!version || !version->is_string() || version->as_string() != "2.0") {
    item.answer = invalid("jsonrpc must be \"2.0\"", id);
    return item;
  }
  const json::value* method = o.if_contains("method");
  if (!method || !method->is_string()) {
    item.answer = invalid("method must be a string", id);
    return item;
  }
  Call call;
  call.method = std::string(method->as_string());
  if (const json::value* params = o.if_contains("params")) {
    if (!params->is_object()) {
      item.answer = error_response(id, kInvalidParams, "params must be an object (by name)");
      return item;
    }
    call.params = params->as_object();
  }
  if (has_id) call.id = id;
  item.call = std::move(call);
  return item;
}

}  // namespace

ParsedLine parse_line(std::string_view line) {
  ParsedLine parsed;
  std::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) {
    parsed.items.push_back({std::nullopt, error_response(nullptr, kParseError, "not JSON")});
    return parsed;
  }
  if (v.is_array()) {
    const json::array& a = v.as_array();
    if (a.empty()) {
      parsed.items.push_back({std::nullopt, invalid("an empty batch")});
      return parsed;
    }
    parsed.batch = true;
    for (const json::value& element : a)
      parsed.items.push_back(parse_request(element));
    return parsed;
  }
  parsed.items.push_back(parse_request(v));
  return parsed;
}

std::string result_response(const json::value& id, json::value result) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["result"] = std::move(result);
  return json::serialize(o);
}

std::string error_response(const json::value& id, int code, std::string_view message) {
  json::object error;
  error["code"] = code;
  error["message"] = valid_utf8(message);
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(error);
  return json::serialize(o);
}

std::string notification(std::string_view method, json::object params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  o["params"] = std::move(params);
  return json::serialize(o);
}

}  // namespace secchats::cli::daemon
