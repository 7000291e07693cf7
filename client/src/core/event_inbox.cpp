// The event inbox: each sync round's events are stored with the round and removed only once
// the application's sink took them, so an event it could not take (its output failed) is
// handed out again by the next sync or listen (client.hpp, Client::sync).
#include <boost/json.hpp>

#include "client_impl.hpp"
#include "secchats/common/encoding.hpp"

namespace secchats {
namespace {

namespace json = boost::json;

// The stored form: private to this file and to this store (never sent anywhere).
std::string serialize(const Event& e) {
  json::object m;
  m["chat"] = e.message.chat_id;
  m["group"] = e.message.chat_kind == ChatKind::kGroup;
  m["from"] = e.message.from_user_id;
  m["fromName"] = e.message.from_name;
  m["id"] = e.message.message_id;
  m["type"] = e.message.type;
  m["text"] = e.message.text;
  m["image"] = base64_encode(e.message.image);
  m["replyTo"] = e.message.reply_to_message_id;
  m["emoji"] = e.message.emoji;
  m["sentAt"] = e.message.sender_timestamp;
  m["serverTs"] = e.message.server_timestamp;
  m["outgoing"] = e.message.outgoing;
  m["delivery"] = e.message.delivery;
  json::object o;
  o["kind"] = static_cast<std::int64_t>(e.kind);
  o["user"] = e.user_id;
  o["text"] = e.text;
  o["invite"] = json::object{{"group", e.invite.group_id},
                             {"name", e.invite.name},
                             {"from", e.invite.from_user_id},
                             {"fromName", e.invite.from_nickname}};
  o["message"] = std::move(m);
  return json::serialize(o);
}

Result<Event> deserialize(std::string_view text) {
  auto bad = [] { return Error(ErrorCode::kCorrupt, "store: an undelivered event is damaged"); };
  try {
    const json::object o = json::parse(text).as_object();
    auto str = [](const json::object& from, std::string_view key) {
      return std::string(from.at(key).as_string());
    };
    Event e;
    const std::int64_t kind = o.at("kind").as_int64();
    if (kind < 0 || kind > static_cast<std::int64_t>(Event::Kind::kSent)) return bad();
    e.kind = static_cast<Event::Kind>(kind);
    e.user_id = str(o, "user");
    e.text = str(o, "text");
    const json::object& i = o.at("invite").as_object();
    e.invite = {str(i, "group"), str(i, "name"), str(i, "from"), str(i, "fromName")};
    const json::object& m = o.at("message").as_object();
    e.message.chat_id = str(m, "chat");
    e.message.chat_kind = m.at("group").as_bool() ? ChatKind::kGroup : ChatKind::kFriend;
    e.message.from_user_id = str(m, "from");
    e.message.from_name = str(m, "fromName");
    e.message.message_id = m.at("id").as_int64();
    e.message.type = str(m, "type");
    e.message.text = str(m, "text");
    auto image = base64_decode(str(m, "image"));
    if (!image) return bad();
    e.message.image = std::move(*image);
    e.message.reply_to_message_id = m.at("replyTo").as_int64();
    e.message.emoji = str(m, "emoji");
    e.message.sender_timestamp = m.at("sentAt").as_int64();
    e.message.server_timestamp = m.at("serverTs").as_int64();
    e.message.outgoing = m.at("outgoing").as_bool();
    e.message.delivery = str(m, "delivery");
    return e;
  } catch (const std::exception&) {
    return bad();
  }
}

}  // namespace

Result<std::vector<std::int64_t>> Client::Impl::stash_events(const std::vector<Event>& events) {
  std::vector<std::int64_t> ids;
  ids.reserve(events.size());
  for (const auto& e : events) {
    SC_ASSIGN_OR_RETURN(std::int64_t id, store->put_undelivered_event(serialize(e)));
    ids.push_back(id);
  }
  return ids;
}

Status Client::Impl::hand_out(const std::vector<Event>& events,
                              const std::vector<std::int64_t>& ids, const EventSink& emit) {
  // The events the sink took are removed together (one commit, not one per event); a crash
  // before that hands them out again (at least once, never lost).
  std::size_t taken = 0;
  while (taken < events.size() && emit(events[taken]))
    ++taken;
  SC_TRY(forget_events(std::vector<std::int64_t>(ids.begin(), ids.begin() + taken)));
  if (taken < events.size()) return event_not_taken();
  return ok_status();
}

Status Client::Impl::forget_events(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return ok_status();
  return store->transaction([&]() -> Status {
    for (std::int64_t id : ids)
      SC_TRY(store->delete_undelivered_event(id));
    return ok_status();
  });
}

Status Client::Impl::redeliver(const EventSink& emit) {
  SC_ASSIGN_OR_RETURN(auto stored, store->undelivered_events());
  std::vector<std::int64_t> taken;
  Status handed = ok_status();
  for (const auto& [id, text] : stored) {
    auto event = deserialize(text);
    Event shown;
    if (event.ok()) {
      shown = std::move(*event);
    } else {
      // Never blocks the inbox for good: said once, then dropped.
      shown.kind = Event::Kind::kWarning;
      shown.text = "an event kept for redelivery was damaged and is dropped";
    }
    if (!emit(shown)) {
      handed = event_not_taken();
      break;
    }
    taken.push_back(id);
  }
  SC_TRY(forget_events(taken));
  return handed;
}

}  // namespace secchats
