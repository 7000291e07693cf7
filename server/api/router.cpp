#include "api/router.hpp"

#include <boost/asio/ip/address.hpp>

#include <unistd.h>

#include <algorithm>

#include "secchats/protocol/json_codec.hpp"
#include "service/blob_service.hpp"

namespace secchats::server {
namespace asio = boost::asio;
namespace proto = secchats::protocol;

namespace {

// Endpoint indices into ApiCounters::requests; the names double as /varz keys.
constexpr std::array<std::string_view, ApiCounters::kEndpoints> kEndpointNames = {
    "/register", "/register2", "/receive",   "/connect",   "/connect2",
    "/postmsg",  "/groupinv",  "/postgroup", "/pollgroup", "/pollgroups",
    "/longpoll", "/varz",      "/blobs",     "/healthz",   "other"};

bool is_blob_path(std::string_view path) {
  return path == "/blobs" || path.starts_with("/blobs/");
}

std::size_t endpoint_index(std::string_view path) {
  if (is_blob_path(path)) path = "/blobs";
  for (std::size_t i = 0; i + 1 < kEndpointNames.size(); ++i) {
    if (kEndpointNames[i] == path) return i;
  }
  return kEndpointNames.size() - 1;
}

HttpReply error_reply(const Error& e) {
  return {http_status_for(e.code()), "text/plain; charset=utf-8", e.message() + "\n"};
}

HttpReply ok_json(std::string body) {
  return {200, "application/json", std::move(body)};
}
HttpReply ok_empty() {
  return {200, "text/plain; charset=utf-8", {}};
}

HttpReply from_status(const Status& s) {
  return s.ok() ? ok_empty() : error_reply(s.error());
}

template <typename T>
HttpReply from_result(const Result<T>& r) {
  return r.ok() ? ok_json(proto::encode(*r)) : error_reply(r.error());
}

// What the per-address limits count an address as: IPv4 as it is, IPv4-mapped IPv6 as IPv4,
// other IPv6 by its /64 (one subscriber usually holds a whole /64). "" if not an address.
std::string address_key(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  boost::system::error_code ec;
  const std::string plain(text);
  auto address = asio::ip::make_address(plain, ec);
  if (ec) return {};
  if (!address.is_v6()) return address.to_string();
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), static_cast<unsigned char>(0));
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

RateLimitOptions per_second(double rate, double burst, std::size_t max_keys) {
  RateLimitOptions options;
  options.tokens_per_second = rate;
  options.burst = burst;
  options.max_keys = max_keys;
  return options;
}

}  // namespace

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

FileBody::~FileBody() {
  if (fd_ >= 0) ::close(fd_);
}

ApiRouter::ApiRouter(RelayService& service, RouterLimits limits, BlobService* blobs)
    : service_(service),
      blobs_(blobs),
      limits_(limits),
      ip_requests_(per_second(limits.requests_per_second, limits.request_burst,
                              limits.max_tracked_addresses)),
      ip_registrations_(per_second(limits.registrations_per_minute / 60.0,
                                   limits.registration_burst, limits.max_tracked_addresses)) {}

std::size_t ApiRouter::body_limit(std::string_view method, std::string_view target,
                                  std::size_t fallback) const {
  std::string_view path = target.substr(0, target.find('?'));
  if (blobs_ && method == "PATCH" && path.starts_with("/blobs/")) return kMaxBlobPatchBytes;
  return fallback;
}

std::string ApiRouter::client_key(const RequestContext& context) const {
  if (limits_.trust_forwarded_for && !context.forwarded_for.empty()) {
    // The last entry is the one our proxy appended; earlier ones are the client's say-so.
    std::string_view header = context.forwarded_for;
    std::string key = address_key(header.substr(header.rfind(',') + 1));
    if (!key.empty()) return key;
  }
  return address_key(context.client_ip);
}

HttpReply ApiRouter::rate_limited(std::string_view reason) {
  counters_.rate_limited.fetch_add(1, std::memory_order_relaxed);
  return {429, "text/plain; charset=utf-8", std::string(reason) + "\n"};
}

HttpReply ApiRouter::refuse_connection() {
  counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
  return transport_error(503, "server busy: too many connections; try again later");
}

HttpReply ApiRouter::transport_error(int status, std::string_view reason) {
  (status >= 500 ? counters_.status_5xx : counters_.status_4xx)
      .fetch_add(1, std::memory_order_relaxed);
  return {status, "text/plain; charset=utf-8", std::string(reason) + "\n"};
}

asio::awaitable<HttpReply> ApiRouter::handle(std::string_view method, std::string_view target,
                                             std::string body) {
  RequestContext unknown_client;  // a named local: GCC 12 and temporaries in co_await
  HttpReply reply = co_await handle(method, target, std::move(body), std::move(unknown_client));
  co_return reply;
}

asio::awaitable<HttpReply> ApiRouter::handle(std::string_view method, std::string_view target,
                                             std::string body, RequestContext context) {
  std::string_view path = target.substr(0, target.find('?'));
  const std::size_t index = endpoint_index(path);
  counters_.requests[index].fetch_add(1, std::memory_order_relaxed);

  // Per-address limits come first; per-user ones are the service's, after authentication.
  // /healthz is exempt: a load balancer checks every relay often from one address.
  const bool health_check = path == "/healthz";
  // The address key costs a parse and a format per request: only when a limit will use it.
  const bool limited =
      ip_requests_.enabled() || (path == "/register" && ip_registrations_.enabled());
  const std::string client = health_check || !limited ? std::string() : client_key(context);
  bool refused = false;
  HttpReply reply;
  if (!client.empty() && !ip_requests_.allow(client)) {
    reply = rate_limited("too many requests from this address; slow down");
    refused = true;
  } else if (!client.empty() && path == "/register" && !ip_registrations_.allow(client)) {
    reply = rate_limited("too many registrations from this address; try again later");
    refused = true;
  }

  const bool is_post = method == "POST";
  if (refused) {
    // answered above
  } else if (path == "/register" && (is_post || method == "GET")) {
    // The reference client sends GET with no body; any body is ignored.
    auto user = co_await service_.register_user();
    reply = from_result(user);
  } else if (path == "/varz" && (is_post || method == "GET")) {
    reply = varz();
  } else if (health_check) {
    reply = method == "GET" ? healthz() : HttpReply{405, "text/plain; charset=utf-8", "use GET\n"};
  } else if (is_blob_path(path)) {
    if (blobs_ == nullptr) {
      reply = error_reply(Error(ErrorCode::kNotFound, "unknown endpoint"));
    } else {
      HttpReply blob_reply =
          co_await handle_blob_request(*blobs_, method, path, std::move(body), std::move(context));
      reply = std::move(blob_reply);
    }
  } else if (index == kEndpointNames.size() - 1) {
    reply = error_reply(Error(ErrorCode::kNotFound, "unknown endpoint"));
  } else if (!is_post) {
    reply = {405, "text/plain; charset=utf-8", "use POST with a JSON body\n"};
  } else if (path == "/register2") {
    auto user = proto::decode_user(body);
    if (user.ok()) {
      auto group = co_await service_.register_group(*user);
      reply = from_result(group);
    } else {
      reply = error_reply(user.error());
    }
  } else if (path == "/receive") {
    auto user = proto::decode_user(body);
    reply = user.ok() ? from_result(service_.receive(*user)) : error_reply(user.error());
  } else if (path == "/connect") {
    auto req = proto::decode_friend_request(body);
    if (req.ok()) {
      Status status = co_await service_.connect(*req);
      reply = from_status(status);
    } else {
      reply = error_reply(req.error());
    }
  } else if (path == "/connect2") {
    auto resp = proto::decode_friend_response(body);
    if (resp.ok()) {
      Status status = co_await service_.respond(*resp);
      reply = from_status(status);
    } else {
      reply = error_reply(resp.error());
    }
  } else if (path == "/postmsg") {
    auto msg = proto::decode_send_message(body);
    if (msg.ok()) {
      Status status = co_await service_.post_message(*msg);
      reply = from_status(status);
    } else {
      reply = error_reply(msg.error());
    }
  } else if (path == "/groupinv") {
    auto inv = proto::decode_group_invite(body);
    if (inv.ok()) {
      Status status = co_await service_.invite(*inv);
      reply = from_status(status);
    } else {
      reply = error_reply(inv.error());
    }
  } else if (path == "/postgroup") {
    auto msg = proto::decode_send_message(body);
    if (msg.ok()) {
      Status status = co_await service_.post_group(*msg);
      reply = from_status(status);
    } else {
      reply = error_reply(msg.error());
    }
  } else if (path == "/pollgroup") {
    auto poll = proto::decode_poll_group(body);
    reply = poll.ok() ? from_result(service_.poll_group(*poll)) : error_reply(poll.error());
  } else if (path == "/pollgroups") {
    auto poll = proto::decode_poll_groups(body);
    reply = poll.ok() ? from_result(service_.poll_groups(*poll)) : error_reply(poll.error());
  } else {  // /longpoll
    auto poll = proto::decode_poll_groups(body);
    if (!poll.ok()) {
      reply = error_reply(poll.error());
    } else {
      auto woke = co_await service_.long_poll(*poll);
      reply = woke.ok() ? HttpReply{200, "text/plain; charset=utf-8", *woke}
                        : error_reply(woke.error());
    }
  }

  auto& bucket = reply.status < 300   ? counters_.status_2xx
                 : reply.status < 500 ? counters_.status_4xx
                                      : counters_.status_5xx;
  bucket.fetch_add(1, std::memory_order_relaxed);
  co_return reply;
}

HttpReply ApiRouter::healthz() {
  Status health = service_.health();
  if (!health.ok()) {
    return {503, "text/plain; charset=utf-8", "unhealthy: " + health.error().message() + "\n"};
  }
  return {200, "text/plain; charset=utf-8", "ok\n"};
}

HttpReply ApiRouter::varz() {
  auto snap = service_.snapshot();
  if (!snap.ok()) return error_reply(snap.error());
  auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  std::string out = "{\"uptime_seconds\":" + std::to_string(uptime) + ",\"requests\":{";
  for (std::size_t i = 0; i < kEndpointNames.size(); ++i) {
    if (i) out += ',';
    proto::append_json_string(out, kEndpointNames[i]);
    out += ':' + std::to_string(counters_.requests[i].load(std::memory_order_relaxed));
  }
  const auto& w = snap->writer;
  const std::uint64_t limited_total =
      counters_.rate_limited.load(std::memory_order_relaxed) + snap->rate_limited;
  const std::uint64_t connections_refused =
      counters_.connections_refused.load(std::memory_order_relaxed);
  out += "},\"responses\":{\"2xx\":" + std::to_string(counters_.status_2xx.load()) +
         ",\"4xx\":" + std::to_string(counters_.status_4xx.load()) +
         ",\"5xx\":" + std::to_string(counters_.status_5xx.load()) + "}" +
         ",\"users\":" + std::to_string(snap->counts.users) +
         ",\"groups\":" + std::to_string(snap->counts.groups) +
         ",\"queued_items\":" + std::to_string(snap->counts.queued_items) +
         ",\"group_messages\":" + std::to_string(snap->counts.group_messages) +
         ",\"longpolls_waiting\":" + std::to_string(snap->longpolls_waiting) +
         ",\"write_batches\":" + std::to_string(w.batches) +
         ",\"write_ops\":" + std::to_string(w.ops) +
         ",\"write_max_batch\":" + std::to_string(w.max_batch) +
         ",\"commit_micros_total\":" + std::to_string(w.commit_micros) +
         ",\"acked_deletes\":" + std::to_string(w.acked_deletes) +
         ",\"purged_queue_items\":" + std::to_string(w.purged_queue_items) +
         ",\"purged_group_messages\":" + std::to_string(w.purged_group_messages) +
         ",\"wal_checkpoints\":" + std::to_string(w.checkpoints) +
         ",\"purge_runs\":" + std::to_string(snap->retention.runs) +
         ",\"last_purge_rows\":" + std::to_string(snap->retention.last_rows) +
         ",\"last_purge_micros\":" + std::to_string(snap->retention.last_micros) +
         ",\"purge_micros_total\":" + std::to_string(snap->retention.total_micros) +
         ",\"rate_limited\":" + std::to_string(limited_total) +
         ",\"connections_refused\":" + std::to_string(connections_refused) +
         ",\"longpolls_refused\":" + std::to_string(snap->longpolls_refused);
  if (blobs_ != nullptr) {
    const BlobStats b = blobs_->stats();
    out += ",\"blobs\":" + std::to_string(b.totals.complete) +
           ",\"blob_bytes\":" + std::to_string(b.totals.complete_bytes) +
           ",\"blob_uploads_unfinished\":" + std::to_string(b.totals.unfinished) +
           ",\"blob_upload_bytes_held\":" + std::to_string(b.totals.unfinished_bytes) +
           ",\"blob_bytes_uploaded\":" + std::to_string(b.bytes_uploaded) +
           ",\"blob_bytes_downloaded\":" + std::to_string(b.bytes_downloaded) +
           ",\"blob_too_large\":" + std::to_string(b.too_large) +
           ",\"blob_insufficient_storage\":" + std::to_string(b.insufficient_storage) +
           ",\"blobs_purged\":" + std::to_string(b.purged);
  }
  for (const auto& source : varz_sources_) {
    for (const auto& [name, value] : source()) {
      out += ',';
      proto::append_json_string(out, name);
      out += ':' + std::to_string(value);
    }
  }
  out += "}";
  return ok_json(std::move(out));
}

}  // namespace secchats::server
