#include "group_v2.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "relay_ids.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/v2/sender_key.hpp"
#include "secchats/crypto/v2/wire.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats::core {
namespace {

namespace v2 = crypto::v2;

GroupV2::Opened refuse(std::string text) {
  GroupV2::Opened out;
  out.warning = std::move(text);
  return out;
}

std::string undecryptable(const std::string& group_id) {
  return "a message in group " + group_id + " could not be decrypted";
}

const boost::json::string* string_member(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return (v != nullptr && v->is_string()) ? &v->as_string() : nullptr;
}

}  // namespace

std::string encode_members_json(std::string_view group_id,
                                const std::vector<std::string>& members) {
  boost::json::array m;
  for (const auto& id : members)
    m.emplace_back(id);
  boost::json::object o;
  o["t"] = "members";
  o["g"] = group_id;
  o["m"] = std::move(m);
  return boost::json::serialize(o);
}

std::string encode_remove_json(std::string_view group_id, std::string_view user_id) {
  boost::json::object o;
  o["t"] = "remove";
  o["g"] = group_id;
  o["u"] = user_id;
  return boost::json::serialize(o);
}

// ---------------------------------------------------------------------------------------------
// Membership

Status GroupV2::record_member(std::string_view group_id, std::string_view user_id) {
  if (user_id == own_user_id_ || !is_relay_user_id(user_id)) return ok_status();
  return store_.add_group_member(group_id, user_id);
}

Result<std::vector<std::string>> GroupV2::members(std::string_view group_id) {
  SC_ASSIGN_OR_RETURN(auto all, store_.group_members(group_id));
  std::vector<std::string> out;
  for (const auto& m : all) {
    if (!m.removed && m.user_id != own_user_id_) out.push_back(m.user_id);
  }
  return out;
}

Result<std::optional<store::GroupMember>> GroupV2::find_member(std::string_view group_id,
                                                               std::string_view user_id) {
  SC_ASSIGN_OR_RETURN(auto all, store_.group_members(group_id));
  for (auto& m : all) {
    if (m.user_id == user_id) return std::optional<store::GroupMember>(std::move(m));
  }
  return std::optional<store::GroupMember>();
}

Result<GroupProtocol> GroupV2::protocol(const store::GroupRecord& g) {
  SC_ASSIGN_OR_RETURN(auto own, store_.own_sender_key(g.group_id));
  if (g.origin == store::GroupOrigin::kInPerson) {
    // Members learn our key only from our announcement in the group (section 8.1): once the
    // relay took it we send v2, and they refuse our v1 posts from then on.
    SC_ASSIGN_OR_RETURN(std::uint32_t announced, announced_epoch(g.group_id));
    if (own && announced >= own->epoch) return GroupProtocol{true, ""};
    return GroupProtocol{false, "in-person group: our key announcement is not posted yet (sync)"};
  }
  // Once we have sent under a sender key, members refuse our v1 posts: stay v2 even if a
  // later member cannot read it (they are left out of the distribution).
  if (own) return GroupProtocol{true, ""};
  if (g.origin == store::GroupOrigin::kInvited) {
    // Knowing only the inviter, we would post v2 that the others cannot read.
    SC_ASSIGN_OR_RETURN(bool listed, store_.member_list_received(g.group_id));
    if (!listed) return GroupProtocol{false, "no member list received yet"};
  }
  SC_ASSIGN_OR_RETURN(auto ids, members(g.group_id));
  if (ids.empty()) return GroupProtocol{false, "no members known yet"};
  for (const auto& id : ids) {
    SC_ASSIGN_OR_RETURN(auto f, store_.find_friend(id));
    if (!f) return GroupProtocol{false, "mixed: " + id + " is not a friend"};
    if (!f->v2_active) return GroupProtocol{false, "mixed: " + id + " is not a v2 friend"};
  }
  return GroupProtocol{true, ""};
}

Result<bool> GroupV2::prepare_send(const store::GroupRecord& g) {
  bool v2_group = false;
  // Check and create under one write lock: two processes of the account must not both make
  // an epoch-1 key (members would keep whichever arrived first).
  SC_TRY(store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(GroupProtocol p, protocol(g));
    v2_group = p.v2;
    const bool in_person = g.origin == store::GroupOrigin::kInPerson;
    if (!v2_group && !in_person) return ok_status();
    SC_ASSIGN_OR_RETURN(auto own, store_.own_sender_key(g.group_id));
    if (own) return ok_status();
    SC_ASSIGN_OR_RETURN(auto fresh, v2::SenderKeyState::generate(g.group_id, 1));
    return store_.put_own_sender_key({g.group_id, 1, fresh.serialize()});
  }));
  return v2_group;
}

Result<std::uint32_t> GroupV2::announced_epoch(std::string_view group_id) {
  SC_ASSIGN_OR_RETURN(auto row, find_member(group_id, own_user_id_));
  return row ? row->sent_epoch : 0u;
}

Result<std::optional<GroupV2::Announcement>> GroupV2::pending_announcement(
    const store::GroupRecord& g) {
  using Out = std::optional<Announcement>;
  if (g.origin != store::GroupOrigin::kInPerson) return Out();
  SC_ASSIGN_OR_RETURN(auto own, store_.own_sender_key(g.group_id));
  if (!own) return Out();
  SC_ASSIGN_OR_RETURN(std::uint32_t announced, announced_epoch(g.group_id));
  if (announced >= own->epoch) return Out();
  SC_ASSIGN_OR_RETURN(auto state, v2::SenderKeyState::deserialize(own->state.span()));
  SC_ASSIGN_OR_RETURN(SecretBytes bootstrap, v2::derive_qr_bootstrap_key(g.key, g.group_id));
  SC_ASSIGN_OR_RETURN(std::string wire, v2::seal_qr_announcement(bootstrap, state, own_user_id_));
  return Out(Announcement{std::move(wire), own->epoch});
}

Status GroupV2::mark_announced(std::string_view group_id, std::uint32_t epoch) {
  return store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(auto row, find_member(group_id, own_user_id_));
    store::GroupMember m =
        row ? *row : store::GroupMember{std::string(group_id), own_user_id_, false, 0};
    m.sent_epoch = std::max(m.sent_epoch, epoch);
    return store_.put_group_member(m);
  });
}

Result<std::vector<GroupV2::Owed>> GroupV2::owed_distributions(std::string_view group_id) {
  std::vector<Owed> out;
  SC_ASSIGN_OR_RETURN(auto own, store_.own_sender_key(group_id));
  if (!own) return out;
  // In-person groups: our key goes to the group in our announcement, not pairwise.
  SC_ASSIGN_OR_RETURN(auto group, store_.find_group(group_id));
  if (group && group->origin == store::GroupOrigin::kInPerson) return out;
  SC_ASSIGN_OR_RETURN(auto all, store_.group_members(group_id));
  std::optional<SecretBytes> serialized;
  for (const auto& m : all) {
    if (m.removed || m.user_id == own_user_id_ || m.sent_epoch >= own->epoch) continue;
    SC_ASSIGN_OR_RETURN(auto f, store_.find_friend(m.user_id));
    if (!f || !f->v2_active) continue;  // never over v1 (section 8)
    if (!serialized) {
      SC_ASSIGN_OR_RETURN(auto state, v2::SenderKeyState::deserialize(own->state.span()));
      SC_ASSIGN_OR_RETURN(auto bytes, v2::serialize_distribution(state.distribution()));
      serialized = std::move(bytes);
    }
    std::string d = base64_encode(serialized->span());
    std::string json = "{\"t\":\"sender-key\",\"d\":\"" + d + "\"}";
    secure_wipe(d);
    out.push_back({m.user_id, own->epoch, SecretString(json)});
    secure_wipe(json);
  }
  return out;
}

Status GroupV2::mark_distributed(std::string_view group_id, std::string_view member,
                                 std::uint32_t epoch) {
  return store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(auto m, find_member(group_id, member));
    if (!m) return ok_status();
    m->sent_epoch = std::max(m->sent_epoch, epoch);
    return store_.put_group_member(*m);
  });
}

Result<std::string> GroupV2::seal(std::string_view group_id, const protocol::Message& m) {
  std::string wire;
  SC_TRY(store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(auto own, store_.own_sender_key(group_id));
    if (!own) return Error(ErrorCode::kInternal, "no sender key for this group");
    SC_ASSIGN_OR_RETURN(auto state, v2::SenderKeyState::deserialize(own->state.span()));
    std::string json = protocol::encode(m);
    auto sealed = state.encrypt(json);  // pads inside
    secure_wipe(json);
    if (!sealed.ok()) return std::move(sealed).error();
    own->state = state.serialize();
    SC_TRY(store_.put_own_sender_key(*own));
    wire = std::move(*sealed);
    return ok_status();
  }));
  return wire;
}

// ---------------------------------------------------------------------------------------------
// Receiving group posts

Result<GroupV2::Opened> GroupV2::open(const store::GroupRecord& g, const std::string& poster,
                                      std::string_view enc_content) {
  const bool is_v2 = v2::is_v2_wire(enc_content);
  // Our own posts come back from the relay. We cannot open our own chain as a receiver, and
  // need not: deliver() stored the message when it was sent.
  if (is_v2 && poster == own_user_id_) return Opened{};
  if (!poster.empty()) {
    SC_ASSIGN_OR_RETURN(auto member, find_member(g.group_id, poster));
    if (member && member->removed) {
      return refuse("refused a message in group " + g.group_id + " from " + poster +
                    ", who was removed from it");
    }
  }
  if (is_v2) {
    if (v2::is_qr_announcement_wire(enc_content)) {
      if (g.origin != store::GroupOrigin::kInPerson) {
        return refuse("ignored a v2 key announcement in group " + g.group_id +
                      " (only in-person groups use them)");
      }
      return accept_announcement(g, poster, enc_content);
    }
    auto header = v2::peek_group_wire(enc_content);
    if (!header.ok()) return refuse(undecryptable(g.group_id));
    SC_ASSIGN_OR_RETURN(auto record,
                        store_.find_received_sender_key(g.group_id, header->key_id, header->epoch));
    if (!record) return refuse(undecryptable(g.group_id) + " (no sender key for it)");
    const std::string owner = record->owner_user_id;
    SC_ASSIGN_OR_RETURN(auto member, find_member(g.group_id, owner));
    if (!member || member->removed) return refuse(undecryptable(g.group_id));
    // The relay vouches for the poster (it checks tokens); a post under another member's key
    // is a replay or a forgery whatever it decrypts to.
    if (!poster.empty() && poster != owner) {
      return refuse("refused a forged message in group " + g.group_id + ": posted by " + poster +
                    " under the sender key of " + owner);
    }
    // The same bytes from the same member again: a copy re-posted from their outbox after
    // the relay's answer was lost. Dropped silently, as v1 drops a known messageId.
    const auto digest = crypto::sha256(enc_content);
    SC_ASSIGN_OR_RETURN(bool seen, store_.ciphertext_seen(g.group_id, digest));
    if (seen) return Opened{};
    auto key = v2::ReceivedSenderKey::deserialize(record->state.span());
    if (!key.ok()) {
      return refuse("the sender key of " + owner + " in group " + g.group_id + " is damaged; " +
                    undecryptable(g.group_id));
    }
    // decrypt() leaves `key` as it was on failure; it is stored only after everything passed.
    auto plain = key->decrypt(g.group_id, enc_content);
    if (!plain.ok()) return refuse(undecryptable(g.group_id));
    auto decoded = protocol::decode_message(
        std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
    secure_wipe(*plain);
    if (!decoded.ok()) return refuse("a message in group " + g.group_id + " was malformed");
    // A member holding another's chain key still cannot sign for them, but could put any
    // fromUserId in its own messages: the claim must be the key's owner.
    if (decoded->from_user_id.value_or("") != owner) {
      return refuse("refused a forged message in group " + g.group_id + ": it claims to be from " +
                    decoded->from_user_id.value_or("nobody") + " but is signed by " + owner);
    }
    record->state = key->serialize();
    SC_TRY(store_.put_received_sender_key(*record));
    SC_TRY(store_.add_seen_ciphertext(g.group_id, digest));
    Opened out;
    out.message = std::move(*decoded);
    out.from = owner;
    return out;
  }

  // v1. Without the relay's word on who posted it, the removed-member and downgrade checks
  // could not run (the claimed sender is whatever the plaintext says): refuse. Our relay
  // always names the poster.
  if (poster.empty()) {
    return refuse("refused a v1 message in group " + g.group_id +
                  ": the relay did not say who posted it");
  }
  // A member whose sender key we hold has gone v2 in this group: a v1 post under their
  // name is a possible downgrade (anyone with the v1 group key can make one).
  if (poster != own_user_id_) {
    SC_ASSIGN_OR_RETURN(auto keys, store_.received_sender_keys(g.group_id));
    for (const auto& k : keys) {
      if (k.owner_user_id == poster) {
        return refuse("refused a v1 message in group " + g.group_id + " from " + poster +
                      ": they use protocol v2 in this group, so a v1 message is a possible "
                      "downgrade attack");
      }
    }
  }
  auto plaintext = cipher_.decrypt(g.key, enc_content);
  if (!plaintext.ok()) return refuse(undecryptable(g.group_id));
  auto decoded = protocol::decode_message(*plaintext);
  secure_wipe(*plaintext);
  if (!decoded.ok()) return refuse("a message in group " + g.group_id + " was malformed");
  Opened out;
  // v1 cannot authenticate group senders: the relay vouches for the poster's id (it checks
  // tokens), but any member could claim any name. Prefer the relay's id.
  out.from = poster;
  out.message = std::move(*decoded);
  return out;
}

// An announcement is never a user message: it stores a key (or says why not) and nothing else.
Result<GroupV2::Opened> GroupV2::accept_announcement(const store::GroupRecord& g,
                                                     const std::string& poster,
                                                     std::string_view wire) {
  const std::string refused = "refused a key announcement in group " + g.group_id;
  // The relay vouches for the poster; without it there is nobody to bind the key to.
  if (poster.empty()) return refuse(refused + ": the relay did not say who posted it");
  auto bootstrap = v2::derive_qr_bootstrap_key(g.key, g.group_id);
  if (!bootstrap.ok()) return refuse(refused + ": the group key is not a valid QR key");
  auto announcement = v2::open_qr_announcement(*bootstrap, g.group_id, wire);
  if (!announcement.ok())
    return refuse("a key announcement in group " + g.group_id + " could not be decrypted");
  const auto& d = announcement->distribution;
  // Anyone holding the QR key can seal an announcement naming anyone: the claim must be the
  // poster (a replay of Alice's announcement by Bob is refused here).
  if (announcement->user_id != poster) {
    return refuse("refused a forged key announcement in group " + g.group_id + ": posted by " +
                  poster + " but it claims to be from " + announcement->user_id);
  }
  if (d.group_id != g.group_id) return refuse(refused + " from " + poster);
  SC_ASSIGN_OR_RETURN(auto held, store_.received_sender_keys(g.group_id));
  const std::vector<std::uint8_t> key_id(d.key_id.begin(), d.key_id.end());
  for (const auto& k : held) {
    if (k.owner_user_id == poster) {
      // The same key again (a re-post): keep ours, with its replay state.
      if (k.key_id == key_id && k.epoch == d.epoch) return Opened{};
      // Trust on first use: a different key for them comes only over a pairwise v2 channel.
      return refuse(refused + " from " + poster +
                    ": we already trust another key of theirs (trust on first use)");
    }
    if (k.key_id == key_id) return refuse(refused + ": its key id belongs to another member");
  }
  auto key = v2::ReceivedSenderKey::from_distribution(d);
  if (!key.ok()) return refuse(refused + " from " + poster);
  SC_TRY(store_.put_received_sender_key({g.group_id, poster, d.epoch, key_id, key->serialize()}));
  // In-person groups have no member lists: whoever announced a key is a member.
  SC_TRY(record_member(g.group_id, poster));
  return Opened{};
}

// ---------------------------------------------------------------------------------------------
// Control messages over pairwise v2

Result<std::optional<std::string>> GroupV2::on_control(const std::string& from,
                                                       const protocol::Message& m) {
  using Warning = std::optional<std::string>;
  // After a key change the session may belong to whoever swapped the key: until the friend
  // is verified again, nothing on it may plant sender keys, member lists or removals in
  // their name (section 8.1).
  SC_ASSIGN_OR_RETURN(auto friend_record, store_.find_friend(from));
  if (friend_record && friend_record->identity_changed) {
    return Warning("ignored a group update from " + from +
                   ": their identity key changed; verify them first");
  }
  const std::string ignored = "ignored a malformed group update from " + from;
  std::optional<std::string> text = base64_decode_to_string(m.content.value_or(""));
  if (!text) return Warning(ignored);
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*text, ec);
  secure_wipe(*text);
  if (ec || !value.is_object()) return Warning(ignored);
  auto& o = value.as_object();
  const auto* type = string_member(o, "t");
  if (type == nullptr) return Warning(ignored);

  if (*type == "sender-key") {
    auto* d = o.if_contains("d");
    if (d == nullptr || !d->is_string()) return Warning(ignored);
    auto& encoded = d->as_string();
    auto result = accept_distribution(from, std::string_view(encoded.data(), encoded.size()));
    // It encodes the chain key.
    secure_wipe(encoded.data(), encoded.size());
    return result;
  }

  if (*type != "members" && *type != "remove") return Warning();  // a later version's
  const auto* group = string_member(o, "g");
  if (group == nullptr || !is_relay_group_id(*group)) return Warning(ignored);
  const std::string group_id(group->data(), group->size());
  SC_ASSIGN_OR_RETURN(auto sender, find_member(group_id, from));
  // Only a member may tell us about a group; an inviter whose invite we have not answered
  // yet counts (their list may arrive before we join).
  bool trusted = sender && !sender->removed;
  if (!sender) {
    SC_ASSIGN_OR_RETURN(auto invite, store_.find_group_invite(group_id));
    trusted = invite && invite->from_user_id == from;
  }

  if (*type == "members") {
    const auto* list = o.if_contains("m");
    if (list == nullptr || !list->is_array()) return Warning(ignored);
    if (!trusted) return Warning("ignored a member list for a group " + from + " is not in");
    SC_TRY(record_member(group_id, from));
    for (const auto& id : list->as_array()) {
      if (!id.is_string()) continue;
      SC_TRY(record_member(group_id, std::string_view(id.as_string())));
    }
    SC_TRY(store_.set_member_list_received(group_id));
    return Warning();
  }
  if (*type == "remove") {
    const auto* who = string_member(o, "u");
    if (who == nullptr) return Warning(ignored);
    if (!trusted || !sender) return Warning("ignored a removal in a group " + from + " is not in");
    SC_ASSIGN_OR_RETURN(auto record, store_.find_group(group_id));
    if (record && record->origin == store::GroupOrigin::kInPerson) {
      return Warning("ignored a removal from " + from + " in in-person group " + group_id +
                     " (members cannot be removed from in-person groups)");
    }
    const std::string member(who->data(), who->size());
    if (member == own_user_id_) {
      // Told by the member who removed us (section 8.2): the group is closed for us. A repeat
      // (the remover retries until the relay took one) changes nothing and says nothing.
      SC_ASSIGN_OR_RETURN(auto closed, store_.closed_group(group_id));
      if (closed) return Warning();
      SC_TRY(store_.close_group({group_id, from, unix_millis_now()}));
      return Warning(from + " removed you from group " + group_id +
                     ": it is closed; you can no longer send to it or read its new messages");
    }
    SC_ASSIGN_OR_RETURN(auto target, find_member(group_id, member));
    if ((target && target->removed) || !is_relay_user_id(member)) return Warning();
    // Also for a member we have not heard of yet: the row marked removed keeps a member
    // list that arrives later from bringing them back.
    SC_TRY(drop_member(group_id, member));
    return Warning();
  }
  return Warning();
}

Result<std::optional<std::string>> GroupV2::accept_distribution(const std::string& from,
                                                                std::string_view encoded) {
  using Warning = std::optional<std::string>;
  const std::string refused = "refused a group sender key from " + from;
  auto bytes = base64_decode(encoded);
  if (!bytes) return Warning(refused);
  auto distribution = v2::parse_distribution(*bytes);
  secure_wipe(*bytes);
  if (!distribution.ok()) return Warning(refused);
  const std::string group_id = distribution->group_id;
  SC_ASSIGN_OR_RETURN(auto member, find_member(group_id, from));
  if (member && member->removed) return Warning(refused + ": they were removed from the group");
  SC_ASSIGN_OR_RETURN(auto held, store_.received_sender_keys(group_id));
  const auto key_id = distribution->key_id;
  const std::vector<std::uint8_t> key_id_bytes(key_id.begin(), key_id.end());
  for (const auto& k : held) {
    // The same member's key for an epoch we already hold: a resend, kept as it is (with the
    // replay protection it has built up); a different key for that epoch is never swapped in.
    if (k.owner_user_id == from && k.epoch == distribution->epoch) {
      return k.key_id == key_id_bytes
                 ? Warning()
                 : Warning(refused + ": it already sent a different key for that epoch");
    }
    // Never let one member's distribution take over another's key (section 8).
    if (k.key_id == key_id_bytes) {
      return Warning(refused + ": its key id belongs to another member");
    }
  }
  auto key = v2::ReceivedSenderKey::from_distribution(*distribution);
  if (!key.ok()) return Warning(refused);
  // Stored even if we do not know yet that they are a member: open() checks membership when
  // a message arrives, and the member list may come after the key.
  SC_TRY(store_.put_received_sender_key(
      {group_id, from, distribution->epoch, key_id_bytes, key->serialize()}));
  return Warning();
}

Status GroupV2::drop_member(std::string_view group_id, std::string_view member) {
  SC_ASSIGN_OR_RETURN(auto m, find_member(group_id, member));
  store::GroupMember row =
      m ? *m : store::GroupMember{std::string(group_id), std::string(member), false, 0};
  row.removed = true;
  SC_TRY(store_.put_group_member(row));
  SC_TRY(store_.delete_received_sender_keys(group_id, member));
  return rotate_own_key(group_id);
}

Status GroupV2::rotate_own_key(std::string_view group_id) {
  SC_ASSIGN_OR_RETURN(auto own, store_.own_sender_key(group_id));
  if (!own) return ok_status();  // nothing to rotate: we send v1 here
  // The removed member holds our current chain key; a new epoch shuts them out of what we
  // send from now on. The others get it through owed_distributions (sent_epoch < epoch).
  SC_ASSIGN_OR_RETURN(auto fresh, v2::SenderKeyState::generate(group_id, own->epoch + 1));
  return store_.put_own_sender_key({std::string(group_id), own->epoch + 1, fresh.serialize()});
}

Result<std::vector<std::string>> GroupV2::remove_member(std::string_view group_id,
                                                        std::string_view member) {
  SC_TRY(store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(auto group, store_.find_group(group_id));
    if (group && group->origin == store::GroupOrigin::kInPerson) {
      // Everyone who saw the QR code holds its key and can announce again: removal cannot
      // shut anyone out. Make a new in-person group instead (section 13).
      return Error(ErrorCode::kInvalidArgument,
                   "members cannot be removed from an in-person group; create a new one");
    }
    SC_ASSIGN_OR_RETURN(auto m, find_member(group_id, member));
    if (!m || m->user_id == own_user_id_) {
      return Error(ErrorCode::kNotFound, "not a member of this group (as far as we know)");
    }
    // The removed member is told too (section 8.2), until the relay took the notice; removing
    // again tells everyone again (the caller re-sends the news).
    SC_TRY(store_.put_removal_notice(group_id, m->user_id));
    if (m->removed) return ok_status();
    return drop_member(group_id, member);
  }));
  return members(group_id);
}

Result<std::vector<GroupV2::OwedNotice>> GroupV2::owed_removal_notices() {
  SC_ASSIGN_OR_RETURN(auto notices, store_.removal_notices());
  std::vector<OwedNotice> out;
  for (const auto& n : notices) {
    out.push_back({n.group_id, n.user_id, encode_remove_json(n.group_id, n.user_id)});
  }
  return out;
}

Status GroupV2::mark_removal_notified(std::string_view group_id, std::string_view member) {
  return store_.delete_removal_notice(group_id, member);
}

Result<std::optional<store::ClosedGroup>> GroupV2::closed(std::string_view group_id) {
  return store_.closed_group(group_id);
}

Status GroupV2::require_open(std::string_view group_id) {
  SC_ASSIGN_OR_RETURN(auto c, store_.closed_group(group_id));
  if (!c) return ok_status();
  return Error(ErrorCode::kPermissionDenied,
               "you were removed from this group (by " + c->removed_by + ")");
}

}  // namespace secchats::core
