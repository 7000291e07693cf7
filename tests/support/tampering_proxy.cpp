#include "support/tampering_proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace secchats::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint64_t kMaxBodyBytes = 256u << 20;
constexpr std::uint32_t kMaxHeaderBytes = 64u << 10;
constexpr int kThreads = 4;
// Longer than any long-poll the relay may hold (at most 24 s).
constexpr auto kUpstreamTimeout = std::chrono::seconds(120);

// Hop-by-hop or length headers the proxy sets itself.
bool proxy_sets(http::field name) {
  return name == http::field::connection || name == http::field::content_length ||
         name == http::field::transfer_encoding || name == http::field::keep_alive ||
         name == http::field::host || name == http::field::proxy_connection ||
         name == http::field::upgrade || name == http::field::te || name == http::field::trailer;
}

template <typename From, typename To>
void copy_end_to_end_headers(const From& from, To& to) {
  for (const auto& f : from) {
    if (!proxy_sets(f.name())) to.insert(f.name_string(), f.value());
  }
}

http::response<http::string_body> plain_reply(http::status status, std::string text) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(text);
  return res;
}

}  // namespace

struct TamperingProxy::Impl {
  explicit Impl(unsigned short upstream) : upstream_port(upstream) {}

  asio::io_context ioc{kThreads};
  std::vector<std::thread> threads;
  unsigned short upstream_port;
  unsigned short port = 0;

  mutable std::mutex mu;
  mutable std::condition_variable changed;
  RequestRewriter request_rewriter;
  ResponseRewriter response_rewriter;
  DropFilter drop;
  LoseAnswerFilter lose_answer;
  std::uint64_t throttle = 0;  // bytes per second; 0: full speed
  std::vector<std::shared_ptr<Exchange>> log;
  std::uint64_t version = 0;  // bumped on every change to the log, for wait_for

  std::shared_ptr<Exchange> record(Exchange e) {
    auto entry = std::make_shared<Exchange>(std::move(e));
    {
      std::lock_guard lock(mu);
      log.push_back(entry);
      ++version;
    }
    changed.notify_all();
    return entry;
  }

  template <typename Fn>
  void update(const std::shared_ptr<Exchange>& entry, Fn&& fn) {
    {
      std::lock_guard lock(mu);
      fn(*entry);
      ++version;
    }
    changed.notify_all();
  }

  // Sends one request to the server on a fresh connection. nullopt if the server could not
  // be reached or answered nothing parseable.
  asio::awaitable<std::optional<http::response<http::string_body>>> forward(
      const http::request<http::string_body>& request) {
    auto executor = co_await asio::this_coro::executor;
    beast::tcp_stream up(executor);
    boost::system::error_code ec;
    up.expires_after(kUpstreamTimeout);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), upstream_port);
    co_await up.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    co_await http::async_write(up, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(kMaxHeaderBytes);
    co_await http::async_read(up, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    up.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return parser.release();
  }

  // The answer to one client request: dropped, or forwarded with the hooks applied.
  asio::awaitable<http::response<http::string_body>> handle(
      http::request<http::string_body>& request, const std::shared_ptr<Exchange>& entry) {
    const std::string path(request.target());
    DropFilter drop_filter;
    RequestRewriter request_hook;
    ResponseRewriter response_hook;
    LoseAnswerFilter lose_filter;
    {
      std::lock_guard lock(mu);
      drop_filter = drop;
      lose_filter = lose_answer;
      request_hook = request_rewriter;
      response_hook = response_rewriter;
    }
    if (const std::uint64_t rate = throttle_rate(); rate > 0 && !request.body().empty()) {
      co_await pause(request.body().size(), rate);
    }
    if (drop_filter && drop_filter(path, request.body())) {
      auto res = plain_reply(http::status::service_unavailable, "dropped by the test proxy\n");
      update(entry, [](Exchange& e) { e.dropped = true; });
      co_return res;
    }

    http::request<http::string_body> out{request.method(), request.target(), 11};
    copy_end_to_end_headers(request, out);
    out.set(http::field::host, "127.0.0.1:" + std::to_string(upstream_port));
    out.keep_alive(false);
    out.body() = request.body();
    if (request_hook) {
      if (auto replaced = request_hook(path, request.body())) {
        out.body() = std::move(*replaced);
        update(entry, [](Exchange& e) { e.request_rewritten = true; });
      }
    }
    out.prepare_payload();
    update(entry, [&](Exchange& e) { e.forwarded_body = out.body(); });

    auto upstream = co_await forward(out);
    if (!upstream) {
      co_return plain_reply(http::status::bad_gateway,
                            "the test proxy could not reach the relay\n");
    }
    http::response<http::string_body> res{upstream->result(), 11};
    copy_end_to_end_headers(*upstream, res);
    res.body() = upstream->body();
    update(entry, [&](Exchange& e) { e.upstream_body = upstream->body(); });
    if (lose_filter && lose_filter(path, out.body())) {
      update(entry, [](Exchange& e) { e.answer_lost = true; });
      co_return res;
    }
    if (response_hook) {
      if (auto replaced = response_hook(path, out.body(), upstream->body())) {
        res.body() = std::move(*replaced);
        update(entry, [](Exchange& e) { e.response_rewritten = true; });
      }
    }
    co_return res;
  }

  std::uint64_t throttle_rate() {
    std::lock_guard lock(mu);
    return throttle;
  }

  // Waits as long as `bytes` take at `rate` bytes per second.
  asio::awaitable<void> pause(std::size_t bytes, std::uint64_t rate) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::microseconds(bytes * 1000000ull / rate));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // Writes a response, its body paced at the throttle rate when one is set.
  asio::awaitable<void> write_response(beast::tcp_stream& client,
                                       http::response<http::string_body>& res,
                                       boost::system::error_code& ec) {
    constexpr std::size_t kSlice = 64 * 1024;
    const std::uint64_t rate = throttle_rate();
    if (rate == 0 || res.body().size() <= kSlice) {
      co_await http::async_write(client, res, asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    http::response_serializer<http::string_body> serializer{res};
    co_await http::async_write_header(client, serializer,
                                      asio::redirect_error(asio::use_awaitable, ec));
    const std::string& body = res.body();
    for (std::size_t at = 0; at < body.size() && !ec; at += kSlice) {
      const std::size_t n = std::min(kSlice, body.size() - at);
      co_await asio::async_write(client.socket(), asio::buffer(body.data() + at, n),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) co_await pause(n, rate);
    }
  }

  // One client connection: requests in sequence, kept alive as long as the client wants.
  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream client(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxBodyBytes);
      parser.header_limit(kMaxHeaderBytes);
      boost::system::error_code ec;
      client.expires_never();
      co_await http::async_read(client, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      http::request<http::string_body> request = parser.release();
      const bool keep_alive = request.keep_alive();
      Exchange e;
      e.method = std::string(request.method_string());
      e.path = std::string(request.target());
      e.request_body = request.body();
      for (const auto& field : request) {
        e.request_headers.emplace_back(std::string(field.name_string()),
                                       std::string(field.value()));
      }
      e.forwarded_body = request.body();
      auto entry = record(std::move(e));

      http::response<http::string_body> res = co_await handle(request, entry);
      bool lost = false;
      {
        std::lock_guard lock(mu);
        lost = entry->answer_lost;
      }
      if (lost) break;  // the connection closes unanswered
      res.keep_alive(keep_alive);
      res.prepare_payload();
      update(entry, [&](Exchange& x) {
        x.status = static_cast<int>(res.result_int());
        x.response_body = res.body();
        x.completed = true;
      });
      co_await write_response(client, res, ec);
      if (ec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    client.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> listen(tcp::acceptor acceptor) {
    for (;;) {
      boost::system::error_code ec;
      // Each connection on its own strand: its coroutine and timers never run concurrently.
      auto strand = asio::make_strand(ioc);
      tcp::socket socket =
          co_await acceptor.async_accept(strand, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(std::move(socket)), asio::detached);
    }
  }
};

TamperingProxy::TamperingProxy(unsigned short upstream_port)
    : impl_(std::make_unique<Impl>(upstream_port)) {
  tcp::acceptor acceptor(impl_->ioc);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->port = acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->listen(std::move(acceptor)), asio::detached);
  for (int i = 0; i < kThreads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
  }
}

TamperingProxy::~TamperingProxy() {
  // Stopping the context abandons every coroutine; destroying it (with impl_) closes their
  // sockets, so clients in flight see the connection end.
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
}

unsigned short TamperingProxy::port() const {
  return impl_->port;
}

unsigned short TamperingProxy::upstream_port() const {
  return impl_->upstream_port;
}

void TamperingProxy::set_request_rewriter(RequestRewriter rewriter) {
  std::lock_guard lock(impl_->mu);
  impl_->request_rewriter = std::move(rewriter);
}

void TamperingProxy::set_response_rewriter(ResponseRewriter rewriter) {
  std::lock_guard lock(impl_->mu);
  impl_->response_rewriter = std::move(rewriter);
}

void TamperingProxy::set_drop(DropFilter filter) {
  std::lock_guard lock(impl_->mu);
  impl_->drop = std::move(filter);
}

void TamperingProxy::set_throttle(std::uint64_t bytes_per_second) {
  std::lock_guard lock(impl_->mu);
  impl_->throttle = bytes_per_second;
}

std::string TamperingProxy::Exchange::header(std::string_view name) const {
  for (const auto& [key, value] : request_headers) {
    if (boost::beast::iequals(key, name)) return value;
  }
  return {};
}

void TamperingProxy::set_lose_answer(LoseAnswerFilter filter) {
  std::lock_guard lock(impl_->mu);
  impl_->lose_answer = std::move(filter);
}

void TamperingProxy::reset_hooks() {
  std::lock_guard lock(impl_->mu);
  impl_->lose_answer = {};
  impl_->throttle = 0;
  impl_->request_rewriter = {};
  impl_->response_rewriter = {};
  impl_->drop = {};
}

std::vector<TamperingProxy::Exchange> TamperingProxy::exchanges() const {
  std::lock_guard lock(impl_->mu);
  std::vector<Exchange> out;
  out.reserve(impl_->log.size());
  for (const auto& e : impl_->log)
    out.push_back(*e);
  return out;
}

std::vector<TamperingProxy::Exchange> TamperingProxy::exchanges(std::string_view path) const {
  std::lock_guard lock(impl_->mu);
  std::vector<Exchange> out;
  for (const auto& e : impl_->log) {
    if (e->path == path) out.push_back(*e);
  }
  return out;
}

void TamperingProxy::clear() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->log.clear();
    ++impl_->version;
  }
  impl_->changed.notify_all();
}

bool TamperingProxy::wait_for(const std::function<bool(const std::vector<Exchange>&)>& pred,
                              std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(impl_->mu);
  for (;;) {
    std::vector<Exchange> snapshot;
    snapshot.reserve(impl_->log.size());
    for (const auto& e : impl_->log)
      snapshot.push_back(*e);
    const std::uint64_t seen = impl_->version;
    // The predicate runs unlocked, so it may call back into the proxy.
    lock.unlock();
    if (pred(snapshot)) return true;
    lock.lock();
    if (!impl_->changed.wait_until(lock, deadline, [&] { return impl_->version != seen; })) {
      return false;
    }
  }
}

HttpResult TamperingProxy::replay(std::string_view path, std::string_view body) const {
  HttpClient client(impl_->upstream_port);
  return client.post(path, body);
}

HttpResult TamperingProxy::replay(const Exchange& exchange) const {
  HttpClient client(impl_->upstream_port);
  return client.request(exchange.method, exchange.path, exchange.forwarded_body);
}

}  // namespace secchats::testing
