// Two relays on one PostgreSQL database (issue 13): cross-relay wake-up, ordering by cursor
// with writers on both relays, a relay killed mid-send, and /healthz. Outages of PostgreSQL
// itself are in cluster_outage_test.cpp, blobs and retention in cluster_jobs_test.cpp.
#include <boost/json.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
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

struct TimedResult {
  HttpResult result;
  Clock::time_point answered;
};

// A /longpoll on `port` in the background; the time stamp is taken the moment it returns.
std::future<TimedResult> long_poll(unsigned short port, const ClusterUser& user,
                                   std::vector<std::string> ids, std::int64_t cursor) {
  auto body = proto::encode(proto::PollGroups{user.id, user.token, std::move(ids), cursor});
  return std::async(std::launch::async, [port, body] {
    HttpResult r = HttpClient(port).post("/longpoll", body);
    return TimedResult{std::move(r), Clock::now()};
  });
}

struct Exit {
  int status = -1;
  std::string output;
};

// Runs the relay binary with `args` to its exit; stdout and stderr together.
Exit run_relay(const std::string& args) {
  Exit r;
  FILE* p = popen((ServerProcess::binary().string() + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr)
    r.output += buf;
  const int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

TEST(ClusterStartTest, AnUnreachableDatabaseIsOneLineNamingHostAndPortAndExit1) {
  TempDir dir("secchats-relay");
  // Port 1 on loopback: nothing listens there.
  Exit r = run_relay("--listen 127.0.0.1:0 --data-dir '" + dir.path().string() +
                     "' --storage 'postgresql://relay:pa55word@127.0.0.1:1/chats'");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("127.0.0.1:1/chats"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("pa55word"), std::string::npos) << "leaks the password: " << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(ClusterStartTest, AMalformedStorageUriIsAUsageError) {
  TempDir dir("secchats-relay");
  for (const std::string uri :
       {"mysql://relay:pa55word@db/chats", "postgresql://u:pa55word@[::1/x"}) {
    Exit r = run_relay("--data-dir '" + dir.path().string() + "' --storage '" + uri + "'");
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.status, 1) << "a usage error, not a start-up failure: " << r.output;
    EXPECT_NE(r.output.find("--storage"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("pa55word"), std::string::npos) << "leaks the password: " << r.output;
  }
}

TEST_F(ClusterTest, BothRelaysServeTheSameAccountsAndMessages) {
  const std::string log = a_.process->stderr_text();
  EXPECT_NE(
      log.find("storage postgresql 127.0.0.1:" + std::to_string(PgCluster::shared().port()) + "/"),
      std::string::npos)
      << log;

  HttpClient a(a_.port());
  HttpClient b(b_.port());
  auto alice = register_user(a);
  auto bob = register_user(b);
  ASSERT_EQ(post_message(a, alice, bob.id, "through A").status, 200);
  auto inbox = receive(b, bob, 0);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(*inbox[0].enc_content, "through A");
  EXPECT_EQ(varz(a_.port(), "users"), 2) << "one database behind both";
  EXPECT_EQ(varz(b_.port(), "users"), 2);
}

// The bound is the correctness requirement for the LISTEN/NOTIFY path, measured from
// the moment the post's 200 arrived (the write is committed, its notification sent) to the
// long-poll's answer; every round must meet it.
TEST_F(ClusterTest, LongPollOnAWakesWithinAHundredMillisecondsOfAPostOnB) {
  HttpClient a(a_.port());
  HttpClient b(b_.port());
  auto alice = register_user(b);
  auto bob = register_user(a);
  for (int round = 0; round < 3; ++round) {
    auto seen = receive(a, bob, 0);
    const std::int64_t cursor = seen.empty() ? 1 : seen.back().timestamp;
    auto poll = long_poll(a_.port(), bob, {bob.id}, cursor);
    // Let it park; a poll that answers now would not be waiting for the post below.
    ASSERT_EQ(poll.wait_for(300ms), std::future_status::timeout) << "nothing new yet";
    ASSERT_EQ(post_message(b, alice, bob.id, "wake " + std::to_string(round)).status, 200);
    const auto acknowledged = Clock::now();
    TimedResult woke = poll.get();
    ASSERT_EQ(woke.result.status, 200);
    EXPECT_EQ(woke.result.body, bob.id) << "names the queue that has news";
    const double ms = std::max(
        0.0, std::chrono::duration<double, std::milli>(woke.answered - acknowledged).count());
    std::cout << "[ info ] cross-relay wake-up after the post's 200: " << ms << " ms\n";
    EXPECT_LT(ms, 100.0) << "round " << round;
  }
}

TEST_F(ClusterTest, GroupPostOnBWakesALongPollOnA) {
  HttpClient a(a_.port());
  HttpClient b(b_.port());
  auto alice = register_user(b);
  auto res = b.post("/register2", proto::encode(proto::User{alice.id, "", alice.token, 0}));
  ASSERT_EQ(res.status, 200) << res.body;
  const std::string group = *proto::decode_group(res.body)->group_id;
  auto poll = long_poll(a_.port(), alice, {group}, 1);
  ASSERT_EQ(poll.wait_for(300ms), std::future_status::timeout);
  ASSERT_EQ(
      b.post("/postgroup", proto::encode(proto::SendMessage{group, alice.token, alice.id, "g", 0}))
          .status,
      200);
  auto woke = poll.get();
  EXPECT_EQ(woke.result.status, 200);
  EXPECT_EQ(woke.result.body, group);
}

// Fails for a plain sequence: with writers committing out of order on two relays, a reader
// that moved its cursor past a later timestamp would never see an earlier one committed after.
TEST_F(ClusterTest, FourWritersOnBothRelaysAreReadByCursorExactlyOnceInOrder) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 500;
  HttpClient setup(a_.port());
  auto target = register_user(setup);
  std::vector<ClusterUser> writers;
  for (int i = 0; i < kWriters; ++i)
    writers.push_back(register_user(setup));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    const unsigned short port = w % 2 == 0 ? a_.port() : b_.port();
    threads.emplace_back([&, w, port] {
      HttpClient client(port);
      for (int i = 0; i < kPerWriter; ++i) {
        auto body =
            proto::encode(proto::SendMessage{target.id, writers[w].token, writers[w].id,
                                             std::to_string(w) + ":" + std::to_string(i), 0});
        if (client.post("/postmsg", body).status != 200) ++failures;
      }
    });
  }

  // The reader alternates between the relays, each /receive from the cursor so far.
  HttpClient read_a(a_.port());
  HttpClient read_b(b_.port());
  std::map<std::string, int> seen;
  std::vector<std::string> delivered;
  std::int64_t cursor = 0;
  bool ordered = true;
  int turn = 0;
  auto drain_once = [&] {
    auto messages = receive(++turn % 2 ? read_a : read_b, target, cursor);
    for (const auto& m : messages) {
      if (m.timestamp <= cursor) ordered = false;
      cursor = m.timestamp;
      ++seen[*m.enc_content];
      delivered.push_back(*m.enc_content);
    }
    return messages.size();
  };
  const auto deadline = Clock::now() + 4min;
  while (seen.size() < kWriters * kPerWriter && Clock::now() < deadline) {
    if (drain_once() == 0) std::this_thread::sleep_for(2ms);
  }
  for (auto& t : threads)
    t.join();
  drain_once();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(ordered) << "timestamps strictly increase in delivery order";
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kWriters * kPerWriter)) << "none skipped";
  for (const auto& [content, count] : seen)
    ASSERT_EQ(count, 1) << content << " delivered more than once";
  std::map<int, int> next_per_writer;
  for (const auto& content : delivered) {
    const int w = std::stoi(content.substr(0, content.find(':')));
    const int i = std::stoi(content.substr(content.find(':') + 1));
    EXPECT_EQ(i, next_per_writer[w]++) << "writer " << w << " out of order";
  }
}

TEST_F(ClusterTest, KillingOneRelayLosesNothingAcknowledgedAndTheOtherServesOn) {
  HttpClient setup(b_.port());
  auto target = register_user(setup);
  auto writer_a = register_user(setup);
  auto writer_b = register_user(setup);

  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> acked_on_a{0};
  std::atomic<int> failures_on_b{0};
  auto write_loop = [&](unsigned short port, const ClusterUser& from, const std::string& tag,
                        bool on_a) {
    HttpClient client(port);
    for (int i = 0; !stop.load(); ++i) {
      const std::string content = tag + std::to_string(i);
      int status = 0;
      try {
        status = post_message(client, from, target.id, content).status;
      } catch (const std::exception&) {
        status = 0;  // the relay is gone: not acknowledged
      }
      if (status == 200) {
        std::lock_guard lock(mutex);
        acknowledged.insert(content);
        if (on_a) ++acked_on_a;
      } else if (on_a) {
        return;  // A died
      } else {
        ++failures_on_b;
      }
    }
  };
  std::thread on_a(write_loop, a_.port(), writer_a, "a", true);
  std::thread on_b(write_loop, b_.port(), writer_b, "b", false);
  const auto deadline = Clock::now() + 60s;
  while (acked_on_a.load() < 200 && Clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  a_.process->kill_hard();  // mid-send: A's writer has requests in flight
  std::this_thread::sleep_for(300ms);
  stop = true;
  on_a.join();
  on_b.join();
  ASSERT_GE(acked_on_a.load(), 200);
  EXPECT_EQ(failures_on_b.load(), 0) << "B kept serving while A died";

  HttpClient b(b_.port());
  ASSERT_EQ(post_message(b, writer_b, target.id, "after").status, 200);
  std::int64_t cursor = 0;
  const std::set<std::string> seen = receive_all(b, target, cursor);
  for (const auto& content : acknowledged)
    EXPECT_TRUE(seen.count(content)) << "acknowledged but lost: " << content;
  EXPECT_TRUE(seen.count("after"));
}

TEST_F(ClusterTest, HealthzIsOkOnBothRelaysAndCountedInVarz) {
  for (unsigned short port : {a_.port(), b_.port()}) {
    auto res = HttpClient(port).get("/healthz");
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.body, "ok\n");
  }
  auto res = HttpClient(a_.port()).get("/varz");
  ASSERT_EQ(res.status, 200);
  auto v = boost::json::parse(res.body);
  EXPECT_EQ(v.at("requests").at("/healthz").as_int64(), 1) << res.body;
  EXPECT_EQ(v.at("listen_connected").as_int64(), 1) << "the LISTEN connection is up";
  EXPECT_EQ(v.at("listen_reconnects").as_int64(), 0);
}

}  // namespace
}  // namespace secchats::testing
