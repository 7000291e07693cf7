// Abuse limits against the real binary: every limit answers with its status and a plain-text
// reason, and the server goes on serving everyone else. Other client addresses come from
// 127.0.0.2 and up (all of 127/8 is loopback on Linux).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include <future>

#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct RawReply {
  int status = 0;
  std::string body;
};

// "HTTP/1.1 429 Too Many Requests\r\n...\r\n\r\nbody" -> {429, body}; {0, raw} if unparsable.
RawReply parse_reply(const std::string& raw) {
  RawReply out;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12 || end == std::string::npos) {
    out.body = raw;
    return out;
  }
  out.status = std::atoi(raw.substr(9, 3).c_str());
  out.body = raw.substr(end + 4);
  return out;
}

// One TCP connection from a chosen loopback source address, spoken to byte by byte.
class RawConnection {
 public:
  RawConnection(unsigned short port, const std::string& source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
      throw std::runtime_error("cannot bind to " + source);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
      throw std::runtime_error("cannot connect");
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // False once the server has closed or reset the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Appends what arrives to `received_`; false when the server closed (or reset) the
  // connection, true when `timeout` passed first.
  bool read_for(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return true;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      received_.append(buf, static_cast<std::size_t>(n));
    }
  }

  // One response on a kept-alive connection (Content-Length framing).
  RawReply read_response(std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      auto end = received_.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto cl = received_.find("Content-Length: ");
        std::size_t length = cl < end ? std::strtoul(received_.c_str() + cl + 16, nullptr, 10) : 0;
        if (received_.size() >= end + 4 + length) {
          RawReply reply = parse_reply(received_.substr(0, end + 4 + length));
          received_.erase(0, end + 4 + length);
          return reply;
        }
      }
      if (Clock::now() >= deadline || !read_for(20ms)) return parse_reply(received_);
    }
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string received_;
};

std::string request_text(std::string_view method, std::string_view path, std::string_view body,
                         std::string_view extra_headers = {}, bool close = true) {
  std::string out = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n";
  if (close) out += "Connection: close\r\n";
  out += std::string(extra_headers);
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
  return out;
}

// One request on its own connection from `source`.
RawReply raw_request(unsigned short port, const std::string& source, std::string_view method,
                     std::string_view path, std::string_view body = {},
                     std::string_view extra_headers = {}) {
  RawConnection c(port, source);
  c.send(request_text(method, path, body, extra_headers));
  return c.read_response();
}

bool is_plain_text_reason(const HttpResult& res, std::string_view words) {
  return res.content_type.rfind("text/plain", 0) == 0 && res.body.find(words) != std::string::npos;
}

class LimitsTest : public ServerTest {
 protected:
  void SetUp() override {}  // each test starts the server with the limits it exercises

  boost::json::value varz() {
    auto res = raw_request(server().port(), "127.0.0.9", "GET", "/varz");
    EXPECT_EQ(res.status, 200) << res.body;
    return boost::json::parse(res.body);
  }
  std::int64_t varz_count(const char* name) { return varz().at(name).as_int64(); }

  std::string poll_body(const TestUser& user, std::int64_t cursor) {
    return proto::encode(proto::PollGroups{user.id, user.token, {user.id}, cursor});
  }
  std::future<HttpResult> long_poll(const TestUser& user, std::int64_t cursor) {
    auto body = poll_body(user, cursor);
    unsigned short port = server().port();
    return std::async(std::launch::async,
                      [port, body] { return HttpClient(port).post("/longpoll", body); });
  }
  // Waits until /varz shows `n` long-polls parked.
  bool wait_for_waiting_longpolls(std::int64_t n) {
    auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      if (varz_count("longpolls_waiting") == n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

TEST_F(LimitsTest, RegistrationIsRateLimitedPerAddress) {
  start({"--register-rate-per-min", "2"});  // a burst of 4, then one every 30 s
  for (int i = 0; i < 4; ++i)
    register_user();
  auto refused = http().post("/register", "");
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(is_plain_text_reason(refused, "too many registrations")) << refused.body;
  // X-Forwarded-For is not believed without --trust-forwarded-for.
  auto spoofed = raw_request(server().port(), "127.0.0.1", "POST", "/register", "",
                             "X-Forwarded-For: 198.51.100.7\r\n");
  EXPECT_EQ(spoofed.status, 429) << spoofed.body;

  // Everyone else, and everything else, goes on as before.
  auto other = raw_request(server().port(), "127.0.0.2", "POST", "/register");
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_TRUE(proto::decode_user(other.body).ok()) << other.body;
  auto bob = proto::decode_user(other.body);
  ASSERT_TRUE(bob.ok());
  auto inbox =
      http().post("/receive", proto::encode(proto::User{bob->user_id, "", bob->auth_token, 0}));
  EXPECT_EQ(inbox.status, 200) << "other endpoints from the limited address still work";
  EXPECT_EQ(varz_count("rate_limited"), 2);
}

TEST_F(LimitsTest, ForwardedForIsTheClientOnlyWhenTrusted) {
  start({"--register-rate-per-min", "1", "--trust-forwarded-for"});  // a burst of 2
  auto from = [&](const std::string& header) {
    return raw_request(server().port(), "127.0.0.1", "POST", "/register", "",
                       "X-Forwarded-For: " + header + "\r\n")
        .status;
  };
  EXPECT_EQ(from("198.51.100.7"), 200);
  EXPECT_EQ(from("198.51.100.7"), 200);
  EXPECT_EQ(from("198.51.100.7"), 429);
  // The last entry is what our proxy saw; what the client put before it does not count.
  EXPECT_EQ(from("203.0.113.1, 198.51.100.7"), 429);
  EXPECT_EQ(from("198.51.100.8"), 200) << "another client behind the proxy";
  // One IPv6 subscriber is its /64.
  EXPECT_EQ(from("2001:db8:1:2::1"), 200);
  EXPECT_EQ(from("2001:db8:1:2::ffff"), 200);
  EXPECT_EQ(from("2001:db8:1:2:abcd::9"), 429);
  EXPECT_EQ(from("2001:db8:1:3::1"), 200);
}

TEST_F(LimitsTest, EveryRequestIsRateLimitedPerAddress) {
  start({"--ip-rate-per-sec", "5"});  // a burst of 10
  int allowed = 0;
  HttpResult last;
  for (int i = 0; i < 100; ++i) {
    last = http().get("/varz");
    if (last.status != 200) break;
    ++allowed;
  }
  EXPECT_EQ(last.status, 429);
  EXPECT_TRUE(is_plain_text_reason(last, "too many requests from this address")) << last.body;
  EXPECT_GE(allowed, 10);
  EXPECT_LE(allowed, 15) << "5 per second refill, no more";
  auto other = raw_request(server().port(), "127.0.0.2", "POST", "/register");
  EXPECT_EQ(other.status, 200) << "another address is not affected: " << other.body;
  std::this_thread::sleep_for(450ms);
  EXPECT_EQ(http().get("/varz").status, 200) << "the limited address recovers";
}

TEST_F(LimitsTest, HealthChecksAreNotRateLimitedPerAddress) {
  start({"--ip-rate-per-sec", "5"});  // a burst of 10
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(http().get("/healthz").status, 200) << "check " << i;
  EXPECT_EQ(varz_count("rate_limited"), 0);
}

TEST_F(LimitsTest, WritesAreRateLimitedPerAuthenticatedUser) {
  // A burst of 4 and one more per second: the four posts below would have to take a whole
  // second for a fifth to pass.
  start({"--user-rate-per-sec", "1", "--user-burst", "4"});
  auto alice = register_user();
  auto bob = register_user();
  // Requests naming alice without her token do not spend her budget.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(post_message(TestUser{alice.id, bob.token}, bob.id, "forged").status, 401);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(post_message(alice, bob.id, std::string("m").append(std::to_string(i))).status, 200)
        << i;
  auto refused = post_message(alice, bob.id, "one too many");
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(is_plain_text_reason(refused, "too many writes")) << refused.body;
  auto group = http().post("/register2", proto::encode(proto::User{alice.id, "", alice.token, 0}));
  EXPECT_EQ(group.status, 429) << "/register2 is a write too";

  EXPECT_EQ(post_message(bob, alice.id, "hi").status, 200) << "other users are not affected";
  EXPECT_EQ(receive(alice).messages.size(), 1u) << "reads are not write-limited";
  EXPECT_EQ(receive(bob).messages.size(), 4u) << "the refused write was not stored";
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(post_message(alice, bob.id, "later").status, 200) << "the bucket refills";
  EXPECT_EQ(varz_count("rate_limited"), 2);
}

TEST_F(LimitsTest, ConcurrentLongPollsAreBoundedPerUser) {
  start({"--max-longpolls-per-user", "1", "--longpoll-timeout-ms", "10000"});
  auto alice = register_user();
  auto bob = register_user();
  auto first = long_poll(alice, 1);
  ASSERT_TRUE(wait_for_waiting_longpolls(1));

  auto started = Clock::now();
  auto second = http().post("/longpoll", poll_body(alice, 1));
  EXPECT_EQ(second.status, 429);
  EXPECT_TRUE(is_plain_text_reason(second, "too many long-polls")) << second.body;
  EXPECT_LT(Clock::now() - started, 2s) << "refused at once, not after a wait";
  auto forged = http().post("/longpoll", poll_body(TestUser{alice.id, bob.token}, 1));
  EXPECT_EQ(forged.status, 401) << "authentication comes first";

  auto bobs = long_poll(bob, 1);
  EXPECT_TRUE(wait_for_waiting_longpolls(2)) << "other users still get theirs";

  ASSERT_EQ(post_message(bob, alice.id, "wake up").status, 200);
  ASSERT_EQ(post_message(alice, bob.id, "you too").status, 200);
  auto woke = first.get();
  EXPECT_EQ(woke.status, 200);
  EXPECT_EQ(woke.body, alice.id);
  EXPECT_EQ(bobs.get().status, 200);

  // The slot was released when the poll ended.
  auto again = http().post("/longpoll", poll_body(alice, 1));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, alice.id) << "news already waiting: answered at once";
  EXPECT_EQ(varz_count("longpolls_refused"), 1);
}

TEST_F(LimitsTest, ConnectionsOverTheLimitGet503AndOthersAreStillServed) {
  start({"--max-connections", "5"});
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 5; ++i)
    held.push_back(std::make_unique<RawConnection>(server().port()));

  // Accepting is asynchronous: the sixth is refused once the five are in.
  RawReply refused;
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline;) {
    refused = raw_request(server().port(), "127.0.0.2", "GET", "/varz");
    if (refused.status == 503) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("too many connections"), std::string::npos) << refused.body;

  // The connections already in are served normally, on keep-alive too.
  ASSERT_TRUE(held[0]->send(request_text("POST", "/register", "", {}, false)));
  EXPECT_EQ(held[0]->read_response().status, 200);
  ASSERT_TRUE(held[0]->send(request_text("GET", "/varz", "", {}, false)));
  auto seen = held[0]->read_response();
  ASSERT_EQ(seen.status, 200);
  EXPECT_GE(boost::json::parse(seen.body).at("connections_refused").as_int64(), 1);

  // A freed slot is taken by the next client.
  held[1]->close();
  RawReply admitted;
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline;) {
    admitted = raw_request(server().port(), "127.0.0.2", "POST", "/register");
    if (admitted.status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(admitted.status, 200) << admitted.body;
}

TEST_F(LimitsTest, SlowlorisCannotStarveRealClients) {
  start({"--request-timeout-ms", "1000"});
  constexpr int kTricklers = 50;
  const std::string header = "POST /register HTTP/1.1\r\nHost: t\r\nX-Pad: aaaaaaaaaaaaaaaaaaa";
  std::vector<std::unique_ptr<RawConnection>> tricklers;
  std::vector<double> cut_after_ms(kTricklers, -1);
  auto opened = Clock::now();
  for (int i = 0; i < kTricklers; ++i)
    tricklers.push_back(std::make_unique<RawConnection>(server().port()));

  // Each trickler sends a byte every 100 ms until the server cuts it.
  std::thread trickle([&] {
    for (std::size_t pos = 0; Clock::now() - opened < 10s; ++pos) {
      bool all_cut = true;
      for (int i = 0; i < kTricklers; ++i) {
        if (cut_after_ms[i] >= 0) continue;
        all_cut = false;
        pollfd p{tricklers[i]->fd(), POLLIN, 0};
        bool closed = ::poll(&p, 1, 0) > 0;  // nothing is ever answered: readable = closed
        if (!closed) closed = !tricklers[i]->send(header.substr(pos % header.size(), 1));
        if (closed) {
          cut_after_ms[i] =
              std::chrono::duration<double, std::milli>(Clock::now() - opened).count();
        }
      }
      if (all_cut) return;
      std::this_thread::sleep_for(100ms);
    }
  });

  std::this_thread::sleep_for(300ms);
  auto started = Clock::now();
  auto res = raw_request(server().port(), "127.0.0.2", "POST", "/register");
  double real_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  trickle.join();
  std::cout << "[ info ] a real request during " << kTricklers << " trickling connections took "
            << real_ms << " ms\n";
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_LT(real_ms, 500.0);
  for (int i = 0; i < kTricklers; ++i) {
    EXPECT_GE(cut_after_ms[i], 900.0) << "trickler " << i << " was cut too early";
    EXPECT_LE(cut_after_ms[i], 2500.0) << "trickler " << i << " outlived the request timeout";
  }
}

TEST_F(LimitsTest, AKeptAliveConnectionTricklingItsNextRequestIsCut) {
  // The idle allowance is long, but it ends with the first byte of the next request.
  start({"--request-timeout-ms", "1000", "--idle-timeout-ms", "60000"});
  RawConnection c(server().port());
  ASSERT_TRUE(c.send(request_text("GET", "/varz", "", {}, false)));
  ASSERT_EQ(c.read_response().status, 200);
  std::this_thread::sleep_for(1500ms);  // idle longer than the request timeout: still fine
  const std::string next = "GET /varz HTTP/1.1\r\nHost: t\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  auto first_byte = Clock::now();
  bool cut = false;
  for (std::size_t i = 0; i < next.size() && !cut; ++i) {
    cut = !c.send(next.substr(i, 1)) || !c.read_for(100ms);
  }
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - first_byte).count();
  EXPECT_TRUE(cut);
  EXPECT_GE(ms, 900.0);
  EXPECT_LE(ms, 2500.0);
}

}  // namespace
}  // namespace secchats::testing
