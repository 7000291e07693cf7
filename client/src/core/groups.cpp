// Groups: creating, inviting, joining, removing members, sending to them, and the v2 group
// control traffic (docs/protocol-v2.md section 8; v1 groups: COMPAT.md section 6).
#include <algorithm>
#include <optional>

#include "client_impl.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats {
namespace {

constexpr std::size_t kMaxGroupNameBytes = 100;

}  // namespace

Status Client::Impl::send_group_control(const std::string& friend_id, const SecretString& content) {
  // The text may hold a chain key: no copy of it is left behind unwiped.
  std::optional<std::string> text(std::string(content.view()));
  auto m = core::make_update(sender(), friend_id, crypto::random_int63(), unix_millis_now(), text);
  secure_wipe(text->data(), text->size());
  auto wire = v2->seal_v2_only(friend_id, m);
  if (m.content) secure_wipe(m.content->data(), m.content->size());
  if (!wire.ok()) return std::move(wire).error();
  if (!*wire) return Error(ErrorCode::kUnavailable, "no protocol v2 channel with " + friend_id);
  protocol::SendMessage envelope;
  envelope.to_id = friend_id;
  envelope.enc_content = std::move(**wire);
  return relay->post_message(credentials, std::move(envelope));
}

Result<bool> Client::Impl::prepare_group_send(const store::GroupRecord& g) {
  SC_ASSIGN_OR_RETURN(bool group_v2, groups_v2->prepare_send(g));
  if (group_v2) return true;
  SC_ASSIGN_OR_RETURN(auto announcement, groups_v2->pending_announcement(g));
  if (!announcement) return false;
  // Marked only once the relay took it: until then we post v1, which members accept.
  protocol::SendMessage envelope;
  envelope.to_id = g.group_id;
  envelope.enc_content = std::move(announcement->wire);
  SC_TRY(relay->post_group(credentials, std::move(envelope)));
  SC_TRY(groups_v2->mark_announced(g.group_id, announcement->epoch));
  return groups_v2->prepare_send(g);
}

std::vector<std::string> Client::Impl::distribute_sender_keys(const std::string& group_id) {
  std::vector<std::string> unreached;
  auto owed = groups_v2->owed_distributions(group_id);
  if (!owed.ok() || owed->empty()) return unreached;
  auto ids = groups_v2->members(group_id);
  if (!ids.ok()) return unreached;
  std::vector<std::string> everyone = *ids;
  everyone.push_back(user_id);
  const SecretString list(core::encode_members_json(group_id, everyone));
  for (const auto& o : *owed) {
    // The member list goes with the key: a member who missed the list sent at the invite
    // (no v2 session with the inviter yet) learns the others here, and stays v1 until then.
    if (!send_group_control(o.member, list).ok() || !send_group_control(o.member, o.content).ok() ||
        !groups_v2->mark_distributed(group_id, o.member, o.epoch).ok()) {
      unreached.push_back(o.member);
    }
  }
  return unreached;
}

void Client::Impl::send_member_list(const std::string& group_id) {
  auto ids = groups_v2->members(group_id);
  if (!ids.ok()) return;
  std::vector<std::string> everyone = *ids;
  everyone.push_back(user_id);
  const SecretString content(core::encode_members_json(group_id, everyone));
  for (const auto& id : *ids) {
    auto f = store->find_friend(id);
    if (!f.ok() || !*f || !(*f)->v2_active) continue;
    // Best effort: a member who misses it learns the others from later lists (a new invite).
    (void)send_group_control(id, content);
  }
}

std::vector<std::string> Client::Impl::send_removal_notices() {
  std::vector<std::string> unreached;
  auto owed = groups_v2->owed_removal_notices();
  if (!owed.ok()) return unreached;
  for (const auto& n : *owed) {
    // A member who is no v2 friend cannot be told (group control never travels over v1):
    // the notice waits, and goes out once a v2 session with them exists.
    if (!send_group_control(n.member, SecretString(n.content)).ok() ||
        !groups_v2->mark_removal_notified(n.group_id, n.member).ok()) {
      unreached.push_back(n.member);
    }
  }
  return unreached;
}

// ---------------------------------------------------------------------------------------------
// Groups

Result<GroupInfo> Client::create_group(std::string_view name) {
  SC_TRY(check_display_name("group name", name, kMaxGroupNameBytes));
  SC_ASSIGN_OR_RETURN(protocol::Group allocated, impl_->relay->register_group(impl_->credentials));
  if (!allocated.group_id || allocated.group_id->empty()) {
    return Error(ErrorCode::kRefused, "the server's /register2 answer has no group id");
  }
  store::GroupRecord g;
  g.group_id = *allocated.group_id;
  g.name = std::string(name);
  g.key = crypto::v1::generate_group_key();
  g.origin = store::GroupOrigin::kCreated;
  g.created_at_ms = unix_millis_now();
  SC_TRY(impl_->store->upsert_group(g));
  return to_info(g);
}

Status Client::invite_to_group(std::string_view group_id, std::string_view friend_id) {
  SC_ASSIGN_OR_RETURN(auto g, impl_->require_group(group_id));
  SC_TRY(impl_->groups_v2->require_open(g.group_id));
  SC_ASSIGN_OR_RETURN(auto f, impl_->require_friend(friend_id));
  if (f.send_blocked) {
    // The invite hands over the group key: not to a friend whose key changed unverified.
    return core::sending_blocked_error(f.user_id);
  }
  protocol::Group payload;
  payload.group_id = g.group_id;
  payload.name = g.name;
  payload.algorithm = std::string(protocol::kGroupAlgorithm);
  payload.private_key = std::string(g.key.view());
  std::string plaintext = protocol::encode(payload);
  // Through the outbox like a message (the invite carries no messageId; a local one names
  // it for cancel_pending). A copy posted again replaces the first at the friend.
  store::OutboxItem item;
  item.kind = store::OutboxKind::kInvite;
  item.chat_id = g.group_id;
  item.to_id = f.user_id;
  item.message_id = crypto::random_int63();
  item.body = impl_->cipher.encrypt(f.channel_key, plaintext);
  item.created_at_ms = unix_millis_now();
  secure_wipe(plaintext.data(), plaintext.size());
  secure_wipe(payload.private_key->data(), payload.private_key->size());
  SC_ASSIGN_OR_RETURN(item.local_id, impl_->store->put_outbox_item(item));
  // Once posted, flush_outbox records the member and sends the member list (section 8).
  const auto failures = impl_->flush_outbox(&g.group_id, item.message_id);
  SC_ASSIGN_OR_RETURN(auto left, impl_->store->find_outbox_item(item.message_id));
  if (left) return impl_->outbox_error(*left, failures);
  return ok_status();
}

Result<std::vector<GroupInviteInfo>> Client::group_invites() {
  SC_ASSIGN_OR_RETURN(auto invites, impl_->store->group_invites());
  std::vector<GroupInviteInfo> out;
  for (const auto& i : invites) {
    std::string from_nick;
    if (auto f = impl_->store->find_friend(i.from_user_id); f.ok() && *f)
      from_nick = (*f)->nickname;
    out.push_back({i.group_id, i.name, i.from_user_id, from_nick});
  }
  return out;
}

namespace {

// The invite a person means by "an id or a unique group name".
Result<store::GroupInviteRecord> find_invite(store::Store& store, std::string_view id_or_name) {
  SC_ASSIGN_OR_RETURN(auto invites, store.group_invites());
  const store::GroupInviteRecord* match = nullptr;
  for (const auto& i : invites) {
    if (i.group_id == id_or_name) match = &i;
  }
  if (!match) {
    for (const auto& i : invites) {
      if (same_name(i.name, id_or_name)) {
        if (match) {
          return Error(ErrorCode::kInvalidArgument,
                       "more than one invite has that group name; use the ID");
        }
        match = &i;
      }
    }
  }
  if (!match) return Error(ErrorCode::kNotFound, "no invite to that group");
  return *match;
}

}  // namespace

Status Client::decline_group_invite(std::string_view id_or_name) {
  SC_ASSIGN_OR_RETURN(auto invite, find_invite(*impl_->store, id_or_name));
  return impl_->store->delete_group_invite(invite.group_id);
}

Result<GroupInfo> Client::join_group(std::string_view id_or_name) {
  SC_ASSIGN_OR_RETURN(auto found, find_invite(*impl_->store, id_or_name));
  const store::GroupInviteRecord* match = &found;
  store::GroupRecord g;
  g.group_id = match->group_id;
  g.name = match->name;
  g.key = match->key;
  g.origin = store::GroupOrigin::kInvited;
  g.created_at_ms = unix_millis_now();
  const std::string inviter = match->from_user_id;
  SC_TRY(impl_->store->transaction([&]() -> Status {
    SC_TRY(impl_->store->upsert_group(g));
    SC_TRY(impl_->groups_v2->record_member(g.group_id, inviter));
    return impl_->store->delete_group_invite(g.group_id);
  }));
  return impl_->describe(g);
}

Result<GroupInfo> Client::Impl::describe(const store::GroupRecord& g) {
  GroupInfo info = to_info(g);
  SC_ASSIGN_OR_RETURN(core::GroupProtocol p, groups_v2->protocol(g));
  info.protocol = p.v2 ? "v2" : "v1";
  info.protocol_reason = p.reason;
  SC_ASSIGN_OR_RETURN(auto closed, groups_v2->closed(g.group_id));
  if (closed) {
    info.closed = true;
    info.removed_by = closed->removed_by;
  }
  return info;
}

Result<std::vector<GroupInfo>> Client::groups() {
  SC_ASSIGN_OR_RETURN(auto all, impl_->store->groups());
  std::vector<GroupInfo> out;
  for (const auto& g : all) {
    SC_ASSIGN_OR_RETURN(GroupInfo info, impl_->describe(g));
    out.push_back(std::move(info));
  }
  return out;
}

Status Client::remove_group_member(std::string_view group_id, std::string_view member) {
  SC_ASSIGN_OR_RETURN(auto g, impl_->require_group(group_id));
  SC_TRY(impl_->groups_v2->require_open(g.group_id));
  std::string member_id(member);
  if (auto f = find_friend(member); f.ok()) {
    member_id = f->user_id;
  } else if (f.error().code() != ErrorCode::kNotFound) {
    return std::move(f).error();  // two friends have that nickname: never guess which one
  }
  if (member_id == impl_->user_id) {
    return Error(ErrorCode::kInvalidArgument, "you cannot remove yourself");
  }
  SC_ASSIGN_OR_RETURN(auto remaining, impl_->groups_v2->remove_member(g.group_id, member_id));
  // The new epoch first, then the news: a member who hears of the removal before getting our
  // new key still reads our next message once the key arrives (it is queued before it).
  std::vector<std::string> unreached = impl_->distribute_sender_keys(g.group_id);
  const SecretString content(core::encode_remove_json(g.group_id, member_id));
  for (const auto& id : remaining) {
    auto f = impl_->store->find_friend(id);
    if (!f.ok() || !*f || !(*f)->v2_active) continue;
    if (!impl_->send_group_control(id, content).ok() &&
        std::find(unreached.begin(), unreached.end(), id) == unreached.end()) {
      unreached.push_back(id);
    }
  }
  // The removed member learns it too; one we cannot reach now is told at a later sync.
  impl_->send_removal_notices();
  if (!unreached.empty()) {
    std::string names;
    for (const auto& id : unreached)
      names += (names.empty() ? "" : ", ") + id;
    return Error(
        ErrorCode::kUnavailable,
        "removed locally, but could not tell " + names +
            "; run the removal again to retry (our new key reaches them at the next sync)");
  }
  return ok_status();
}

Result<MessageInfo> Client::send_group_text(std::string_view group_id, std::string_view text) {
  return impl_->send_text(ChatKind::kGroup, group_id, text);
}

Result<MessageInfo> Client::send_group_image(std::string_view group_id,
                                             std::vector<std::uint8_t> photo) {
  return impl_->send_image(ChatKind::kGroup, group_id, photo);
}

Result<MessageInfo> Client::react_in_group(std::string_view group_id, std::int64_t message_id,
                                           std::string_view reaction) {
  return impl_->react(ChatKind::kGroup, group_id, message_id, reaction);
}

}  // namespace secchats
