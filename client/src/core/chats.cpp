// What an application's chat screens read: the chat list (with unread counts and previews),
// history pages, read marks. Everything comes from the local store; nothing here touches the
// network.
#include <algorithm>

#include "client_impl.hpp"

namespace secchats {

Result<std::vector<MessageInfo>> Client::history(std::string_view chat_id, std::size_t limit,
                                                 std::int64_t before_local_id) {
  if (before_local_id < 0) {
    return Error(ErrorCode::kInvalidArgument, "before_local_id must not be negative");
  }
  SC_ASSIGN_OR_RETURN(auto stored, impl_->store->messages(chat_id, limit, before_local_id));
  std::vector<MessageInfo> out;
  out.reserve(stored.size());
  for (const auto& m : stored) {
    out.push_back(to_info(m));
    impl_->decorate_attachment(out.back());
  }
  return out;
}

Result<std::vector<ChatSummary>> Client::chats() {
  std::vector<ChatSummary> out;
  auto fill = [&](ChatSummary& chat, std::int64_t began_ms) -> Status {
    SC_ASSIGN_OR_RETURN(auto stats, impl_->store->chat_stats(chat.chat_id));
    chat.message_count = stats.message_count;
    chat.unread = stats.unread;
    chat.last_activity_ms = began_ms;
    if (stats.last_message) {
      chat.last_message = to_info(*stats.last_message);
      chat.last_activity_ms = std::max(began_ms, chat.last_message->sender_timestamp);
    }
    return ok_status();
  };

  SC_ASSIGN_OR_RETURN(auto friends, impl_->store->friends());
  for (const auto& f : friends) {
    ChatSummary chat;
    chat.kind = ChatKind::kFriend;
    chat.chat_id = f.user_id;
    chat.title = f.nickname;
    chat.protocol = f.v2_active ? "v2" : "v1";
    SC_TRY(fill(chat, f.created_at_ms));
    out.push_back(std::move(chat));
  }
  SC_ASSIGN_OR_RETURN(auto groups, impl_->store->groups());
  for (const auto& g : groups) {
    SC_ASSIGN_OR_RETURN(GroupInfo info, impl_->describe(g));
    ChatSummary chat;
    chat.kind = ChatKind::kGroup;
    chat.chat_id = g.group_id;
    chat.title = info.name;
    chat.protocol = info.protocol;
    chat.closed = info.closed;
    SC_TRY(fill(chat, g.created_at_ms));
    out.push_back(std::move(chat));
  }
  // Newest activity first; ties (chats that began together) by id so the order is stable.
  std::stable_sort(out.begin(), out.end(), [](const ChatSummary& a, const ChatSummary& b) {
    if (a.last_activity_ms != b.last_activity_ms) return a.last_activity_ms > b.last_activity_ms;
    return a.chat_id < b.chat_id;
  });
  return out;
}

Status Client::mark_read(std::string_view chat_id) {
  SC_ASSIGN_OR_RETURN(auto friend_record, impl_->store->find_friend(chat_id));
  if (!friend_record) {
    SC_ASSIGN_OR_RETURN(auto group, impl_->store->find_group(chat_id));
    if (!group) return Error(ErrorCode::kNotFound, "no friend or group " + std::string(chat_id));
  }
  return impl_->store->mark_read(chat_id);
}

}  // namespace secchats
