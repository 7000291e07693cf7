// An HTTP/1.1 reverse proxy for tests that play the malicious or lossy relay: it sits between
// clients and the real server, records every exchange, and can rewrite request or response
// bodies, drop requests, and replay a recorded request straight to the server.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/http_client.hpp"

namespace secchats::testing {

class TamperingProxy {
 public:
  // One request through the proxy, in arrival order.
  struct Exchange {
    std::string method;          // "GET", "POST", ...
    std::string path;            // the request target as the client sent it ("/postmsg")
    std::string request_body;    // as the client sent it
    std::string forwarded_body;  // as the server received it (request_body unless rewritten)
    int status = 0;              // what the client got; 0 while in flight or if cut
    std::string response_body;   // what the client got (after any response rewrite)
    std::string upstream_body;   // what the server answered (before any response rewrite)
    bool completed = false;      // the answer was ready (recorded just before it is written)
    bool dropped = false;        // answered 503 by the proxy, never forwarded
    bool answer_lost = false;    // forwarded, then the connection cut instead of answering
    bool request_rewritten = false;
    bool response_rewritten = false;
    // The request's headers as the client sent them (name as written, value).
    std::vector<std::pair<std::string, std::string>> request_headers;
    // The value of a request header (case-insensitive name), "" if absent.
    std::string header(std::string_view name) const;
  };

  // Returns a replacement body, or nullopt to leave the body as it is. Content-Length is
  // recomputed. Called on a proxy thread, never with the proxy's lock held: a callback may
  // call exchanges() or any setter.
  using RequestRewriter =
      std::function<std::optional<std::string>(std::string_view path, std::string_view body)>;
  // `request_body` is the body the server received; `response_body` is its answer.
  using ResponseRewriter = std::function<std::optional<std::string>(
      std::string_view path, std::string_view request_body, std::string_view response_body)>;
  // True: answer 503 "dropped by the test proxy" without forwarding (loss simulation).
  using DropFilter = std::function<bool(std::string_view path, std::string_view body)>;
  // True: forward the request (the relay commits it), then cut the client's connection
  // without an answer — a timeout or lost connection after the relay took it.
  using LoseAnswerFilter = std::function<bool(std::string_view path, std::string_view body)>;

  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:upstream_port. Every
  // connection is served concurrently (a long-poll never holds up other requests); client
  // connections are kept alive, each request gets a fresh upstream connection.
  explicit TamperingProxy(unsigned short upstream_port);
  // Stops at once: connections in flight, long-polls included, are cut.
  ~TamperingProxy();
  TamperingProxy(const TamperingProxy&) = delete;
  TamperingProxy& operator=(const TamperingProxy&) = delete;

  unsigned short port() const;
  unsigned short upstream_port() const;
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // Set or clear (pass {}) the hooks. They apply to requests that arrive afterwards.
  void set_request_rewriter(RequestRewriter rewriter);
  void set_response_rewriter(ResponseRewriter rewriter);
  void set_drop(DropFilter filter);
  void set_lose_answer(LoseAnswerFilter filter);
  // Paces bodies at `bytes_per_second` (0, the default: full speed) so that a test can catch a
  // transfer half-way: a request body is forwarded only after the time it takes at that
  // rate, a response body is written in 64 KiB slices at that rate.
  void set_throttle(std::uint64_t bytes_per_second);
  // Removes every hook (and the throttle).
  void reset_hooks();

  // Copies of the recorded exchanges in arrival order (all, or those with this exact path).
  std::vector<Exchange> exchanges() const;
  std::vector<Exchange> exchanges(std::string_view path) const;
  // Forgets the recorded exchanges (requests in flight are not recorded any more either).
  void clear();
  // Waits until `pred` holds for the recorded exchanges; false on timeout.
  bool wait_for(const std::function<bool(const std::vector<Exchange>&)>& pred,
                std::chrono::milliseconds timeout) const;

  // Sends a request again, directly to the server (not through the proxy, not recorded).
  HttpResult replay(std::string_view path, std::string_view body) const;  // POST
  // The recorded request exactly as the server received it (method and forwarded body).
  HttpResult replay(const Exchange& exchange) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::testing
