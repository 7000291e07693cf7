// Unit tests of RelayService without sockets: a real SQLite storage in a temporary directory,
// a NotificationHub and an io_context that the test runs by hand.
//
// GCC 12 destroys temporaries inside co_await expressions twice, so every coroutine argument
// below is a named local that outlives the coroutine.
#include "service/relay_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "secchats/common/clock.hpp"
#include "secchats/crypto/hash.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using secchats::testing::TempDir;

bool is_lower_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Runs `task` and stores its result in `out` once it completes.
template <typename T>
asio::awaitable<void> store_into(asio::awaitable<T> task, std::optional<T>& out) {
  T value = co_await std::move(task);
  out.emplace(std::move(value));
}

class RelayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteOptions options;
    options.data_dir = dir_.path() / "data";
    options.synchronous_full = false;  // durability is the storage test's business
    auto opened = open_sqlite_storage(options);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    storage_ = std::move(opened).value();
    limits_.longpoll_timeout = 10s;
    service_ = std::make_unique<RelayService>(*storage_, hub_, limits_);
  }

  void TearDown() override {
    if (storage_) storage_->close();
  }

  void set_longpoll_timeout(std::chrono::milliseconds timeout) {
    limits_.longpoll_timeout = timeout;
    service_ = std::make_unique<RelayService>(*storage_, hub_, limits_);
  }

  // Starts `task` on the io_context; `out` is filled when it finishes.
  template <typename T>
  void spawn(asio::awaitable<T> task, std::optional<T>& out) {
    asio::co_spawn(io_, store_into(std::move(task), out), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }

  // Runs the io_context until `done` holds or `timeout` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    while (!done() && Clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      if (io_.run_one_for(5ms) == 0 && io_.stopped()) std::this_thread::sleep_for(1ms);
    }
    return done();
  }

  // Runs one coroutine to completion.
  template <typename T>
  T run(asio::awaitable<T> task) {
    std::optional<T> out;
    spawn(std::move(task), out);
    if (!run_until([&] { return out.has_value(); })) throw std::runtime_error("coroutine hung");
    return std::move(*out);
  }

  protocol::User register_user() {
    Result<protocol::User> user = run(service_->register_user());
    if (!user.ok()) throw std::runtime_error("register failed: " + user.error().message());
    return *user;
  }

  protocol::Group register_group(const protocol::User& owner) {
    Result<protocol::Group> group = run(service_->register_group(owner));
    if (!group.ok()) throw std::runtime_error("register group failed: " + group.error().message());
    return *group;
  }

  Status message(const protocol::User& from, const std::string& to, const std::string& content) {
    protocol::SendMessage m{to, from.auth_token, from.user_id, content, 0};
    return run(service_->post_message(m));
  }

  Status group_message(const protocol::User& from, const std::string& group,
                       const std::string& content) {
    protocol::SendMessage m{group, from.auth_token, from.user_id, content, 0};
    return run(service_->post_group(m));
  }

  // The caller as it would present itself to /receive with `cursor`.
  static protocol::User as_caller(const protocol::User& u, std::int64_t cursor) {
    return protocol::User{u.user_id, std::nullopt, u.auth_token, cursor};
  }

  std::int64_t newest_in_queue(const protocol::User& u) {
    auto newest = storage_->newest_queue_timestamp(*u.user_id);
    return newest.ok() ? *newest : -1;
  }

  // Member order matters: the io_context outlives the hub's timers and the storage, whose
  // writer thread posts completions to it.
  asio::io_context io_;
  TempDir dir_;
  NotificationHub hub_;
  std::unique_ptr<Storage> storage_;
  RelayLimits limits_;
  std::unique_ptr<RelayService> service_;
};

// ---------------------------------------------------------------------------------------------
// Accounts

TEST_F(RelayServiceTest, RegisterGivesLongRandomHexIdsAndTokens) {
  std::set<std::string> ids, tokens;
  for (int i = 0; i < 5; ++i) {
    protocol::User u = register_user();
    ASSERT_TRUE(u.user_id.has_value());
    ASSERT_TRUE(u.auth_token.has_value());
    EXPECT_GE(u.user_id->size(), 32u) << "user ids need at least 128 bits";
    EXPECT_TRUE(is_lower_hex(*u.user_id)) << *u.user_id;
    EXPECT_GE(u.auth_token->size(), 64u) << "tokens need at least 256 bits";
    EXPECT_TRUE(is_lower_hex(*u.auth_token)) << *u.auth_token;
    EXPECT_NE(*u.user_id, *u.auth_token);
    ids.insert(*u.user_id);
    tokens.insert(*u.auth_token);

    // The account exists, and only a hash of the token is stored.
    auto stored = storage_->user_token_hash(*u.user_id);
    ASSERT_TRUE(stored.ok());
    ASSERT_TRUE(stored->has_value());
    EXPECT_EQ(**stored, crypto::sha256(*u.auth_token));
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(tokens.size(), 5u);

  auto counts = storage_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->users, 5);
}

TEST_F(RelayServiceTest, RegisterGroupGivesLongRandomHexIds) {
  protocol::User alice = register_user();
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    protocol::Group g = register_group(alice);
    ASSERT_TRUE(g.group_id.has_value());
    EXPECT_GE(g.group_id->size(), 32u);
    EXPECT_TRUE(is_lower_hex(*g.group_id)) << *g.group_id;
    auto exists = storage_->group_exists(*g.group_id);
    ASSERT_TRUE(exists.ok());
    EXPECT_TRUE(*exists);
    ids.insert(*g.group_id);
  }
  EXPECT_EQ(ids.size(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Authentication and validation

TEST_F(RelayServiceTest, WrongTokenUnknownUserAndImpersonationAreUnauthenticated) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);

  protocol::User wrong_token = alice;
  std::string flipped = *alice.auth_token;
  flipped[0] = flipped[0] == 'a' ? 'b' : 'a';
  wrong_token.auth_token = flipped;
  protocol::User unknown = alice;
  unknown.user_id = std::string(32, '0');
  // Alice's valid token presented for Bob's account.
  protocol::User impersonator{bob.user_id, std::nullopt, alice.auth_token, 0};

  for (const protocol::User* who : {&wrong_token, &unknown, &impersonator}) {
    SCOPED_TRACE(*who->user_id + " / " + *who->auth_token);
    auto received = service_->receive(*who);
    ASSERT_FALSE(received.ok());
    EXPECT_EQ(received.error().code(), ErrorCode::kUnauthenticated);

    Result<protocol::Group> group = run(service_->register_group(*who));
    ASSERT_FALSE(group.ok());
    EXPECT_EQ(group.error().code(), ErrorCode::kUnauthenticated);

    Status sent = message(*who, *alice.user_id, "x");
    ASSERT_FALSE(sent.ok());
    EXPECT_EQ(sent.error().code(), ErrorCode::kUnauthenticated);

    Status posted = group_message(*who, *g.group_id, "x");
    ASSERT_FALSE(posted.ok());
    EXPECT_EQ(posted.error().code(), ErrorCode::kUnauthenticated);

    protocol::FriendRequest request{
        who->user_id,     who->auth_token, alice.user_id, 0, std::string("DH_512/AES_256"),
        std::string("cd")};
    Status connected = run(service_->connect(request));
    ASSERT_FALSE(connected.ok());
    EXPECT_EQ(connected.error().code(), ErrorCode::kUnauthenticated);

    protocol::FriendResponse response{who->user_id, who->auth_token, alice.user_id, 0,
                                      std::string("cd")};
    Status responded = run(service_->respond(response));
    ASSERT_FALSE(responded.ok());
    EXPECT_EQ(responded.error().code(), ErrorCode::kUnauthenticated);

    protocol::GroupInvite inv{
        who->user_id,           who->auth_token,  alice.user_id, g.group_id, 0,
        std::string("AES_256"), std::string("cd")};
    Status invited = run(service_->invite(inv));
    ASSERT_FALSE(invited.ok());
    EXPECT_EQ(invited.error().code(), ErrorCode::kUnauthenticated);

    protocol::PollGroup one{who->user_id, who->auth_token, g.group_id, 0};
    auto polled_one = service_->poll_group(one);
    ASSERT_FALSE(polled_one.ok());
    EXPECT_EQ(polled_one.error().code(), ErrorCode::kUnauthenticated);

    protocol::PollGroups many{who->user_id, who->auth_token, {*g.group_id}, 0};
    auto polled = service_->poll_groups(many);
    ASSERT_FALSE(polled.ok());
    EXPECT_EQ(polled.error().code(), ErrorCode::kUnauthenticated);

    Result<std::string> waited = run(service_->long_poll(many));
    ASSERT_FALSE(waited.ok());
    EXPECT_EQ(waited.error().code(), ErrorCode::kUnauthenticated);
  }

  // Nothing was delivered or created on anyone's behalf.
  auto counts = storage_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 0);
  EXPECT_EQ(counts->group_messages, 0);
  EXPECT_EQ(counts->groups, 1);
  EXPECT_EQ(hub_.waiting(), 0u);
}

TEST_F(RelayServiceTest, MissingOrOversizedFieldsAreInvalidArguments) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);
  auto expect_invalid = [](const auto& result, const char* what) {
    ASSERT_FALSE(result.ok()) << what;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << what;
  };

  protocol::User no_id{std::nullopt, std::nullopt, alice.auth_token, 0};
  expect_invalid(service_->receive(no_id), "receive without userId");
  protocol::User empty_id{std::string(), std::nullopt, alice.auth_token, 0};
  expect_invalid(service_->receive(empty_id), "receive with empty userId");
  protocol::User no_token{alice.user_id, std::nullopt, std::nullopt, 0};
  expect_invalid(service_->receive(no_token), "receive without authToken");
  protocol::User empty_token{alice.user_id, std::nullopt, std::string(), 0};
  expect_invalid(service_->receive(empty_token), "receive with empty authToken");

  protocol::SendMessage no_to{std::nullopt, alice.auth_token, alice.user_id, std::string("x"), 0};
  expect_invalid(run(service_->post_message(no_to)), "message without toId");
  protocol::SendMessage no_content{bob.user_id, alice.auth_token, alice.user_id, std::nullopt, 0};
  expect_invalid(run(service_->post_message(no_content)), "message without encContent");
  protocol::SendMessage long_to{std::string(limits_.max_id_length + 1, 'a'), alice.auth_token,
                                alice.user_id, std::string("x"), 0};
  expect_invalid(run(service_->post_message(long_to)), "message with an oversized toId");
  protocol::SendMessage group_no_content{g.group_id, alice.auth_token, alice.user_id, std::nullopt,
                                         0};
  expect_invalid(run(service_->post_group(group_no_content)), "group message without content");
  protocol::SendMessage group_no_to{std::nullopt, alice.auth_token, alice.user_id, std::string("x"),
                                    0};
  expect_invalid(run(service_->post_group(group_no_to)), "group message without toId");

  protocol::FriendRequest request_no_data{
      alice.user_id, alice.auth_token, bob.user_id, 0, std::string("DH_512/AES_256"), std::nullopt};
  expect_invalid(run(service_->connect(request_no_data)), "friend request without cryptoData");
  protocol::FriendRequest request_no_to{
      alice.user_id,    alice.auth_token, std::nullopt, 0, std::string("DH_512/AES_256"),
      std::string("cd")};
  expect_invalid(run(service_->connect(request_no_to)), "friend request without toUserId");
  protocol::FriendRequest request_self{
      alice.user_id,    alice.auth_token, alice.user_id, 0, std::string("DH_512/AES_256"),
      std::string("cd")};
  expect_invalid(run(service_->connect(request_self)), "friend request to oneself");

  protocol::FriendResponse response_no_data{alice.user_id, alice.auth_token, bob.user_id, 0,
                                            std::nullopt};
  expect_invalid(run(service_->respond(response_no_data)), "friend response without cryptoData");

  protocol::GroupInvite invite_no_group{
      alice.user_id,          alice.auth_token, bob.user_id, std::nullopt, 0,
      std::string("AES_256"), std::string("cd")};
  expect_invalid(run(service_->invite(invite_no_group)), "invite without groupId");
  protocol::GroupInvite invite_no_data{
      alice.user_id,          alice.auth_token, bob.user_id, g.group_id, 0,
      std::string("AES_256"), std::nullopt};
  expect_invalid(run(service_->invite(invite_no_data)), "invite without cryptoData");

  protocol::PollGroup poll_no_group{alice.user_id, alice.auth_token, std::nullopt, 0};
  expect_invalid(service_->poll_group(poll_no_group), "pollgroup without groupId");

  protocol::PollGroups too_many{alice.user_id, alice.auth_token, {}, 0};
  too_many.group_ids.assign(limits_.max_ids_per_poll + 1, *g.group_id);
  expect_invalid(service_->poll_groups(too_many), "pollgroups with too many ids");
  expect_invalid(run(service_->long_poll(too_many)), "long-poll with too many ids");
  protocol::PollGroups long_id{
      alice.user_id, alice.auth_token, {std::string(limits_.max_id_length + 1, 'b')}, 0};
  expect_invalid(service_->poll_groups(long_id), "pollgroups with an oversized id");
  expect_invalid(run(service_->long_poll(long_id)), "long-poll with an oversized id");

  auto counts = storage_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 0);
  EXPECT_EQ(counts->group_messages, 0);
  EXPECT_EQ(hub_.waiting(), 0u);
}

TEST_F(RelayServiceTest, UnknownTargetsAreNotFound) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);
  const std::string nobody(32, 'f');
  auto expect_not_found = [](const Status& s, const char* what) {
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_EQ(s.error().code(), ErrorCode::kNotFound) << what;
  };

  expect_not_found(message(alice, nobody, "x"), "message to an unknown user");
  expect_not_found(group_message(alice, nobody, "x"), "message to an unknown group");
  // A user id is not a group, and a group id is not a user.
  expect_not_found(group_message(alice, *bob.user_id, "x"), "group message to a user id");
  expect_not_found(message(alice, *g.group_id, "x"), "message to a group id");

  protocol::FriendRequest request{
      alice.user_id, alice.auth_token, nobody, 0, std::string("DH_512/AES_256"), std::string("cd")};
  expect_not_found(run(service_->connect(request)), "friend request to an unknown user");
  protocol::FriendResponse response{alice.user_id, alice.auth_token, nobody, 0, std::string("cd")};
  expect_not_found(run(service_->respond(response)), "friend response to an unknown user");
  protocol::GroupInvite to_nobody{alice.user_id,          alice.auth_token, nobody, g.group_id, 0,
                                  std::string("AES_256"), std::string("cd")};
  expect_not_found(run(service_->invite(to_nobody)), "invite to an unknown user");
  protocol::GroupInvite unknown_group{
      alice.user_id,          alice.auth_token, bob.user_id, nobody, 0,
      std::string("AES_256"), std::string("cd")};
  expect_not_found(run(service_->invite(unknown_group)), "invite to an unknown group");

  protocol::PollGroup poll{alice.user_id, alice.auth_token, nobody, 0};
  auto polled = service_->poll_group(poll);
  ASSERT_FALSE(polled.ok());
  EXPECT_EQ(polled.error().code(), ErrorCode::kNotFound);

  auto counts = storage_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 0);
  EXPECT_EQ(counts->group_messages, 0);
}

// ---------------------------------------------------------------------------------------------
// Delivery

TEST_F(RelayServiceTest, ReceiveReturnsEveryKindAfterTheCursorWithServerTimestamps) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);
  const std::int64_t before = unix_millis_now();

  protocol::FriendRequest request{alice.user_id,
                                  alice.auth_token,
                                  bob.user_id,
                                  7,
                                  std::string("DH_512/AES_256"),
                                  std::string("request-data")};
  ASSERT_TRUE(run(service_->connect(request)).ok());
  protocol::FriendResponse response{bob.user_id, bob.auth_token, alice.user_id, 7,
                                    std::string("response-data")};
  ASSERT_TRUE(run(service_->respond(response)).ok());
  protocol::GroupInvite inv{
      alice.user_id,          alice.auth_token,          bob.user_id, g.group_id, 7,
      std::string("AES_256"), std::string("invite-data")};
  ASSERT_TRUE(run(service_->invite(inv)).ok());
  for (int i = 0; i < 3; ++i) {
    // The client's timestamp (7) must be replaced by the server's.
    protocol::SendMessage m{bob.user_id, alice.auth_token, alice.user_id,
                            std::string("m") + std::to_string(i), 7};
    ASSERT_TRUE(run(service_->post_message(m)).ok());
  }

  auto inbox = service_->receive(as_caller(bob, 0));
  ASSERT_TRUE(inbox.ok()) << inbox.error().message();
  ASSERT_EQ(inbox->friend_requests.size(), 1u);
  ASSERT_EQ(inbox->group_invites.size(), 1u);
  ASSERT_EQ(inbox->messages.size(), 3u);
  EXPECT_TRUE(inbox->friend_responses.empty());

  const auto& fr = inbox->friend_requests[0];
  EXPECT_EQ(fr.from_user_id, alice.user_id);
  EXPECT_EQ(fr.to_user_id, bob.user_id);
  EXPECT_FALSE(fr.auth_token.has_value()) << "a sender's token must never be relayed";
  EXPECT_EQ(fr.protocol, protocol::OptString("DH_512/AES_256"));
  EXPECT_EQ(fr.crypto_data, protocol::OptString("request-data"));
  EXPECT_GE(fr.timestamp, before);

  const auto& gi = inbox->group_invites[0];
  EXPECT_EQ(gi.from_user_id, alice.user_id);
  EXPECT_EQ(gi.to_user_id, bob.user_id);
  EXPECT_EQ(gi.group_id, g.group_id);
  EXPECT_FALSE(gi.auth_token.has_value());
  EXPECT_EQ(gi.algorithm, protocol::OptString("AES_256"));
  EXPECT_EQ(gi.crypto_data, protocol::OptString("invite-data"));
  EXPECT_GT(gi.timestamp, fr.timestamp);

  std::int64_t previous = gi.timestamp;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& m = inbox->messages[i];
    EXPECT_EQ(m.from_user_id, alice.user_id);
    EXPECT_EQ(m.to_id, bob.user_id);
    EXPECT_FALSE(m.auth_token.has_value());
    EXPECT_EQ(m.enc_content, protocol::OptString(std::string("m").append(std::to_string(i))));
    EXPECT_GT(m.timestamp, previous) << "messages must come oldest first";
    EXPECT_NE(m.timestamp, 7);
    previous = m.timestamp;
  }

  auto alice_inbox = service_->receive(as_caller(alice, 0));
  ASSERT_TRUE(alice_inbox.ok());
  ASSERT_EQ(alice_inbox->friend_responses.size(), 1u);
  EXPECT_EQ(alice_inbox->friend_responses[0].from_user_id, bob.user_id);
  EXPECT_EQ(alice_inbox->friend_responses[0].to_user_id, alice.user_id);
  EXPECT_FALSE(alice_inbox->friend_responses[0].auth_token.has_value());
  EXPECT_EQ(alice_inbox->friend_responses[0].crypto_data, protocol::OptString("response-data"));
  EXPECT_GE(alice_inbox->friend_responses[0].timestamp, before);
  EXPECT_TRUE(alice_inbox->messages.empty());
  EXPECT_TRUE(alice_inbox->friend_requests.empty());

  // The cursor: only what is strictly newer than it.
  auto after_second = service_->receive(as_caller(bob, inbox->messages[1].timestamp));
  ASSERT_TRUE(after_second.ok());
  EXPECT_TRUE(after_second->friend_requests.empty());
  EXPECT_TRUE(after_second->group_invites.empty());
  ASSERT_EQ(after_second->messages.size(), 1u);
  EXPECT_EQ(after_second->messages[0].enc_content, protocol::OptString("m2"));
  EXPECT_EQ(after_second->messages[0].timestamp, inbox->messages[2].timestamp);

  auto after_last = service_->receive(as_caller(bob, inbox->messages[2].timestamp));
  ASSERT_TRUE(after_last.ok());
  EXPECT_TRUE(after_last->messages.empty());
  EXPECT_TRUE(after_last->friend_requests.empty());
  EXPECT_TRUE(after_last->group_invites.empty());
}

TEST_F(RelayServiceTest, ReceiveReturnsAtMostTheConfiguredNumberOfItems) {
  limits_.max_items_per_poll = 4;
  service_ = std::make_unique<RelayService>(*storage_, hub_, limits_);
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(message(alice, *bob.user_id, std::to_string(i)).ok());

  std::vector<std::string> seen;
  std::int64_t cursor = 0;
  for (int round = 0; round < 10; ++round) {
    auto inbox = service_->receive(as_caller(bob, cursor));
    ASSERT_TRUE(inbox.ok());
    EXPECT_LE(inbox->messages.size(), 4u);
    if (inbox->messages.empty()) break;
    for (const auto& m : inbox->messages) {
      EXPECT_GT(m.timestamp, cursor);
      seen.push_back(*m.enc_content);
      cursor = m.timestamp;
    }
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i)
    expected.push_back(std::to_string(i));
  EXPECT_EQ(seen, expected);
}

TEST_F(RelayServiceTest, PollGroupsMergesSeveralGroupsAfterTheCursor) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g1 = register_group(alice);
  protocol::Group g2 = register_group(alice);
  protocol::Group g3 = register_group(bob);

  // Interleaved traffic; a poll of {g1, g3} must see exactly the g1 and g3 posts, in order.
  std::vector<std::pair<std::string, std::string>> expected;  // (group, content)
  for (int i = 0; i < 9; ++i) {
    const protocol::Group& g = i % 3 == 0 ? g1 : i % 3 == 1 ? g2 : g3;
    const protocol::User& from = i % 2 ? bob : alice;
    const std::string content = "post" + std::to_string(i);
    ASSERT_TRUE(group_message(from, *g.group_id, content).ok());
    if (&g != &g2) expected.emplace_back(*g.group_id, content);
  }

  // Stale ids are skipped, not refused; the caller's own id is just another unknown group.
  protocol::PollGroups poll{
      bob.user_id, bob.auth_token, {*g3.group_id, std::string(32, 'e'), *g1.group_id}, 0};
  auto polled = service_->poll_groups(poll);
  ASSERT_TRUE(polled.ok()) << polled.error().message();
  ASSERT_EQ(polled->messages.size(), expected.size());
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& m = polled->messages[i];
    EXPECT_EQ(m.to_id, protocol::OptString(expected[i].first)) << i;
    EXPECT_EQ(m.enc_content, protocol::OptString(expected[i].second)) << i;
    EXPECT_FALSE(m.auth_token.has_value());
    EXPECT_TRUE(m.from_user_id == alice.user_id || m.from_user_id == bob.user_id);
    EXPECT_GT(m.timestamp, previous);
    previous = m.timestamp;
  }

  poll.last_message_timestamp = polled->messages[2].timestamp;
  auto rest = service_->poll_groups(poll);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->messages.size(), expected.size() - 3);
  EXPECT_EQ(rest->messages[0].timestamp, polled->messages[3].timestamp);

  poll.last_message_timestamp = polled->messages.back().timestamp;
  auto none = service_->poll_groups(poll);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->messages.empty());

  // The single-group form.
  protocol::PollGroup one{alice.user_id, alice.auth_token, g2.group_id, 0};
  auto only_g2 = service_->poll_group(one);
  ASSERT_TRUE(only_g2.ok());
  ASSERT_EQ(only_g2->messages.size(), 3u);
  for (const auto& m : only_g2->messages)
    EXPECT_EQ(m.to_id, g2.group_id);
  one.last_message_timestamp = only_g2->messages[0].timestamp;
  auto g2_rest = service_->poll_group(one);
  ASSERT_TRUE(g2_rest.ok());
  ASSERT_EQ(g2_rest->messages.size(), 2u);
  EXPECT_EQ(g2_rest->messages[0].timestamp, only_g2->messages[1].timestamp);
}

TEST_F(RelayServiceTest, SnapshotReflectsTheStorage) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);
  ASSERT_TRUE(message(alice, *bob.user_id, "hi").ok());
  ASSERT_TRUE(group_message(bob, *g.group_id, "hi").ok());
  auto snap = service_->snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->counts.users, 2);
  EXPECT_EQ(snap->counts.groups, 1);
  EXPECT_EQ(snap->counts.queued_items, 1);
  EXPECT_EQ(snap->counts.group_messages, 1);
  EXPECT_GE(snap->writer.ops, 5u);
  EXPECT_EQ(snap->longpolls_waiting, 0u);
}

// ---------------------------------------------------------------------------------------------
// Long-poll

TEST_F(RelayServiceTest, LongPollAnswersAtOnceWhenNewerTrafficExists) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);
  ASSERT_TRUE(message(alice, *bob.user_id, "direct").ok());

  protocol::PollGroups own{bob.user_id, bob.auth_token, {*bob.user_id, *g.group_id}, 0};
  auto started = Clock::now();
  Result<std::string> woke = run(service_->long_poll(own));
  ASSERT_TRUE(woke.ok()) << woke.error().message();
  EXPECT_EQ(*woke, *bob.user_id);
  EXPECT_LT(Clock::now() - started, 5s);

  // Past the direct message, only the group has news.
  ASSERT_TRUE(group_message(alice, *g.group_id, "to the group").ok());
  protocol::PollGroups groups{
      bob.user_id, bob.auth_token, {*bob.user_id, *g.group_id}, newest_in_queue(bob)};
  started = Clock::now();
  Result<std::string> woke_group = run(service_->long_poll(groups));
  ASSERT_TRUE(woke_group.ok());
  EXPECT_EQ(*woke_group, *g.group_id);
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_EQ(hub_.waiting(), 0u);
}

TEST_F(RelayServiceTest, LongPollWakesOnAGroupPost) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g1 = register_group(alice);
  protocol::Group g2 = register_group(alice);
  ASSERT_TRUE(group_message(alice, *g1.group_id, "old").ok());
  auto newest = storage_->newest_group_timestamp(*g1.group_id);
  ASSERT_TRUE(newest.ok());

  protocol::PollGroups poll{
      bob.user_id, bob.auth_token, {*bob.user_id, *g1.group_id, *g2.group_id}, *newest};
  std::optional<Result<std::string>> woke;
  const auto started = Clock::now();
  spawn(service_->long_poll(poll), woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 1; }));
  EXPECT_FALSE(woke.has_value()) << "nothing new yet: the poll must wait";

  protocol::SendMessage post{g2.group_id, alice.auth_token, alice.user_id, std::string("new"), 0};
  std::optional<Status> posted;
  spawn(service_->post_group(post), posted);
  ASSERT_TRUE(run_until([&] { return woke.has_value() && posted.has_value(); }));
  ASSERT_TRUE(posted->ok());
  ASSERT_TRUE(woke->ok()) << woke->error().message();
  EXPECT_EQ(**woke, *g2.group_id);
  EXPECT_LT(Clock::now() - started, 5s) << "woken by the post, not by the 10 s timeout";
  EXPECT_EQ(hub_.waiting(), 0u);
}

TEST_F(RelayServiceTest, LongPollWakesOnADirectMessage) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  ASSERT_TRUE(message(alice, *bob.user_id, "old").ok());

  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*bob.user_id}, newest_in_queue(bob)};
  std::optional<Result<std::string>> woke;
  const auto started = Clock::now();
  spawn(service_->long_poll(poll), woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 1; }));
  EXPECT_FALSE(woke.has_value());

  protocol::SendMessage m{bob.user_id, alice.auth_token, alice.user_id, std::string("new"), 0};
  std::optional<Status> sent;
  spawn(service_->post_message(m), sent);
  ASSERT_TRUE(run_until([&] { return woke.has_value() && sent.has_value(); }));
  ASSERT_TRUE(sent->ok());
  ASSERT_TRUE(woke->ok());
  EXPECT_EQ(**woke, *bob.user_id);
  EXPECT_LT(Clock::now() - started, 5s);
}

TEST_F(RelayServiceTest, LongPollTimesOutEmpty) {
  set_longpoll_timeout(200ms);
  protocol::User bob = register_user();
  protocol::Group g = register_group(bob);
  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*bob.user_id, *g.group_id}, 0};
  const auto started = Clock::now();
  Result<std::string> woke = run(service_->long_poll(poll));
  const auto elapsed = Clock::now() - started;
  ASSERT_TRUE(woke.ok());
  EXPECT_EQ(*woke, "");
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(hub_.waiting(), 0u);
}

TEST_F(RelayServiceTest, LongPollIgnoresTrafficItDoesNotWatch) {
  set_longpoll_timeout(1s);
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group watched = register_group(bob);
  protocol::Group other = register_group(alice);
  // Bob lists Alice's user id: it counts as a (non-existent) group, never as her queue, so
  // neither her existing nor her new traffic may wake him.
  ASSERT_TRUE(message(bob, *alice.user_id, "before").ok());
  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*alice.user_id, *watched.group_id}, 0};
  std::optional<Result<std::string>> woke;
  spawn(service_->long_poll(poll), woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 1 || woke.has_value(); }));
  ASSERT_FALSE(woke.has_value()) << "answered at once for traffic in another user's queue";

  ASSERT_TRUE(message(bob, *alice.user_id, "after").ok());
  ASSERT_TRUE(group_message(alice, *other.group_id, "elsewhere").ok());
  ASSERT_TRUE(run_until([&] { return woke.has_value(); }));
  ASSERT_TRUE(woke->ok());
  EXPECT_EQ(**woke, "") << "woken by traffic it does not watch";
}

TEST_F(RelayServiceTest, HubShutdownWakesEveryWaiter) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::Group g = register_group(alice);
  protocol::PollGroups alice_poll{alice.user_id, alice.auth_token, {*alice.user_id}, 0};
  protocol::PollGroups bob_poll{bob.user_id, bob.auth_token, {*bob.user_id, *g.group_id}, 0};

  std::optional<Result<std::string>> alice_woke, bob_woke;
  const auto started = Clock::now();
  spawn(service_->long_poll(alice_poll), alice_woke);
  spawn(service_->long_poll(bob_poll), bob_woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 2; }));
  EXPECT_FALSE(alice_woke.has_value());
  EXPECT_FALSE(bob_woke.has_value());

  hub_.shutdown();
  ASSERT_TRUE(run_until([&] { return alice_woke.has_value() && bob_woke.has_value(); }));
  EXPECT_LT(Clock::now() - started, 5s) << "shutdown must not wait for the 10 s timeout";
  ASSERT_TRUE(alice_woke->ok());
  ASSERT_TRUE(bob_woke->ok());
  EXPECT_EQ(**alice_woke, "");
  EXPECT_EQ(**bob_woke, "");
  EXPECT_EQ(hub_.waiting(), 0u);

  // After shutdown a new long-poll does not wait at all.
  const auto later = Clock::now();
  Result<std::string> again = run(service_->long_poll(bob_poll));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "");
  EXPECT_LT(Clock::now() - later, 5s);
}

// The reference UI long-polls with the maximum of its group cursors, never its queue cursor
// (COMPAT §8); what its latest /receive served decides for its own queue.
TEST_F(RelayServiceTest, LongPollSkipsQueueItemsTheLatestReceiveServed) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  ASSERT_TRUE(message(alice, *bob.user_id, "one").ok());
  ASSERT_TRUE(message(alice, *bob.user_id, "two").ok());
  auto inbox = service_->receive(as_caller(bob, 0));
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->messages.size(), 2u);
  ASSERT_GT(newest_in_queue(bob), 0) << "still queued until the next /receive acknowledges them";

  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*bob.user_id}, 0};
  std::optional<Result<std::string>> woke;
  spawn(service_->long_poll(poll), woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 1 || woke.has_value(); }));
  EXPECT_FALSE(run_until([&] { return woke.has_value(); }, 300ms))
      << "answered for items the caller has already fetched";

  ASSERT_TRUE(message(alice, *bob.user_id, "three").ok());
  ASSERT_TRUE(run_until([&] { return woke.has_value(); }));
  ASSERT_TRUE(woke->ok());
  EXPECT_EQ(**woke, *bob.user_id);
}

TEST_F(RelayServiceTest, LongPollAnswersAtOnceForWhatATruncatedReceiveLeft) {
  limits_.max_items_per_poll = 2;
  service_ = std::make_unique<RelayService>(*storage_, hub_, limits_);
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(message(alice, *bob.user_id, std::to_string(i)).ok());
  auto inbox = service_->receive(as_caller(bob, 0));
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->messages.size(), 2u);

  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*bob.user_id}, 0};
  const auto started = Clock::now();
  Result<std::string> woke = run(service_->long_poll(poll));
  ASSERT_TRUE(woke.ok());
  EXPECT_EQ(*woke, *bob.user_id) << "the third item was not served yet";
  EXPECT_LT(Clock::now() - started, 5s);

  // Another user's /receive says nothing about Bob's queue.
  protocol::User carol = register_user();
  ASSERT_TRUE(service_->receive(as_caller(carol, 1LL << 60)).ok());
  woke = run(service_->long_poll(poll));
  ASSERT_TRUE(woke.ok());
  EXPECT_EQ(*woke, *bob.user_id);
}

TEST_F(RelayServiceTest, AWakeUpForAnItemAlreadyServedKeepsThePollWaiting) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  ASSERT_TRUE(message(alice, *bob.user_id, "served").ok());
  ASSERT_TRUE(service_->receive(as_caller(bob, 0)).ok());

  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*bob.user_id}, 0};
  std::optional<Result<std::string>> woke;
  spawn(service_->long_poll(poll), woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 1 || woke.has_value(); }));
  ASSERT_FALSE(woke.has_value());
  // A commit notice that arrives after the caller's /receive already served the item (the
  // writer thread notifies right after COMMIT, readers may see the row first). "u:" is the
  // service's key for a user's queue.
  hub_.notify("u:" + *bob.user_id);
  EXPECT_FALSE(run_until([&] { return woke.has_value(); }, 300ms))
      << "answered for an item the caller already has";
  EXPECT_EQ(hub_.waiting(), 1u) << "watching again";

  ASSERT_TRUE(message(alice, *bob.user_id, "new").ok());
  ASSERT_TRUE(run_until([&] { return woke.has_value(); }));
  ASSERT_TRUE(woke->ok());
  EXPECT_EQ(**woke, *bob.user_id);
  EXPECT_EQ(hub_.waiting(), 0u);
}

// A write whose notification never arrived (another relay's commit while this relay's LISTEN
// connection was down): wake_all() makes every waiter look at storage again.
TEST_F(RelayServiceTest, WakeAllRechecksStorageForNotificationsThatWereLost) {
  protocol::User alice = register_user();
  protocol::User bob = register_user();
  protocol::PollGroups poll{bob.user_id, bob.auth_token, {*bob.user_id}, 0};
  std::optional<Result<std::string>> woke;
  spawn(service_->long_poll(poll), woke);
  ASSERT_TRUE(run_until([&] { return hub_.waiting() == 1 || woke.has_value(); }));
  ASSERT_FALSE(woke.has_value());

  hub_.wake_all();  // nothing new yet: the poll re-checks and waits on
  EXPECT_FALSE(run_until([&] { return woke.has_value(); }, 300ms))
      << "answered although no queue of the poll has news";
  EXPECT_EQ(hub_.waiting(), 1u) << "watching again";

  // Straight into storage, bypassing the service's notify: the lost notification.
  QueueItem item;
  item.recipient_id = *bob.user_id;
  item.sender_id = *alice.user_id;
  item.payload = "committed elsewhere";
  std::promise<WriteOutcome> committed;
  storage_->submit(EnqueueItem{item}, [&](WriteOutcome o) { committed.set_value(o); });
  ASSERT_TRUE(committed.get_future().get().ok);
  EXPECT_FALSE(run_until([&] { return woke.has_value(); }, 200ms)) << "nobody told the hub";

  hub_.wake_all();
  ASSERT_TRUE(run_until([&] { return woke.has_value(); }));
  ASSERT_TRUE(woke->ok());
  EXPECT_EQ(**woke, *bob.user_id);
  EXPECT_EQ(hub_.waiting(), 0u);
}

TEST(NotificationHubTest, NotifyWakesOnlyWaitersOfThatQueue) {
  asio::io_context io;
  NotificationHub hub;
  auto a = hub.watch(io.get_executor(), {"q1", "q2"}, 10s);
  auto b = hub.watch(io.get_executor(), {"q3"}, 1s);
  EXPECT_EQ(hub.waiting(), 2u);

  bool a_done = false, b_done = false;
  a->timer().async_wait([&](boost::system::error_code) { a_done = true; });
  b->timer().async_wait([&](boost::system::error_code) { b_done = true; });
  hub.notify("q2");
  hub.notify("q2");       // a second wake-up is harmless
  hub.notify("unknown");  // nobody watches it
  const auto started = Clock::now();
  while (!a_done && Clock::now() - started < 5s)
    io.run_one_for(10ms);
  EXPECT_TRUE(a_done);
  EXPECT_EQ(a->woken_by(), "q2");
  EXPECT_FALSE(b_done) << "b watches another queue";
  EXPECT_LT(Clock::now() - started, 5s);

  while (!b_done && Clock::now() - started < 5s)
    io.run_one_for(10ms);
  EXPECT_TRUE(b_done);
  EXPECT_EQ(b->woken_by(), "") << "b timed out";

  hub.unwatch(a, {"q1", "q2"});
  hub.unwatch(b, {"q3"});
  EXPECT_EQ(hub.waiting(), 0u);
}

}  // namespace
}  // namespace secchats::server
