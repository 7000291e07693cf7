// The sync engine: pulls the direct queue and each group from its own cursor, decrypts,
// stores, and moves the cursor in the same transaction as the items it covers.
#include <chrono>
#include <thread>

#include "client_impl.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/log.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats {
namespace {

constexpr std::string_view kQueueChannel = "queue";
// A sync round keeps polling a channel while the server keeps returning items, up to this
// many requests (the relay caps each answer), so one round drains a long backlog.
constexpr int kMaxPollsPerChannel = 100;

Event warning(std::string text) {
  Event e;
  e.kind = Event::Kind::kWarning;
  e.text = std::move(text);
  return e;
}

}  // namespace

Result<std::vector<Event>> Client::Impl::sync_queue() {
  std::vector<Event> events;
  for (int round = 0; round < kMaxPollsPerChannel; ++round) {
    SC_ASSIGN_OR_RETURN(std::int64_t cursor, store->cursor(kQueueChannel));
    SC_ASSIGN_OR_RETURN(protocol::Notifications batch, relay->receive(credentials, cursor));
    std::int64_t newest = cursor;
    std::vector<Event> round_events;
    auto process = [&]() -> Status {
      for (const auto& r : batch.friend_requests) {
        newest = std::max(newest, r.timestamp);
        const std::string from = r.from_user_id.value_or("");
        if (from.empty() || from == user_id) continue;
        auto curve = crypto::v1::inspect_public_crypto_data(r.crypto_data.value_or(""));
        if (!curve.ok()) {
          round_events.push_back(
              warning("refused a friend request from " + from + ": " + curve.error().message()));
          continue;
        }
        SC_ASSIGN_OR_RETURN(auto already, store->find_friend(from));
        if (already) continue;  // a repeated request from a friend changes nothing
        SC_TRY(store->put_incoming_request(
            {from, r.crypto_data.value_or(""), r.timestamp, unix_millis_now()}));
        Event e;
        e.kind = Event::Kind::kFriendRequest;
        e.user_id = from;
        round_events.push_back(std::move(e));
      }
      for (const auto& r : batch.friend_responses) {
        newest = std::max(newest, r.timestamp);
        const std::string from = r.from_user_id.value_or("");
        SC_ASSIGN_OR_RETURN(auto pending, store->find_outgoing_request(from));
        if (!pending) continue;  // not ours to complete (or already completed)
        auto session = crypto::v1::EcdhSession::from_session_string(pending->session_string.view());
        if (!session.ok()) return std::move(session).error();
        auto key = session->derive_channel_key(r.crypto_data.value_or(""));
        if (!key.ok()) {
          round_events.push_back(
              warning("refused the answer of " + from + ": " + key.error().message()));
          continue;
        }
        store::Friend f;
        f.user_id = from;
        f.channel_key = std::move(*key);
        f.created_at_ms = unix_millis_now();
        SC_TRY(store->upsert_friend(f));
        SC_TRY(store->delete_outgoing_request(from));
        SC_TRY(store->delete_incoming_request(from));
        Event e;
        e.kind = Event::Kind::kFriendAccepted;
        e.user_id = from;
        round_events.push_back(std::move(e));
      }
      for (const auto& inv : batch.group_invites) {
        newest = std::max(newest, inv.timestamp);
        const std::string from = inv.from_user_id.value_or("");
        SC_ASSIGN_OR_RETURN(auto f, store->find_friend(from));
        if (!f) {
          round_events.push_back(warning("dropped a group invite from a stranger"));
          continue;
        }
        auto plaintext = cipher.decrypt(f->channel_key, inv.crypto_data.value_or(""));
        if (!plaintext.ok()) {
          round_events.push_back(
              warning("a group invite from " + from + " could not be decrypted"));
          continue;
        }
        auto group = protocol::decode_group(*plaintext);
        secure_wipe(plaintext->data(), plaintext->size());
        if (!group.ok() || !group->group_id || !group->private_key || group->group_id->empty()) {
          round_events.push_back(warning("a group invite from " + from + " was malformed"));
          continue;
        }
        SC_ASSIGN_OR_RETURN(auto joined, store->find_group(*group->group_id));
        if (joined) continue;
        store::GroupInviteRecord record{*group->group_id, from, group->name.value_or(""),
                                        SecretString(*group->private_key), inv.timestamp};
        secure_wipe(group->private_key->data(), group->private_key->size());
        SC_TRY(store->put_group_invite(record));
        Event e;
        e.kind = Event::Kind::kGroupInvite;
        e.user_id = from;
        e.invite = {record.group_id, record.name, from, f->nickname};
        round_events.push_back(std::move(e));
      }
      for (const auto& m : batch.messages) {
        newest = std::max(newest, m.timestamp);
        const std::string from = m.from_user_id.value_or("");
        SC_ASSIGN_OR_RETURN(auto f, store->find_friend(from));
        if (!f) {
          round_events.push_back(warning("dropped a message from a stranger"));
          continue;
        }
        auto plaintext = cipher.decrypt(f->channel_key, m.enc_content.value_or(""));
        if (!plaintext.ok()) {
          round_events.push_back(warning("a message from " + from + " could not be decrypted"));
          continue;
        }
        auto decoded = protocol::decode_message(*plaintext);
        secure_wipe(plaintext->data(), plaintext->size());
        if (!decoded.ok()) {
          round_events.push_back(warning("a message from " + from + " was malformed"));
          continue;
        }
        auto info = core::interpret(*decoded, ChatKind::kFriend, from, from, m.timestamp);
        if (!info.ok()) {
          round_events.push_back(warning("a message from " + from + " was malformed"));
          continue;
        }
        // The friend's display name is whatever they call themselves (COMPAT.md §5).
        if (!info->from_name.empty() && info->from_name != f->nickname &&
            info->from_name.size() <= 64) {
          SC_TRY(store->set_friend_nickname(from, info->from_name));
        }
        SC_ASSIGN_OR_RETURN(bool fresh, store->insert_message(to_stored(*info)));
        if (!fresh) continue;
        Event e;
        e.kind = Event::Kind::kMessage;
        e.user_id = from;
        e.message = std::move(*info);
        round_events.push_back(std::move(e));
      }
      if (newest > cursor) SC_TRY(store->set_cursor(kQueueChannel, newest));
      return ok_status();
    };
    SC_TRY(store->transaction(process));
    for (auto& e : round_events)
      events.push_back(std::move(e));
    if (newest == cursor) break;  // nothing newer: drained
  }
  return events;
}

Result<std::vector<Event>> Client::Impl::sync_group(const store::GroupRecord& group) {
  std::vector<Event> events;
  for (int round = 0; round < kMaxPollsPerChannel; ++round) {
    SC_ASSIGN_OR_RETURN(std::int64_t cursor, store->cursor(group.group_id));
    SC_ASSIGN_OR_RETURN(protocol::GroupNotifications batch,
                        relay->poll_group(credentials, group.group_id, cursor));
    std::int64_t newest = cursor;
    std::vector<Event> round_events;
    SC_TRY(store->transaction([&]() -> Status {
      for (const auto& m : batch.messages) {
        newest = std::max(newest, m.timestamp);
        auto plaintext = cipher.decrypt(group.key, m.enc_content.value_or(""));
        if (!plaintext.ok()) {
          round_events.push_back(
              warning("a message in group " + group.name + " could not be decrypted"));
          continue;
        }
        auto decoded = protocol::decode_message(*plaintext);
        secure_wipe(plaintext->data(), plaintext->size());
        if (!decoded.ok()) {
          round_events.push_back(warning("a message in group " + group.name + " was malformed"));
          continue;
        }
        // v1 cannot authenticate group senders: the relay vouches for the poster's id only if
        // it checks tokens, and any member could claim any name. Prefer the relay's id.
        const std::string from = m.from_user_id.value_or(decoded->from_user_id.value_or(""));
        auto info = core::interpret(*decoded, ChatKind::kGroup, group.group_id, from, m.timestamp);
        if (!info.ok()) {
          round_events.push_back(warning("a message in group " + group.name + " was malformed"));
          continue;
        }
        info->outgoing = (from == user_id);
        SC_ASSIGN_OR_RETURN(bool fresh, store->insert_message(to_stored(*info)));
        if (!fresh || info->outgoing) continue;
        Event e;
        e.kind = Event::Kind::kMessage;
        e.user_id = from;
        e.message = std::move(*info);
        round_events.push_back(std::move(e));
      }
      if (newest > cursor) SC_TRY(store->set_cursor(group.group_id, newest));
      return ok_status();
    }));
    for (auto& e : round_events)
      events.push_back(std::move(e));
    if (newest == cursor) break;
  }
  return events;
}

Result<std::vector<Event>> Client::sync() {
  SC_ASSIGN_OR_RETURN(std::vector<Event> events, impl_->sync_queue());
  SC_ASSIGN_OR_RETURN(auto groups, impl_->store->groups());
  for (const auto& g : groups) {
    SC_ASSIGN_OR_RETURN(auto group_events, impl_->sync_group(g));
    for (auto& e : group_events)
      events.push_back(std::move(e));
  }
  return events;
}

Status Client::listen(const std::function<void(const Event&)>& on_event,
                      const std::function<bool()>& keep_going) {
  // The long-poll uses its own connection so a held request never blocks a send.
  SC_ASSIGN_OR_RETURN(auto poller, net::RelayClient::create(impl_->server_url));
  auto backoff = std::chrono::milliseconds(250);
  bool need_sync = true;
  while (keep_going()) {
    if (need_sync) {
      auto events = sync();
      if (!events.ok()) {
        if (events.error().code() != ErrorCode::kNetwork &&
            events.error().code() != ErrorCode::kUnavailable) {
          return std::move(events).error();
        }
        on_event(warning("sync failed, retrying: " + events.error().message()));
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
        continue;
      }
      backoff = std::chrono::milliseconds(250);
      for (const auto& e : *events)
        on_event(e);
      need_sync = false;
    }
    // Wake-up hint only: the fetch itself uses each channel's own cursor. The largest cursor
    // is the right hint for a relay with one increasing clock, and the relay's hold timeout
    // bounds the delay for any other.
    std::vector<std::string> ids{impl_->user_id};
    std::int64_t hint = 0;
    SC_ASSIGN_OR_RETURN(hint, impl_->store->cursor(kQueueChannel));
    SC_ASSIGN_OR_RETURN(auto groups, impl_->store->groups());
    for (const auto& g : groups) {
      ids.push_back(g.group_id);
      SC_ASSIGN_OR_RETURN(std::int64_t c, impl_->store->cursor(g.group_id));
      hint = std::max(hint, c);
    }
    if (!keep_going()) break;
    auto woke = poller->long_poll(impl_->credentials, ids, hint);
    if (!woke.ok()) {
      if (woke.error().code() == ErrorCode::kUnauthenticated) return std::move(woke).error();
      on_event(warning("long-poll failed, retrying: " + woke.error().message()));
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
      need_sync = true;
      continue;
    }
    // An empty answer is the relay's timeout; sync anyway (cheap) in case a hint was missed.
    need_sync = true;
  }
  return ok_status();
}

}  // namespace secchats
