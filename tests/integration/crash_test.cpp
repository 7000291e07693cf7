// Crash test: concurrent clients keep posting while the server is killed with SIGKILL at random
// moments and restarted on the same port and data directory. Afterwards every acknowledged
// (200) post is delivered exactly once, nothing is delivered twice, timestamps strictly
// increase, and a post whose answer was lost is delivered at most once.
//
// The kill schedule is random; the seed is printed, and SECCHATS_CRASH_SEED=<seed> replays it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kThreads = 4;
constexpr int kKills = 5;

// An HTTP client that never resends a request (HttpClient retries once on a fresh connection,
// which would turn a lost answer into a second, acknowledged copy of the same post).
class SingleShotClient {
 public:
  enum class Outcome {
    kNotSent,   // could not connect: the request never left
    kLost,      // sent (perhaps), but no complete answer: it may or may not have been stored
    kAnswered,  // a complete HTTP response
  };
  struct Reply {
    Outcome outcome = Outcome::kNotSent;
    int status = 0;
  };

  explicit SingleShotClient(unsigned short port) : port_(port) {}

  Reply post(const std::string& path, const std::string& body) {
    if (!stream_) {
      try {
        stream_ = std::make_unique<beast::tcp_stream>(ioc_);
        stream_->expires_after(2s);
        stream_->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        buffer_.clear();
      } catch (const std::exception&) {
        stream_.reset();
        return {Outcome::kNotSent, 0};
      }
    }
    try {
      http::request<http::string_body> req{http::verb::post, path, 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      stream_->expires_after(10s);
      http::write(*stream_, req);
      http::response<http::string_body> res;
      http::read(*stream_, buffer_, res);
      if (!res.keep_alive()) stream_.reset();
      return {Outcome::kAnswered, static_cast<int>(res.result_int())};
    } catch (const std::exception&) {
      stream_.reset();
      return {Outcome::kLost, 0};
    }
  }

 private:
  unsigned short port_;
  asio::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

enum class Fate { kAcknowledged, kLost, kRefused4xx, kRefused5xx };

struct PostRecord {
  int thread = 0;
  int seq = 0;
  Fate fate = Fate::kLost;
  int status = 0;  // the answer's status, 0 if none came
};

std::string tag(int thread, int seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "crash-t%d-s%06d", thread, seq);
  return buf;
}

class CrashTest : public ServerTest {
 protected:
  // kill -9, then start again on the same port and data directory.
  void crash_and_restart() {
    client_.reset();
    const unsigned short port = server().port();
    server().kill_hard();
    server_.reset();
    // The rate limits stay off, as ServerTest::start leaves them: every client is 127.0.0.1.
    std::vector<std::string> args = {"--ip-rate-per-sec",       "0", "--user-rate-per-sec", "0",
                                     "--register-rate-per-min", "0"};
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{data_dir_.path(), std::move(args), port});
    client_ = std::make_unique<HttpClient>(port);
  }
};

TEST_F(CrashTest, AcknowledgedPostsSurviveRepeatedKillNineExactlyOnce) {
  std::uint32_t seed = std::random_device{}();
  if (const char* env = std::getenv("SECCHATS_CRASH_SEED")) {
    seed = static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10));
  }
  std::cout << "[ info ] crash test seed=" << seed << " (SECCHATS_CRASH_SEED=" << seed
            << " replays the kill schedule)\n";
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(100, 600);

  auto recipient = register_user();
  std::vector<TestUser> senders;
  for (int t = 0; t < kThreads; ++t)
    senders.push_back(register_user());
  const unsigned short port = server().port();

  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged_total{0};
  std::mutex records_mutex;
  std::map<std::string, PostRecord> records;  // every post that may have reached the server

  auto sender_loop = [&](int t) {
    SingleShotClient client(port);
    int seq = 0;
    while (!stop.load()) {
      const std::string content = tag(t, seq);
      auto body = proto::encode(
          proto::SendMessage{recipient.id, senders[t].token, senders[t].id, content, 0});
      auto reply = client.post("/postmsg", body);
      if (reply.outcome == SingleShotClient::Outcome::kNotSent) {
        std::this_thread::sleep_for(5ms);  // server down: try the same post again
        continue;
      }
      Fate fate = Fate::kLost;
      if (reply.outcome == SingleShotClient::Outcome::kAnswered) {
        fate = reply.status == 200  ? Fate::kAcknowledged
               : reply.status < 500 ? Fate::kRefused4xx
                                    : Fate::kRefused5xx;
      }
      {
        std::lock_guard lock(records_mutex);
        records[content] = {t, seq, fate, reply.status};
      }
      if (fate == Fate::kAcknowledged) {
        acknowledged_total.fetch_add(1);
      } else {
        std::this_thread::sleep_for(5ms);
      }
      ++seq;
    }
  };

  std::vector<std::thread> threads;
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop = true;
      for (auto& th : threads)
        if (th.joinable()) th.join();
    }
  } join_all{stop, threads};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(sender_loop, t);

  // Waits until the server now running has acknowledged a post, so each kill lands while the
  // clients are really writing to it.
  auto wait_for_traffic = [&](int since) {
    auto deadline = Clock::now() + 20s;
    while (acknowledged_total.load() <= since && Clock::now() < deadline)
      std::this_thread::sleep_for(2ms);
    return acknowledged_total.load() > since;
  };

  const auto started = Clock::now();
  int kills = 0;
  std::string schedule;
  for (int k = 0; k < kKills; ++k) {
    ASSERT_TRUE(wait_for_traffic(acknowledged_total.load())) << "no post acknowledged";
    const int delay = delay_ms(rng);
    if (k) schedule += ",";
    schedule += std::to_string(delay);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    crash_and_restart();
    ++kills;
  }
  // Some traffic on the last server too, then stop the writers.
  ASSERT_TRUE(wait_for_traffic(acknowledged_total.load())) << "no post acknowledged";
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& th : threads)
    th.join();
  std::cout << "[ info ] kill delays (ms): " << schedule << "; writing took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
            << " ms\n";

  // Read the recipient's queue once, following the cursor from 0.
  std::vector<proto::SendMessage> delivered;
  std::int64_t cursor = 0;
  for (int page = 0; page < 10000; ++page) {
    auto inbox = receive(recipient, cursor);
    EXPECT_TRUE(inbox.friend_requests.empty() && inbox.friend_responses.empty() &&
                inbox.group_invites.empty());
    if (inbox.messages.empty()) break;
    for (auto& m : inbox.messages)
      delivered.push_back(std::move(m));
    cursor = delivered.back().timestamp;
  }

  std::map<std::string, int> times_delivered;
  std::array<int, kThreads> last_seq_of_thread;
  last_seq_of_thread.fill(-1);
  std::int64_t last_ts = 0;
  for (const auto& m : delivered) {
    const std::string content = m.enc_content.value_or("");
    ++times_delivered[content];
    EXPECT_GT(m.timestamp, last_ts) << "timestamps strictly increase, at " << content;
    last_ts = m.timestamp;
    EXPECT_EQ(m.to_id, recipient.id);
    auto it = records.find(content);
    if (it == records.end()) {
      ADD_FAILURE() << "delivered a body nobody sent: " << content;
      continue;
    }
    const auto& rec = it->second;
    EXPECT_EQ(m.from_user_id, senders[rec.thread].id) << content;
    // Each writer waits for one post before the next, so its posts arrive in order.
    EXPECT_GT(rec.seq, last_seq_of_thread[rec.thread]) << "out of order: " << content;
    last_seq_of_thread[rec.thread] = rec.seq;
  }

  int acknowledged = 0;
  int lost = 0;
  int lost_delivered = 0;
  int refused = 0;
  std::map<int, int> refusals;  // status -> count
  for (const auto& [content, rec] : records) {
    auto it = times_delivered.find(content);
    const int n = it == times_delivered.end() ? 0 : it->second;
    EXPECT_LE(n, 1) << "delivered twice: " << content;
    switch (rec.fate) {
      case Fate::kAcknowledged:
        ++acknowledged;
        EXPECT_EQ(n, 1) << "acknowledged but lost: " << content;
        break;
      case Fate::kLost:
        ++lost;
        lost_delivered += n > 0;
        break;
      case Fate::kRefused4xx:
        ++refused;
        ++refusals[rec.status];
        EXPECT_EQ(n, 0) << "refused but stored: " << content;
        break;
      case Fate::kRefused5xx:
        ++refused;
        ++refusals[rec.status];
        break;
    }
  }
  EXPECT_EQ(kills, kKills);
  EXPECT_GT(acknowledged, 0);
  std::cout << "crash test: kills=" << kills << " acknowledged=" << acknowledged
            << " delivered=" << delivered.size() << " unacknowledged=" << lost
            << " unacknowledged_delivered=" << lost_delivered << " refused=" << refused
            << " seed=" << seed << "\n";
  for (const auto& [status, n] : refusals)
    std::cout << "[ info ] refused with " << status << ": " << n << "\n";

  // The restarted server goes on: new posts continue the timestamp sequence.
  ASSERT_EQ(post_message(senders[0], recipient.id, "after the crashes").status, 200);
  auto newest = receive(recipient, cursor);
  ASSERT_EQ(newest.messages.size(), 1u);
  EXPECT_GT(newest.messages[0].timestamp, last_ts);
}

}  // namespace
}  // namespace secchats::testing
