// Self-test of the test-side JSON-RPC client (daemon_client) against a scripted peer on a Unix
// socket: replies matched by id whatever their order, notifications queued, timeouts, a
// closed connection.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "support/daemon_client.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {
namespace {

// Listens on `path`, accepts one connection, reads two request lines, then writes `script`.
class ScriptedPeer {
 public:
  ScriptedPeer(const std::filesystem::path& path, std::string script) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    thread_ = std::thread([this, script = std::move(script)] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      std::string in;
      char buf[4096];
      while (std::count(in.begin(), in.end(), '\n') < 2) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      received_ = in;
      (void)!::write(fd, script.data(), script.size());
      ::close(fd);
    });
  }
  ~ScriptedPeer() {
    thread_.join();
    ::close(listen_fd_);
  }
  std::string received() {
    thread_.join();
    thread_ = std::thread([] {});
    return received_;
  }

 private:
  int listen_fd_ = -1;
  std::thread thread_;
  std::string received_;
};

TEST(DaemonClientSelftest, MatchesRepliesByIdQueuesNotificationsAndNoticesTheClose) {
  TempDir dir("secchats-rpc");
  const auto path = dir.path() / "d.sock";
  ScriptedPeer peer(path,
                    R"({"jsonrpc":"2.0","method":"event","params":{"event":"message","text":"hi"}})"
                    "\n"
                    R"({"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"unknown method"}})"
                    "\n"
                    R"({"jsonrpc":"2.0","id":1,"result":[{"event":"sent","messageId":"7"}]})"
                    "\n");
  std::string error;
  auto c = DaemonClient::connect(path, &error);
  ASSERT_TRUE(c) << error;
  const auto a = c->send_request("send", {{"friend", "Bob"}, {"text", "x"}});
  const auto b = c->send_request("fly");
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  auto ra = c->wait_reply(a, std::chrono::seconds(10));
  ASSERT_TRUE(ra.ok()) << ra.describe();
  ASSERT_EQ(ra.objects().size(), 1u);
  EXPECT_EQ(ra.objects()[0].at("messageId").as_string(), "7");
  auto rb = c->wait_reply(b, std::chrono::seconds(10));
  ASSERT_TRUE(rb.is_error()) << rb.describe();
  EXPECT_EQ(rb.code, -32601);
  EXPECT_EQ(rb.message, "unknown method");
  auto ev = c->next_event(std::chrono::seconds(10));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->at("text").as_string(), "hi");
  // The peer closed: no more answers, and it says so instead of waiting.
  auto none = c->wait_reply(99, std::chrono::seconds(10));
  EXPECT_EQ(none.kind, RpcReply::Kind::kClosed);
  EXPECT_TRUE(c->closed());
  const std::string sent = peer.received();
  EXPECT_NE(sent.find(R"("method":"send")"), std::string::npos) << sent;
  EXPECT_NE(sent.find(R"("params":{"friend":"Bob","text":"x"})"), std::string::npos) << sent;
  EXPECT_EQ(std::count(sent.begin(), sent.end(), '\n'), 2);
}

TEST(DaemonClientSelftest, AReadTimesOutWhenNothingComes) {
  TempDir dir("secchats-rpc");
  const auto path = dir.path() / "d.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto c = DaemonClient::connect(path);
  ASSERT_TRUE(c);
  auto r = c->call("id", {}, std::chrono::milliseconds(100));
  EXPECT_EQ(r.kind, RpcReply::Kind::kTimeout);
  EXPECT_FALSE(c->next_notification(std::chrono::milliseconds(50)));
  EXPECT_FALSE(DaemonClient::connect(dir.path() / "nobody.sock"));
  ::close(fd);
}

}  // namespace
}  // namespace secchats::testing
