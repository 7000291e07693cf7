// Protocol v1 wire objects (COMPAT.md §2). Plain data: no JSON library types leak from here.
// A string field the reference client may send as `null` is an std::optional<std::string>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secchats::protocol {

using OptString = std::optional<std::string>;

// The constant `protocol` string of a FriendRequest (both ECDH and classic DH use it).
inline constexpr std::string_view kKeyAgreementProtocol = "DH_512/AES_256";
inline constexpr std::string_view kGroupAlgorithm = "AES_256";

struct User {
  OptString user_id;
  OptString name;
  OptString auth_token;
  std::int64_t last_message_timestamp = 0;
};

struct Group {
  OptString group_id;
  OptString name;
  OptString algorithm;
  OptString private_key;
  std::int64_t last_message_timestamp = 0;
};

struct FriendRequest {
  OptString from_user_id;
  OptString auth_token;
  OptString to_user_id;
  std::int64_t timestamp = 0;
  OptString protocol;
  OptString crypto_data;
};

struct FriendResponse {
  OptString from_user_id;
  OptString auth_token;
  OptString to_user_id;
  std::int64_t timestamp = 0;
  OptString crypto_data;
};

struct GroupInvite {
  OptString from_user_id;
  OptString auth_token;
  OptString to_user_id;
  OptString group_id;
  std::int64_t timestamp = 0;
  OptString algorithm;
  OptString crypto_data;
};

struct SendMessage {
  OptString to_id;
  OptString auth_token;
  OptString from_user_id;
  OptString enc_content;
  std::int64_t timestamp = 0;
};

struct PollGroup {
  OptString user_id;
  OptString auth_token;
  OptString group_id;
  std::int64_t last_message_timestamp = 0;
};

struct PollGroups {
  OptString user_id;
  OptString auth_token;
  std::vector<std::string> group_ids;
  std::int64_t last_message_timestamp = 0;
};

struct Notifications {
  std::vector<FriendRequest> friend_requests;
  std::vector<FriendResponse> friend_responses;
  std::vector<GroupInvite> group_invites;
  std::vector<SendMessage> messages;
};

struct GroupNotifications {
  std::vector<SendMessage> messages;
};

// The plaintext inside every encContent (COMPAT.md §5).
enum class MessageType { kText, kImage, kEmoji, kUpdate, kUnknown };
std::string_view to_string(MessageType type);
MessageType message_type_from_string(std::string_view s);

struct Message {
  OptString from_user_id;
  OptString from_name;
  OptString to_id;
  std::int64_t reply_to_message_id = 0;
  OptString new_emoji;
  OptString old_emoji;
  std::int64_t message_id = 0;
  OptString type;  // kept as text so unknown types survive a round trip
  OptString content;
  std::int64_t timestamp = 0;
};

}  // namespace secchats::protocol
