// Long-poll benchmark against an already running secchats-server, over plain HTTP/1.1 like any
// client (no server code linked in).
//
//  1. Idle long-poll memory: registers N users, reads the server's VmRSS, parks one /longpoll
//     per user on its own keep-alive connection, waits until /varz counts them all as waiting,
//     lets RSS settle and reads it again: (after - before) / N is the cost of one idle poll.
//  2. Wake-up latency: M times, one at a time, posts a message to a parked user from a separate
//     sender connection and times from just before the /postmsg write to the complete long-poll
//     answer on the user's connection (with --post-port, the post goes to a second relay on the
//     same database, so the wake crosses relays). The woken user then fetches its queue with
//     /receive (checking the message is there) and re-parks with the new cursor before the next
//     wake.
//
// Start the server with the rate limits off (--ip-rate-per-sec 0 --user-rate-per-sec 0
// --register-rate-per-min 0), --max-connections above N, a long --longpoll-timeout-ms (at most
// 24000; polls that time out meanwhile are re-parked, and a wake that races one is redone), and
// a high enough `ulimit -n` for both processes. Use a freshly started server for every run: a
// server's heap keeps the memory of connections that have gone, and reuses it for the next
// ones, so a second run against the same process reports almost nothing per connection.
// The wake latency includes the server's durable commit of the /postmsg (SQLite), which is
// also reported on its own as the /postmsg round trip. Everything runs on one thread with one
// io_context; every wait has a deadline, so the program never hangs: a phase that does not
// finish in time fails with a message and exit status 1. Errors met along the way are counted,
// and any error also makes the exit status 1.
//
// Output: human-readable lines, then `key=value` lines for scripts (see print_results()).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  // Where the wake-up /postmsg goes: 0 = --port. Another relay on the same PostgreSQL measures
  // the cross-relay wake-up (LISTEN/NOTIFY, docs/operations.md).
  unsigned short post_port = 0;
  long server_pid = 0;
  std::size_t connections = 5000;
  std::size_t wakeups = 1000;
  std::size_t register_parallel = 32;     // keep-alive connections used for /register
  std::size_t connect_parallel = 256;     // connects in flight while parking
  milliseconds op_timeout{10000};         // any ordinary request/response
  milliseconds phase_timeout{120000};     // registration, parking
  milliseconds wake_timeout{5000};        // one wake-up
  milliseconds settle{2000};              // RSS settling after all polls are parked
  milliseconds poll_read_timeout{60000};  // a parked poll's read (beyond any server timeout)
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "longpoll_bench: " << message << "\n"
            << "usage: longpoll_bench --port PORT --server-pid PID [--host 127.0.0.1]\n"
               "         [--post-port PORT] [--connections 5000] [--wakeups 1000]\n"
               "         [--settle-ms 2000] [--wake-timeout-ms 5000]\n"
               "         [--phase-timeout-ms 120000]\n"
               "         [--register-parallel 32] [--connect-parallel 256]\n";
  std::exit(2);
}

long parse_number(std::string_view flag, std::string_view text, long min, long max) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    usage_error(std::string(flag) + " wants a number in [" + std::to_string(min) + ", " +
                std::to_string(max) + "], got '" + std::string(text) + "'");
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") usage_error("help");
    if (i + 1 >= argc) usage_error("missing value for " + std::string(flag));
    std::string_view value = argv[++i];
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = static_cast<unsigned short>(parse_number(flag, value, 1, 65535));
    } else if (flag == "--post-port") {
      o.post_port = static_cast<unsigned short>(parse_number(flag, value, 1, 65535));
    } else if (flag == "--server-pid") {
      o.server_pid = parse_number(flag, value, 1, 1L << 30);
    } else if (flag == "--connections") {
      o.connections = static_cast<std::size_t>(parse_number(flag, value, 1, 1000000));
    } else if (flag == "--wakeups") {
      o.wakeups = static_cast<std::size_t>(parse_number(flag, value, 0, 100000000));
    } else if (flag == "--settle-ms") {
      o.settle = milliseconds(parse_number(flag, value, 0, 600000));
    } else if (flag == "--wake-timeout-ms") {
      o.wake_timeout = milliseconds(parse_number(flag, value, 1, 600000));
    } else if (flag == "--phase-timeout-ms") {
      o.phase_timeout = milliseconds(parse_number(flag, value, 1000, 3600000));
    } else if (flag == "--register-parallel") {
      o.register_parallel = static_cast<std::size_t>(parse_number(flag, value, 1, 1024));
    } else if (flag == "--connect-parallel") {
      o.connect_parallel = static_cast<std::size_t>(parse_number(flag, value, 1, 65536));
    } else {
      usage_error("unknown flag " + std::string(flag));
    }
  }
  if (o.port == 0) usage_error("--port is required");
  if (o.server_pid == 0) usage_error("--server-pid is required (for VmRSS)");
  return o;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// VmRSS of a process in KiB, from /proc/<pid>/status.
long read_rss_kib(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in)
    throw Fatal("cannot read /proc/" + std::to_string(pid) + "/status (is --server-pid right?)");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  throw Fatal("no VmRSS line in /proc/" + std::to_string(pid) + "/status");
}

void raise_fd_limit(std::size_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
    std::cerr << "warning: open-file limit " << lim.rlim_cur << " is below the " << wanted
              << " this run needs; raise `ulimit -n`\n";
  }
}

// An exception's message; for socket errors just the error's text, without Asio's source
// location.
std::string describe(const std::exception& e) {
  if (const auto* se = dynamic_cast<const boost::system::system_error*>(&e))
    return se->code().message();
  return e.what();
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct User {
  std::string id;
  std::string token;
};

std::string user_body(const User& u, std::int64_t cursor) {
  return R"({"object":"User","userId":")" + u.id + R"(","name":"","authToken":")" + u.token +
         R"(","lastMessageTimestamp":)" + std::to_string(cursor) + "}";
}

std::string longpoll_body(const User& u, std::int64_t cursor) {
  return R"({"object":"PollGroups","userId":")" + u.id + R"(","authToken":")" + u.token +
         R"(","groupIds":[")" + u.id + R"("],"lastMessageTimestamp":)" + std::to_string(cursor) +
         "}";
}

std::string postmsg_body(const User& from, const std::string& to) {
  // encContent is opaque to the server: any base64 will do.
  return R"({"object":"SendMessage","toId":")" + to + R"(","authToken":")" + from.token +
         R"(","fromUserId":")" + from.id +
         R"(","encContent":"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ","timestamp":0})";
}

// One keep-alive HTTP/1.1 client connection.
struct Conn {
  explicit Conn(asio::any_io_executor ex) : stream(ex) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::string host_header;
};

using Response = http::response<http::string_body>;

asio::awaitable<void> connect(Conn& c, const tcp::endpoint& ep, milliseconds timeout) {
  c.stream.expires_after(timeout);
  co_await c.stream.async_connect(ep, asio::use_awaitable);
  c.stream.socket().set_option(tcp::no_delay(true));
  c.host_header = ep.address().to_string() + ":" + std::to_string(ep.port());
}

asio::awaitable<void> write_request(Conn& c, http::verb verb, const std::string& target,
                                    const std::string& body, milliseconds timeout) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, c.host_header);
  req.set(http::field::user_agent, "longpoll_bench");
  if (verb == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  c.stream.expires_after(timeout);
  co_await http::async_write(c.stream, req, asio::use_awaitable);
}

asio::awaitable<Response> read_response(Conn& c, milliseconds timeout) {
  Response res;
  c.stream.expires_after(timeout);
  co_await http::async_read(c.stream, c.buffer, res, asio::use_awaitable);
  c.stream.expires_never();
  if (!res.keep_alive()) throw std::runtime_error("server closed the keep-alive connection");
  co_return res;
}

asio::awaitable<Response> roundtrip(Conn& c, http::verb verb, const std::string& target,
                                    const std::string& body, milliseconds timeout) {
  std::string failure;
  Response res;
  try {
    co_await write_request(c, verb, target, body, timeout);
    res = co_await read_response(c, timeout);
  } catch (const std::exception& e) {
    failure = target + ": " + describe(e);
  }
  if (!failure.empty()) throw std::runtime_error(failure);
  co_return res;
}

std::string status_line(const Response& r) {
  std::string body = r.body();
  if (body.size() > 200) body.resize(200);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
    body.pop_back();
  return std::to_string(r.result_int()) + " " + body;
}

// A condition-variable stand-in for one waiter on a single-threaded io_context: signal()
// cancels the wait; the waiter re-checks its condition in a loop with a deadline.
struct Event {
  explicit Event(asio::any_io_executor ex) : timer(ex) {}
  void signal() { timer.cancel(); }
  template <typename Pred>
  asio::awaitable<bool> wait_until(Pred ready, Clock::time_point deadline) {
    while (!ready()) {
      if (Clock::now() >= deadline) co_return false;
      timer.expires_at(deadline);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return true;
  }
  asio::steady_timer timer;
};

asio::awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// ---------------------------------------------------------------------------------------------
// Shared state

struct Poller;

struct Bench {
  Bench(asio::io_context& io, Options o, tcp::endpoint e)
      : ioc(io), opt(std::move(o)), ep(e), event(io.get_executor()) {}
  asio::io_context& ioc;
  Options opt;
  tcp::endpoint ep;
  Event event;  // the main coroutine's wake-up: pollers and registrars signal it

  std::vector<User> users;  // users[0] is the sender, then one per poller
  std::size_t registered = 0;
  std::size_t registrars_done = 0;
  std::string register_failure;

  std::vector<std::unique_ptr<Poller>> pollers;
  std::size_t connecting = 0;      // connects in flight
  std::size_t parked_written = 0;  // pollers whose first /longpoll has been written
  std::size_t dead = 0;

  // Error counters (client-observed misbehaviour).
  std::size_t errors = 0;
  std::size_t poll_timeouts = 0;     // 200 with empty body (server long-poll timeout)
  std::size_t unexpected_wakes = 0;  // woken when no message was sent to that user
  std::size_t wrong_wake_body = 0;   // woken with a body that is not the user's id
  std::size_t receive_mismatch = 0;  // /receive after a wake lacks the sender's message
  std::size_t wake_timeouts = 0;     // no wake within --wake-timeout-ms
  std::size_t wake_retried = 0;      // a wake that raced a server-side poll timeout
  std::size_t postmsg_errors = 0;

  void error(const std::string& what) {
    ++errors;
    if (errors <= 20) std::cerr << "error: " << what << "\n";
    if (errors == 20) std::cerr << "(further errors are counted, not printed)\n";
  }
};

struct Poller {
  Poller(Bench& b, std::size_t i) : bench(b), index(i), conn(b.ioc.get_executor()) {}
  Bench& bench;
  std::size_t index;
  Conn conn;
  std::int64_t cursor = 0;
  bool alive = true;
  bool parked = false;       // a /longpoll is written and not yet answered
  bool expect_wake = false;  // main posted a message to this user
  bool wake_done = false;    // answered, /receive checked, re-parked
  bool wake_raced_timeout = false;
  Clock::time_point woke_at{};

  const User& user() const { return bench.users[index + 1]; }
};

// ---------------------------------------------------------------------------------------------
// Phase 1a: registration

asio::awaitable<void> registrar(Bench& b, std::size_t total) {
  Conn c(b.ioc.get_executor());
  try {
    co_await connect(c, b.ep, b.opt.op_timeout);
    const std::string empty;
    const std::string target = "/register";
    while (b.register_failure.empty() && b.registered < total) {
      const std::size_t slot = b.registered++;
      Response res = co_await roundtrip(c, http::verb::post, target, empty, b.opt.op_timeout);
      if (res.result_int() != 200) throw std::runtime_error("/register: " + status_line(res));
      json::value v = json::parse(res.body());
      const auto& obj = v.as_object();
      b.users[slot] = User{std::string(obj.at("userId").as_string()),
                           std::string(obj.at("authToken").as_string())};
    }
  } catch (const std::exception& e) {
    if (b.register_failure.empty()) b.register_failure = describe(e);
  }
  ++b.registrars_done;
  b.event.signal();
}

// ---------------------------------------------------------------------------------------------
// Phase 1b/2: one parked long-poll per user

// Fetches the user's queue after a wake, checks the sender's message is in it, and moves the
// cursor past everything returned.
asio::awaitable<void> receive_after_wake(Poller& p) {
  Bench& b = p.bench;
  const std::string target = "/receive";
  const std::string body = user_body(p.user(), p.cursor);
  Response res = co_await roundtrip(p.conn, http::verb::post, target, body, b.opt.op_timeout);
  if (res.result_int() != 200) throw std::runtime_error("/receive: " + status_line(res));
  json::value v = json::parse(res.body());
  bool found = false;
  std::int64_t newest = p.cursor;
  for (const char* list : {"friendRequests", "friendResponses", "groupInvites", "messages"}) {
    const auto* items = v.as_object().if_contains(list);
    if (!items || !items->is_array()) continue;
    for (const auto& item : items->as_array()) {
      const auto& o = item.as_object();
      newest = std::max(newest, o.at("timestamp").to_number<std::int64_t>());
      if (std::string_view(list) == "messages" && o.at("fromUserId").as_string() == b.users[0].id)
        found = true;
    }
  }
  if (!found) {
    ++b.receive_mismatch;
    b.error("/receive after a wake of user #" + std::to_string(p.index) +
            " has no message from the sender");
  }
  p.cursor = newest;
}

asio::awaitable<void> run_poller(Poller& p) {
  Bench& b = p.bench;
  try {
    try {
      co_await connect(p.conn, b.ep, b.opt.op_timeout);
    } catch (...) {
      --b.connecting;
      b.event.signal();
      throw;
    }
    --b.connecting;
    b.event.signal();
    const std::string target = "/longpoll";
    bool first = true;
    for (;;) {
      const std::string body = longpoll_body(p.user(), p.cursor);
      co_await write_request(p.conn, http::verb::post, target, body, b.opt.op_timeout);
      p.parked = true;
      if (first) {
        first = false;
        ++b.parked_written;
        b.event.signal();
      }
      if (p.expect_wake && p.woke_at != Clock::time_point{}) {
        // Re-parked after a wake: the main coroutine may go on to the next one.
        p.expect_wake = false;
        p.wake_done = true;
        b.event.signal();
      }
      Response res = co_await read_response(p.conn, b.opt.poll_read_timeout);
      const auto now = Clock::now();
      p.parked = false;
      if (res.result_int() != 200) throw std::runtime_error("/longpoll: " + status_line(res));
      if (res.body().empty()) {
        // The server's long-poll timeout: park again with the same cursor.
        ++b.poll_timeouts;
        if (p.expect_wake) p.wake_raced_timeout = true;
        continue;
      }
      if (res.body() != p.user().id) {
        ++b.wrong_wake_body;
        b.error("/longpoll of user #" + std::to_string(p.index) + " woke with body '" + res.body() +
                "', not its id");
      }
      if (!p.expect_wake) {
        ++b.unexpected_wakes;
        b.error("/longpoll of user #" + std::to_string(p.index) + " woke with nothing sent");
      } else {
        p.woke_at = now;
      }
      co_await receive_after_wake(p);
    }
  } catch (const std::exception& e) {
    b.error("poller #" + std::to_string(p.index) + ": " + describe(e));
  }
  p.alive = false;
  p.parked = false;
  ++b.dead;
  b.event.signal();
}

// ---------------------------------------------------------------------------------------------
// Main coroutine

asio::awaitable<std::int64_t> varz_longpolls_waiting(Bench& b, Conn& control) {
  const std::string target = "/varz";
  const std::string empty;
  Response res = co_await roundtrip(control, http::verb::get, target, empty, b.opt.op_timeout);
  if (res.result_int() != 200) throw Fatal("/varz: " + status_line(res));
  json::value v = json::parse(res.body());
  const auto* w = v.as_object().if_contains("longpolls_waiting");
  if (!w) throw Fatal("/varz has no longpolls_waiting");
  co_return w->to_number<std::int64_t>();
}

struct Results {
  long rss_before = 0;
  long rss_parked = 0;  // right when /varz counted them all
  long rss_after = 0;   // after settling
  double park_seconds = 0;
  std::vector<double> wake_ms;
  std::vector<double> postmsg_ms;  // /postmsg request to its 200
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string fmt(double v, int digits) {
  char out[64];
  std::snprintf(out, sizeof out, "%.*f", digits, v);
  return out;
}

asio::awaitable<void> run(Bench& b, Results& r) {
  const Options& o = b.opt;
  const std::size_t n = o.connections;

  // --- registration (N pollers + 1 sender)
  std::cout << "registering " << n + 1 << " users over " << o.register_parallel
            << " connections...\n"
            << std::flush;
  auto t = Clock::now();
  b.users.resize(n + 1);
  const std::size_t registrars = std::min(o.register_parallel, n + 1);
  for (std::size_t i = 0; i < registrars; ++i)
    asio::co_spawn(b.ioc, registrar(b, n + 1), asio::detached);
  bool done = co_await b.event.wait_until([&] { return b.registrars_done == registrars; },
                                          Clock::now() + o.phase_timeout);
  if (!done) throw Fatal("registration did not finish within --phase-timeout-ms");
  if (!b.register_failure.empty()) throw Fatal("registration failed: " + b.register_failure);
  std::cout << "  registered in " << fmt(ms_between(t, Clock::now()) / 1000, 2) << " s\n";

  Conn control(b.ioc.get_executor());  // /varz
  Conn sender(b.ioc.get_executor());   // /postmsg
  co_await connect(control, b.ep, o.op_timeout);
  co_await connect(sender, o.post_port ? tcp::endpoint(b.ep.address(), o.post_port) : b.ep,
                   o.op_timeout);
  const std::int64_t waiting_base = co_await varz_longpolls_waiting(b, control);

  // --- idle long-poll memory
  co_await sleep_for(milliseconds(500));
  r.rss_before = read_rss_kib(o.server_pid);
  std::cout << "server VmRSS before parking: " << r.rss_before << " KiB\n"
            << "parking " << n << " long-polls (" << o.connect_parallel
            << " connects in flight at most)...\n"
            << std::flush;
  t = Clock::now();
  const auto park_deadline = t + o.phase_timeout;
  b.pollers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    bool room = co_await b.event.wait_until([&] { return b.connecting < o.connect_parallel; },
                                            park_deadline);
    if (!room)
      throw Fatal("connecting timed out (" + std::to_string(i) + " of " + std::to_string(n) +
                  " started)");
    b.pollers.push_back(std::make_unique<Poller>(b, i));
    ++b.connecting;
    asio::co_spawn(b.ioc, run_poller(*b.pollers.back()), asio::detached);
  }
  done = co_await b.event.wait_until([&] { return b.parked_written + b.dead >= n; }, park_deadline);
  if (!done || b.dead > 0) {
    throw Fatal("could not park every long-poll: " + std::to_string(b.parked_written) +
                " written, " + std::to_string(b.dead) +
                " connections failed (check --max-connections and ulimit -n)");
  }
  std::int64_t waiting = 0;
  for (;;) {
    waiting = co_await varz_longpolls_waiting(b, control) - waiting_base;
    if (waiting >= static_cast<std::int64_t>(n)) break;
    if (Clock::now() >= park_deadline) {
      throw Fatal("/varz shows only " + std::to_string(waiting) + " of " + std::to_string(n) +
                  " long-polls waiting");
    }
    co_await sleep_for(milliseconds(50));
  }
  r.park_seconds = ms_between(t, Clock::now()) / 1000;
  r.rss_parked = read_rss_kib(o.server_pid);
  std::cout << "  all " << n << " parked (server /varz longpolls_waiting +" << waiting << ") in "
            << fmt(r.park_seconds, 2) << " s; VmRSS " << r.rss_parked << " KiB\n"
            << std::flush;
  // Let RSS settle; print how it moves.
  long previous = r.rss_parked;
  for (auto slept = milliseconds(0); slept < o.settle; slept += milliseconds(500)) {
    co_await sleep_for(std::min(milliseconds(500), o.settle - slept));
    previous = read_rss_kib(o.server_pid);
  }
  r.rss_after = previous;
  if (b.dead > 0) throw Fatal("connections failed while idle");
  std::cout << "  after " << fmt(o.settle.count() / 1000.0, 1) << " s settle: VmRSS " << r.rss_after
            << " KiB, +" << r.rss_after - r.rss_before << " KiB = "
            << fmt(static_cast<double>(r.rss_after - r.rss_before) / static_cast<double>(n), 2)
            << " KiB per idle long-poll connection\n"
            << std::flush;

  // --- wake-up latency
  std::cout << "waking " << o.wakeups << " long-polls one at a time...\n" << std::flush;
  const std::string postmsg = "/postmsg";
  r.wake_ms.reserve(o.wakeups);
  std::size_t next = 0;
  std::size_t consecutive_failures = 0;
  for (std::size_t i = 0; i < o.wakeups; ++i) {
    // The next live poller, in turn; wait for it to be parked (it may be re-parking after a
    // server-side timeout).
    Poller* p = nullptr;
    for (std::size_t tries = 0; tries < n && !p; ++tries, ++next) {
      if (b.pollers[next % n]->alive) p = b.pollers[next % n].get();
    }
    if (!p) throw Fatal("every long-poll connection has failed");
    bool parked = co_await b.event.wait_until([&] { return p->parked || !p->alive; },
                                              Clock::now() + o.wake_timeout);
    if (!parked || !p->alive) {
      b.error("user #" + std::to_string(p->index) + " did not re-park");
      if (++consecutive_failures >= 10) throw Fatal("10 wake-ups in a row failed");
      continue;
    }
    p->expect_wake = true;
    p->wake_done = false;
    p->wake_raced_timeout = false;
    p->woke_at = {};
    const std::string body = postmsg_body(b.users[0], p->user().id);
    const auto t0 = Clock::now();
    Response res = co_await roundtrip(sender, http::verb::post, postmsg, body, o.op_timeout);
    const double postmsg_ms = ms_between(t0, Clock::now());
    if (res.result_int() != 200) {
      ++b.postmsg_errors;
      b.error("/postmsg: " + status_line(res));
      p->expect_wake = false;
      if (++consecutive_failures >= 10) throw Fatal("10 wake-ups in a row failed");
      continue;
    }
    const bool woke =
        co_await b.event.wait_until([&] { return p->wake_done || !p->alive; }, t0 + o.wake_timeout);
    if (!woke || !p->alive || p->woke_at == Clock::time_point{}) {
      ++b.wake_timeouts;
      b.error("no wake-up of user #" + std::to_string(p->index) + " within " +
              std::to_string(o.wake_timeout.count()) + " ms");
      if (++consecutive_failures >= 10) throw Fatal("10 wake-ups in a row failed");
      continue;
    }
    consecutive_failures = 0;
    if (p->wake_raced_timeout) {
      // The poll ended by the server's timeout while the message was on its way: the sample
      // measures a re-park, not a wake. Do this wake again.
      ++b.wake_retried;
      --i;
      continue;
    }
    r.wake_ms.push_back(ms_between(t0, p->woke_at));
    r.postmsg_ms.push_back(postmsg_ms);
  }
}

void print_results(const Bench& b, const Results& r) {
  const std::size_t n = b.opt.connections;
  std::vector<double> s = r.wake_ms;
  std::sort(s.begin(), s.end());
  double mean = 0;
  for (double v : s)
    mean += v;
  if (!s.empty()) mean /= static_cast<double>(s.size());
  std::vector<double> post_sorted = r.postmsg_ms;
  std::sort(post_sorted.begin(), post_sorted.end());
  // How much later than the poster's own 200 the waiting poll was answered: the wake-up's
  // cost beyond the durable commit both answers wait for (0 when the wake arrived first).
  std::vector<double> after_ack;
  for (std::size_t i = 0; i < r.wake_ms.size() && i < r.postmsg_ms.size(); ++i)
    after_ack.push_back(std::max(0.0, r.wake_ms[i] - r.postmsg_ms[i]));
  std::sort(after_ack.begin(), after_ack.end());
  const double per_conn = static_cast<double>(r.rss_after - r.rss_before) / static_cast<double>(n);

  std::cout << "\n== idle long-poll memory (server VmRSS, user-space only: kernel socket\n"
               "   buffers are not in it)\n"
            << "connections:          " << n << "\n"
            << "rss before:           " << r.rss_before << " KiB\n"
            << "rss all parked:       " << r.rss_parked << " KiB\n"
            << "rss after settle:     " << r.rss_after << " KiB\n"
            << "per connection:       " << fmt(per_conn, 2) << " KiB\n"
            << "time to park all:     " << fmt(r.park_seconds, 2) << " s\n"
            << "\n== wake-up latency (/postmsg write -> complete /longpoll answer), " << s.size()
            << " samples\n";
  if (!s.empty()) {
    std::cout << "p50 " << fmt(percentile(s, 50) * 1000, 0) << " us, p90 "
              << fmt(percentile(s, 90) * 1000, 0) << " us, p99 " << fmt(percentile(s, 99) * 1000, 0)
              << " us, max " << fmt(s.back() * 1000, 0) << " us, min " << fmt(s.front() * 1000, 0)
              << " us, mean " << fmt(mean * 1000, 0) << " us\n";
    const auto& post = post_sorted;
    std::cout << "of which the /postmsg round trip alone (its durable commit): p50 "
              << fmt(percentile(post, 50) * 1000, 0) << " us, p99 "
              << fmt(percentile(post, 99) * 1000, 0) << " us\n";
  }
  std::cout << "\n== client-side checks\n"
            << "errors:               " << b.errors << "\n"
            << "  failed connections: " << b.dead << "\n"
            << "  wake timeouts:      " << b.wake_timeouts << "\n"
            << "  /postmsg non-200:   " << b.postmsg_errors << "\n"
            << "  wrong wake body:    " << b.wrong_wake_body << "\n"
            << "  unexpected wakes:   " << b.unexpected_wakes << "\n"
            << "  /receive mismatch:  " << b.receive_mismatch << "\n"
            << "server poll timeouts (empty 200, re-parked): " << b.poll_timeouts << "\n"
            << "wakes redone (raced a poll timeout):          " << b.wake_retried << "\n\n";

  // Machine-readable lines, one key=value each.
  std::cout << "longpoll_connections=" << n << "\n"
            << "longpoll_rss_before_kib=" << r.rss_before << "\n"
            << "longpoll_rss_after_kib=" << r.rss_after << "\n"
            << "longpoll_rss_per_conn_kib=" << fmt(per_conn, 2) << "\n"
            << "longpoll_park_seconds=" << fmt(r.park_seconds, 3) << "\n"
            << "wake_count=" << s.size() << "\n"
            << "wake_p50_ms=" << fmt(percentile(s, 50), 3) << "\n"
            << "wake_p90_ms=" << fmt(percentile(s, 90), 3) << "\n"
            << "wake_p99_ms=" << fmt(percentile(s, 99), 3) << "\n"
            << "wake_max_ms=" << fmt(s.empty() ? 0 : s.back(), 3) << "\n"
            << "wake_mean_ms=" << fmt(mean, 3) << "\n"
            << "postmsg_p50_ms=" << fmt(percentile(post_sorted, 50), 3) << "\n"
            << "postmsg_p99_ms=" << fmt(percentile(post_sorted, 99), 3) << "\n"
            << "wake_after_ack_p50_ms=" << fmt(percentile(after_ack, 50), 3) << "\n"
            << "wake_after_ack_p99_ms=" << fmt(percentile(after_ack, 99), 3) << "\n"
            << "longpoll_errors=" << b.errors << "\n"
            << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_options(argc, argv);
  raise_fd_limit(opt.connections + opt.register_parallel + 16);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(opt.host, ec);
  if (ec) usage_error("--host must be an IP address, got '" + opt.host + "'");

  asio::io_context ioc(1);
  Bench bench(ioc, opt, tcp::endpoint(address, opt.port));
  Results results;
  std::string failure;
  bool finished = false;
  asio::co_spawn(ioc, run(bench, results), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        failure = describe(x);
      }
    }
    finished = true;
    ioc.stop();  // parked pollers would keep the loop alive
  });
  try {
    ioc.run();
  } catch (const std::exception& x) {
    failure = "unexpected: " + describe(x);
  }
  if (!failure.empty() || !finished) {
    std::cerr << "longpoll_bench: FAILED: " << (failure.empty() ? "stopped early" : failure)
              << "\n";
    std::cout.flush();
    std::_Exit(1);
  }
  print_results(bench, results);
  // Skip tearing down thousands of sockets and suspended coroutines: the kernel closes them.
  std::cout.flush();
  std::_Exit(bench.errors == 0 ? 0 : 1);
}
