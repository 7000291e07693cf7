// RelayClient: the open API v1 over HTTP/1.1 (plain or TLS) with Boost.Beast.
//
// Every call is blocking for the caller, but runs as asynchronous operations on a private
// io_context: Beast's stream timeouts (expires_after/expires_at) only apply to asynchronous
// operations, the synchronous ones would ignore them and could hang forever.
#include "secchats/net/relay_client.hpp"

#include <atomic>

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "relay_endpoint.hpp"
#include "relay_status.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats::net {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace proto = secchats::protocol;
using namespace secchats::net::endpoint;  // NOLINT: the address and TLS helpers
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxResponseBytes = std::uint64_t{64} << 20;
constexpr std::size_t kMaxReasonChars = 200;
constexpr std::string_view kUserAgent = "secchats/0.1";
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The server's short reason: first line of the body, trimmed, at most 200 characters, no
// control characters. Falls back to the HTTP reason phrase.
std::string short_reason(std::string_view body, std::string_view phrase) {
  std::string_view line = body.substr(0, body.find_first_of("\r\n"));
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!line.empty() && is_space(line.front()))
    line.remove_prefix(1);
  while (!line.empty() && is_space(line.back()))
    line.remove_suffix(1);
  if (line.empty()) line = phrase;
  if (line.size() > kMaxReasonChars) {
    std::size_t cut = kMaxReasonChars;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
      --cut;
    line = line.substr(0, cut);
  }
  std::string out(line);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return out;
}

ErrorCode code_for_status(unsigned status) {
  switch (status) {
    case 401:
      return ErrorCode::kUnauthenticated;
    case 404:
      return ErrorCode::kNotFound;
    case 413:
      return ErrorCode::kTooLarge;
    case 429:
      return ErrorCode::kRateLimited;
    case 408:  // the relay gave up waiting for our request: worth trying again
    case 503:
      return ErrorCode::kUnavailable;
    default:
      // Any other 5xx is the relay's trouble, not the request's; other 4xx refuse the request.
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kRefused;
  }
}

// An HTML page (a proxy's or a web server's error page, e.g. HAProxy's 503 when no relay is
// up) is no relay reason: the relay answers errors in plain text.
bool is_html(std::string_view body) {
  const auto start = body.find_first_not_of(" \t\r\n");
  return start != std::string_view::npos && body[start] == '<';
}

Error status_error(unsigned status, std::string_view phrase, std::string_view body) {
  if (is_html(body)) {
    std::string message =
        "the relay (or a proxy in front of it) answered " + std::to_string(status);
    const std::string clean = short_reason({}, phrase);
    if (!clean.empty()) message += " " + clean;
    return Error(code_for_status(status), std::move(message));
  }
  std::string message = "server refused (" + std::to_string(status) + ")";
  std::string reason = short_reason(body, phrase);
  if (!reason.empty()) message += ": " + reason;
  return Error(code_for_status(status), std::move(message));
}

// A keep-alive connection the peer closed shows up as one of these before any response byte.
bool is_closed_error(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected;
}

std::string timed_out(std::chrono::milliseconds after) {
  return "timed out after " + std::to_string(after.count()) + " ms";
}

// Overwrites a string that held a token (a request body, a request object's field).
void wipe(std::string& s) {
  secure_wipe(s);
  s.clear();
}
void wipe(proto::OptString& s) {
  if (s) wipe(*s);
}

Error bad_response(std::string_view endpoint, const Error& decode_error) {
  return Error(ErrorCode::kCorrupt,
               "malformed answer from " + std::string(endpoint) + ": " + decode_error.message());
}

}  // namespace

struct RelayClient::Impl {
  using Request = http::request<http::string_body>;
  using Parser = http::response_parser<http::string_body>;

  Impl(ServerAddress a, RelayOptions o) : address(std::move(a)), options(o) {}
  ~Impl() { close(); }

  ServerAddress address;
  RelayOptions options;
  std::shared_ptr<asio::ssl::context> tls_context;  // https:// only
  std::optional<Sha256> pin;
  // Declared first so it outlives every I/O object below. Each RelayClient has its own: no
  // state is shared between instances.
  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  // The persistent connection, when open: `conn` for http://, `tls_conn` for https://.
  // round_trip() is generic over the stream type.
  std::optional<beast::tcp_stream> conn;
  std::optional<TlsStream> tls_conn;
  beast::flat_buffer buffer;
  // cancel() support: which call is in flight (read by other threads) and whether the one in
  // flight was cancelled (owner thread only, like everything above).
  std::atomic<std::uint64_t> call_seq{0};
  bool in_call = false;
  bool cancelled = false;

  // Marks a call in flight (a new sequence number for cancel()) until the scope ends.
  struct CallScope {
    bool& in_call;
    ~CallScope() { in_call = false; }
  };
  [[nodiscard]] CallScope begin_call() {
    call_seq.fetch_add(1);
    in_call = true;
    cancelled = false;
    return CallScope{in_call};
  }

  bool connected() const { return conn.has_value() || tls_conn.has_value(); }
  // The TCP layer of the open connection (timeouts, close).
  beast::tcp_stream& tcp_layer() { return tls_conn ? beast::get_lowest_layer(*tls_conn) : *conn; }

  // Runs handlers until `done` is set by the operation we wait for. False if the context
  // ran out of work first (a bug).
  bool run_until(const bool& done) {
    ioc.restart();
    while (!done) {
      if (ioc.run_one() == 0) return false;
    }
    return true;
  }

  void close() {
    if (connected()) {
      beast::error_code ignored;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp_layer().close();
    }
    tls_conn.reset();
    conn.reset();
    buffer.clear();
  }

  Error unreachable(std::string_view why) const {
    return Error(ErrorCode::kNetwork, "cannot reach " + address.origin + ": " + std::string(why));
  }

  // Resolves and connects within connect_timeout.
  Status open() {
    close();
    const auto deadline = Clock::now() + options.connect_timeout;

    // The resolver has no timeout of its own: race it against a timer. A lookup that loses
    // keeps running in asio's resolver thread, so its handler only touches shared state.
    struct Lookup {
      bool done = false;
      bool timed_out = false;
      beast::error_code ec;
      tcp::resolver::results_type results;
    };
    auto lookup = std::make_shared<Lookup>();
    asio::steady_timer timer(ioc);
    timer.expires_at(deadline);
    timer.async_wait([lookup](const beast::error_code& ec) {
      if (ec || lookup->done) return;
      lookup->done = true;
      lookup->timed_out = true;
    });
    resolver.async_resolve(address.host, address.port,
                           [lookup](const beast::error_code& ec, tcp::resolver::results_type r) {
                             if (lookup->done) return;
                             lookup->done = true;
                             lookup->ec = ec;
                             lookup->results = std::move(r);
                           });
    const bool ran = run_until(lookup->done);
    timer.cancel();
    if (!ran) return Error(ErrorCode::kInternal, "resolver stalled");
    if (lookup->timed_out) {
      resolver.cancel();
      return unreachable(timed_out(options.connect_timeout));
    }
    if (lookup->ec) return unreachable(lookup->ec.message());

    if (address.tls) {
      tls_conn.emplace(ioc, *tls_context);
    } else {
      conn.emplace(ioc);
    }
    tcp_layer().expires_at(deadline);
    bool done = false;
    beast::error_code ec;
    tcp_layer().async_connect(lookup->results,
                              [&](const beast::error_code& e, const tcp::endpoint&) {
                                ec = e;
                                done = true;
                              });
    if (!run_until(done)) {
      close();
      return Error(ErrorCode::kInternal, "connect stalled");
    }
    if (ec) {
      close();
      return unreachable(ec == beast::error::timeout ? timed_out(options.connect_timeout)
                                                     : ec.message());
    }
    if (address.tls) {
      Status secured = handshake(deadline);
      if (!secured.ok()) {
        close();
        return secured;
      }
    }
    tcp_layer().expires_never();
    return ok_status();
  }

  // TLS on the fresh connection, within the connect deadline: SNI, then the certificate
  // checks RelayOptions asks for. kInsecure for anything wrong with the certificate.
  Status handshake(Clock::time_point deadline) {
    SSL* ssl = tls_conn->native_handle();
    if (!address.ip_literal &&
        SSL_set_tlsext_host_name(ssl, const_cast<char*>(address.host.c_str())) != 1) {
      return Error(ErrorCode::kInternal, "cannot set the TLS server name");
    }
    const bool check_chain = !pin || !options.ca_file.empty();
    if (check_chain) {
      // The certificate must name the host we asked for (checked during the handshake).
      const int named = address.ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                                                           address.host.c_str())
                                           : SSL_set1_host(ssl, address.host.c_str());
      if (named != 1) return Error(ErrorCode::kInternal, "cannot set the expected host name");
    }
    tcp_layer().expires_at(deadline);
    bool done = false;
    beast::error_code ec;
    tls_conn->async_handshake(asio::ssl::stream_base::client, [&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
    if (!run_until(done)) return Error(ErrorCode::kInternal, "TLS handshake stalled");
    if (ec) {
      const long verified = SSL_get_verify_result(ssl);
      if (check_chain && verified != X509_V_OK) {
        return Error(ErrorCode::kInsecure, std::string("certificate verify failed: ") +
                                               X509_verify_cert_error_string(verified) + " (" +
                                               address.origin + ")");
      }
      if (ec == beast::error::timeout) return unreachable(timed_out(options.connect_timeout));
      if (ec.category() == asio::error::get_ssl_category()) {
        return Error(ErrorCode::kInsecure,
                     "TLS handshake with " + address.origin + " failed: " + ec.message());
      }
      return unreachable("TLS handshake failed: " + ec.message());
    }
    if (pin) {
      X509* cert = SSL_get1_peer_certificate(ssl);
      const Sha256 seen = cert != nullptr ? certificate_sha256(cert) : Sha256();
      X509_free(cert);
      if (seen.size() != pin->size() || CRYPTO_memcmp(seen.data(), pin->data(), seen.size()) != 0) {
        return Error(ErrorCode::kInsecure, "certificate pin mismatch: " + address.origin +
                                               " presented a certificate with SHA-256 " +
                                               base64_encode(seen) + ", the pin is " +
                                               base64_encode(*pin));
      }
    }
    return ok_status();
  }

  // Writes `request` whole, within the expiry the caller set on the stream.
  template <typename Stream>
  beast::error_code write_request(Stream& stream, const Request& request) {
    bool done = false;
    beast::error_code ec;
    http::async_write(stream, request, [&](const beast::error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(done)) return asio::error::operation_aborted;
    return ec;
  }

  // Writes the request and reads the response, both before `deadline`.
  template <typename Stream>
  beast::error_code round_trip(Stream& stream, const Request& request, Parser& parser,
                               Clock::time_point deadline) {
    beast::get_lowest_layer(stream).expires_at(deadline);
    beast::error_code ec = write_request(stream, request);
    if (ec) return ec;

    bool done = false;
    beast::get_lowest_layer(stream).expires_at(deadline);
    http::async_read(stream, buffer, parser, [&](const beast::error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(done)) return asio::error::operation_aborted;
    beast::get_lowest_layer(stream).expires_never();
    return ec;
  }

  // POSTs `body` to prefix + `endpoint`; returns the body of a 200 answer. The request body
  // carries the token, so it is wiped once sent and never appears in an error.
  Result<std::string> call(std::string_view endpoint, std::string body,
                           std::chrono::milliseconds timeout) {
    Request request{http::verb::post, address.prefix + std::string(endpoint), 11};
    request.set(http::field::host, address.host_header);
    request.set(http::field::user_agent, kUserAgent);
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() = std::move(body);
    request.prepare_payload();
    struct WipeBody {
      std::string& s;
      ~WipeBody() { wipe(s); }
    } wipe_body{request.body()};

    const CallScope call = begin_call();

    for (int attempt = 0;; ++attempt) {
      const bool reused = connected();
      if (!reused) SC_TRY(open());

      Parser parser;
      parser.body_limit(kMaxResponseBytes);
      const auto deadline = Clock::now() + timeout;
      const beast::error_code ec = tls_conn ? round_trip(*tls_conn, request, parser, deadline)
                                            : round_trip(*conn, request, parser, deadline);
      if (!ec) {
        auto response = parser.release();
        if (!response.keep_alive()) close();
        const unsigned status = response.result_int();
        if (status != 200) return status_error(status, response.reason(), response.body());
        return std::move(response.body());
      }

      // Only a kept connection that the server had already closed is worth one more try:
      // nothing of an answer arrived, so the request cannot have been half-answered.
      const bool stale = !cancelled && reused && attempt == 0 && !parser.got_some() &&
                         buffer.size() == 0 && is_closed_error(ec);
      close();
      if (cancelled) return Error(ErrorCode::kUnavailable, "request cancelled");
      if (stale) continue;
      if (ec == beast::error::timeout) return Error(ErrorCode::kNetwork, timed_out(timeout));
      if (ec == http::error::body_limit) {
        return Error(ErrorCode::kTooLarge,
                     "answer from " + std::string(endpoint) + " is larger than 64 MiB");
      }
      return Error(ErrorCode::kNetwork,
                   "connection to " + address.origin + " failed: " + ec.message());
    }
  }

  Result<std::string> call(std::string_view endpoint, std::string body) {
    return call(endpoint, std::move(body), options.request_timeout);
  }

  // The blob exchange (RelayClient::exchange). The body is read in pieces of kPieceBytes,
  // each within the request timeout; a 2xx body goes to `sink` (or is collected, at most
  // kMaxRawBody), any other body is collected for its reason.
  static constexpr std::size_t kPieceBytes = 65536;
  static constexpr std::size_t kMaxRawBody = 65536;
  using RawParser = http::response_parser<http::buffer_body>;

  template <typename Stream>
  beast::error_code raw_round_trip(Stream& stream, const Request& request, RawParser& parser,
                                   std::chrono::milliseconds write_timeout,
                                   const std::function<bool(const char*, std::size_t)>& piece) {
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    beast::error_code ec = write_request(stream, request);
    if (ec) return ec;

    bool done = false;
    beast::get_lowest_layer(stream).expires_after(options.request_timeout);
    http::async_read_header(stream, buffer, parser, [&](const beast::error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(done)) return asio::error::operation_aborted;
    if (ec) return ec;
    std::vector<char> chunk(kPieceBytes);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      done = false;
      beast::get_lowest_layer(stream).expires_after(options.request_timeout);
      http::async_read(stream, buffer, parser, [&](const beast::error_code& e, std::size_t) {
        ec = e;
        done = true;
      });
      if (!run_until(done)) return asio::error::operation_aborted;
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return ec;
      const std::size_t got = chunk.size() - parser.get().body().size;
      if (got > 0 && !piece(chunk.data(), got)) return asio::error::operation_aborted;
    }
    beast::get_lowest_layer(stream).expires_never();
    return ec;
  }

  static void copy_header(const http::response<http::buffer_body>& from, RawResponse& to) {
    to.status = from.result_int();
    to.headers.clear();
    for (const auto& field : from)
      to.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }

  Result<RawResponse> raw_call(const RelayClient::RawRequest& raw, const BlobSink* sink,
                               const HeaderCheck* on_header) {
    const auto verb = http::string_to_verb(raw.method);
    Request request{verb, address.prefix + raw.target, 11};
    request.set(http::field::host, address.host_header);
    request.set(http::field::user_agent, kUserAgent);
    if (raw.me != nullptr) {
      request.set("X-Secchats-User", raw.me->user_id);
      request.set(http::field::authorization, "Bearer " + raw.me->auth_token.str());
    }
    for (const auto& [name, value] : raw.headers)
      request.set(name, value);
    request.keep_alive(true);
    request.body().assign(reinterpret_cast<const char*>(raw.body.data()), raw.body.size());
    if (verb == http::verb::post || verb == http::verb::patch || !raw.body.empty()) {
      request.prepare_payload();
    }
    struct WipeAuth {
      Request& r;
      ~WipeAuth() {
        auto it = r.find(http::field::authorization);
        if (it != r.end()) {
          const auto value = it->value();  // the token, in the field's own storage
          secure_wipe(const_cast<char*>(value.data()), value.size());
        }
      }
    } wipe_auth{request};
    // A PATCH body of many MiB gets a write timeout per started MiB, not one for it all.
    const auto mib = static_cast<long>(raw.body.size() >> 20) + 1;
    const std::chrono::milliseconds write_timeout = options.request_timeout * mib;

    const CallScope call = begin_call();

    for (int attempt = 0;; ++attempt) {
      const bool reused = connected();
      if (!reused) SC_TRY(open());

      RawParser parser;
      parser.body_limit(boost::none);
      if (verb == http::verb::head) parser.skip(true);
      RawResponse out;
      Status sink_status;
      bool to_sink = false;
      bool header_seen = false;
      bool delivered = false;
      const auto piece = [&](const char* data, std::size_t size) -> bool {
        if (!header_seen) {
          header_seen = true;
          const unsigned status = parser.get().result_int();
          to_sink = sink != nullptr && status >= 200 && status < 300;
          if (to_sink && on_header != nullptr) {
            copy_header(parser.get(), out);
            sink_status = (*on_header)(out);
            if (!sink_status.ok()) return false;
          }
        }
        if (to_sink) {
          delivered = true;
          sink_status = (*sink)(
              std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size));
          return sink_status.ok();
        }
        if (out.body.size() + size > kMaxRawBody) return false;
        out.body.append(data, size);
        return true;
      };
      const beast::error_code ec =
          tls_conn ? raw_round_trip(*tls_conn, request, parser, write_timeout, piece)
                   : raw_round_trip(*conn, request, parser, write_timeout, piece);
      if (!sink_status.ok()) {
        close();
        return sink_status.error();
      }
      if (!ec) {
        const auto& response = parser.get();
        if (!response.keep_alive()) close();
        copy_header(response, out);
        if (out.status < 200 || out.status >= 300) {
          out.reason = short_reason(out.body, response.reason());
          out.body.clear();
        }
        return out;
      }
      const bool stale = !cancelled && !delivered && reused && attempt == 0 && !parser.got_some() &&
                         buffer.size() == 0 && is_closed_error(ec);
      close();
      if (cancelled) return Error(ErrorCode::kUnavailable, "request cancelled");
      if (stale) continue;
      if (ec == beast::error::timeout) {
        return Error(ErrorCode::kNetwork, timed_out(options.request_timeout));
      }
      if (ec == asio::error::operation_aborted) {
        return Error(ErrorCode::kCorrupt, "answer from " + raw.target + " is too long");
      }
      return Error(ErrorCode::kNetwork,
                   "connection to " + address.origin + " failed: " + ec.message());
    }
  }
};

const std::string* RelayClient::RawResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &value;
    }
  }
  return nullptr;
}

Result<RelayClient::RawResponse> RelayClient::exchange(const RawRequest& request,
                                                       const BlobSink* sink,
                                                       const HeaderCheck* on_header) {
  return impl_->raw_call(request, sink, on_header);
}

Error relay_status_error(unsigned status, std::string_view reason) {
  if (status == 507) {
    return Error(ErrorCode::kUnavailable,
                 "relay storage full or quota exceeded: " + std::string(reason));
  }
  return status_error(status, reason, {});
}

Result<std::unique_ptr<RelayClient>> RelayClient::create(std::string_view server_url,
                                                         RelayOptions options) {
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0 ||
      options.long_poll_timeout.count() <= 0) {
    return Error(ErrorCode::kInvalidArgument, "relay timeouts must be positive");
  }
  SC_ASSIGN_OR_RETURN(ServerAddress address, parse_server_url(server_url));
  if (!address.tls) {
    if (!options.ca_file.empty() || !options.pin_sha256.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "a CA file or certificate pin needs an https:// server URL");
    }
    if (!address.loopback && !options.allow_insecure_http) {
      return Error(ErrorCode::kInsecure,
                   "refusing plain http:// to " + address.host +
                       ": the token and everything sent would cross the network unencrypted; "
                       "use https:// (or explicitly allow insecure HTTP)");
    }
  }
  std::optional<Sha256> pin;
  if (!options.pin_sha256.empty()) {
    SC_ASSIGN_OR_RETURN(Sha256 parsed, parse_pin(options.pin_sha256));
    pin = std::move(parsed);
  }
  std::shared_ptr<asio::ssl::context> tls_context;
  if (address.tls) {
    SC_ASSIGN_OR_RETURN(tls_context, make_tls_context(options, pin.has_value()));
  }
  auto impl = std::make_unique<Impl>(std::move(address), options);
  impl->tls_context = std::move(tls_context);
  impl->pin = std::move(pin);
  return std::unique_ptr<RelayClient>(new RelayClient(std::move(impl)));
}

RelayClient::RelayClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RelayClient::~RelayClient() = default;

Result<protocol::User> RelayClient::register_user() {
  SC_ASSIGN_OR_RETURN(std::string body, impl_->call("/register", {}));
  auto user = proto::decode_user(body, proto::UnknownFields::kIgnore);
  if (!user.ok()) return bad_response("/register", user.error());
  if (!user->user_id || user->user_id->empty() || !user->auth_token || user->auth_token->empty()) {
    return Error(ErrorCode::kCorrupt, "server answered /register without userId or authToken");
  }
  return user;
}

Result<protocol::Group> RelayClient::register_group(const Credentials& me) {
  proto::User user{me.user_id, "", me.auth_token.str(), 0};
  std::string request = proto::encode(user);
  wipe(user.auth_token);
  SC_ASSIGN_OR_RETURN(std::string body, impl_->call("/register2", std::move(request)));
  auto group = proto::decode_group(body, proto::UnknownFields::kIgnore);
  if (!group.ok()) return bad_response("/register2", group.error());
  if (!group->group_id || group->group_id->empty()) {
    return Error(ErrorCode::kCorrupt, "server answered /register2 without groupId");
  }
  return group;
}

Result<protocol::Notifications> RelayClient::receive(const Credentials& me, std::int64_t after) {
  proto::User user{me.user_id, "", me.auth_token.str(), after};
  std::string request = proto::encode(user);
  wipe(user.auth_token);
  SC_ASSIGN_OR_RETURN(std::string body, impl_->call("/receive", std::move(request)));
  auto notifications = proto::decode_notifications(body, proto::UnknownFields::kIgnore);
  if (!notifications.ok()) return bad_response("/receive", notifications.error());
  return notifications;
}

Status RelayClient::connect(const Credentials& me, protocol::FriendRequest request) {
  request.from_user_id = me.user_id;
  request.auth_token = me.auth_token.str();
  std::string body = proto::encode(request);
  wipe(request.auth_token);
  SC_TRY(impl_->call("/connect", std::move(body)));
  return ok_status();
}

Status RelayClient::respond(const Credentials& me, protocol::FriendResponse response) {
  response.from_user_id = me.user_id;
  response.auth_token = me.auth_token.str();
  std::string body = proto::encode(response);
  wipe(response.auth_token);
  SC_TRY(impl_->call("/connect2", std::move(body)));
  return ok_status();
}

Status RelayClient::post_message(const Credentials& me, protocol::SendMessage message) {
  message.from_user_id = me.user_id;
  message.auth_token = me.auth_token.str();
  std::string body = proto::encode(message);
  wipe(message.auth_token);
  SC_TRY(impl_->call("/postmsg", std::move(body)));
  return ok_status();
}

Status RelayClient::invite(const Credentials& me, protocol::GroupInvite invite) {
  invite.from_user_id = me.user_id;
  invite.auth_token = me.auth_token.str();
  std::string body = proto::encode(invite);
  wipe(invite.auth_token);
  SC_TRY(impl_->call("/groupinv", std::move(body)));
  return ok_status();
}

Status RelayClient::post_group(const Credentials& me, protocol::SendMessage message) {
  message.from_user_id = me.user_id;
  message.auth_token = me.auth_token.str();
  std::string body = proto::encode(message);
  wipe(message.auth_token);
  SC_TRY(impl_->call("/postgroup", std::move(body)));
  return ok_status();
}

Result<protocol::GroupNotifications> RelayClient::poll_group(const Credentials& me,
                                                             std::string_view group_id,
                                                             std::int64_t after) {
  proto::PollGroup poll{me.user_id, me.auth_token.str(), std::string(group_id), after};
  std::string request = proto::encode(poll);
  wipe(poll.auth_token);
  SC_ASSIGN_OR_RETURN(std::string body, impl_->call("/pollgroup", std::move(request)));
  auto notifications = proto::decode_group_notifications(body, proto::UnknownFields::kIgnore);
  if (!notifications.ok()) return bad_response("/pollgroup", notifications.error());
  return notifications;
}

Result<protocol::GroupNotifications> RelayClient::poll_groups(
    const Credentials& me, const std::vector<std::string>& group_ids, std::int64_t after) {
  proto::PollGroups poll{me.user_id, me.auth_token.str(), group_ids, after};
  std::string request = proto::encode(poll);
  wipe(poll.auth_token);
  SC_ASSIGN_OR_RETURN(std::string body, impl_->call("/pollgroups", std::move(request)));
  auto notifications = proto::decode_group_notifications(body, proto::UnknownFields::kIgnore);
  if (!notifications.ok()) return bad_response("/pollgroups", notifications.error());
  return notifications;
}

void RelayClient::cancel() {
  Impl* impl = impl_.get();
  const std::uint64_t seq = impl->call_seq.load();
  // The handler runs on the thread inside call(), between its I/O steps: closing the socket
  // there ends the pending operation with operation_aborted. A handler that arrives after
  // the call it was meant for (the sequence moved on) does nothing.
  asio::post(impl->ioc, [impl, seq] {
    if (!impl->in_call || impl->call_seq.load() != seq || !impl->connected()) return;
    impl->cancelled = true;
    beast::error_code ignored;
    impl->tcp_layer().socket().close(ignored);
  });
}

Result<std::optional<std::string>> RelayClient::long_poll(const Credentials& me,
                                                          const std::vector<std::string>& ids,
                                                          std::int64_t after) {
  proto::PollGroups poll{me.user_id, me.auth_token.str(), ids, after};
  std::string request = proto::encode(poll);
  wipe(poll.auth_token);
  SC_ASSIGN_OR_RETURN(std::string body, impl_->call("/longpoll", std::move(request),
                                                    impl_->options.long_poll_timeout));
  std::string_view text = body;
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
  };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  if (text.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(text));
}

}  // namespace secchats::net
