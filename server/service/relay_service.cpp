#include "service/relay_service.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

#include "secchats/common/log.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"
#include "service/async_submit.hpp"
#include "service/user_auth.hpp"

namespace secchats::server {
namespace asio = boost::asio;
using protocol::OptString;

namespace {

constexpr std::size_t kUserIdBytes = 16;  // 128-bit ids: unguessable capabilities
constexpr std::size_t kGroupIdBytes = 16;
constexpr std::size_t kTokenBytes = 32;  // 256-bit bearer tokens

// Queue keys for the hub: user queues and group logs must never alias, so that nobody can
// watch another user's queue by listing its id as a "group".
std::string user_key(const std::string& id) {
  return queue_key_for_user(id);
}
std::string group_key(const std::string& id) {
  return queue_key_for_group(id);
}

Error bad_request(std::string m) {
  return Error(ErrorCode::kInvalidArgument, std::move(m));
}

Status to_status(const WriteOutcome& outcome) {
  if (outcome.ok) return ok_status();
  return Error(outcome.code, outcome.message);
}

// GCC 12 mishandles temporaries (braced initialisers, nested calls) inside co_await
// expressions, destroying them twice. Every co_await in this file therefore takes named
// locals only.

// Rows one acknowledgement round deletes at most; larger backlogs take several rounds.
constexpr int kAckRoundRows = 5000;

// Forget-after-ack, fire-and-forget: the caller has already read what it answers with, and
// the delete only touches items at or below the cursor the user sent, so it can commit
// whenever the writer gets to it. Resubmits itself until the backlog is gone; a failure
// just leaves the items for the next /receive (or retention) to remove.
void forget_acknowledged(Storage& storage, AckQueue ack) {
  WriteOp op = ack;
  storage.submit(std::move(op), [&storage, ack = std::move(ack)](WriteOutcome outcome) mutable {
    if (!outcome.ok) {
      if (outcome.code != ErrorCode::kUnavailable)
        log::warn("forget-after-ack failed: " + outcome.message);
      return;
    }
    if (outcome.rows >= ack.max_rows) forget_acknowledged(storage, std::move(ack));
  });
}

}  // namespace

namespace {
RateLimitOptions user_write_limit(const RelayLimits& limits) {
  RateLimitOptions options;
  options.tokens_per_second = limits.user_writes_per_second;
  options.burst = limits.user_write_burst;
  options.max_keys = limits.max_tracked_users;
  return options;
}

ServedMarksOptions served_marks_options(const RelayLimits& limits) {
  ServedMarksOptions options;
  options.max_users = limits.max_tracked_users;
  // A polling client refreshes its mark at least once per long-poll timeout; a few of them
  // of slack (slow networks, a client's pause between rounds) before it is forgotten.
  options.idle_expiry = std::max<std::chrono::steady_clock::duration>(std::chrono::minutes(5),
                                                                      4 * limits.longpoll_timeout);
  return options;
}
}  // namespace

RelayService::RelayService(Storage& storage, NotificationHub& hub, RelayLimits limits)
    : storage_(storage),
      hub_(hub),
      limits_(limits),
      user_writes_(user_write_limit(limits)),
      user_longpolls_(limits.max_longpolls_per_user),
      served_(served_marks_options(limits)) {}

Result<std::string> RelayService::require_id(const OptString& value, const char* field) const {
  if (!value || value->empty()) return bad_request(std::string("missing field '") + field + "'");
  if (value->size() > limits_.max_id_length) {
    return bad_request(std::string("field '") + field + "' is too long");
  }
  return *value;
}

Status RelayService::authenticate(const OptString& user_id, const OptString& token) {
  if (!user_id || user_id->empty()) return bad_request("missing user id");
  if (!token || token->empty()) return bad_request("missing field 'authToken'");
  return authenticate_user(storage_, *user_id, *token);
}

Status RelayService::authenticate_writer(const OptString& user_id, const OptString& token) {
  SC_TRY(authenticate(user_id, token));
  // Only after authentication: nobody can spend another user's budget with its bare id.
  if (!user_writes_.allow(*user_id)) {
    rate_limited_.fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorCode::kRateLimited, "too many writes from this user; slow down");
  }
  return ok_status();
}

asio::awaitable<WriteOutcome> RelayService::write(WriteOp op, std::string notify_key) {
  NotificationHub& hub = hub_;
  auto hook = [&hub, key = std::move(notify_key)](const WriteOutcome& outcome) {
    // Notify from the writer thread right after the commit: waiters are woken while the
    // requesting coroutine is still being resumed, which keeps wake-up latency minimal.
    if (outcome.ok && !key.empty()) hub.notify(key);
  };
  std::function<void(const WriteOutcome&)> on_commit = std::move(hook);
  WriteOutcome outcome =
      co_await async_submit(storage_, std::move(op), std::move(on_commit), asio::use_awaitable);
  co_return outcome;
}

asio::awaitable<Result<protocol::User>> RelayService::register_user() {
  std::string user_id = crypto::random_hex(kUserIdBytes);
  std::string token = crypto::random_hex(kTokenBytes);
  WriteOp op = CreateUser{user_id, crypto::sha256(token)};
  std::string no_key;
  WriteOutcome outcome = co_await write(std::move(op), std::move(no_key));
  if (!outcome.ok) co_return Error(outcome.code, outcome.message);
  co_return protocol::User{user_id, std::string(), token, 0};
}

asio::awaitable<Result<protocol::Group>> RelayService::register_group(
    const protocol::User& caller) {
  if (Status s = authenticate_writer(caller.user_id, caller.auth_token); !s.ok())
    co_return s.error();
  std::string group_id = crypto::random_hex(kGroupIdBytes);
  WriteOp op = CreateGroup{group_id};
  std::string no_key;
  WriteOutcome outcome = co_await write(std::move(op), std::move(no_key));
  if (!outcome.ok) co_return Error(outcome.code, outcome.message);
  co_return protocol::Group{group_id, std::string(), std::nullopt, std::nullopt, 0};
}

Result<protocol::Notifications> RelayService::receive(const protocol::User& caller) {
  SC_TRY(authenticate(caller.user_id, caller.auth_token));
  // One read: the items after the cursor and whether the cursor leaves any to forget.
  SC_ASSIGN_OR_RETURN(auto page,
                      storage_.queue_page_after(*caller.user_id, caller.last_message_timestamp,
                                                limits_.max_items_per_poll));
  auto& items = page.items;
  // Items come oldest first. Recorded before the answer leaves, so the caller's next
  // long-poll (sent after it has this answer) already knows what it has.
  served_.record(*caller.user_id,
                 items.empty() ? caller.last_message_timestamp
                               : std::max(caller.last_message_timestamp, items.back().timestamp));
  // The cursor acknowledges everything at or below it. Most polls find nothing left to
  // forget, and then cost no write at all.
  if (caller.last_message_timestamp > 0 && page.acknowledged_left) {
    forget_acknowledged(storage_,
                        AckQueue{*caller.user_id, caller.last_message_timestamp, kAckRoundRows});
  }
  protocol::Notifications out;
  out.messages.reserve(items.size());  // nearly every item is a message
  for (auto& item : items) {
    switch (item.kind) {
      case ItemKind::kFriendRequest:
        out.friend_requests.push_back({std::move(item.sender_id), std::nullopt,
                                       std::move(item.recipient_id), item.timestamp,
                                       std::move(item.protocol), std::move(item.payload)});
        break;
      case ItemKind::kFriendResponse:
        out.friend_responses.push_back({std::move(item.sender_id), std::nullopt,
                                        std::move(item.recipient_id), item.timestamp,
                                        std::move(item.payload)});
        break;
      case ItemKind::kGroupInvite:
        out.group_invites.push_back({std::move(item.sender_id), std::nullopt,
                                     std::move(item.recipient_id), std::move(item.group_id),
                                     item.timestamp, std::move(item.protocol),
                                     std::move(item.payload)});
        break;
      case ItemKind::kMessage:
        out.messages.push_back({std::move(item.recipient_id), std::nullopt,
                                std::move(item.sender_id), std::move(item.payload),
                                item.timestamp});
        break;
    }
  }
  return out;
}

asio::awaitable<Status> RelayService::enqueue(QueueItem item) {
  std::string key = user_key(item.recipient_id);
  WriteOp op = EnqueueItem{std::move(item)};
  WriteOutcome outcome = co_await write(std::move(op), std::move(key));
  co_return to_status(outcome);
}

asio::awaitable<Status> RelayService::connect(const protocol::FriendRequest& request) {
  if (Status s = authenticate_writer(request.from_user_id, request.auth_token); !s.ok())
    co_return s;
  auto to = require_id(request.to_user_id, "toUserId");
  if (!to.ok()) co_return to.error();
  if (!request.crypto_data) co_return bad_request("missing field 'cryptoData'");
  if (*to == *request.from_user_id)
    co_return bad_request("cannot send a friend request to yourself");
  QueueItem item{
      ItemKind::kFriendRequest, *to, *request.from_user_id, std::nullopt, request.protocol,
      request.crypto_data,      0};
  Status status = co_await enqueue(std::move(item));
  co_return status;
}

asio::awaitable<Status> RelayService::respond(const protocol::FriendResponse& response) {
  if (Status s = authenticate_writer(response.from_user_id, response.auth_token); !s.ok())
    co_return s;
  auto to = require_id(response.to_user_id, "toUserId");
  if (!to.ok()) co_return to.error();
  if (!response.crypto_data) co_return bad_request("missing field 'cryptoData'");
  QueueItem item{ItemKind::kFriendResponse, *to, *response.from_user_id, std::nullopt, std::nullopt,
                 response.crypto_data,      0};
  Status status = co_await enqueue(std::move(item));
  co_return status;
}

asio::awaitable<Status> RelayService::post_message(const protocol::SendMessage& message) {
  if (Status s = authenticate_writer(message.from_user_id, message.auth_token); !s.ok())
    co_return s;
  auto to = require_id(message.to_id, "toId");
  if (!to.ok()) co_return to.error();
  if (!message.enc_content) co_return bad_request("missing field 'encContent'");
  QueueItem item{ItemKind::kMessage,  *to, *message.from_user_id, std::nullopt, std::nullopt,
                 message.enc_content, 0};
  Status status = co_await enqueue(std::move(item));
  co_return status;
}

asio::awaitable<Status> RelayService::invite(const protocol::GroupInvite& invite) {
  if (Status s = authenticate_writer(invite.from_user_id, invite.auth_token); !s.ok()) co_return s;
  auto to = require_id(invite.to_user_id, "toUserId");
  if (!to.ok()) co_return to.error();
  auto group = require_id(invite.group_id, "groupId");
  if (!group.ok()) co_return group.error();
  if (!invite.crypto_data) co_return bad_request("missing field 'cryptoData'");
  QueueItem item{ItemKind::kGroupInvite, *to, *invite.from_user_id, *group, invite.algorithm,
                 invite.crypto_data,     0};
  Status status = co_await enqueue(std::move(item));
  co_return status;
}

asio::awaitable<Status> RelayService::post_group(const protocol::SendMessage& message) {
  if (Status s = authenticate_writer(message.from_user_id, message.auth_token); !s.ok())
    co_return s;
  auto group = require_id(message.to_id, "toId");
  if (!group.ok()) co_return group.error();
  if (!message.enc_content) co_return bad_request("missing field 'encContent'");
  std::string key = group_key(*group);
  WriteOp op = AppendGroupMessage{{*group, *message.from_user_id, message.enc_content, 0}};
  WriteOutcome outcome = co_await write(std::move(op), std::move(key));
  co_return to_status(outcome);
}

Result<protocol::GroupNotifications> RelayService::poll_group(const protocol::PollGroup& poll) {
  SC_TRY(authenticate(poll.user_id, poll.auth_token));
  SC_ASSIGN_OR_RETURN(std::string group, require_id(poll.group_id, "groupId"));
  SC_ASSIGN_OR_RETURN(bool exists, storage_.group_exists(group));
  if (!exists) return Error(ErrorCode::kNotFound, "unknown group");
  protocol::PollGroups as_many{poll.user_id, poll.auth_token, {group}, poll.last_message_timestamp};
  SC_ASSIGN_OR_RETURN(auto messages,
                      storage_.group_messages_after(as_many.group_ids, poll.last_message_timestamp,
                                                    limits_.max_items_per_poll));
  protocol::GroupNotifications out;
  for (auto& m : messages) {
    out.messages.push_back({std::move(m.group_id), std::nullopt, std::move(m.sender_id),
                            std::move(m.payload), m.timestamp});
  }
  return out;
}

Result<protocol::GroupNotifications> RelayService::poll_groups(const protocol::PollGroups& poll) {
  SC_TRY(authenticate(poll.user_id, poll.auth_token));
  if (poll.group_ids.size() > limits_.max_ids_per_poll) return bad_request("too many groupIds");
  for (const auto& id : poll.group_ids) {
    if (id.size() > limits_.max_id_length) return bad_request("a groupId is too long");
  }
  // Unknown ids are skipped rather than refused: a group may have been forgotten by the
  // server while a client still lists it, and one stale id must not hide the others.
  SC_ASSIGN_OR_RETURN(auto messages,
                      storage_.group_messages_after(poll.group_ids, poll.last_message_timestamp,
                                                    limits_.max_items_per_poll));
  protocol::GroupNotifications out;
  out.messages.reserve(messages.size());
  for (auto& m : messages) {
    out.messages.push_back({std::move(m.group_id), std::nullopt, std::move(m.sender_id),
                            std::move(m.payload), m.timestamp});
  }
  return out;
}

Result<bool> RelayService::has_news(const protocol::PollGroups& poll, const std::string& id) {
  if (id != *poll.user_id) {
    SC_ASSIGN_OR_RETURN(std::int64_t newest, storage_.newest_group_timestamp(id));
    return newest > poll.last_message_timestamp;
  }
  // The mark is read at every check, not once per poll: a wake-up re-check must see what a
  // /receive of the same user has served in the meantime.
  const std::int64_t seen = served_.served_up_to(id).value_or(poll.last_message_timestamp);
  SC_ASSIGN_OR_RETURN(std::int64_t newest, storage_.newest_queue_timestamp(id));
  return newest > seen;
}

Result<std::string> RelayService::first_with_news(const protocol::PollGroups& poll) {
  for (const auto& id : poll.group_ids) {
    SC_ASSIGN_OR_RETURN(bool news, has_news(poll, id));
    if (news) return id;
  }
  return std::string();
}

asio::awaitable<Result<std::string>> RelayService::long_poll(const protocol::PollGroups& poll) {
  if (Status s = authenticate(poll.user_id, poll.auth_token); !s.ok()) co_return s.error();
  if (poll.group_ids.size() > limits_.max_ids_per_poll) co_return bad_request("too many groupIds");
  const std::string& self = *poll.user_id;
  // Held until this poll returns, however it returns.
  ConcurrencyLimiter::Lease slot = user_longpolls_.try_acquire(self);
  if (!slot) {
    longpolls_refused_.fetch_add(1, std::memory_order_relaxed);
    co_return Error(ErrorCode::kRateLimited, "too many long-polls for this user");
  }

  // The caller's own id stands for its direct queue; every other id is a group.
  std::vector<std::string> keys;
  keys.reserve(poll.group_ids.size() + 1);
  for (const auto& id : poll.group_ids) {
    if (id.size() > limits_.max_id_length) co_return bad_request("a groupId is too long");
    keys.push_back(id == self ? user_key(id) : group_key(id));
  }

  auto ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + limits_.longpoll_timeout;
  for (;;) {
    const auto left = std::max(
        std::chrono::milliseconds(0),
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    auto waiter = hub_.watch(ex, keys, left);
    struct Unwatch {
      NotificationHub& hub;
      std::shared_ptr<NotificationHub::Waiter>& w;
      std::vector<std::string>& k;
      ~Unwatch() { hub.unwatch(w, k); }
    } unwatch{hub_, waiter, keys};

    // Checked only once the waiter is registered: traffic that landed after the caller's
    // cursor but before we started watching is found here, traffic from now on wakes the
    // waiter, so nothing falls between the two.
    Result<std::string> news = first_with_news(poll);
    if (!news.ok() || !news->empty()) co_return news;

    boost::system::error_code ec;
    co_await waiter->timer().async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const std::string& woke = waiter->woken_by();
    if (woke.empty()) co_return std::string();
    // Notifications may have been lost (the cross-relay LISTEN connection came back): look
    // at every queue of the poll again, from the top of the loop.
    if (woke == NotificationHub::kRecheckAll) continue;
    std::string id = woke.substr(2);  // strip the "u:"/"g:" key prefix
    Result<bool> fresh = has_news(poll, id);
    if (!fresh.ok()) co_return fresh.error();
    if (*fresh) co_return id;
    // Woken for an item the caller already has (its commit notice came after the caller's
    // /receive had served it): watch again for the time that is left.
  }
}

Status RelayService::health() {
  // Any id will do: only whether the read is answered matters, not what it finds.
  Result<bool> read = storage_.group_exists("healthz");
  if (!read.ok()) return read.error();
  return ok_status();
}

Result<RelaySnapshot> RelayService::snapshot() {
  RelaySnapshot s;
  SC_ASSIGN_OR_RETURN(s.counts, storage_.counts());
  s.writer = storage_.writer_stats();
  s.longpolls_waiting = hub_.waiting();
  if (retention_) s.retention = retention_->stats();
  s.rate_limited = rate_limited_.load(std::memory_order_relaxed);
  s.longpolls_refused = longpolls_refused_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace secchats::server
