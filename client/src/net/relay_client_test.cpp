// RelayClient against the real secchats-server binary, plus a scripted fake server for the
// answers the real one never gives (huge bodies, silence, odd statuses, dropped connections).
#include "secchats/net/relay_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "secchats/protocol/json_codec.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::net {
namespace {
namespace proto = secchats::protocol;
using secchats::testing::ServerProcess;
using secchats::testing::TempDir;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::unique_ptr<RelayClient> make_client(const std::string& url, RelayOptions options = {}) {
  auto client = RelayClient::create(url, options);
  EXPECT_TRUE(client.ok()) << client.error().message();
  return client.ok() ? std::move(client).value() : nullptr;
}

bool is_hex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class RelayClientTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(std::vector<std::string> extra_args = {}) {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{data_dir_.path(), std::move(extra_args)});
    url_ = server_->base_url();
  }

  Credentials register_user(RelayClient& client) {
    auto user = client.register_user();
    EXPECT_TRUE(user.ok()) << user.error().message();
    if (!user.ok()) return {};
    return {user->user_id.value_or(""), SecretString(user->auth_token.value_or(""))};
  }

  // The client's TCP connections to the server, by state (from /proc/net/tcp: both ends of
  // a loopback connection are listed; ours are those whose remote port is the server's).
  struct Sockets {
    int established = 0;
    int other = 0;
  };
  Sockets client_sockets() const {
    Sockets out;
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto colon = remote.find(':');
      if (colon == std::string::npos) continue;
      if (std::stoul(remote.substr(colon + 1), nullptr, 16) != server_->port()) continue;
      (state == "01" ? out.established : out.other)++;
    }
    return out;
  }

  TempDir data_dir_{"secchats-net"};
  std::unique_ptr<ServerProcess> server_;
  std::string url_;
};

TEST_F(RelayClientTest, RegisterGivesFreshIds) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials a = register_user(*client);
  Credentials b = register_user(*client);
  EXPECT_TRUE(is_hex(a.user_id)) << a.user_id;
  EXPECT_TRUE(is_hex(a.auth_token.str()));
  EXPECT_NE(a.user_id, b.user_id);
  EXPECT_NE(a.auth_token, b.auth_token);
}

TEST_F(RelayClientTest, ResolvesHostNamesAndIgnoresATrailingSlash) {
  auto client = make_client("http://localhost:" + std::to_string(server_->port()) + "/");
  ASSERT_TRUE(client);
  auto user = client->register_user();
  EXPECT_TRUE(user.ok()) << user.error().message();
}

TEST_F(RelayClientTest, FriendRequestAndResponseFlow) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  Credentials bob = register_user(*client);

  // Whatever the caller puts in the credential fields is replaced by `me`.
  proto::FriendRequest request;
  request.from_user_id = "mallory";
  request.auth_token = "not-the-token";
  request.to_user_id = bob.user_id;
  request.protocol = std::string(proto::kKeyAgreementProtocol);
  request.crypto_data = "alice-public";
  ASSERT_TRUE(client->connect(alice, request).ok());

  auto inbox = client->receive(bob, 0);
  ASSERT_TRUE(inbox.ok()) << inbox.error().message();
  ASSERT_EQ(inbox->friend_requests.size(), 1u);
  const auto& got = inbox->friend_requests[0];
  EXPECT_EQ(got.from_user_id, alice.user_id);
  EXPECT_EQ(got.crypto_data, "alice-public");
  EXPECT_EQ(got.protocol, std::string(proto::kKeyAgreementProtocol));
  EXPECT_FALSE(got.auth_token.has_value() && !got.auth_token->empty());
  EXPECT_GT(got.timestamp, 0);

  proto::FriendResponse response;
  response.to_user_id = alice.user_id;
  response.crypto_data = "bob-public";
  ASSERT_TRUE(client->respond(bob, response).ok());
  auto alice_inbox = client->receive(alice, 0);
  ASSERT_TRUE(alice_inbox.ok()) << alice_inbox.error().message();
  ASSERT_EQ(alice_inbox->friend_responses.size(), 1u);
  EXPECT_EQ(alice_inbox->friend_responses[0].from_user_id, bob.user_id);
  EXPECT_EQ(alice_inbox->friend_responses[0].crypto_data, "bob-public");
  EXPECT_GT(alice_inbox->friend_responses[0].timestamp, 0);

  // Nothing newer than what bob has seen.
  auto again = client->receive(bob, got.timestamp);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->friend_requests.empty());
}

TEST_F(RelayClientTest, PostMessageAndReceiveAfterCursor) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  Credentials bob = register_user(*client);
  for (const char* text : {"one", "two", "three"}) {
    proto::SendMessage message;
    message.to_id = bob.user_id;
    message.enc_content = text;
    ASSERT_TRUE(client->post_message(alice, message).ok());
  }
  auto all = client->receive(bob, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->messages.size(), 3u);
  EXPECT_EQ(all->messages[0].enc_content, "one");
  EXPECT_EQ(all->messages[0].from_user_id, alice.user_id);
  EXPECT_LT(all->messages[0].timestamp, all->messages[1].timestamp);
  EXPECT_LT(all->messages[1].timestamp, all->messages[2].timestamp);

  auto rest = client->receive(bob, all->messages[0].timestamp);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->messages.size(), 2u);
  EXPECT_EQ(rest->messages[0].enc_content, "two");
  EXPECT_EQ(rest->messages[1].enc_content, "three");
}

TEST_F(RelayClientTest, Groups) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  Credentials bob = register_user(*client);
  auto g1 = client->register_group(alice);
  auto g2 = client->register_group(alice);
  ASSERT_TRUE(g1.ok()) << g1.error().message();
  ASSERT_TRUE(g2.ok());
  const std::string id1 = g1->group_id.value_or("");
  const std::string id2 = g2->group_id.value_or("");
  EXPECT_TRUE(is_hex(id1));
  EXPECT_NE(id1, id2);

  proto::GroupInvite invite;
  invite.to_user_id = bob.user_id;
  invite.group_id = id1;
  invite.algorithm = std::string(proto::kGroupAlgorithm);
  invite.crypto_data = "sealed-group-key";
  ASSERT_TRUE(client->invite(alice, invite).ok());
  auto inbox = client->receive(bob, 0);
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->group_invites.size(), 1u);
  EXPECT_EQ(inbox->group_invites[0].group_id, id1);
  EXPECT_EQ(inbox->group_invites[0].from_user_id, alice.user_id);

  proto::SendMessage m;
  m.to_id = id1;
  m.enc_content = "g1-a";
  ASSERT_TRUE(client->post_group(alice, m).ok());
  m.enc_content = "g1-b";
  ASSERT_TRUE(client->post_group(bob, m).ok());
  m.to_id = id2;
  m.enc_content = "g2-a";
  ASSERT_TRUE(client->post_group(alice, m).ok());

  auto one = client->poll_group(bob, id1, 0);
  ASSERT_TRUE(one.ok()) << one.error().message();
  ASSERT_EQ(one->messages.size(), 2u);
  EXPECT_EQ(one->messages[0].enc_content, "g1-a");
  EXPECT_EQ(one->messages[1].from_user_id, bob.user_id);
  auto later = client->poll_group(bob, id1, one->messages[0].timestamp);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->messages.size(), 1u);
  EXPECT_EQ(later->messages[0].enc_content, "g1-b");

  auto both = client->poll_groups(alice, {id1, id2}, 0);
  ASSERT_TRUE(both.ok()) << both.error().message();
  EXPECT_EQ(both->messages.size(), 3u);
}

TEST_F(RelayClientTest, LongPollWakesOnAPostFromAnotherThread) {
  auto listener = make_client(url_);
  auto sender = make_client(url_);
  ASSERT_TRUE(listener && sender);
  Credentials alice = register_user(*sender);
  Credentials bob = register_user(*sender);

  std::thread poster([&] {
    std::this_thread::sleep_for(milliseconds(300));
    proto::SendMessage message;
    message.to_id = bob.user_id;
    message.enc_content = "wake up";
    EXPECT_TRUE(sender->post_message(alice, message).ok());
  });
  const auto started = Clock::now();
  auto woke = listener->long_poll(bob, {bob.user_id}, 0);
  const auto took = Clock::now() - started;
  poster.join();
  ASSERT_TRUE(woke.ok()) << woke.error().message();
  ASSERT_TRUE(woke->has_value());
  EXPECT_EQ(**woke, bob.user_id);
  EXPECT_LT(took, std::chrono::seconds(5));

  // A group id in the list wakes the poll with that id.
  auto group = sender->register_group(alice);
  ASSERT_TRUE(group.ok());
  const std::string gid = group->group_id.value_or("");
  auto inbox = listener->receive(bob, 0);
  ASSERT_TRUE(inbox.ok());
  ASSERT_FALSE(inbox->messages.empty());
  const std::int64_t cursor = inbox->messages.back().timestamp;
  std::thread group_poster([&] {
    std::this_thread::sleep_for(milliseconds(300));
    proto::SendMessage message;
    message.to_id = gid;
    message.enc_content = "group traffic";
    EXPECT_TRUE(sender->post_group(alice, message).ok());
  });
  auto woke_group = listener->long_poll(bob, {bob.user_id, gid}, cursor);
  group_poster.join();
  ASSERT_TRUE(woke_group.ok()) << woke_group.error().message();
  ASSERT_TRUE(woke_group->has_value());
  EXPECT_EQ(**woke_group, gid);
}

TEST_F(RelayClientTest, LongPollReturnsNulloptOnServerTimeout) {
  server_.reset();
  start({"--longpoll-timeout-ms", "300"});
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials bob = register_user(*client);
  const auto started = Clock::now();
  auto woke = client->long_poll(bob, {bob.user_id}, 0);
  const auto took = Clock::now() - started;
  ASSERT_TRUE(woke.ok()) << woke.error().message();
  EXPECT_FALSE(woke->has_value());
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
  // The connection is still good afterwards.
  EXPECT_TRUE(client->receive(bob, 0).ok());
}

TEST_F(RelayClientTest, CancelEndsALongPollInFlightAndOnlyThatOne) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials bob = register_user(*client);
  // A cancel with no call in flight is dropped: the next call is not affected.
  client->cancel();
  ASSERT_TRUE(client->receive(bob, 0).ok());

  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(300));
    client->cancel();
  });
  const auto started = Clock::now();
  auto woke = client->long_poll(bob, {bob.user_id}, 0);
  const auto took = Clock::now() - started;
  canceller.join();
  ASSERT_FALSE(woke.ok());
  EXPECT_EQ(woke.error().message(), "request cancelled");
  EXPECT_LT(took, std::chrono::seconds(5));  // the relay would hold it for 24 s
  // The client reconnects for the next call.
  EXPECT_TRUE(client->receive(bob, 0).ok());
}

TEST_F(RelayClientTest, WrongTokenIsUnauthenticated) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  Credentials forged{alice.user_id, SecretString("00112233445566778899aabbccddeeff")};
  auto inbox = client->receive(forged, 0);
  ASSERT_FALSE(inbox.ok());
  EXPECT_EQ(inbox.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(inbox.error().message(), "server refused (401): unknown user or wrong token");
  EXPECT_EQ(inbox.error().message().find(forged.auth_token.str()), std::string::npos);
  // The connection survives an error answer.
  EXPECT_TRUE(client->receive(alice, 0).ok());
}

TEST_F(RelayClientTest, ConnectToUnknownUserIsNotFound) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  proto::FriendRequest request;
  request.to_user_id = "0123456789abcdef0123456789abcdef";
  request.protocol = std::string(proto::kKeyAgreementProtocol);
  request.crypto_data = "x";
  Status status = client->connect(alice, request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(status.error().message().find("(404)"), std::string::npos) << status.error().message();
}

TEST_F(RelayClientTest, UnreachablePortIsNetworkError) {
  auto client = make_client("http://127.0.0.1:1");
  ASSERT_TRUE(client);
  auto user = client->register_user();
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(user.error().message(), "cannot reach http://127.0.0.1:1: Connection refused");
}

TEST(RelayClientCreate, RejectsBadUrls) {
  for (const char* url :
       {"ftp://relay.example.com", "relay", "", "http://", "http://host:99999", "http://host:0",
        "http://u:p@host", "http://host/?q=1", "http://host/#frag", "http://ho%20st/"}) {
    auto client = RelayClient::create(url);
    ASSERT_FALSE(client.ok()) << url;
    EXPECT_EQ(client.error().code(), ErrorCode::kInvalidArgument) << url;
  }
  auto ftp = RelayClient::create("ftp://relay.example.com");
  ASSERT_FALSE(ftp.ok());
  EXPECT_EQ(ftp.error().message(), "the server URL must start with https:// or http://");

  RelayOptions zero;
  zero.request_timeout = milliseconds(0);
  EXPECT_FALSE(RelayClient::create("http://127.0.0.1:1", zero).ok());
  // Valid URLs do not connect yet.
  for (const char* url :
       {"http://127.0.0.1:1", "http://localhost", "http://[::1]:8080/", "http://127.1.2.3",
        "https://relay.example.com/api/", "https://[2001:db8::1]:8443"}) {
    EXPECT_TRUE(RelayClient::create(url).ok()) << url;
  }
}

TEST(RelayClientCreate, RefusesPlainHttpBeyondLoopbackUnlessAllowed) {
  for (const char* url : {"http://example.com", "http://relay.example.com:8080/api/",
                          "http://10.0.0.1", "http://[2001:db8::1]", "http://localhost.example"}) {
    auto refused = RelayClient::create(url);
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInsecure) << url;
    EXPECT_NE(refused.error().message().find("refusing plain http://"), std::string::npos)
        << refused.error().message();
    RelayOptions allowed;
    allowed.allow_insecure_http = true;
    EXPECT_TRUE(RelayClient::create(url, allowed).ok()) << url;  // does not connect yet
  }
}

TEST(RelayClientCreate, RejectsBadTlsOptions) {
  for (const char* pin : {"abc", "not base64 at all!", "AAAA", "00:11",
                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"}) {
    RelayOptions options;
    options.pin_sha256 = pin;
    auto client = RelayClient::create("https://relay.example.com", options);
    ASSERT_FALSE(client.ok()) << pin;
    EXPECT_EQ(client.error().code(), ErrorCode::kInvalidArgument) << pin;
  }
  RelayOptions pinned;
  pinned.pin_sha256 = std::string(43, 'A') + "=";
  EXPECT_TRUE(RelayClient::create("https://relay.example.com", pinned).ok());
  // A pin or CA file for plain HTTP would only give a false sense of security.
  auto plain = RelayClient::create("http://127.0.0.1:1", pinned);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code(), ErrorCode::kInvalidArgument);

  RelayOptions missing;
  missing.ca_file = "/nonexistent/ca.pem";
  auto no_ca = RelayClient::create("https://relay.example.com", missing);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_EQ(no_ca.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_ca.error().message().find("/nonexistent/ca.pem"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// HTTPS against the real server with its self-signed development certificate.

class RelayClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls-listen", "127.0.0.1:0", "--tls-self-signed"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{data_dir_.path(), args});
    url_ = server_->https_url();
  }

  std::string cert_file() const { return (data_dir_.path() / "tls" / "cert.pem").string(); }
  // The fingerprint as the server printed it: hex with colons.
  std::string hex_fingerprint() {
    const std::string log = server_->stderr_text();
    const std::string marker = "SHA-256 fingerprint ";
    const auto at = log.find(marker);
    return at == std::string::npos ? std::string() : log.substr(at + marker.size(), 95);
  }

  static Result<protocol::User> try_register(const std::string& url, const RelayOptions& o) {
    auto client = RelayClient::create(url, o);
    if (!client.ok()) return std::move(client).error();
    return (*client)->register_user();
  }

  TempDir data_dir_{"secchats-net-tls"};
  std::unique_ptr<ServerProcess> server_;
  std::string url_;
};

TEST_F(RelayClientTlsTest, CaFileWithTheSelfSignedCertificateWorks) {
  RelayOptions options;
  options.ca_file = cert_file();
  auto client = make_client(url_, options);
  ASSERT_TRUE(client);
  auto user = client->register_user();
  ASSERT_TRUE(user.ok()) << user.error().message();
  const Credentials me{user->user_id.value_or(""), SecretString(user->auth_token.value_or(""))};
  // Several calls on the kept TLS connection.
  for (int i = 0; i < 20; ++i) {
    auto inbox = client->receive(me, 0);
    ASSERT_TRUE(inbox.ok()) << i << ": " << inbox.error().message();
  }
  // The certificate names localhost too (and the host name is what is checked).
  auto by_name =
      try_register("https://localhost:" + std::to_string(server_->https_port()), options);
  EXPECT_TRUE(by_name.ok()) << by_name.error().message();
}

TEST_F(RelayClientTlsTest, WithoutTheCaTheCertificateIsRefused) {
  auto user = try_register(url_, {});
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), ErrorCode::kInsecure);
  EXPECT_EQ(user.error().message().rfind("certificate verify failed: ", 0), 0u)
      << user.error().message();
}

TEST_F(RelayClientTlsTest, TheRightPinWorksInEitherForm) {
  ASSERT_EQ(server_->tls_pin().size(), 44u);
  RelayOptions base64;
  base64.pin_sha256 = server_->tls_pin();
  auto user = try_register(url_, base64);
  EXPECT_TRUE(user.ok()) << user.error().message();

  RelayOptions hex;
  hex.pin_sha256 = hex_fingerprint();
  ASSERT_EQ(hex.pin_sha256.size(), 95u) << server_->stderr_text();
  user = try_register(url_, hex);
  EXPECT_TRUE(user.ok()) << user.error().message();

  // A pin and a CA file: both must hold.
  RelayOptions both = base64;
  both.ca_file = cert_file();
  user = try_register(url_, both);
  EXPECT_TRUE(user.ok()) << user.error().message();
}

TEST_F(RelayClientTlsTest, AWrongPinIsRefused) {
  RelayOptions options;
  options.pin_sha256 = std::string(43, 'A') + "=";
  auto user = try_register(url_, options);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), ErrorCode::kInsecure);
  EXPECT_EQ(user.error().message().rfind("certificate pin mismatch", 0), 0u)
      << user.error().message();
  // Even with a CA file that would accept the certificate.
  options.ca_file = cert_file();
  user = try_register(url_, options);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), ErrorCode::kInsecure);
}

TEST_F(RelayClientTlsTest, TheHostNameIsCheckedUnlessPinned) {
  // 127.0.0.2 is loopback too, but the certificate does not name it.
  server_.reset();
  start({"--tls-listen", "127.0.0.2:0"});
  std::smatch m;
  std::string log;
  static const std::regex kSecond(R"(listening on 127\.0\.0\.2:(\d+) \(https\))");
  for (int i = 0; i < 500 && !std::regex_search(log, m, kSecond); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    log = server_->stderr_text();
  }
  ASSERT_TRUE(std::regex_search(log, m, kSecond)) << log;
  const std::string other = "https://127.0.0.2:" + m[1].str();

  RelayOptions ca;
  ca.ca_file = cert_file();
  auto user = try_register(other, ca);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), ErrorCode::kInsecure);
  EXPECT_NE(user.error().message().find("certificate verify failed"), std::string::npos);
  EXPECT_NE(user.error().message().find("IP address mismatch"), std::string::npos)
      << user.error().message();

  RelayOptions pinned;
  pinned.pin_sha256 = server_->tls_pin();
  user = try_register(other, pinned);
  EXPECT_TRUE(user.ok()) << user.error().message();
}

TEST_F(RelayClientTlsTest, ReconnectsAfterTheServerRestarted) {
  RelayOptions options;
  options.pin_sha256 = server_->tls_pin();
  auto client = make_client(url_, options);
  ASSERT_TRUE(client);
  auto user = client->register_user();
  ASSERT_TRUE(user.ok()) << user.error().message();

  const unsigned short port = server_->https_port();
  EXPECT_EQ(server_->terminate(), 0);
  server_.reset();
  start({"--tls-listen", "127.0.0.1:" + std::to_string(port)});
  // The kept connection is dead; the call goes out once more on a new one.
  user = client->register_user();
  EXPECT_TRUE(user.ok()) << user.error().message();
}

TEST_F(RelayClientTest, ReconnectsAfterTheServerRestarted) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  ASSERT_TRUE(client->receive(alice, 0).ok());  // the connection is now kept open

  const unsigned short port = server_->port();
  EXPECT_EQ(server_->terminate(), 0);
  server_.reset();
  // Same data, same port (the helper adds a random one; --listen is repeatable).
  start({"--listen", "127.0.0.1:" + std::to_string(port)});

  auto inbox = client->receive(alice, 0);
  EXPECT_TRUE(inbox.ok()) << inbox.error().message();

  // And again after a crash.
  server_->kill_hard();
  server_.reset();
  start({"--listen", "127.0.0.1:" + std::to_string(port)});
  inbox = client->receive(alice, 0);
  EXPECT_TRUE(inbox.ok()) << inbox.error().message();
}

TEST_F(RelayClientTest, KeepsOneConnectionFor200Calls) {
  auto client = make_client(url_);
  ASSERT_TRUE(client);
  Credentials alice = register_user(*client);
  for (int i = 0; i < 200; ++i) {
    auto inbox = client->receive(alice, 0);
    ASSERT_TRUE(inbox.ok()) << i << ": " << inbox.error().message();
  }
  Sockets sockets = client_sockets();
  EXPECT_EQ(sockets.established, 1);
  EXPECT_EQ(sockets.other, 0);  // a new connection per call would leave TIME_WAITs behind
}

// ---------------------------------------------------------------------------------------
// A scripted HTTP server on loopback: answers each request with the next raw answer.
// kHang: send nothing and wait until the client hangs up. kDrop: close without answering.
// An answer ending in kThenClose is sent (without the marker) and the connection closed.

constexpr std::string_view kHang = "<hang>";
constexpr std::string_view kDrop = "<drop>";
constexpr std::string_view kThenClose = "<then-close>";

class FakeServer {
 public:
  explicit FakeServer(std::vector<std::string> answers)
      : answers_(std::move(answers)),
        acceptor_(ioc_,
                  boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    // Wakes a blocking accept().
    boost::asio::ip::tcp::socket poke(ioc_);
    boost::system::error_code ec;
    poke.connect(acceptor_.local_endpoint(), ec);
    poke.close(ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  void serve() {
    using boost::asio::ip::tcp;
    std::optional<tcp::socket> socket;
    std::string pending;
    for (const std::string& answer : answers_) {
      boost::system::error_code ec;
      std::string request;
      while (request.empty()) {
        if (!socket) {
          socket.emplace(ioc_);
          acceptor_.accept(*socket, ec);
          if (ec || stop_) return;
          connections_++;
          pending.clear();
        }
        request = read_request(*socket, pending);
        if (request.empty()) socket.reset();  // the client hung up
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      if (answer == kHang) {
        char byte;
        boost::asio::read(*socket, boost::asio::buffer(&byte, 1), ec);
        socket.reset();
      } else if (answer == kDrop) {
        socket.reset();
      } else {
        std::string_view bytes = answer;
        const bool then_close = bytes.ends_with(kThenClose) ||
                                bytes.find("Connection: close") != std::string_view::npos;
        if (bytes.ends_with(kThenClose)) bytes.remove_suffix(kThenClose.size());
        boost::asio::write(*socket, boost::asio::buffer(bytes), ec);
        if (then_close) socket.reset();
      }
    }
  }

  // One request (headers and body), or "" when the connection ended first.
  static std::string read_request(boost::asio::ip::tcp::socket& socket, std::string& pending) {
    boost::system::error_code ec;
    const std::size_t head =
        boost::asio::read_until(socket, boost::asio::dynamic_buffer(pending), "\r\n\r\n", ec);
    if (ec) return {};
    std::size_t length = 0;
    std::string lower = pending.substr(0, head);
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("content-length:");
    if (at != std::string::npos) length = std::stoul(lower.substr(at + 15));
    if (pending.size() < head + length) {
      const std::size_t missing = head + length - pending.size();
      std::string rest(missing, '\0');
      boost::asio::read(socket, boost::asio::buffer(rest), ec);
      if (ec) return {};
      pending += rest;
    }
    std::string request = pending.substr(0, head + length);
    pending.erase(0, head + length);
    return request;
  }

  std::vector<std::string> answers_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

std::string answer(int status, std::string_view reason, std::string_view body,
                   std::string_view extra_headers = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

std::string ok_notifications() {
  return answer(200, "OK", proto::encode(proto::Notifications{}));
}

const Credentials kMe{"aabbccdd", SecretString("secret-token-value")};

TEST(RelayClientFake, SendsTheExpectedRequest) {
  FakeServer fake({ok_notifications()});
  auto client = make_client(fake.url() + "/relay/");
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->receive(kMe, 42).ok());
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string& r = requests[0];
  EXPECT_EQ(r.rfind("POST /relay/receive HTTP/1.1\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Host: 127.0.0.1:" + std::to_string(fake.port()) + "\r\n"), std::string::npos);
  EXPECT_NE(r.find("User-Agent: secchats/0.1\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Type: application/json\r\n"), std::string::npos) << r;
  const std::string body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, proto::encode(proto::User{kMe.user_id, "", kMe.auth_token.str(), 42}));
}

TEST(RelayClientFake, MapsStatusesAndKeepsReasonsShort) {
  const std::string long_reason(300, 'x');
  FakeServer fake({answer(429, "Too Many Requests", "slow down\nsecond line"),
                   answer(503, "Service Unavailable", "overloaded\n"),
                   answer(413, "Payload Too Large", "body too large\n"),
                   answer(500, "Internal Server Error", long_reason),
                   answer(418, "I'm a teapot", ""),
                   answer(503, "Service Unavailable",
                          "<html><body><h1>503 Service Unavailable</h1>\nNo server is "
                          "available to handle this request.\n</body></html>\n"),
                   answer(200, "OK", "not json")});
  auto client = make_client(fake.url());
  ASSERT_TRUE(client);
  auto check = [&](ErrorCode code, const std::string& message) {
    auto inbox = client->receive(kMe, 0);
    ASSERT_FALSE(inbox.ok());
    EXPECT_EQ(inbox.error().code(), code) << inbox.error().message();
    if (!message.empty()) {
      EXPECT_EQ(inbox.error().message(), message);
    }
    EXPECT_EQ(inbox.error().message().find(kMe.auth_token.str()), std::string::npos);
  };
  check(ErrorCode::kRateLimited, "server refused (429): slow down");
  check(ErrorCode::kUnavailable, "server refused (503): overloaded");
  check(ErrorCode::kTooLarge, "server refused (413): body too large");
  check(ErrorCode::kUnavailable, "server refused (500): " + long_reason.substr(0, 200));
  check(ErrorCode::kRefused, "server refused (418): I'm a teapot");
  // A proxy's HTML page (HAProxy with no relay up) becomes one short line.
  check(ErrorCode::kUnavailable,
        "the relay (or a proxy in front of it) answered 503 Service Unavailable");
  check(ErrorCode::kCorrupt, "");
  EXPECT_EQ(fake.connections(), 1);
}

TEST(RelayClientFake, HugeAnswerIsTooLarge) {
  FakeServer fake({"HTTP/1.1 200 OK\r\nContent-Length: 70000000\r\n\r\n{"});
  auto client = make_client(fake.url());
  ASSERT_TRUE(client);
  auto inbox = client->receive(kMe, 0);
  ASSERT_FALSE(inbox.ok());
  EXPECT_EQ(inbox.error().code(), ErrorCode::kTooLarge) << inbox.error().message();
}

TEST(RelayClientFake, SilentServerTimesOut) {
  FakeServer fake({std::string(kHang)});
  RelayOptions options;
  options.request_timeout = milliseconds(300);
  auto client = make_client(fake.url(), options);
  ASSERT_TRUE(client);
  const auto started = Clock::now();
  auto inbox = client->receive(kMe, 0);
  const auto took = Clock::now() - started;
  ASSERT_FALSE(inbox.ok());
  EXPECT_EQ(inbox.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(inbox.error().message(), "timed out after 300 ms");
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(RelayClientFake, RetriesOnceWhenAKeptConnectionWasClosed) {
  const std::string drop(kDrop);
  FakeServer fake({ok_notifications(), drop, ok_notifications(), drop, drop});
  auto client = make_client(fake.url());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->receive(kMe, 0).ok());
  // Kept connection dropped without an answer: retried on a new one.
  auto second = client->receive(kMe, 0);
  EXPECT_TRUE(second.ok()) << second.error().message();
  // Dropped again, and the retry is dropped too: only one retry.
  auto third = client->receive(kMe, 0);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(fake.requests().size(), 5u);
  EXPECT_EQ(fake.connections(), 3);
}

TEST(RelayClientFake, NoRetryAfterPartOfAnAnswer) {
  FakeServer fake({ok_notifications(),
                   "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{" + std::string(kThenClose)});
  auto client = make_client(fake.url());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->receive(kMe, 0).ok());
  auto inbox = client->receive(kMe, 0);
  ASSERT_FALSE(inbox.ok());
  EXPECT_EQ(inbox.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(fake.requests().size(), 2u);
}

TEST(RelayClientFake, ReconnectsAfterConnectionClose) {
  FakeServer fake({answer(200, "OK", "", "Connection: close\r\n"), answer(200, "OK", "")});
  auto client = make_client(fake.url());
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->post_message(kMe, {}).ok());
  EXPECT_TRUE(client->post_message(kMe, {}).ok());
  EXPECT_EQ(fake.connections(), 2);
}

}  // namespace
}  // namespace secchats::net
