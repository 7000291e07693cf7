// The relay's behaviour, free of HTTP: accounts, per-user queues, group logs and long-poll.
// Handlers in api/ translate requests into these calls and results into responses.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "secchats/common/result.hpp"
#include "secchats/protocol/objects.hpp"
#include "service/notification_hub.hpp"
#include "service/rate_limiter.hpp"
#include "service/retention.hpp"
#include "service/served_marks.hpp"
#include "storage/storage.hpp"

namespace secchats::server {

struct RelayLimits {
  int max_items_per_poll = 1000;  // a client keeps polling from its new cursor for more
  std::size_t max_ids_per_poll = 1000;
  std::size_t max_id_length = 128;
  std::chrono::milliseconds longpoll_timeout{20000};  // under the reference client's 25 s
  // Writes (/register2, /connect, /connect2, /postmsg, /groupinv, /postgroup) per
  // authenticated user: a token bucket. 0 writes per second disables it.
  double user_writes_per_second = 50;
  double user_write_burst = 100;
  // Concurrent /longpoll requests per authenticated user; 0 = no limit.
  std::size_t max_longpolls_per_user = 4;
  std::size_t max_tracked_users = 100000;  // bound on the write limiter's memory
};

struct RelaySnapshot {
  StorageCounts counts;
  WriterStats writer;
  std::size_t longpolls_waiting = 0;
  RetentionStats retention;             // zeros when no purger is attached
  std::uint64_t rate_limited = 0;       // writes refused by the per-user limit
  std::uint64_t longpolls_refused = 0;  // long-polls over the per-user cap
};

class RelayService {
 public:
  RelayService(Storage& storage, NotificationHub& hub, RelayLimits limits);

  boost::asio::awaitable<Result<protocol::User>> register_user();
  boost::asio::awaitable<Result<protocol::Group>> register_group(const protocol::User& caller);
  // Also forgets (in the background) every queue item at or below the caller's cursor, and
  // remembers how far this answer served the queue (see long_poll()).
  Result<protocol::Notifications> receive(const protocol::User& caller);
  boost::asio::awaitable<Status> connect(const protocol::FriendRequest& request);
  boost::asio::awaitable<Status> respond(const protocol::FriendResponse& response);
  boost::asio::awaitable<Status> post_message(const protocol::SendMessage& message);
  boost::asio::awaitable<Status> invite(const protocol::GroupInvite& invite);
  boost::asio::awaitable<Status> post_group(const protocol::SendMessage& message);
  Result<protocol::GroupNotifications> poll_group(const protocol::PollGroup& poll);
  Result<protocol::GroupNotifications> poll_groups(const protocol::PollGroups& poll);
  // Waits for traffic in the caller's own queue (its user id in groupIds) or any listed group.
  // Returns the id that has news, or "" on timeout or shutdown.
  //
  // A group has news when it holds a message newer than lastMessageTimestamp. The caller's
  // own queue has news when it holds an item newer than what the caller's latest /receive
  // served (the newest timestamp that answer carried, or its cursor when it was empty); only
  // when the relay knows no such mark (none since start, or forgotten) is lastMessageTimestamp
  // used instead. The reference UI sends the maximum of its group cursors there, never its
  // queue cursor (COMPAT §8), and the items it fetched stay queued until its next /receive
  // acknowledges them, so the hint alone would answer at once for items it already has.
  // A wake-up is re-checked the same way before it is answered. The mark assumes one client
  // per account: a /receive answer lost in transit, or fetched by another client of the same
  // account, delays the wake-up for those items to the next traffic or the timeout (the
  // following /receive still returns them); it never loses them.
  boost::asio::awaitable<Result<std::string>> long_poll(const protocol::PollGroups& poll);

  // Lets snapshot() report the purger's figures; call before serving. May be null.
  void attach_retention(const RetentionPurger* purger) { retention_ = purger; }

  // GET /healthz: OK when storage answers a trivial read (one primary-key lookup), else its
  // error (kUnavailable while the database is unreachable). Cheap enough for a load
  // balancer's check every second (docs/operations.md "Several relays").
  Status health();

  Result<RelaySnapshot> snapshot();
  const RelayLimits& limits() const { return limits_; }

 private:
  Status authenticate(const protocol::OptString& user_id, const protocol::OptString& token);
  // authenticate(), then a token from the user's write bucket (429 when there is none).
  Status authenticate_writer(const protocol::OptString& user_id, const protocol::OptString& token);
  Result<std::string> require_id(const protocol::OptString& value, const char* field) const;
  boost::asio::awaitable<WriteOutcome> write(WriteOp op, std::string notify_key);
  boost::asio::awaitable<Status> enqueue(QueueItem item);
  // Whether `id` (the caller's own id or a group id) has news for the poll, as long_poll()
  // defines it.
  Result<bool> has_news(const protocol::PollGroups& poll, const std::string& id);
  // The first id of the poll with news, or "" when none has any.
  Result<std::string> first_with_news(const protocol::PollGroups& poll);

  Storage& storage_;
  NotificationHub& hub_;
  RelayLimits limits_;
  const RetentionPurger* retention_ = nullptr;
  RateLimiter user_writes_;
  ConcurrencyLimiter user_longpolls_;
  ServedMarks served_;
  std::atomic<std::uint64_t> rate_limited_{0};
  std::atomic<std::uint64_t> longpolls_refused_{0};
};

}  // namespace secchats::server
