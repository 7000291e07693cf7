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
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cctype>
#include <utility>

#include "secchats/common/encoding.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats::net {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
namespace proto = secchats::protocol;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxResponseBytes = std::uint64_t{64} << 20;
constexpr std::size_t kMaxReasonChars = 200;
constexpr std::string_view kUserAgent = "secchats/0.1";
constexpr std::string_view kDefaultPort = "80";
constexpr std::string_view kDefaultTlsPort = "443";
// TLS 1.2 suites we accept: ECDHE (forward secrecy) with AEAD ciphers only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Sha256 = std::vector<std::uint8_t>;

// Where the relay is, split the ways the transport needs it.
struct ServerAddress {
  std::string host;         // for the resolver: decoded, IPv6 without brackets
  std::string port;         // decimal digits
  std::string host_header;  // "host[:port]" as written, IPv6 in brackets
  std::string prefix;       // "" or "/some/prefix" (no trailing slash), prepended to endpoints
  std::string origin;       // "http(s)://host[:port]", for messages
  bool tls = false;         // https://
  bool ip_literal = false;  // host is an IP address (no SNI; the certificate must name the IP)
  bool loopback = false;    // 127.0.0.0/8, ::1 or "localhost"
};

Error invalid_url(std::string_view why) {
  return Error(ErrorCode::kInvalidArgument, "invalid server URL: " + std::string(why));
}

bool valid_host_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

Result<ServerAddress> parse_server_url(std::string_view text) {
  auto parsed = urls::parse_uri(text);
  if (!parsed) return invalid_url(parsed.error().message());
  const urls::url_view& url = *parsed;
  if (url.scheme_id() != urls::scheme::http && url.scheme_id() != urls::scheme::https) {
    return Error(ErrorCode::kInvalidArgument, "the server URL must start with https:// or http://");
  }
  if (!url.has_authority() || url.encoded_host().empty()) return invalid_url("no host");
  if (url.has_userinfo()) return invalid_url("user:password@ is not supported");
  if (url.has_query() || url.has_fragment()) return invalid_url("no query or fragment allowed");

  ServerAddress out;
  out.tls = url.scheme_id() == urls::scheme::https;
  switch (url.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6: {
      out.host = url.host_address();
      out.ip_literal = true;
      boost::system::error_code ec;
      const auto ip = asio::ip::make_address(out.host, ec);
      if (ec) return invalid_url("bad IP address");
      out.loopback = ip.is_loopback() ||
                     (ip.is_v6() && ip.to_v6().is_v4_mapped() &&
                      asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6()).is_loopback());
      break;
    }
    case urls::host_type::name: {
      out.host = url.host_address();
      if (!valid_host_name(out.host)) return invalid_url("bad host name");
      std::string lower = out.host;
      for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.loopback = lower == "localhost";
      break;
    }
    default:
      return invalid_url("unsupported host");
  }

  std::string_view port = url.has_port() ? std::string_view(url.port()) : std::string_view();
  if (!port.empty()) {
    unsigned long value = 0;
    for (char c : port) {  // the URL grammar already guarantees digits
      value = value * 10 + static_cast<unsigned long>(c - '0');
      if (value > 65535) return invalid_url("port out of range");
    }
    if (value == 0) return invalid_url("port out of range");
    out.port = std::to_string(value);
  } else {
    out.port = std::string(out.tls ? kDefaultTlsPort : kDefaultPort);
  }
  out.host_header = std::string(url.encoded_host());
  if (!port.empty()) out.host_header += ":" + out.port;
  out.origin = (out.tls ? "https://" : "http://") + out.host_header;

  std::string_view path = url.encoded_path();
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (!path.empty() && path.front() != '/') return invalid_url("bad path");
  out.prefix = std::string(path);
  return out;
}

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

Error status_error(unsigned status, std::string_view phrase, std::string_view body) {
  std::string message = "server refused (" + std::to_string(status) + ")";
  std::string reason = short_reason(body, phrase);
  if (!reason.empty()) message += ": " + reason;
  return Error(code_for_status(status), std::move(message));
}

// A pin: SHA-256 as base64 (44 characters, or 43 without the padding) or hex (64 digits,
// optionally with colons, either case).
Result<Sha256> parse_pin(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c != ':') hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() == 64) {
    if (auto bytes = hex_decode(hex)) return std::move(*bytes);
  }
  std::string b64(text);
  if (b64.size() == 43) b64 += "=";
  if (auto bytes = base64_decode(b64); bytes && bytes->size() == 32) return std::move(*bytes);
  return Error(ErrorCode::kInvalidArgument,
               "the certificate pin must be a SHA-256 in base64 (44 characters) or hex "
               "(64 digits)");
}

Sha256 certificate_sha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), md, &size) != 1) return {};
  return Sha256(md, md + size);
}

// The client side of our TLS policy: 1.2 or newer, AEAD with forward secrecy, verification
// as RelayOptions describes.
Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const RelayOptions& options,
                                                             bool pinned) {
  std::shared_ptr<asio::ssl::context> context;
  try {
    context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Error(ErrorCode::kInternal, "cannot apply the TLS policy");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  beast::error_code ec;
  if (pinned && options.ca_file.empty()) {
    // The pin alone decides (checked after the handshake).
    context->set_verify_mode(asio::ssl::verify_none, ec);
    return context;
  }
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (ec) {
      return Error(ErrorCode::kInvalidArgument,
                   "cannot load CA file " + options.ca_file + ": " + ec.message());
    }
    // Every certificate in the file is an anchor, a server's own self-signed one included.
    X509_STORE_set_flags(SSL_CTX_get_cert_store(native), X509_V_FLAG_PARTIAL_CHAIN);
  } else {
    context->set_default_verify_paths(ec);
    if (ec) {
      return Error(ErrorCode::kInternal,
                   "cannot load the system's trusted certificates: " + ec.message());
    }
  }
  context->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return Error(ErrorCode::kInternal, "cannot configure TLS: " + ec.message());
  return context;
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

  // Writes the request and reads the response, both before `deadline`.
  template <typename Stream>
  beast::error_code round_trip(Stream& stream, const Request& request, Parser& parser,
                               Clock::time_point deadline) {
    bool done = false;
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_at(deadline);
    http::async_write(stream, request, [&](const beast::error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(done)) return asio::error::operation_aborted;
    if (ec) return ec;

    done = false;
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

    call_seq.fetch_add(1);
    in_call = true;
    cancelled = false;
    struct EndCall {
      bool& in_call;
      ~EndCall() { in_call = false; }
    } end_call{in_call};

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
};

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
