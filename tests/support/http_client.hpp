// A small blocking HTTP/1.1 client for tests (keep-alive, one connection per instance).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace secchats::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
};

class HttpClient {
 public:
  explicit HttpClient(unsigned short port);
  ~HttpClient();

  HttpResult post(std::string_view path, std::string_view body);
  HttpResult get(std::string_view path);
  HttpResult request(std::string_view method, std::string_view path, std::string_view body);

  // Writes `bytes` verbatim on a new connection and returns whatever comes back until the
  // server closes (or 5 s pass). For malformed-HTTP tests.
  static std::string raw_exchange(unsigned short port, std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::testing
