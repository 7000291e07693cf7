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
  std::atomic<std::uint64_t> rate_limited{0};         // 429s from the per-address limits
  std::atomic<std::uint64_t> connections_refused{0};  // over the connection limit
};

// What the transport knows about a request besides its method, target and body.
struct RequestContext {
  std::string client_ip;      // the socket peer's address; "" when unknown (no IP limits)
  std::string forwarded_for;  // the X-Forwarded-For header, "" when absent
};

// Per-client-address limits: token buckets, 0 per second/minute disables one.
struct RouterLimits {
  double requests_per_second = 200;  // every request
  double request_burst = 400;
  double registrations_per_minute = 10;  // /register
  double registration_burst = 20;
  // Take the client address from the last X-Forwarded-For entry (the one the reverse proxy
  // in front of us appended) instead of the socket peer. Only behind such a proxy.
  bool trust_forwarded_for = false;
  std::size_t max_tracked_addresses = 100000;  // per limiter; bounds their memory
};

class ApiRouter {
 public:
  explicit ApiRouter(RelayService& service, RouterLimits limits = {});

  // `target` is the request path (a query string is ignored).
  boost::asio::awaitable<HttpReply> handle(std::string_view method, std::string_view target,
                                           std::string body, RequestContext context);
  // The same without a client address (no per-address limits apply).
  boost::asio::awaitable<HttpReply> handle(std::string_view method, std::string_view target,
                                           std::string body);

  // Replies for failures detected by the transport before a request reaches a handler.
  HttpReply transport_error(int status, std::string_view reason);
  // The 503 for a connection over the server's connection limit (counted for /varz).
  HttpReply refuse_connection();

 private:
  HttpReply varz();
  // The address the per-address limits count `context` under ("" = none).
  std::string client_key(const RequestContext& context) const;
  HttpReply rate_limited(std::string_view reason);

  RelayService& service_;
  ApiCounters counters_;
  RouterLimits limits_;
  RateLimiter ip_requests_;
  RateLimiter ip_registrations_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Maps an error to its HTTP status (400/401/403/404/413/429/503/500).
int http_status_for(ErrorCode code);

}  // namespace secchats::server
