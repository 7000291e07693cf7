#include "secchats/protocol/json_codec.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>

namespace secchats::protocol {
namespace json = boost::json;

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::kText:
      return "TEXT";
    case MessageType::kImage:
      return "IMG";
    case MessageType::kEmoji:
      return "EMOJI";
    case MessageType::kUpdate:
      return "UPDATE";
    case MessageType::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

MessageType message_type_from_string(std::string_view s) {
  if (s == "TEXT") return MessageType::kText;
  if (s == "IMG") return MessageType::kImage;
  if (s == "EMOJI") return MessageType::kEmoji;
  if (s == "UPDATE") return MessageType::kUpdate;
  return MessageType::kUnknown;
}

// ---------------------------------------------------------------------------------------------
// Encoding

namespace {

// Characters the reference serializer writes escaped: quotes, backslash, '/' (it escapes the
// solidus, so base64 comes out as "a\/b") and the control characters.
constexpr bool needs_escape(unsigned char c) {
  return c == '"' || c == '\\' || c == '/' || c < 0x20;
}

constexpr std::uint64_t kEveryByte = 0x0101010101010101ull;
constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

// Non-zero when some byte of `v` is zero (exact for "any", not for which one).
constexpr std::uint64_t any_zero_byte(std::uint64_t v) {
  return (v - kEveryByte) & ~v & kHighBits;
}

// Whether any of the 8 bytes in `w` needs escaping: a control character (< 0x20), '"', '\\' or
// '/'. Eight bytes per test: relay answers are mostly long base64 payloads and hex ids, and a
// test per byte dominated the encoding of /receive and /pollgroups answers.
constexpr bool word_needs_escape(std::uint64_t w) {
  const std::uint64_t below_space = (w - kEveryByte * 0x20) & ~w & kHighBits;
  return (below_space | any_zero_byte(w ^ (kEveryByte * '"')) |
          any_zero_byte(w ^ (kEveryByte * '\\')) | any_zero_byte(w ^ (kEveryByte * '/'))) != 0;
}

// The end of the longest run of `s` from `from` on that needs no escaping.
std::size_t plain_run_end(std::string_view s, std::size_t from) {
  std::size_t end = from;
#ifdef __SSE2__
  // 16 bytes per test where SSE2 is there (every x86-64).
  const __m128i last_control = _mm_set1_epi8(0x1f);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i solidus = _mm_set1_epi8('/');
  while (end + 16 <= s.size()) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + end));
    // Control characters: as unsigned bytes, max(b, 0x1f) == 0x1f exactly when b <= 0x1f.
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, last_control), last_control);
    const __m128i special = _mm_or_si128(
        _mm_or_si128(control, _mm_cmpeq_epi8(bytes, quote)),
        _mm_or_si128(_mm_cmpeq_epi8(bytes, backslash), _mm_cmpeq_epi8(bytes, solidus)));
    if (_mm_movemask_epi8(special) != 0) break;
    end += 16;
  }
#endif
  while (end + 8 <= s.size()) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + end, sizeof word);
    if (word_needs_escape(word)) break;
    end += 8;
  }
  while (end < s.size() && !needs_escape(static_cast<unsigned char>(s[end])))
    ++end;
  return end;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one go.
    const std::size_t run = plain_run_end(s, i);
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    const char c = s[run];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '/':
        out += "\\/";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[(c >> 4) & 0xf]);
        out.push_back(kHex[c & 0xf]);
    }
    i = run + 1;
  }
  out.push_back('"');
}

namespace {

// Writes one JSON object in the reference serializer's style: {"object":"Name","a":...}.
class ObjectWriter {
 public:
  // `class_name` and every key are plain ASCII identifiers: written as they are, unescaped.
  ObjectWriter(std::string& out, std::string_view class_name) : out_(out) {
    static constexpr std::string_view kOpen = "{\"object\":\"";
    out_.append(kOpen.data(), kOpen.size());
    out_.append(class_name.data(), class_name.size());
    out_.push_back('"');
  }
  ObjectWriter& str(std::string_view key, const OptString& v) {
    key_(key);
    if (v) {
      append_json_string(out_, *v);
    } else {
      out_.append("null", 4);
    }
    return *this;
  }
  ObjectWriter& num(std::string_view key, std::int64_t v) {
    key_(key);
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
    return *this;
  }
  ObjectWriter& strings(std::string_view key, const std::vector<std::string>& v) {
    key_(key);
    out_.push_back('[');
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out_.push_back(',');
      append_json_string(out_, v[i]);
    }
    out_.push_back(']');
    return *this;
  }
  template <typename T, typename Fn>
  ObjectWriter& array(std::string_view key, const std::vector<T>& items, Fn&& write_item) {
    key_(key);
    out_.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out_.push_back(',');
      write_item(out_, items[i]);
    }
    out_.push_back(']');
    return *this;
  }
  void end() { out_.push_back('}'); }

 private:
  void key_(std::string_view key) {
    out_.append(",\"", 2);
    out_.append(key.data(), key.size());
    out_.append("\":", 2);
  }
  std::string& out_;
};

void write(std::string& out, const FriendRequest& v, WithToken token) {
  ObjectWriter w(out, "FriendRequest");
  w.str("fromUserId", v.from_user_id);
  if (token == WithToken::kYes) w.str("authToken", v.auth_token);
  w.str("toUserId", v.to_user_id).num("timestamp", v.timestamp).str("protocol", v.protocol);
  w.str("cryptoData", v.crypto_data).end();
}

void write(std::string& out, const FriendResponse& v, WithToken token) {
  ObjectWriter w(out, "FriendResponse");
  w.str("fromUserId", v.from_user_id);
  if (token == WithToken::kYes) w.str("authToken", v.auth_token);
  w.str("toUserId", v.to_user_id).num("timestamp", v.timestamp).str("cryptoData", v.crypto_data);
  w.end();
}

void write(std::string& out, const GroupInvite& v, WithToken token) {
  ObjectWriter w(out, "GroupInvite");
  w.str("fromUserId", v.from_user_id);
  if (token == WithToken::kYes) w.str("authToken", v.auth_token);
  w.str("toUserId", v.to_user_id).str("groupId", v.group_id).num("timestamp", v.timestamp);
  w.str("algorithm", v.algorithm).str("cryptoData", v.crypto_data).end();
}

void write(std::string& out, const SendMessage& v, WithToken token) {
  ObjectWriter w(out, "SendMessage");
  w.str("toId", v.to_id);
  if (token == WithToken::kYes) w.str("authToken", v.auth_token);
  w.str("fromUserId", v.from_user_id).str("encContent", v.enc_content);
  w.num("timestamp", v.timestamp).end();
}

}  // namespace

std::string encode(const User& v, WithToken token) {
  std::string out;
  ObjectWriter w(out, "User");
  w.str("userId", v.user_id).str("name", v.name);
  if (token == WithToken::kYes) w.str("authToken", v.auth_token);
  w.num("lastMessageTimestamp", v.last_message_timestamp).end();
  return out;
}

std::string encode(const Group& v) {
  std::string out;
  ObjectWriter(out, "Group")
      .str("groupId", v.group_id)
      .str("name", v.name)
      .str("algorithm", v.algorithm)
      .str("privateKey", v.private_key)
      .num("lastMessageTimestamp", v.last_message_timestamp)
      .end();
  return out;
}

std::string encode(const FriendRequest& v, WithToken token) {
  std::string out;
  write(out, v, token);
  return out;
}
std::string encode(const FriendResponse& v, WithToken token) {
  std::string out;
  write(out, v, token);
  return out;
}
std::string encode(const GroupInvite& v, WithToken token) {
  std::string out;
  write(out, v, token);
  return out;
}
std::string encode(const SendMessage& v, WithToken token) {
  std::string out;
  write(out, v, token);
  return out;
}

std::string encode(const PollGroup& v) {
  std::string out;
  ObjectWriter(out, "PollGroup")
      .str("userId", v.user_id)
      .str("authToken", v.auth_token)
      .str("groupId", v.group_id)
      .num("lastMessageTimestamp", v.last_message_timestamp)
      .end();
  return out;
}

std::string encode(const PollGroups& v) {
  std::string out;
  ObjectWriter(out, "PollGroups")
      .str("userId", v.user_id)
      .str("authToken", v.auth_token)
      .strings("groupIds", v.group_ids)
      .num("lastMessageTimestamp", v.last_message_timestamp)
      .end();
  return out;
}

namespace {

// Bytes an item adds to an answer beyond its strings: keys, quotes, commas, the timestamp.
constexpr std::size_t kItemOverhead = 128;

std::size_t text_size(const OptString& s) {
  return s ? s->size() : 0;
}

// Roughly the encoded size of items of every kind, so an answer is built in one allocation
// (escapes may still grow it). Exactness does not matter, only avoiding repeated growth.
std::size_t estimate(const FriendRequest& v) {
  return kItemOverhead + text_size(v.from_user_id) + text_size(v.to_user_id) +
         text_size(v.protocol) + text_size(v.crypto_data);
}
std::size_t estimate(const FriendResponse& v) {
  return kItemOverhead + text_size(v.from_user_id) + text_size(v.to_user_id) +
         text_size(v.crypto_data);
}
std::size_t estimate(const GroupInvite& v) {
  return kItemOverhead + text_size(v.from_user_id) + text_size(v.to_user_id) +
         text_size(v.group_id) + text_size(v.algorithm) + text_size(v.crypto_data);
}
std::size_t estimate(const SendMessage& v) {
  return kItemOverhead + text_size(v.to_id) + text_size(v.from_user_id) + text_size(v.enc_content);
}
template <typename T>
std::size_t estimate(const std::vector<T>& items) {
  std::size_t total = 0;
  for (const auto& item : items)
    total += estimate(item);
  return total;
}

}  // namespace

std::string encode(const Notifications& v) {
  std::string out;
  out.reserve(kItemOverhead + estimate(v.friend_requests) + estimate(v.friend_responses) +
              estimate(v.group_invites) + estimate(v.messages));
  auto item = [](std::string& o, const auto& x) { write(o, x, WithToken::kNo); };
  ObjectWriter(out, "Notifications")
      .array("friendRequests", v.friend_requests, item)
      .array("friendResponses", v.friend_responses, item)
      .array("groupInvites", v.group_invites, item)
      .array("messages", v.messages, item)
      .end();
  return out;
}

std::string encode(const GroupNotifications& v) {
  std::string out;
  out.reserve(kItemOverhead + estimate(v.messages));
  auto item = [](std::string& o, const SendMessage& x) { write(o, x, WithToken::kNo); };
  ObjectWriter(out, "GroupNotifications").array("messages", v.messages, item).end();
  return out;
}

std::string encode(const Message& v) {
  std::string out;
  ObjectWriter(out, "Message")
      .str("fromUserId", v.from_user_id)
      .str("fromName", v.from_name)
      .str("toId", v.to_id)
      .num("replyToMessageId", v.reply_to_message_id)
      .str("newEmoji", v.new_emoji)
      .str("oldEmoji", v.old_emoji)
      .num("messageId", v.message_id)
      .str("type", v.type)
      .str("content", v.content)
      .num("timestamp", v.timestamp)
      .end();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

namespace {

Error bad(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

Status read_string(const json::value& v, std::string_view key, OptString& out) {
  if (v.is_null()) {
    out.reset();
    return ok_status();
  }
  if (!v.is_string()) return bad("field '" + std::string(key) + "' must be a string or null");
  const auto& s = v.get_string();
  out.emplace(s.data(), s.size());
  return ok_status();
}

Status read_int(const json::value& v, std::string_view key, std::int64_t& out) {
  if (v.is_int64()) {
    out = v.get_int64();
    return ok_status();
  }
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return bad("field '" + std::string(key) + "' is out of range");
    }
    out = static_cast<std::int64_t>(v.get_uint64());
    return ok_status();
  }
  return bad("field '" + std::string(key) + "' must be an integer");
}

Status read_strings(const json::value& v, std::string_view key, std::vector<std::string>& out) {
  if (v.is_null()) {
    out.clear();
    return ok_status();
  }
  if (!v.is_array()) return bad("field '" + std::string(key) + "' must be an array of strings");
  out.clear();
  out.reserve(v.get_array().size());
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return bad("field '" + std::string(key) + "' must hold only strings");
    out.emplace_back(e.get_string().data(), e.get_string().size());
  }
  return ok_status();
}

// One known field: its name and how to read its value.
struct FieldReader {
  std::string_view key;
  std::function<Status(const json::value&)> read;
};

// Parses `text` with every value allocated from `storage`.
Result<json::value> parse_json(std::string_view text, json::storage_ptr storage) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, std::move(storage));
  if (ec) return bad("malformed JSON: " + ec.message());
  return v;
}

// Checks the discriminator and dispatches every member to its reader.
Status read_object(const json::value& v, std::string_view class_name,
                   std::initializer_list<FieldReader> fields, UnknownFields unknown) {
  if (!v.is_object()) return bad("expected a JSON object of class " + std::string(class_name));
  for (const auto& member : v.get_object()) {
    std::string_view key(member.key().data(), member.key().size());
    if (key == "object") {
      if (member.value().is_null()) continue;
      if (!member.value().is_string() || member.value().get_string() != class_name) {
        return bad("expected object of class " + std::string(class_name));
      }
      continue;
    }
    bool known = false;
    for (const auto& f : fields) {
      if (f.key == key) {
        SC_TRY(f.read(member.value()));
        known = true;
        break;
      }
    }
    if (!known && unknown == UnknownFields::kReject) {
      return bad("unknown field '" + std::string(key) + "' in " + std::string(class_name));
    }
  }
  return ok_status();
}

FieldReader str(std::string_view key, OptString& out) {
  return {key, [key, &out](const json::value& v) { return read_string(v, key, out); }};
}
FieldReader num(std::string_view key, std::int64_t& out) {
  return {key, [key, &out](const json::value& v) { return read_int(v, key, out); }};
}

Status read_user(const json::value& v, User& out, UnknownFields u) {
  return read_object(
      v, "User",
      {str("userId", out.user_id), str("name", out.name), str("authToken", out.auth_token),
       num("lastMessageTimestamp", out.last_message_timestamp)},
      u);
}

Status read_group(const json::value& v, Group& out, UnknownFields u) {
  // The reference Group class also has a member list that it never fills on the wire;
  // its parser accepts the field (see reference-json.json), so we do too and ignore it.
  return read_object(v, "Group",
                     {str("groupId", out.group_id),
                      str("name", out.name),
                      str("algorithm", out.algorithm),
                      str("privateKey", out.private_key),
                      num("lastMessageTimestamp", out.last_message_timestamp),
                      {"members", [](const json::value&) { return ok_status(); }}},
                     u);
}

Status read_friend_request(const json::value& v, FriendRequest& out, UnknownFields u) {
  return read_object(v, "FriendRequest",
                     {str("fromUserId", out.from_user_id), str("authToken", out.auth_token),
                      str("toUserId", out.to_user_id), num("timestamp", out.timestamp),
                      str("protocol", out.protocol), str("cryptoData", out.crypto_data)},
                     u);
}

Status read_friend_response(const json::value& v, FriendResponse& out, UnknownFields u) {
  return read_object(v, "FriendResponse",
                     {str("fromUserId", out.from_user_id), str("authToken", out.auth_token),
                      str("toUserId", out.to_user_id), num("timestamp", out.timestamp),
                      str("cryptoData", out.crypto_data)},
                     u);
}

Status read_group_invite(const json::value& v, GroupInvite& out, UnknownFields u) {
  return read_object(v, "GroupInvite",
                     {str("fromUserId", out.from_user_id), str("authToken", out.auth_token),
                      str("toUserId", out.to_user_id), str("groupId", out.group_id),
                      num("timestamp", out.timestamp), str("algorithm", out.algorithm),
                      str("cryptoData", out.crypto_data)},
                     u);
}

Status read_send_message(const json::value& v, SendMessage& out, UnknownFields u) {
  return read_object(v, "SendMessage",
                     {str("toId", out.to_id), str("authToken", out.auth_token),
                      str("fromUserId", out.from_user_id), str("encContent", out.enc_content),
                      num("timestamp", out.timestamp)},
                     u);
}

template <typename T, typename ReadFn>
FieldReader list(std::string_view key, std::vector<T>& out, UnknownFields u, ReadFn read_item) {
  return {key, [key, &out, u, read_item](const json::value& v) -> Status {
            out.clear();
            if (v.is_null()) return ok_status();
            if (!v.is_array()) return bad("field '" + std::string(key) + "' must be an array");
            for (const auto& e : v.get_array()) {
              T item;
              SC_TRY(read_item(e, item, u));
              out.push_back(std::move(item));
            }
            return ok_status();
          }};
}

// Bytes of parsed document kept on the stack; larger documents spill to the heap.
constexpr std::size_t kStackDocumentBytes = 4096;

template <typename T, typename ReadFn>
Result<T> decode_with(std::string_view text, UnknownFields u, ReadFn read) {
  // The document only lives until its fields are copied out: a monotonic buffer on the stack
  // spares the general allocator one call per member (the relay decodes every request body).
  unsigned char buffer[kStackDocumentBytes];
  json::monotonic_resource resource(buffer, sizeof buffer);
  SC_ASSIGN_OR_RETURN(json::value v, parse_json(text, json::storage_ptr(&resource)));
  T out;
  SC_TRY(read(v, out, u));
  return out;
}

}  // namespace

Result<User> decode_user(std::string_view json, UnknownFields u) {
  return decode_with<User>(json, u, read_user);
}
Result<Group> decode_group(std::string_view json, UnknownFields u) {
  return decode_with<Group>(json, u, read_group);
}
Result<FriendRequest> decode_friend_request(std::string_view json, UnknownFields u) {
  return decode_with<FriendRequest>(json, u, read_friend_request);
}
Result<FriendResponse> decode_friend_response(std::string_view json, UnknownFields u) {
  return decode_with<FriendResponse>(json, u, read_friend_response);
}
Result<GroupInvite> decode_group_invite(std::string_view json, UnknownFields u) {
  return decode_with<GroupInvite>(json, u, read_group_invite);
}
Result<SendMessage> decode_send_message(std::string_view json, UnknownFields u) {
  return decode_with<SendMessage>(json, u, read_send_message);
}

Result<PollGroup> decode_poll_group(std::string_view json, UnknownFields u) {
  return decode_with<PollGroup>(
      json, u, [](const json::value& v, PollGroup& out, UnknownFields uf) {
        return read_object(
            v, "PollGroup",
            {str("userId", out.user_id), str("authToken", out.auth_token),
             str("groupId", out.group_id), num("lastMessageTimestamp", out.last_message_timestamp)},
            uf);
      });
}

Result<PollGroups> decode_poll_groups(std::string_view json, UnknownFields u) {
  return decode_with<PollGroups>(
      json, u, [](const json::value& v, PollGroups& out, UnknownFields uf) {
        return read_object(
            v, "PollGroups",
            {str("userId", out.user_id),
             str("authToken", out.auth_token),
             {"groupIds",
              [&out](const json::value& x) { return read_strings(x, "groupIds", out.group_ids); }},
             num("lastMessageTimestamp", out.last_message_timestamp)},
            uf);
      });
}

Result<Notifications> decode_notifications(std::string_view json, UnknownFields u) {
  return decode_with<Notifications>(
      json, u, [](const json::value& v, Notifications& out, UnknownFields uf) {
        return read_object(v, "Notifications",
                           {list("friendRequests", out.friend_requests, uf, read_friend_request),
                            list("friendResponses", out.friend_responses, uf, read_friend_response),
                            list("groupInvites", out.group_invites, uf, read_group_invite),
                            list("messages", out.messages, uf, read_send_message)},
                           uf);
      });
}

Result<GroupNotifications> decode_group_notifications(std::string_view json, UnknownFields u) {
  return decode_with<GroupNotifications>(
      json, u, [](const json::value& v, GroupNotifications& out, UnknownFields uf) {
        return read_object(v, "GroupNotifications",
                           {list("messages", out.messages, uf, read_send_message)}, uf);
      });
}

Result<Message> decode_message(std::string_view json, UnknownFields u) {
  return decode_with<Message>(json, u, [](const json::value& v, Message& out, UnknownFields uf) {
    return read_object(v, "Message",
                       {str("fromUserId", out.from_user_id), str("fromName", out.from_name),
                        str("toId", out.to_id), num("replyToMessageId", out.reply_to_message_id),
                        str("newEmoji", out.new_emoji), str("oldEmoji", out.old_emoji),
                        num("messageId", out.message_id), str("type", out.type),
                        str("content", out.content), num("timestamp", out.timestamp)},
                       uf);
  });
}

}  // namespace secchats::protocol
