// RelayClient: the open API v1 over plain HTTP/1.1 with Boost.Beast.
//
// Every call is blocking for the caller, but runs as asynchronous operations on a private
// io_context: Beast's stream timeouts (expires_after/expires_at) only apply to asynchronous
// operations, the synchronous ones would ignore them and could hang forever.
#include "secchats/net/relay_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>
#include <utility>

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

// Where the relay is, split the ways the transport needs it.
struct ServerAddress {
  std::string host;         // for the resolver: decoded, IPv6 without brackets
  std::string port;         // decimal digits
  std::string host_header;  // "host[:port]" as written, IPv6 in brackets
  std::string prefix;       // "" or "/some/prefix" (no trailing slash), prepended to endpoints
  std::string origin;       // "http://host[:port]", for messages
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
  // TLS comes later: https will get an ssl_stream in Connection (see below).
  if (url.scheme_id() != urls::scheme::http) {
    return Error(ErrorCode::kInvalidArgument, "only http:// is supported for now");
  }
  if (!url.has_authority() || url.encoded_host().empty()) return invalid_url("no host");
  if (url.has_userinfo()) return invalid_url("user:password@ is not supported");
  if (url.has_query() || url.has_fragment()) return invalid_url("no query or fragment allowed");

  ServerAddress out;
  switch (url.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      out.host = url.host_address();
      break;
    case urls::host_type::name:
      out.host = url.host_address();
      if (!valid_host_name(out.host)) return invalid_url("bad host name");
      break;
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
    out.port = std::string(kDefaultPort);
  }
  out.host_header = std::string(url.encoded_host());
  if (!port.empty()) out.host_header += ":" + out.port;
  out.origin = "http://" + out.host_header;

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
    case 503:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kRefused;
  }
}

Error status_error(unsigned status, std::string_view phrase, std::string_view body) {
  std::string message = "server refused (" + std::to_string(status) + ")";
  std::string reason = short_reason(body, phrase);
  if (!reason.empty()) message += ": " + reason;
  return Error(code_for_status(status), std::move(message));
}

// A keep-alive connection the peer closed shows up as one of these before any response byte.
bool is_closed_error(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
         ec == asio::error::broken_pipe || ec == asio::error::not_connected;
}

std::string timed_out(std::chrono::milliseconds after) {
  return "timed out after " + std::to_string(after.count()) + " ms";
}

// Overwrites a string that held a token (a request body, a request object's field).
void wipe(std::string& s) {
  if (!s.empty()) secure_wipe(s.data(), s.size());
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
  // Declared first so it outlives every I/O object below. Each RelayClient has its own: no
  // state is shared between instances.
  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  // The persistent connection, when open. A TLS connection will sit beside it as an
  // ssl_stream over a tcp_stream; round_trip() is already generic over the stream type.
  std::optional<beast::tcp_stream> conn;
  beast::flat_buffer buffer;

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
    if (conn) {
      beast::error_code ignored;
      conn->socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn->close();
      conn.reset();
    }
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

    conn.emplace(ioc);
    conn->expires_at(deadline);
    bool done = false;
    beast::error_code ec;
    conn->async_connect(lookup->results, [&](const beast::error_code& e, const tcp::endpoint&) {
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
    conn->expires_never();
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

    for (int attempt = 0;; ++attempt) {
      const bool reused = conn.has_value();
      if (!reused) SC_TRY(open());

      Parser parser;
      parser.body_limit(kMaxResponseBytes);
      const beast::error_code ec = round_trip(*conn, request, parser, Clock::now() + timeout);
      if (!ec) {
        auto response = parser.release();
        if (!response.keep_alive()) close();
        const unsigned status = response.result_int();
        if (status != 200) return status_error(status, response.reason(), response.body());
        return std::move(response.body());
      }

      // Only a kept connection that the server had already closed is worth one more try:
      // nothing of an answer arrived, so the request cannot have been half-answered.
      const bool stale =
          reused && attempt == 0 && !parser.got_some() && buffer.size() == 0 && is_closed_error(ec);
      close();
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
  return std::unique_ptr<RelayClient>(
      new RelayClient(std::make_unique<Impl>(std::move(address), options)));
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
