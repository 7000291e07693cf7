// libFuzzer target: every decode_* of libs/protocol on the same input, in both UnknownFields
// modes. For every successful decode it checks the codec's promises and aborts on a broken one:
//  - a strict (kReject) success implies a lenient (kIgnore) success with the same value;
//  - the encoding decodes again under kReject (it carries only known fields) to the same value,
//    and re-encodes to the same bytes (encode is a fixed point after one round);
//  - encoding without the token decodes to the same value with no token.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "secchats/protocol/json_codec.hpp"

namespace {
namespace proto = secchats::protocol;
using proto::UnknownFields;
using proto::WithToken;
using secchats::Result;

[[noreturn]] void finding(const char* type, const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_protocol_json: %s: %s\n  %.*s\n", type, what,
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

// Every member of every object, so values can be compared without operator== on the structs.
auto fields(const proto::User& v) {
  return std::tie(v.user_id, v.name, v.auth_token, v.last_message_timestamp);
}
auto fields(const proto::Group& v) {
  return std::tie(v.group_id, v.name, v.algorithm, v.private_key, v.last_message_timestamp);
}
auto fields(const proto::FriendRequest& v) {
  return std::tie(v.from_user_id, v.auth_token, v.to_user_id, v.timestamp, v.protocol,
                  v.crypto_data);
}
auto fields(const proto::FriendResponse& v) {
  return std::tie(v.from_user_id, v.auth_token, v.to_user_id, v.timestamp, v.crypto_data);
}
auto fields(const proto::GroupInvite& v) {
  return std::tie(v.from_user_id, v.auth_token, v.to_user_id, v.group_id, v.timestamp, v.algorithm,
                  v.crypto_data);
}
auto fields(const proto::SendMessage& v) {
  return std::tie(v.to_id, v.auth_token, v.from_user_id, v.enc_content, v.timestamp);
}
auto fields(const proto::PollGroup& v) {
  return std::tie(v.user_id, v.auth_token, v.group_id, v.last_message_timestamp);
}
auto fields(const proto::PollGroups& v) {
  return std::tie(v.user_id, v.auth_token, v.group_ids, v.last_message_timestamp);
}
auto fields(const proto::Message& v) {
  return std::tie(v.from_user_id, v.from_name, v.to_id, v.reply_to_message_id, v.new_emoji,
                  v.old_emoji, v.message_id, v.type, v.content, v.timestamp);
}

template <typename T>
bool same(const T& a, const T& b) {
  return fields(a) == fields(b);
}

// Items inside notifications travel without their token: compare everything else.
template <typename T>
T without_token(T v) {
  v.auth_token.reset();
  return v;
}
template <typename T>
bool same_items(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same(without_token(a[i]), without_token(b[i]))) return false;
  }
  return true;
}
bool same(const proto::Notifications& a, const proto::Notifications& b) {
  return same_items(a.friend_requests, b.friend_requests) &&
         same_items(a.friend_responses, b.friend_responses) &&
         same_items(a.group_invites, b.group_invites) && same_items(a.messages, b.messages);
}
bool same(const proto::GroupNotifications& a, const proto::GroupNotifications& b) {
  return same_items(a.messages, b.messages);
}

// Objects that can be encoded without their authToken (those a server hands back).
template <typename T>
concept Tokenless = requires(const T& v) {
  proto::encode(v, WithToken::kNo);
};

template <typename T>
std::string encode_full(const T& v) {
  if constexpr (Tokenless<T>) {
    return proto::encode(v, WithToken::kYes);
  } else {
    return proto::encode(v);
  }
}

// `decode(text, mode)` is one decode_* function, for objects of type T.
template <typename T, typename Decode>
void check(const char* type, std::string_view input, Decode decode) {
  Result<T> lenient = decode(input, UnknownFields::kIgnore);
  Result<T> strict = decode(input, UnknownFields::kReject);
  if (strict.ok()) {
    if (!lenient.ok()) finding(type, "kReject accepted what kIgnore refused", input);
    if (!same(*strict, *lenient)) finding(type, "kReject and kIgnore decoded differently", input);
  }
  if (!lenient.ok()) return;

  const std::string first = encode_full(*lenient);
  Result<T> again = decode(first, UnknownFields::kReject);
  if (!again.ok()) finding(type, "own encoding refused under kReject", first);
  if (!same(*lenient, *again)) finding(type, "value changed over encode/decode", first);
  const std::string second = encode_full(*again);
  if (second != first) finding(type, "encoding not stable over a round trip", first);

  if constexpr (Tokenless<T>) {
    const std::string bare_text = proto::encode(*lenient, WithToken::kNo);
    Result<T> bare = decode(bare_text, UnknownFields::kReject);
    if (!bare.ok()) finding(type, "tokenless encoding refused under kReject", bare_text);
    if (!same(without_token(*lenient), *bare)) {
      finding(type, "tokenless encoding changed the value", bare_text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace secchats::protocol;

  check<User>("User", in, decode_user);
  check<Group>("Group", in, decode_group);
  check<FriendRequest>("FriendRequest", in, decode_friend_request);
  check<FriendResponse>("FriendResponse", in, decode_friend_response);
  check<GroupInvite>("GroupInvite", in, decode_group_invite);
  check<SendMessage>("SendMessage", in, decode_send_message);
  check<PollGroup>("PollGroup", in, decode_poll_group);
  check<PollGroups>("PollGroups", in, decode_poll_groups);
  check<Notifications>("Notifications", in, decode_notifications);
  check<GroupNotifications>("GroupNotifications", in, decode_group_notifications);
  check<Message>("Message", in, decode_message);
  return 0;
}
