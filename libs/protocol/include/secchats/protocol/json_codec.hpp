// JSON codec for protocol v1 objects.
//
// Encoding writes exactly the reference client's field set and order, escapes '/' as "\/",
// writes null for absent strings: the reference parser rejects unknown fields, so nothing else
// may appear. Decoding accepts any field order, whitespace, escapes and null strings.
#pragma once

#include <string>
#include <string_view>

#include "secchats/common/result.hpp"
#include "secchats/protocol/objects.hpp"

namespace secchats::protocol {

// How a decoder treats fields it does not know.
enum class UnknownFields {
  kIgnore,  // server side: requests from future clients may carry more
  kReject,  // what the reference client does with responses; used to prove our output is safe
};

// Whether an encoded object carries its authToken. Items a server returns never do.
enum class WithToken { kNo, kYes };

Result<User> decode_user(std::string_view json, UnknownFields unknown = UnknownFields::kIgnore);
Result<Group> decode_group(std::string_view json, UnknownFields unknown = UnknownFields::kIgnore);
Result<FriendRequest> decode_friend_request(std::string_view json,
                                            UnknownFields unknown = UnknownFields::kIgnore);
Result<FriendResponse> decode_friend_response(std::string_view json,
                                              UnknownFields unknown = UnknownFields::kIgnore);
Result<GroupInvite> decode_group_invite(std::string_view json,
                                        UnknownFields unknown = UnknownFields::kIgnore);
Result<SendMessage> decode_send_message(std::string_view json,
                                        UnknownFields unknown = UnknownFields::kIgnore);
Result<PollGroup> decode_poll_group(std::string_view json,
                                    UnknownFields unknown = UnknownFields::kIgnore);
Result<PollGroups> decode_poll_groups(std::string_view json,
                                      UnknownFields unknown = UnknownFields::kIgnore);
Result<Notifications> decode_notifications(std::string_view json,
                                           UnknownFields unknown = UnknownFields::kIgnore);
Result<GroupNotifications> decode_group_notifications(
    std::string_view json, UnknownFields unknown = UnknownFields::kIgnore);
Result<Message> decode_message(std::string_view json,
                               UnknownFields unknown = UnknownFields::kIgnore);

std::string encode(const User& v, WithToken token = WithToken::kYes);
std::string encode(const Group& v);
std::string encode(const FriendRequest& v, WithToken token = WithToken::kYes);
std::string encode(const FriendResponse& v, WithToken token = WithToken::kYes);
std::string encode(const GroupInvite& v, WithToken token = WithToken::kYes);
std::string encode(const SendMessage& v, WithToken token = WithToken::kYes);
std::string encode(const PollGroup& v);
std::string encode(const PollGroups& v);
// Items inside notifications never carry a token.
std::string encode(const Notifications& v);
std::string encode(const GroupNotifications& v);
std::string encode(const Message& v);

// Appends `s` as a JSON string literal the way the reference serializer writes it.
void append_json_string(std::string& out, std::string_view s);

}  // namespace secchats::protocol
