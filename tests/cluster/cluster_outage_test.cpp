// PostgreSQL stops under load and comes back (issue 13): both relays answer 503 with a reason
// meanwhile and never 200 for a write that did not commit, /healthz follows, and they recover
// by themselves — writes, reads and cross-relay wake-ups — with nothing acknowledged lost.
// This test owns its cluster: it stops PostgreSQL.
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cluster_fixture.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class ClusterOutageTest : public ClusterTest {
 protected:
  void SetUp() override {
    own_ = PgCluster::start();
    uri_ = own_->create_database();
    start_pair(uri_);
  }
  void TearDown() override {
    // The relays go before their database.
    a_.process.reset();
    b_.process.reset();
  }

  // Polls /healthz on `port` until it answers `status` (bounded; false if it never does).
  static bool healthz_becomes(unsigned short port, int status, std::string* body = nullptr) {
    const auto deadline = Clock::now() + 60s;
    while (Clock::now() < deadline) {
      try {
        auto res = HttpClient(port).get("/healthz");
        if (res.status == status) {
          if (body) *body = res.body;
          return true;
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::unique_ptr<PgCluster> own_;
};

TEST_F(ClusterOutageTest, RelaysAnswer503WhilePostgresIsDownAndRecoverByThemselves) {
  HttpClient setup(a_.port());
  auto target = register_user(setup);
  std::vector<ClusterUser> writers = {register_user(setup), register_user(setup)};

  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::map<int, int> statuses;  // every answer the writers got, by status
  std::vector<std::string> bad_reasons;
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    const unsigned short port = w == 0 ? a_.port() : b_.port();
    threads.emplace_back([&, w, port] {
      HttpClient client(port);
      for (int i = 0; !stop.load(); ++i) {
        const std::string content = std::to_string(w) + ":" + std::to_string(i);
        HttpResult res;
        try {
          res = post_message(client, writers[w], target.id, content);
        } catch (const std::exception&) {
          res.status = 0;  // no answer: not acknowledged
        }
        std::lock_guard lock(mutex);
        ++statuses[res.status];
        if (res.status == 200) {
          acknowledged.insert(content);
          ++acked;
        } else if (res.status == 503 && res.body.find("unavailable") == std::string::npos) {
          bad_reasons.push_back(res.body);
        }
        if (res.status != 200) std::this_thread::sleep_for(20ms);
      }
    });
  }
  while (acked.load() < 100)
    std::this_thread::sleep_for(5ms);

  own_->stop();  // pg_ctl stop -m fast: sessions are cut off, in-flight commits fail
  std::string reason;
  EXPECT_TRUE(healthz_becomes(a_.port(), 503, &reason)) << "A never noticed";
  EXPECT_TRUE(healthz_becomes(b_.port(), 503));
  EXPECT_NE(reason.find("unavailable"), std::string::npos) << "names the reason: " << reason;
  const int acked_while_down_start = acked.load();
  std::this_thread::sleep_for(1s);
  {
    HttpClient probe(b_.port());
    auto res = post_message(probe, writers[1], target.id, "while down");
    EXPECT_EQ(res.status, 503) << res.body;
    EXPECT_EQ(
        probe.post("/receive", proto::encode(proto::User{target.id, "", target.token, 0})).status,
        503);
  }
  // A write already past its COMMIT when the server went away may have been acknowledged
  // just before /healthz turned; after that, none.
  EXPECT_LE(acked.load() - acked_while_down_start, 2) << "a 200 while PostgreSQL was down";

  own_->restart_stopped();
  EXPECT_TRUE(healthz_becomes(a_.port(), 200)) << "A did not recover by itself";
  EXPECT_TRUE(healthz_becomes(b_.port(), 200)) << "B did not recover by itself";
  const int acked_after_restart = acked.load();
  const auto deadline = Clock::now() + 60s;
  while (acked.load() < acked_after_restart + 100 && Clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  stop = true;
  for (auto& t : threads)
    t.join();
  EXPECT_GE(acked.load(), acked_after_restart + 100) << "writes did not resume";
  EXPECT_TRUE(bad_reasons.empty()) << "a 503 without the reason: " << bad_reasons.front();
  for (const auto& [status, count] : statuses)
    EXPECT_TRUE(status == 200 || status == 503 || status == 0)
        << count << " answers with status " << status;

  // Cross-relay wake-up works again: the LISTEN connections came back too.
  HttpClient a(a_.port());
  HttpClient b(b_.port());
  std::int64_t cursor = 0;
  const std::set<std::string> seen = receive_all(a, target, cursor);
  for (const auto& content : acknowledged)
    EXPECT_TRUE(seen.count(content)) << "acknowledged but lost: " << content;

  auto body = proto::encode(proto::PollGroups{target.id, target.token, {target.id}, cursor});
  auto poll = std::async(std::launch::async, [port = a_.port(), body] {
    return HttpClient(port).post("/longpoll", body);
  });
  ASSERT_EQ(poll.wait_for(300ms), std::future_status::timeout);
  ASSERT_EQ(post_message(b, writers[1], target.id, "wake after recovery").status, 200);
  ASSERT_EQ(poll.wait_for(5s), std::future_status::ready) << "no wake-up from B after recovery";
  auto woke = poll.get();
  EXPECT_EQ(woke.status, 200);
  EXPECT_EQ(woke.body, target.id);
  for (unsigned short port : {a_.port(), b_.port()}) {
    EXPECT_EQ(varz(port, "listen_connected"), 1);
    EXPECT_GE(varz(port, "listen_reconnects"), 1) << "the LISTEN connection came back";
  }
}

}  // namespace
}  // namespace secchats::testing
