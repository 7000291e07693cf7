// HTTP/1.1 transport: plain and TLS listeners and one coroutine per connection (the same code
// for both stream types), with a limit or a timeout on every read and write. Knows nothing about
// the relay beyond ApiRouter::handle().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "api/router.hpp"
#include "secchats/common/result.hpp"

namespace secchats::server {

class TlsContext;
class IoContextPool;

struct HttpServerOptions {
  std::vector<std::string> listen;  // HOST:PORT, port 0 picks a free port
  // HTTPS listeners (HOST:PORT); they need `tls`, whose current context each new
  // connection takes (so a reload reaches new connections only).
  std::vector<std::string> tls_listen;
  std::shared_ptr<TlsContext> tls;
  // Plain-HTTP listeners must be on loopback addresses unless this is set (for a reverse
  // proxy that terminates TLS in front of us).
  bool allow_plain_http = false;
  std::chrono::milliseconds tls_handshake_timeout{10000};
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  // A client must deliver a whole request (headers and body) within this time...
  std::chrono::milliseconds request_timeout{30000};
  // ...and a kept-alive connection may sit idle between requests this long.
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{30000};
  // Connections served at once; further ones get a 503 (plain HTTP) or are closed (TLS).
  std::size_t max_connections = 10000;
};

// Parses "HOST:PORT" / "[v6]:PORT".
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(const std::string& text);

class HttpServer {
 public:
  // Listeners run on pool.main(); each accepted connection is served on pool.next().
  static Result<std::unique_ptr<HttpServer>> create(IoContextPool& pool, HttpServerOptions options,
                                                    ApiRouter& router);
  ~HttpServer();

  // The bound addresses (with real ports when 0 was asked for).
  std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;
  struct Listener {
    boost::asio::ip::tcp::endpoint endpoint;
    bool tls = false;
  };
  std::vector<Listener> listeners() const;
  void start();
  // Stops accepting and closes idle connections; requests in flight finish and are answered.
  void begin_shutdown();
  std::size_t active_connections() const { return active_.load(); }

  struct Connection;  // per-connection state shared with the shutdown path

 private:
  HttpServer(IoContextPool& pool, HttpServerOptions options, ApiRouter& router);

  IoContextPool& pool_;
  HttpServerOptions options_;
  ApiRouter& router_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<bool> acceptor_tls_;  // parallel to acceptors_: serves HTTPS
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> active_{0};
  std::atomic<std::size_t> refusing_{0};  // over-limit connections still being answered
  std::mutex connections_mutex_;
  std::unordered_set<std::shared_ptr<Connection>> connections_;

  friend struct ServerAccess;
};

}  // namespace secchats::server
