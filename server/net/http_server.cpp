#include "net/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <type_traits>
#include <vector>

#include "net/blob_headers.hpp"
#include "net/io_context_pool.hpp"
#include "net/response_head.hpp"
#include "net/tls_context.hpp"
#include "secchats/common/log.hpp"

namespace secchats::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct HttpServer::Connection {
  // Plain when `context` is null, TLS otherwise.
  Connection(tcp::socket socket, std::shared_ptr<asio::ssl::context> context)
      : tls_context(std::move(context)),
        plain(tls_context ? nullptr : std::make_unique<beast::tcp_stream>(std::move(socket))),
        tls(tls_context ? std::make_unique<TlsStream>(std::move(socket), *tls_context) : nullptr),
        stream(tls ? tls->next_layer() : *plain) {
    // asio's engine asks OpenSSL to free its record buffers whenever they empty, so every
    // request and answer malloc'd and freed ~17 KiB twice; a busy connection keeps them.
    if (tls) SSL_clear_mode(tls->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  }
  std::shared_ptr<asio::ssl::context> tls_context;  // the context this connection started with
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::tcp_stream& stream;  // the TCP layer of either: timeouts, cancel, close
  bool busy = false;  // a request is being handled; touched only on the connection's context
};

Result<tcp::endpoint> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Error(ErrorCode::kInvalidArgument,
                 "listen address must be HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  auto port_text = std::string_view(text).substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Error(ErrorCode::kInvalidArgument, "invalid port in listen address '" + text + "'");
  }
  boost::system::error_code addr_ec;
  auto address = asio::ip::make_address(host, addr_ec);
  if (addr_ec) {
    return Error(ErrorCode::kInvalidArgument,
                 "listen host must be an IP address (or localhost), got '" + host + "'");
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

namespace {

bool is_loopback(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

template <typename Body>
void set_fields(http::response<Body>& res, const HttpReply& reply, bool keep_alive) {
  res.set(http::field::server, "secchats");
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : reply.headers)
    res.set(name, value);
  res.keep_alive(keep_alive);
}

// Beast's response for answers that do not take the direct path (net/response_head.hpp).
// Takes the body out of `reply`.
http::response<http::string_body> make_response(HttpReply& reply, unsigned version,
                                                bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  set_fields(res, reply, keep_alive);
  res.body() = std::move(reply.body);
  res.prepare_payload();
  return res;
}

// The header of a reply whose body is not in `reply.body`: a file, or none (HEAD).
http::response<http::empty_body> make_header_only(const HttpReply& reply, unsigned version,
                                                  bool keep_alive) {
  http::response<http::empty_body> res{static_cast<http::status>(reply.status), version};
  set_fields(res, reply, keep_alive);
  const std::uint64_t length = reply.file ? reply.file->length() : reply.body.size();
  if (reply.status != 204 && reply.status != 304 && reply.status >= 200) res.content_length(length);
  return res;
}

constexpr std::size_t kFilePiece = kBodyPieceBytes;  // bytes per read and write of a file body

// Bodies up to this size are copied behind the head and leave in one buffer (one TLS record,
// one send); larger ones go out as a second buffer of the same gather write.
constexpr std::size_t kCopiedBodyBytes = 16384;
// The answer buffer a connection keeps between requests; a larger one is freed after use.
constexpr std::size_t kKeptHeadBytes = 4096;

}  // namespace

// The coroutine that owns one connection from accept to close.
struct ServerAccess {
  // After refusing a request early, the client may still be sending its body; closing at once
  // would reset the connection and the client would never read our answer. Stop sending, then
  // read and discard for a short, bounded while (like nginx's lingering close).
  template <typename Stream>
  static asio::awaitable<void> linger(Stream& stream) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 16384> scratch;
    std::size_t discarded = 0;
    tcp_layer.expires_after(std::chrono::seconds(2));
    while (!ec && discarded < (8u << 20)) {
      discarded += co_await stream.async_read_some(asio::buffer(scratch),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // The TLS handshake, within its own time limit. False: the connection is to be closed.
  static asio::awaitable<bool> handshake(HttpServer& server, HttpServer::Connection& c) {
    boost::system::error_code ec;
    c.stream.expires_after(server.options_.tls_handshake_timeout);
    co_await c.tls->async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      log::debug("TLS handshake failed: " + ec.message());
      co_return false;
    }
    co_return true;
  }

  static asio::awaitable<void> serve(HttpServer& server,
                                     std::shared_ptr<HttpServer::Connection> c) {
    if (!c->tls) {
      co_await serve_stream(server, *c, *c->plain);
    } else if (co_await handshake(server, *c)) {
      const bool sent_last_answer = co_await serve_stream(server, *c, *c->tls);
      if (sent_last_answer) {
        // We end the connection: say so in TLS (close_notify), waiting briefly for the reply.
        boost::system::error_code ec;
        c->stream.expires_after(std::chrono::seconds(1));
        co_await c->tls->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    boost::system::error_code ignored;
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->stream.close();
  }

  // sendfile(2) in pieces of at most kSendfilePiece, waiting for the socket to take more with
  // the write timeout per wait. False when the file or the connection failed.
  static asio::awaitable<bool> send_file(tcp::socket& socket, const FileBody& file,
                                         std::chrono::milliseconds write_timeout) {
    constexpr std::uint64_t kSendfilePiece = 1 << 20;
    boost::system::error_code ec;
    socket.native_non_blocking(true, ec);
    if (ec) co_return false;
    off_t offset = static_cast<off_t>(file.offset());
    std::uint64_t left = file.length();
    while (left > 0) {
      const ssize_t n = ::sendfile(socket.native_handle(), file.fd(), &offset,
                                   static_cast<std::size_t>(std::min(left, kSendfilePiece)));
      if (n > 0) {
        left -= static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        asio::steady_timer timer(socket.get_executor(), write_timeout);
        timer.async_wait([&socket](const boost::system::error_code& expired) {
          boost::system::error_code ignored;
          if (!expired) socket.cancel(ignored);  // the client stopped reading
        });
        co_await socket.async_wait(tcp::socket::wait_write,
                                   asio::redirect_error(asio::use_awaitable, ec));
        timer.cancel();
        if (ec) co_return false;
        continue;
      }
      if (n < 0 && errno != EPIPE && errno != ECONNRESET) log::warn("blob sendfile failed");
      co_return false;  // an error, or the file is shorter than it should be
    }
    co_return true;
  }

  // Streams a PieceSource body: at most kFilePiece bytes asked for at a time (so memory stays
  // bounded whatever the body's length), each written with its own timeout. The socket's
  // clock is off while the source works (it has its own limits, e.g. the database's).
  template <typename Stream>
  static asio::awaitable<bool> write_pieces(Stream& stream, beast::tcp_stream& tcp_layer,
                                            const FileBody& body,
                                            std::chrono::milliseconds write_timeout) {
    std::uint64_t offset = body.offset();
    std::uint64_t left = body.length();
    while (left > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kFilePiece));
      tcp_layer.expires_never();
      Result<std::string> piece = co_await body.source()(offset, want);
      if (!piece.ok() || piece->empty() || piece->size() > want) {
        log::warn("blob read failed while sending");
        co_return false;
      }
      boost::system::error_code ec;
      tcp_layer.expires_after(write_timeout);
      co_await asio::async_write(stream, asio::buffer(*piece),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      offset += piece->size();
      left -= piece->size();
    }
    co_return true;
  }

  // Streams a file body in pieces, never whole: pread, then a write with its own timeout.
  // False when the file or the connection failed (the connection is then closed: the
  // client sees a short body, never a wrong one).
  template <typename Stream>
  static asio::awaitable<bool> write_file(Stream& stream, beast::tcp_stream& tcp_layer,
                                          const FileBody& file,
                                          std::chrono::milliseconds write_timeout) {
    if (file.source()) {
      bool sent = co_await write_pieces(stream, tcp_layer, file, write_timeout);
      co_return sent;
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      // Plain TCP: the kernel copies from the page cache to the socket (sendfile(2)).
      bool sent = co_await send_file(tcp_layer.socket(), file, write_timeout);
      co_return sent;
    }
    std::vector<char> piece(static_cast<std::size_t>(
        std::min<std::uint64_t>(kFilePiece, std::max<std::uint64_t>(file.length(), 1))));
    std::uint64_t offset = file.offset();
    std::uint64_t left = file.length();
    while (left > 0) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()));
      const ssize_t got = ::pread(file.fd(), piece.data(), want, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        log::warn("blob read failed while sending");
        co_return false;
      }
      boost::system::error_code ec;
      tcp_layer.expires_after(write_timeout);
      co_await asio::async_write(stream, asio::buffer(piece.data(), static_cast<std::size_t>(got)),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      offset += static_cast<std::uint64_t>(got);
      left -= static_cast<std::uint64_t>(got);
    }
    co_return true;
  }

  // Reads one request into `parser`. Whatever `buffer` already holds is parsed in place with
  // no I/O and no timer (a keep-alive request usually arrived whole with the read that
  // noticed it); the socket is read, within `deadline`, only while the request is
  // incomplete. Once the header is in, the body limit narrows to the request's route and an
  // announced oversize body is refused (http::error::body_limit) before any of it is read.
  // Errors as Beast's http::async_read reports them: end_of_stream when the peer closed
  // before sending anything, partial_message when it closed mid-request.
  template <typename Stream>
  static asio::awaitable<void> read_request(HttpServer& server, Stream& stream,
                                            beast::tcp_stream& tcp_layer,
                                            beast::flat_buffer& buffer,
                                            http::request_parser<http::string_body>& parser,
                                            std::chrono::steady_clock::time_point deadline,
                                            boost::system::error_code& ec) {
    constexpr std::size_t kReadBytes = 65536;  // at most this much asked of one read
    bool narrowed = false;
    for (;;) {
      std::size_t used = 0;
      if (buffer.size() > 0) {
        used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec == http::error::need_more) {
          ec = {};
        } else if (ec) {
          co_return;
        }
      }
      if (!narrowed && parser.is_header_done()) {
        narrowed = true;
        const std::size_t limit = server.router_.body_limit(
            parser.get().method_string(), parser.get().target(), server.options_.max_body_bytes);
        parser.body_limit(limit);
        if (parser.content_length() && *parser.content_length() > limit) {
          ec = http::error::body_limit;
          co_return;
        }
      }
      if (parser.is_done()) co_return;
      if (used > 0 && buffer.size() > 0) continue;  // the header is in; parse the body bytes
      tcp_layer.expires_at(deadline);
      const std::size_t got =
          co_await stream.async_read_some(buffer.prepare(beast::read_size(buffer, kReadBytes)),
                                          asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(got);
      if (ec == asio::error::eof) {
        if (!parser.got_some()) {
          ec = http::error::end_of_stream;
        } else {
          ec = {};
          parser.put_eof(ec);
          if (!ec && !parser.is_done()) ec = http::error::partial_message;
        }
        co_return;
      }
      if (ec) co_return;
    }
  }

  // The request loop, the same for plain and TLS streams; `c.stream` is the TCP layer below
  // `stream` (timeouts). True if it ended after a complete answer with "Connection: close".
  template <typename Stream>
  static asio::awaitable<bool> serve_stream(HttpServer& server, HttpServer::Connection& c,
                                            Stream& stream) {
    auto& tcp_layer = c.stream;
    const auto& opt = server.options_;
    boost::system::error_code peer_ec;  // the client address, for the per-address limits
    const auto peer = tcp_layer.socket().remote_endpoint(peer_ec);
    const std::string client_ip = peer_ec ? std::string() : peer.address().to_string();
    // Synchronous writes (the direct answer path below) only on a non-blocking plain socket.
    bool write_now = false;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      boost::system::error_code mode_ec;
      tcp_layer.socket().non_blocking(true, mode_ec);
      write_now = !mode_ec;
    }
    beast::flat_buffer buffer;
    std::string head;  // the direct path's answer bytes, reused from request to request
    bool first = true;
    bool sent_last_answer = false;
    for (;;) {
      if (server.stopping_.load()) break;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
      // Beast checks Content-Length against the limit while parsing the header: start with the
      // largest any route takes, and narrow it to the request's route once the header is in.
      parser.body_limit(std::max(opt.max_body_bytes, server.router_.max_body_limit()));
      boost::system::error_code ec;
      // The idle budget applies until the next request starts; from its first byte (from
      // accept, for the first request) the whole request, headers and body, must arrive
      // within request_timeout: slow senders cannot hold a slot longer than that.
      if (!first && buffer.size() == 0) {
        tcp_layer.expires_after(opt.idle_timeout);
        auto space = buffer.prepare(4096);
        const std::size_t got =
            co_await stream.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
        buffer.commit(got);
      }
      first = false;
      const auto deadline = std::chrono::steady_clock::now() + opt.request_timeout;
      if (!ec) co_await read_request(server, stream, tcp_layer, buffer, parser, deadline, ec);
      if (ec) {
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
          const bool body = ec == http::error::body_limit;
          HttpReply reply = server.router_.transport_error(
              body ? 413 : 431, body ? "request body too large" : "request header too large");
          tcp_layer.expires_after(opt.write_timeout);
          auto response = make_response(reply, 11, false);
          co_await http::async_write(stream, response,
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (!ec) co_await linger(stream);
        } else if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted &&
                   ec != beast::error::timeout && ec != asio::error::connection_reset &&
                   ec != asio::error::eof && ec != asio::ssl::error::stream_truncated &&
                   parser.got_some()) {
          HttpReply reply = server.router_.transport_error(400, "malformed HTTP request");
          tcp_layer.expires_after(opt.write_timeout);
          auto response = make_response(reply, 11, false);
          co_await http::async_write(stream, response,
                                     asio::redirect_error(asio::use_awaitable, ec));
        }
        break;
      }

      auto request = parser.release();
      const bool keep_alive = request.keep_alive();
      c.busy = true;
      // Handlers (long-poll in particular) may take longer than any socket timeout: the
      // transport's clock is off while the relay works, and back on for the write.
      tcp_layer.expires_never();
      // Named locals only around co_await: GCC 12 double-destroys temporaries there.
      std::string_view method = request.method_string();
      std::string_view target = request.target();
      std::string body = std::move(request.body());
      RequestContext context;
      context.client_ip = client_ip;
      for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it)
        context.forwarded_for = it->value();  // the last one, the nearest proxy's
      read_blob_headers(request, context);
      if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
        // A long-poll holds the connection for seconds with nothing to read or write: give
        // OpenSSL's record buffers back meanwhile (refused, harmlessly, if bytes are pending).
        if (target.starts_with("/longpoll")) SSL_free_buffers(stream.native_handle());
      }
      HttpReply reply =
          co_await server.router_.handle(method, target, std::move(body), std::move(context));
      const bool again = keep_alive && !server.stopping_.load();
      tcp_layer.expires_after(opt.write_timeout);
      if (reply.file || reply.omit_body) {
        auto response = make_header_only(reply, request.version(), again);
        http::response_serializer<http::empty_body> serializer{response};
        co_await http::async_write_header(stream, serializer,
                                          asio::redirect_error(asio::use_awaitable, ec));
        if (!ec && reply.file && !reply.omit_body) {
          const bool sent = co_await write_file(stream, tcp_layer, *reply.file, opt.write_timeout);
          if (!sent) ec = asio::error::broken_pipe;
        }
      } else if (has_plain_head(reply)) {
        // The common answer: head (and a small body) written directly into one buffer that
        // lives as long as the connection, in one write.
        head.clear();
        append_response_head(head, reply, request.version(), again);
        if (reply.body.size() <= kCopiedBodyBytes) {
          head += reply.body;
          std::size_t written = 0;
          if (write_now) {
            // Plain TCP: the socket almost always takes a small answer whole. Write it now,
            // with no async operation and no timer; only what a full socket buffer leaves
            // over waits, within the write timeout.
            written = tcp_layer.socket().write_some(asio::buffer(head), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
          }
          if (!ec && written < head.size()) {
            co_await asio::async_write(stream, asio::buffer(head) + written,
                                       asio::redirect_error(asio::use_awaitable, ec));
          }
        } else {
          const std::array<asio::const_buffer, 2> pieces{asio::buffer(head),
                                                         asio::buffer(reply.body)};
          co_await asio::async_write(stream, pieces, asio::redirect_error(asio::use_awaitable, ec));
        }
      } else {
        auto response = make_response(reply, request.version(), again);
        co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      }
      // An idle connection (a long-poll above all) keeps no large answer buffer.
      if (head.capacity() > kKeptHeadBytes) std::string().swap(head);
      c.busy = false;
      if (ec || !again) {
        sent_last_answer = !ec;
        break;
      }
    }
    co_return sent_last_answer;
  }

  // A connection over max_connections: answered 503 and closed (plain HTTP), or just closed
  // (TLS: a handshake is what an overloaded server should not spend). At most kMaxRefusing
  // answers are in flight, each bounded in time; beyond that connections are closed at once.
  static void refuse(HttpServer& server, tcp::socket socket, bool tls) {
    constexpr std::size_t kMaxRefusing = 256;
    HttpReply reply = server.router_.refuse_connection();
    if (tls || server.refusing_.load() >= kMaxRefusing) {
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    server.refusing_.fetch_add(1);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, answer_refused(std::move(socket), std::move(reply)),
                   [&server](std::exception_ptr) { server.refusing_.fetch_sub(1); });
  }

  static asio::awaitable<void> answer_refused(tcp::socket socket, HttpReply reply) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(1));
    auto response = make_response(reply, 11, false);
    boost::system::error_code ec;
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await linger(stream);  // so that the client reads the 503, not a reset
    stream.close();
  }

  static asio::awaitable<void> accept_loop(HttpServer& server, tcp::acceptor& acceptor, bool tls) {
    for (;;) {
      boost::system::error_code ec;
      // The connection's context runs on one thread, so its handlers need no strand.
      asio::io_context& context = server.pool_.next();
      tcp::socket socket =
          co_await acceptor.async_accept(context, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (server.stopping_.load() || ec == asio::error::operation_aborted) co_return;
        // Out of file descriptors and similar: log the kind of failure, keep serving.
        log::warn("accept failed: " + ec.message());
        // Out of descriptors fails again at once: pause rather than spin.
        asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      if (server.active_.load() >= server.options_.max_connections) {
        refuse(server, std::move(socket), tls);
        continue;
      }
      // A TLS connection keeps the context current at accept time, even across a reload.
      std::shared_ptr<asio::ssl::context> tls_context =
          tls ? server.options_.tls->current() : nullptr;
      auto conn = std::make_shared<HttpServer::Connection>(std::move(socket), tls_context);
      {
        std::lock_guard lock(server.connections_mutex_);
        server.connections_.insert(conn);
      }
      server.active_.fetch_add(1);
      auto ex = conn->stream.get_executor();
      asio::co_spawn(ex, serve(server, conn), [&server, conn](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& failure) {
            log::error(std::string("connection handler failed: ") + failure.what());
          }
        }
        {
          std::lock_guard lock(server.connections_mutex_);
          server.connections_.erase(conn);
        }
        server.active_.fetch_sub(1);
      });
    }
  }
};

HttpServer::HttpServer(IoContextPool& pool, HttpServerOptions options, ApiRouter& router)
    : pool_(pool), options_(std::move(options)), router_(router) {}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::create(IoContextPool& pool,
                                                       HttpServerOptions options,
                                                       ApiRouter& router) {
  if (options.listen.empty() && options.tls_listen.empty()) {
    return Error(ErrorCode::kInvalidArgument, "no listen address given");
  }
  if (!options.tls_listen.empty() && !options.tls) {
    return Error(ErrorCode::kInvalidArgument, "TLS listeners need a certificate and key");
  }
  std::vector<std::pair<std::string, bool>> wanted;  // address, TLS
  for (const auto& text : options.listen)
    wanted.emplace_back(text, false);
  for (const auto& text : options.tls_listen)
    wanted.emplace_back(text, true);
  auto server = std::unique_ptr<HttpServer>(new HttpServer(pool, std::move(options), router));
  for (const auto& [text, tls] : wanted) {
    SC_ASSIGN_OR_RETURN(tcp::endpoint endpoint, parse_listen_address(text));
    if (!tls && !server->options_.allow_plain_http && !is_loopback(endpoint.address())) {
      return Error(ErrorCode::kInvalidArgument,
                   "refusing plain HTTP on " + text +
                       ": not a loopback address, so requests and tokens would cross the "
                       "network unencrypted. Serve it with --tls-listen, or pass "
                       "--allow-plain-http if a TLS-terminating reverse proxy is in front");
    }
    auto acceptor = std::make_unique<tcp::acceptor>(pool.main());
    boost::system::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error(ErrorCode::kUnavailable, "cannot listen on " + text + ": " + ec.message());
    }
    server->acceptors_.push_back(std::move(acceptor));
    server->acceptor_tls_.push_back(tls);
  }
  return server;
}

std::vector<tcp::endpoint> HttpServer::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_)
    out.push_back(a->local_endpoint());
  return out;
}

std::vector<HttpServer::Listener> HttpServer::listeners() const {
  std::vector<Listener> out;
  for (std::size_t i = 0; i < acceptors_.size(); ++i)
    out.push_back({acceptors_[i]->local_endpoint(), acceptor_tls_[i]});
  return out;
}

void HttpServer::start() {
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    asio::co_spawn(acceptors_[i]->get_executor(),
                   ServerAccess::accept_loop(*this, *acceptors_[i], acceptor_tls_[i]),
                   asio::detached);
  }
}

void HttpServer::begin_shutdown() {
  if (stopping_.exchange(true)) return;
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->get_executor(), [a = acceptor.get()] {
      boost::system::error_code ignored;
      a->close(ignored);
    });
  }
  std::lock_guard lock(connections_mutex_);
  for (const auto& conn : connections_) {
    // Idle keep-alive connections are closed now; busy ones close after their response.
    asio::post(conn->stream.get_executor(), [conn] {
      boost::system::error_code ignored;  // the peer may have closed it meanwhile
      if (!conn->busy) conn->stream.socket().cancel(ignored);
    });
  }
}

}  // namespace secchats::server
