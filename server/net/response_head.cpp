#include "net/response_head.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>

namespace secchats::server {

bool has_plain_head(const HttpReply& reply) {
  return !reply.file && !reply.omit_body && reply.headers.empty() && reply.status >= 200 &&
         reply.status <= 999 && reply.status != 204 && reply.status != 304;
}

void append_response_head(std::string& out, const HttpReply& reply, unsigned version,
                          bool keep_alive) {
  namespace http = boost::beast::http;
  const auto reason = http::obsolete_reason(static_cast<http::status>(reply.status));
  char digits[24];
  const auto status_end = std::to_chars(digits, digits + sizeof digits, reply.status).ptr;
  const auto length_end = std::to_chars(status_end, digits + sizeof digits, reply.body.size()).ptr;
  out.reserve(out.size() + 160 + reply.content_type.size() + reason.size());
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out.append(digits, status_end);
  out.push_back(' ');
  out.append(reason.data(), reason.size());
  out += "\r\nServer: secchats\r\n";
  if (!reply.content_type.empty()) {
    out += "Content-Type: ";
    out += reply.content_type;
    out += "\r\n";
  }
  out += "Cache-Control: no-store\r\n";
  // Beast's keep_alive(): HTTP/1.1 says "close" when closing; HTTP/1.0 says "keep-alive"
  // when keeping the connection.
  if (version >= 11 && !keep_alive) out += "Connection: close\r\n";
  if (version < 11 && keep_alive) out += "Connection: keep-alive\r\n";
  out += "Content-Length: ";
  out.append(status_end, length_end);
  out += "\r\n\r\n";
}

}  // namespace secchats::server
