// A small blocking HTTP/1.1 client for tests (keep-alive, one connection per instance).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secchats::testing {

struct HttpResult {
  HttpResult() = default;
  HttpResult(int status_code, std::string text, std::string type,
             std::map<std::string, std::string> fields = {})
      : status(status_code),
        body(std::move(text)),
        content_type(std::move(type)),
        headers(std::move(fields)) {}

  int status = 0;
  std::string body;
  std::string content_type;
  // Every response header, names in lower case (the last value when repeated).
  std::map<std::string, std::string> headers;
  // The header's value, "" when absent; `name` in any case.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(unsigned short port);
  ~HttpClient();

  HttpResult post(std::string_view path, std::string_view body);
  HttpResult get(std::string_view path);
  HttpResult request(std::string_view method, std::string_view path, std::string_view body);
  // With extra request headers (a HEAD answer's body is not read). A body is sent whenever
  // it is non-empty or the method is POST or PATCH.
  HttpResult request(std::string_view method, std::string_view path, std::string_view body,
                     const HttpHeaders& headers);

  // Writes `bytes` verbatim on a new connection and returns whatever comes back until the
  // server closes (or 5 s pass). For malformed-HTTP tests.
  static std::string raw_exchange(unsigned short port, std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::testing
