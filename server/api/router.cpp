#include "api/router.hpp"

#include "secchats/protocol/json_codec.hpp"

namespace secchats::server {
namespace asio = boost::asio;
namespace proto = secchats::protocol;

namespace {

// Endpoint indices into ApiCounters::requests; the names double as /varz keys.
constexpr std::array<std::string_view, ApiCounters::kEndpoints> kEndpointNames = {
    "/register",  "/register2", "/receive",    "/connect",  "/connect2", "/postmsg", "/groupinv",
    "/postgroup", "/pollgroup", "/pollgroups", "/longpoll", "/varz",     "other"};

std::size_t endpoint_index(std::string_view path) {
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

ApiRouter::ApiRouter(RelayService& service) : service_(service) {}

HttpReply ApiRouter::transport_error(int status, std::string_view reason) {
  (status >= 500 ? counters_.status_5xx : counters_.status_4xx)
      .fetch_add(1, std::memory_order_relaxed);
  return {status, "text/plain; charset=utf-8", std::string(reason) + "\n"};
}

asio::awaitable<HttpReply> ApiRouter::handle(std::string_view method, std::string_view target,
                                             std::string body) {
  std::string_view path = target.substr(0, target.find('?'));
  const std::size_t index = endpoint_index(path);
  counters_.requests[index].fetch_add(1, std::memory_order_relaxed);

  HttpReply reply;
  const bool is_post = method == "POST";
  if (path == "/register" && (is_post || method == "GET")) {
    // The reference client sends GET with no body; any body is ignored.
    auto user = co_await service_.register_user();
    reply = from_result(user);
  } else if (path == "/varz" && (is_post || method == "GET")) {
    reply = varz();
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
         ",\"purge_runs\":" + std::to_string(snap->retention.runs) +
         ",\"last_purge_rows\":" + std::to_string(snap->retention.last_rows) +
         ",\"last_purge_micros\":" + std::to_string(snap->retention.last_micros) +
         ",\"purge_micros_total\":" + std::to_string(snap->retention.total_micros) + "}";
  return ok_json(std::move(out));
}

}  // namespace secchats::server
