// The sync engine: pulls the direct queue and each group from its own cursor, decrypts,
// stores, and moves the cursor in the same transaction as the items it covers. Events are
// handed out only after their round has committed.
#include <chrono>
#include <thread>
#include <utility>

#include "client_impl.hpp"
#include "relay_ids.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/v2/wire.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats {
namespace {

constexpr std::string_view kQueueChannel = "queue";
// A sync round keeps polling a channel while the server keeps returning items, up to this
// many requests (the relay caps each answer), so one round drains a long backlog.
constexpr int kMaxPollsPerChannel = 100;

// Group cursors live under their own prefix so no group id can alias the queue's cursor.
std::string group_channel(std::string_view group_id) {
  return "g:" + std::string(group_id);
}

Event warning(std::string text) {
  Event e;
  e.kind = Event::Kind::kWarning;
  e.text = std::move(text);
  return e;
}

}  // namespace

Status Client::Impl::sync_queue(const EventSink& emit) {
  for (int round = 0; round < kMaxPollsPerChannel; ++round) {
    SC_ASSIGN_OR_RETURN(std::int64_t cursor, store->cursor(kQueueChannel));
    SC_ASSIGN_OR_RETURN(protocol::Notifications batch, relay->receive(credentials, cursor));
    std::int64_t newest = cursor;
    std::vector<Event> round_events;
    std::vector<std::int64_t> round_ids;
    std::vector<std::string> auto_accept;
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
        SC_ASSIGN_OR_RETURN(auto ours, store->find_outgoing_request(from));
        if (ours && from > user_id) {
          // Crossed requests: the request of the smaller id wins on both sides, so exactly
          // one handshake completes. Ours wins here; they will answer it.
          continue;
        }
        SC_TRY(store->put_incoming_request(
            {from, r.crypto_data.value_or(""), r.timestamp, unix_millis_now()}));
        if (ours) {
          auto_accept.push_back(from);  // theirs wins: answer it once this round is stored
          continue;
        }
        SC_ASSIGN_OR_RETURN(auto already, store->find_friend(from));
        Event e;
        e.kind = Event::Kind::kFriendRequest;
        e.user_id = from;
        if (already) {
          // A friend who lost their keys (or never got our answer) starts over; accepting
          // replaces the channel key.
          e.text = "already a friend: accepting replaces the channel key";
        }
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
        f.peer_v2_capable = core::has_v2_marker(r.crypto_data.value_or(""));
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
        // The id inside must be a plausible group id and match the envelope; the key must
        // be a v1 group key. Anything else is refused whole.
        const bool well_formed =
            group.ok() && group->group_id && group->private_key &&
            core::is_relay_group_id(*group->group_id) &&
            (!inv.group_id || inv.group_id->empty() || *inv.group_id == *group->group_id) &&
            base64_decode(*group->private_key).value_or(std::vector<std::uint8_t>{}).size() == 32;
        if (!well_formed) {
          round_events.push_back(warning("a group invite from " + from + " was malformed"));
          if (group.ok() && group->private_key) {
            secure_wipe(group->private_key->data(), group->private_key->size());
          }
          continue;
        }
        SC_ASSIGN_OR_RETURN(auto joined, store->find_group(*group->group_id));
        if (joined) continue;
        store::GroupInviteRecord record{*group->group_id, from,
                                        core::display_text(group->name.value_or(""), 100),
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
        // v1 or v2, upgrade traffic consumed, downgrades refused; any v2 state it changes is
        // written in this transaction, with the message and the cursor.
        SC_ASSIGN_OR_RETURN(auto opened, v2->open(from, m.enc_content.value_or("")));
        if (opened.warning) round_events.push_back(warning(std::move(*opened.warning)));
        if (opened.control) {
          // Group control over the pairwise v2 channel: applied in this same transaction.
          SC_ASSIGN_OR_RETURN(auto note, groups_v2->on_control(from, *opened.control));
          if (opened.control->content) {
            secure_wipe(opened.control->content->data(), opened.control->content->size());
          }
          if (note) round_events.push_back(warning(std::move(*note)));
          continue;
        }
        if (!opened.message) continue;
        SC_ASSIGN_OR_RETURN(auto f, store->find_friend(from));
        if (!f) continue;  // open() only returns messages from friends
        auto info = core::interpret(*opened.message, ChatKind::kFriend, from, from, m.timestamp);
        if (info.ok() && info->type == "FILE" &&
            !m.enc_content.value_or("").starts_with(crypto::v2::kWirePrefix)) {
          info = Error(ErrorCode::kInsecure, "FILE over v1");  // never sent as v1 (§15.2)
        }
        if (!info.ok()) {
          round_events.push_back(warning("a message from " + from + " was malformed"));
          continue;
        }
        // The friend's display name is whatever they call themselves (COMPAT.md §5).
        if (!info->from_name.empty() && info->from_name != f->nickname) {
          SC_TRY(store->set_friend_nickname(from, info->from_name));
        }
        SC_ASSIGN_OR_RETURN(bool fresh, store->insert_message(to_stored(*info, *opened.message)));
        if (!fresh) continue;
        Event e;
        e.kind = Event::Kind::kMessage;
        e.user_id = from;
        e.message = std::move(*info);
        round_events.push_back(std::move(e));
      }
      if (newest > cursor) SC_TRY(store->set_cursor(kQueueChannel, newest));
      // The round's events are stored with it: lost to the sink, never to the user.
      SC_ASSIGN_OR_RETURN(round_ids, stash_events(round_events));
      return ok_status();
    };
    SC_TRY(store->transaction(process));
    std::vector<Event> answered;
    for (const auto& id : auto_accept) {
      auto accepted = owner->accept(id);
      if (accepted.ok()) {
        Event e;
        e.kind = Event::Kind::kFriendAccepted;
        e.user_id = id;
        answered.push_back(std::move(e));
      } else {
        Event e;
        e.kind = Event::Kind::kFriendRequest;
        e.user_id = id;
        e.text = "crossed requests; answering failed (" + accepted.error().message() +
                 "), run accept to retry";
        answered.push_back(std::move(e));
      }
    }
    // The answers' events are stored too before any is handed out, so a sink that fails on
    // the round's events cannot lose them.
    std::vector<std::int64_t> answered_ids;
    if (!answered.empty()) {
      SC_TRY(store->transaction([&]() -> Status {
        SC_ASSIGN_OR_RETURN(answered_ids, stash_events(answered));
        return ok_status();
      }));
    }
    SC_TRY(hand_out(round_events, round_ids, emit));
    SC_TRY(hand_out(answered, answered_ids, emit));
    if (newest == cursor) break;  // nothing newer: drained
  }
  // New friendships and bundles of this sync (and anything a failed post left) get their
  // upgrade traffic now, after the rounds committed: never across the network inside one.
  SC_TRY(send_pending_upgrades(emit));
  // Removal notices still owed (docs/protocol-v2.md section 8.2); one that fails waits for the
  // next sync (the member may have no v2 session with us yet).
  (void)send_removal_notices();
  return ok_status();
}

Status Client::Impl::sync_group(const store::GroupRecord& group, const EventSink& emit) {
  // A group that removed us (section 8.2) is no longer polled: nothing in it is for us.
  SC_ASSIGN_OR_RETURN(auto closed, groups_v2->closed(group.group_id));
  if (closed) return ok_status();
  const std::string channel = group_channel(group.group_id);
  for (int round = 0; round < kMaxPollsPerChannel; ++round) {
    SC_ASSIGN_OR_RETURN(std::int64_t cursor, store->cursor(channel));
    SC_ASSIGN_OR_RETURN(protocol::GroupNotifications batch,
                        relay->poll_group(credentials, group.group_id, cursor));
    std::int64_t newest = cursor;
    std::vector<Event> round_events;
    std::vector<std::int64_t> round_ids;
    SC_TRY(store->transaction([&]() -> Status {
      for (const auto& m : batch.messages) {
        newest = std::max(newest, m.timestamp);
        // v1 or v2 (sender keys); the receiver state it advances is written in this
        // transaction, with the message and the cursor.
        SC_ASSIGN_OR_RETURN(auto opened, groups_v2->open(group, m.from_user_id.value_or(""),
                                                         m.enc_content.value_or("")));
        if (opened.warning) round_events.push_back(warning(std::move(*opened.warning)));
        if (!opened.message) continue;
        const std::string from = opened.from;
        auto info =
            core::interpret(*opened.message, ChatKind::kGroup, group.group_id, from, m.timestamp);
        if (info.ok() && info->type == "FILE" &&
            !m.enc_content.value_or("").starts_with(crypto::v2::kWirePrefix)) {
          info = Error(ErrorCode::kInsecure, "FILE over v1");  // never sent as v1 (§15.2)
        }
        if (!info.ok()) {
          round_events.push_back(
              warning("a message in group " + group.group_id + " was malformed"));
          continue;
        }
        info->outgoing = (from == user_id);
        SC_ASSIGN_OR_RETURN(bool fresh, store->insert_message(to_stored(*info, *opened.message)));
        if (!fresh || info->outgoing) continue;
        Event e;
        e.kind = Event::Kind::kMessage;
        e.user_id = from;
        e.message = std::move(*info);
        round_events.push_back(std::move(e));
      }
      if (newest > cursor) SC_TRY(store->set_cursor(channel, newest));
      SC_ASSIGN_OR_RETURN(round_ids, stash_events(round_events));
      return ok_status();
    }));
    SC_TRY(hand_out(round_events, round_ids, emit));
    if (newest == cursor) break;
  }
  // A group that can run v2 gets our sender key now (made if needed), so members hold it
  // before our first v2 post; keys owed after a removal or a failed post go out here too. An
  // in-person group gets our QR announcement instead (posted to the group itself).
  auto v2_group = prepare_group_send(group);
  if (!v2_group.ok() && group.origin == store::GroupOrigin::kInPerson) {
    if (!emit(warning("could not post our key announcement in group " + group.group_id +
                      " (tried again at the next sync)"))) {
      return event_not_taken();
    }
  }
  if (v2_group.ok() && *v2_group) {
    for (const auto& id : distribute_sender_keys(group.group_id)) {
      if (!emit(warning("could not send our group key for " + group.group_id + " to " + id +
                        " (tried again at the next sync)"))) {
        return event_not_taken();
      }
    }
  }
  return ok_status();
}

Status Client::sync(const EventSink& on_event) {
  // What an earlier sync could not hand out comes first, in its order.
  SC_TRY(impl_->redeliver(on_event));
  // Then the outbox, before anything new arrives: our sends keep their place. What it
  // delivered of earlier commands' sends was stored as kSent events (outbox.cpp): handed
  // out now, and again by the next sync if the sink does not take them.
  const auto failures = impl_->flush_outbox();
  SC_TRY(impl_->redeliver(on_event));
  for (const auto& w : Impl::outbox_warnings(failures)) {
    if (!on_event(w)) return event_not_taken();
  }
  SC_TRY(impl_->sync_queue(on_event));
  SC_ASSIGN_OR_RETURN(auto groups, impl_->store->groups());
  for (const auto& g : groups)
    SC_TRY(impl_->sync_group(g, on_event));
  return ok_status();
}

Result<std::vector<Event>> Client::sync() {
  std::vector<Event> events;
  SC_TRY(sync([&](const Event& e) {
    events.push_back(e);
    return true;
  }));
  return events;
}

Status Client::listen(const EventSink& on_event, const std::function<bool()>& keep_going) {
  // The long-poll uses its own connection so a held request never blocks a send.
  SC_ASSIGN_OR_RETURN(auto poller,
                      net::RelayClient::create(impl_->server_url, impl_->relay_options));
  {
    // An interrupt left from before this call (work the application queued and has done
    // since) must not cost this call a round: keep_going covers work queued from now on.
    std::lock_guard lock(impl_->listen_mutex);
    impl_->interrupt_requested = false;
  }
  auto backoff = std::chrono::milliseconds(250);
  auto back_off = [&](const Error& e, std::string_view what) -> bool {
    if (!on_event(warning(std::string(what) + " failed, retrying: " + e.message()))) return false;
    {
      // An interrupt cuts the sleep short: the application has work for this thread.
      std::unique_lock lock(impl_->listen_mutex);
      impl_->listen_wake.wait_for(lock, backoff, [&] { return impl_->interrupt_requested; });
      impl_->interrupt_requested = false;
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    return true;
  };
  bool need_sync = true;
  while (keep_going()) {
    if (need_sync) {
      // Everything but a rejected token is worth retrying: the relay may be restarting,
      // overloaded or rate limiting us.
      auto synced = sync(on_event);
      if (!synced.ok()) {
        // Nor is it worth going on when the application stopped taking events.
        if (synced.error().code() == ErrorCode::kUnauthenticated) return synced;
        if (synced.error().message() == event_not_taken().message()) return synced;
        if (!back_off(synced.error(), "sync")) return event_not_taken();
        continue;
      }
      backoff = std::chrono::milliseconds(250);
      need_sync = false;
    }
    // Wake-up hint only: the fetch itself uses each channel's own cursor. The largest cursor
    // is the right hint for a relay with one increasing clock (ours); for any other relay
    // the hold timeout bounds the delay.
    std::vector<std::string> ids{impl_->user_id};
    SC_ASSIGN_OR_RETURN(std::int64_t hint, impl_->store->cursor(kQueueChannel));
    SC_ASSIGN_OR_RETURN(auto groups, impl_->store->groups());
    for (const auto& g : groups) {
      SC_ASSIGN_OR_RETURN(auto closed, impl_->groups_v2->closed(g.group_id));
      if (closed) continue;  // not polled: its posts must not wake us
      ids.push_back(g.group_id);
      SC_ASSIGN_OR_RETURN(std::int64_t c, impl_->store->cursor(group_channel(g.group_id)));
      hint = std::max(hint, c);
    }
    if (!keep_going()) break;
    {
      std::lock_guard lock(impl_->listen_mutex);
      if (impl_->interrupt_requested) {  // asked before this poll began: skip it
        impl_->interrupt_requested = false;
        continue;
      }
      impl_->active_poller = poller.get();
    }
    auto woke = poller->long_poll(impl_->credentials, ids, hint);
    bool interrupted = false;
    {
      std::lock_guard lock(impl_->listen_mutex);
      impl_->active_poller = nullptr;
      interrupted = std::exchange(impl_->interrupt_requested, false);
    }
    if (interrupted) {
      // Whatever the poll answered, the application wants the thread: check keep_going,
      // then sync (a wake-up the cancelled poll would have brought is not lost).
      need_sync = true;
      continue;
    }
    if (!woke.ok()) {
      if (woke.error().code() == ErrorCode::kUnauthenticated) return std::move(woke).error();
      if (!back_off(woke.error(), "long-poll")) return event_not_taken();
    }
    // Sync after every answer, an empty one (the relay's timeout) included: it is cheap and
    // covers a missed hint.
    need_sync = true;
  }
  return ok_status();
}

void Client::interrupt_listen() {
  {
    std::lock_guard lock(impl_->listen_mutex);
    impl_->interrupt_requested = true;
    if (impl_->active_poller != nullptr) impl_->active_poller->cancel();
  }
  impl_->listen_wake.notify_all();
}

}  // namespace secchats
