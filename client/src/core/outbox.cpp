// The outbox: what we post waits in the store until the relay took it, and is posted again
// with the same bytes until then (client.hpp, Client::pending).
#include <set>

#include "client_impl.hpp"

namespace secchats {
namespace {

// Whether a failed post may succeed later: the relay was unreachable, overloaded or failing
// (5xx and 408 arrive as kUnavailable), rate-limited us, or refused our token (fixed by the
// user, not by changing the message). Any other answer refuses the message itself.
bool retryable(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kNetwork:
    case ErrorCode::kUnavailable:
    case ErrorCode::kRateLimited:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kInternal:
      return true;
    default:
      return false;
  }
}

std::string name_of(const store::OutboxItem& item) {
  if (item.kind == store::OutboxKind::kInvite) {
    return "the invite of " + item.to_id + " to group " + item.chat_id;
  }
  return "message #" + std::to_string(item.message_id) + " to " +
         (item.kind == store::OutboxKind::kGroup ? "group " : "") + item.chat_id;
}

}  // namespace

Result<Event> Client::Impl::sent_event(const store::OutboxItem& item) {
  Event e;
  e.kind = Event::Kind::kSent;
  e.message.chat_id = item.chat_id;
  e.message.chat_kind =
      item.kind == store::OutboxKind::kDirect ? ChatKind::kFriend : ChatKind::kGroup;
  e.message.message_id = item.message_id;
  e.message.outgoing = true;
  e.message.from_user_id = user_id;
  e.message.from_name = nickname;
  e.message.sender_timestamp = item.created_at_ms;
  if (item.kind == store::OutboxKind::kInvite) {
    e.message.type = "INVITE";
  } else {
    SC_ASSIGN_OR_RETURN(auto stored, store->messages(item.chat_id));
    for (const auto& m : stored) {
      if (m.outgoing && m.message_id == item.message_id) e.message = to_info(m);
    }
  }
  e.message.delivery = "sent";
  // The names shown with it: the friend (a direct message's chat, an invite's invitee) and
  // the group.
  if (item.kind != store::OutboxKind::kGroup) {
    e.user_id = item.to_id;
    SC_ASSIGN_OR_RETURN(auto f, store->find_friend(item.to_id));
    if (f) e.text = f->nickname;
  }
  if (item.kind != store::OutboxKind::kDirect) {
    e.invite.group_id = item.chat_id;
    SC_ASSIGN_OR_RETURN(auto g, store->find_group(item.chat_id));
    if (g) e.invite.name = g->name;
  }
  return e;
}

std::vector<Client::Impl::OutboxFailure> Client::Impl::flush_outbox(const std::string* chat_id,
                                                                    std::int64_t own_id) {
  std::vector<OutboxFailure> failures;
  auto items = store->outbox_items();
  if (!items.ok()) {
    failures.push_back({store::OutboxItem{}, std::move(items).error(), false});
    return failures;
  }
  std::set<std::string> stopped;  // chats whose older item the relay did not take
  for (const auto& item : *items) {
    if (item.failed || (chat_id != nullptr && item.chat_id != *chat_id)) continue;
    if (stopped.count(item.chat_id) != 0) continue;
    Status posted = ok_status();
    if (item.kind == store::OutboxKind::kInvite) {
      protocol::GroupInvite invite;
      invite.to_user_id = item.to_id;
      invite.group_id = item.chat_id;
      invite.algorithm = std::string(protocol::kGroupAlgorithm);
      invite.crypto_data = item.body;
      posted = relay->invite(credentials, std::move(invite));
    } else {
      protocol::SendMessage envelope;
      envelope.to_id = item.to_id;
      envelope.enc_content = item.body;
      posted = item.kind == store::OutboxKind::kDirect
                   ? relay->post_message(credentials, std::move(envelope))
                   : relay->post_group(credentials, std::move(envelope));
    }
    if (!posted.ok()) {
      const bool final = !retryable(posted.error());
      // Counted in one transaction with the message's state; a concurrent cancel may have
      // removed both, which leaves nothing to mark.
      Status noted = store->transaction([&]() -> Status {
        SC_ASSIGN_OR_RETURN(auto still, store->find_outbox_item(item.message_id));
        if (!still) return ok_status();
        SC_TRY(store->note_outbox_attempt(item.local_id, posted.error().message(), final));
        if (final && item.kind != store::OutboxKind::kInvite) {
          SC_TRY(store->set_message_delivery(item.chat_id, user_id, item.message_id, "failed"));
        }
        return ok_status();
      });
      (void)noted;  // the failure reported is the post's; the item is pending either way
      failures.push_back({item, posted.error(), final});
      if (!final) stopped.insert(item.chat_id);
      // An unreachable relay is unreachable for every chat: no need to wait out a timeout
      // per chat.
      const ErrorCode code = posted.error().code();
      if (code == ErrorCode::kNetwork || code == ErrorCode::kUnavailable) break;
      continue;
    }
    bool was_queued = false;
    Status settled = store->transaction([&]() -> Status {
      SC_ASSIGN_OR_RETURN(was_queued, store->delete_outbox_item(item.local_id));
      if (was_queued && item.kind != store::OutboxKind::kInvite) {
        SC_TRY(store->set_message_delivery(item.chat_id, user_id, item.message_id, "sent"));
      }
      // Any other item was answered as not sent by the call that queued it (its post failed,
      // or an older one of its chat held it back): its delivery is an event, kept in the
      // event inbox with this commit until a sync or listen hands it out.
      if (was_queued && item.message_id != own_id) {
        SC_ASSIGN_OR_RETURN(Event sent, sent_event(item));
        SC_TRY(stash_events({sent}));
      }
      return ok_status();
    });
    if (!settled.ok()) {
      // The relay has it but we could not record that: it stays pending and is posted again,
      // and the receivers drop the copy.
      failures.push_back({item, settled.error(), false});
      stopped.insert(item.chat_id);
      continue;
    }
    if (was_queued && item.kind == store::OutboxKind::kInvite) {
      // Member knowledge for v2 (docs/protocol-v2.md section 8): ours, then everyone's
      // through the list. Best effort: later lists and syncs repair a miss.
      (void)groups_v2->record_member(item.chat_id, item.to_id);
      send_member_list(item.chat_id);
    }
  }
  return failures;
}

Error Client::Impl::outbox_error(const store::OutboxItem& item,
                                 const std::vector<OutboxFailure>& failures) {
  std::string reason = item.last_error;
  ErrorCode code = ErrorCode::kNetwork;
  for (const auto& f : failures) {
    if (f.item.chat_id != item.chat_id) continue;
    // Ours, or the older item of the same chat that holds ours back.
    reason = f.item.message_id == item.message_id
                 ? f.error.message()
                 : "an older send to this chat is not through: " + f.error.message();
    if (f.error.code() == ErrorCode::kUnauthenticated) code = ErrorCode::kUnauthenticated;
    break;
  }
  const std::string what = item.kind == store::OutboxKind::kInvite
                               ? "invite (pending id " + std::to_string(item.message_id) + ")"
                               : "message #" + std::to_string(item.message_id);
  if (item.failed) {
    return Error(ErrorCode::kRefused, what + " refused by the relay, not sent: " + item.last_error +
                                          " (`secchats pending` lists it, `secchats cancel " +
                                          std::to_string(item.message_id) + "` drops it)");
  }
  return Error(code, what + " queued, not sent yet: " + reason +
                         " (retried by the next sync/send; `secchats pending` lists, "
                         "`secchats cancel " +
                         std::to_string(item.message_id) + "` drops)");
}

std::vector<Event> Client::Impl::outbox_warnings(const std::vector<OutboxFailure>& failures) {
  std::vector<Event> out;
  for (const auto& f : failures) {
    Event e;
    e.kind = Event::Kind::kWarning;
    e.text = f.final
                 ? name_of(f.item) +
                       " was refused by the relay and is not sent: " + f.error.message() +
                       " (secchats cancel " + std::to_string(f.item.message_id) + " drops it)"
                 : name_of(f.item) +
                       " is still not sent (tried again at the next sync): " + f.error.message();
    out.push_back(std::move(e));
  }
  return out;
}

Result<OutboxPostResult> Client::post_outbox() {
  // kSent events of what it delivers are stashed by flush_outbox in the event inbox.
  const auto failures = impl_->flush_outbox();
  OutboxPostResult result;
  result.warnings = Impl::outbox_warnings(failures);
  SC_ASSIGN_OR_RETURN(auto items, impl_->store->outbox_items());
  for (const auto& item : items) {
    if (!item.failed) ++result.waiting;
  }
  return result;
}

Result<std::vector<PendingSend>> Client::pending() {
  SC_ASSIGN_OR_RETURN(auto items, impl_->store->outbox_items());
  std::vector<PendingSend> out;
  for (const auto& item : items) {
    PendingSend p;
    p.attempts = item.attempts;
    p.last_error = item.last_error;
    p.queued_at_ms = item.created_at_ms;
    p.message.chat_id = item.chat_id;
    p.message.chat_kind =
        item.kind == store::OutboxKind::kDirect ? ChatKind::kFriend : ChatKind::kGroup;
    p.message.message_id = item.message_id;
    p.message.outgoing = true;
    p.message.from_user_id = impl_->user_id;
    p.message.from_name = impl_->nickname;
    p.message.sender_timestamp = item.created_at_ms;
    p.message.delivery = item.failed ? "failed" : "pending";
    if (item.kind == store::OutboxKind::kInvite) {
      p.message.type = "INVITE";
      p.invitee = item.to_id;
    } else {
      SC_ASSIGN_OR_RETURN(auto stored, impl_->store->messages(item.chat_id));
      for (const auto& m : stored) {
        if (m.outgoing && m.message_id == item.message_id) p.message = to_info(m);
      }
      impl_->decorate_attachment(p.message);
    }
    out.push_back(std::move(p));
  }
  // Attachments still uploading come first: they were begun before anything queued after.
  SC_ASSIGN_OR_RETURN(auto uploads, impl_->pending_uploads());
  out.insert(out.begin(), std::make_move_iterator(uploads.begin()),
             std::make_move_iterator(uploads.end()));
  return out;
}

Status Client::cancel_pending(std::int64_t message_id) {
  SC_ASSIGN_OR_RETURN(bool upload_cancelled, impl_->cancel_upload(message_id));
  if (upload_cancelled) return ok_status();
  return impl_->store->transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(auto item, impl_->store->find_outbox_item(message_id));
    if (!item) {
      return Error(ErrorCode::kNotFound,
                   "nothing with that id is waiting to be sent (it may have been sent already)");
    }
    SC_TRY(impl_->store->delete_outbox_item(item->local_id));
    if (item->kind != store::OutboxKind::kInvite) {
      SC_TRY(impl_->store->delete_message(item->chat_id, impl_->user_id, message_id));
    }
    return ok_status();
  });
}

}  // namespace secchats
