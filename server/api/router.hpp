// Thin HTTP handlers: decode the body, call RelayService, encode the answer. No relay logic
// lives here, and no socket: the router takes a request's parts and returns a reply.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "service/relay_service.hpp"

namespace secchats::server {

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Request counters for /varz. Counts and timings only: never ids.
struct ApiCounters {
  static constexpr std::size_t kEndpoints = 13;  // the 12 endpoints + "other"
  std::array<std::atomic<std::uint64_t>, kEndpoints> requests{};
  std::atomic<std::uint64_t> status_2xx{0}, status_4xx{0}, status_5xx{0};
};

class ApiRouter {
 public:
  explicit ApiRouter(RelayService& service);

  // `target` is the request path (a query string is ignored).
  boost::asio::awaitable<HttpReply> handle(std::string_view method, std::string_view target,
                                           std::string body);

  // Replies for failures detected by the transport before a request reaches a handler.
  HttpReply transport_error(int status, std::string_view reason);

 private:
  HttpReply varz();

  RelayService& service_;
  ApiCounters counters_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Maps an error to its HTTP status (400/401/403/404/413/429/503/500).
int http_status_for(ErrorCode code);

}  // namespace secchats::server
