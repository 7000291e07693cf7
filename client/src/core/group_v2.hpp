// Protocol v2 groups (docs/protocol-v2.md section 8): who is in a group, our sender key per
// group, other members' sender keys, the control messages that carry them over pairwise v2
// (member lists, distributions, removals), and opening and sealing group posts.
//
// No network here, as in PairwiseV2: this decides what to send and what to accept and keeps
// the state in the encrypted store; the caller posts. Internal to libsecchats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"
#include "secchats/crypto/v1.hpp"
#include "secchats/protocol/objects.hpp"
#include "secchats/store/store.hpp"

namespace secchats::core {

// Whether we send v2 in a group, and for v1 why not.
struct GroupProtocol {
  bool v2 = false;
  std::string reason;  // v1: why (e.g. "mixed: <id> is not a v2 friend"); v2: empty
};

// The UTF-8 texts inside a v2 UPDATE's content (base64'd as for every type):
//   {"t":"members","g":"<group id>","m":["<user id>", ...]}
//   {"t":"sender-key","d":"<base64 of crypto::v2::serialize_distribution>"}
//   {"t":"remove","g":"<group id>","u":"<user id>"}   (also to the removed member: section 8.2)
std::string encode_members_json(std::string_view group_id, const std::vector<std::string>& members);
std::string encode_remove_json(std::string_view group_id, std::string_view user_id);

class GroupV2 {
 public:
  GroupV2(store::Store& store, std::string own_user_id, crypto::v1::MessageCipher& cipher)
      : store_(store), own_user_id_(std::move(own_user_id)), cipher_(cipher) {}

  // Records that `user_id` is in the group (we invited them, or they invited us). Our own id
  // is never recorded; a removed member stays removed.
  Status record_member(std::string_view group_id, std::string_view user_id);
  // The members we know of, not removed, without us.
  Result<std::vector<std::string>> members(std::string_view group_id);

  // v2 when we already hold our own sender key (no way back: section 2) or every member we
  // know of is a v2 friend. In-person (QR) groups: v2 once the relay took our QR
  // announcement (section 8.1).
  Result<GroupProtocol> protocol(const store::GroupRecord& g);

  // If the group runs v2 for us, makes our sender key (epoch 1) if there is none yet, and
  // says true; false: send v1. In-person groups: always makes our key (it is announced to
  // the group, see pending_announcement) and says whether it has been announced.
  Result<bool> prepare_send(const store::GroupRecord& g);

  // In-person groups: our QR announcement (a "sc2:" wire for /postgroup) if our sender key
  // has not been announced yet, and its epoch to pass to mark_announced once the relay took
  // it. Nothing for other groups or when there is no own key yet (prepare_send makes it).
  struct Announcement {
    std::string wire;
    std::uint32_t epoch = 0;
  };
  Result<std::optional<Announcement>> pending_announcement(const store::GroupRecord& g);
  Status mark_announced(std::string_view group_id, std::uint32_t epoch);

  // Our distribution owed to a member: the control text for a v2 UPDATE (it holds the chain
  // key: a secret) and the epoch to mark once the relay took it. Only members who are v2
  // friends are listed; others cannot be given a key.
  struct Owed {
    std::string member;
    std::uint32_t epoch = 0;
    SecretString content;
  };
  Result<std::vector<Owed>> owed_distributions(std::string_view group_id);
  Status mark_distributed(std::string_view group_id, std::string_view member, std::uint32_t epoch);

  // Encrypts under our sender key and stores the advanced state before returning (a crash
  // after it never reuses a message key). kFailedPrecondition if we have no sender key.
  Result<std::string> seal(std::string_view group_id, const protocol::Message& m);

  // One /postgroup item, `poster` as the relay vouches for it. Call inside the transaction
  // that stores the message and moves the cursor (the receiver state is written here).
  struct Opened {
    std::optional<protocol::Message> message;
    std::string from;                    // who sent it: the key owner (v2) or the poster (v1)
    std::optional<std::string> warning;  // refused (says why, never content)
  };
  Result<Opened> open(const store::GroupRecord& g, const std::string& poster,
                      std::string_view enc_content);

  // A v2 UPDATE with content from friend `from` (PairwiseV2::Opened::control). Call inside the
  // sync transaction. Returns a warning for the user, if any.
  Result<std::optional<std::string>> on_control(const std::string& from,
                                                const protocol::Message& m);

  // Our side of removing `member` (kInvalidArgument in an in-person group: section 13): flagged
  // removed, their sender keys deleted, and if we have a sender key a new one with epoch + 1
  // (distributed to the rest by owed_distributions). Returns the remaining members. kNotFound if
  // they are not a member we know of.
  Result<std::vector<std::string>> remove_member(std::string_view group_id,
                                                 std::string_view member);

  // Removal notices (section 8.2): remove_member owes the removed member a "remove" control
  // naming them; the caller posts it over pairwise v2 and marks it once the relay took it
  // (until then it is tried again at each sync). The member who gets it (from a member it
  // knows, for that group) closes the group: see closed() and require_open().
  struct OwedNotice {
    std::string group_id;
    std::string member;
    std::string content;  // the control text (no secret in it)
  };
  Result<std::vector<OwedNotice>> owed_removal_notices();
  Status mark_removal_notified(std::string_view group_id, std::string_view member);
  // Who removed us from the group and when; nullopt while we are in it.
  Result<std::optional<store::ClosedGroup>> closed(std::string_view group_id);
  // kPermissionDenied "you were removed from this group (by <id>)" in a closed group.
  Status require_open(std::string_view group_id);

 private:
  Result<std::optional<store::GroupMember>> find_member(std::string_view group_id,
                                                        std::string_view user_id);
  Status drop_member(std::string_view group_id, std::string_view member);
  Status rotate_own_key(std::string_view group_id);
  Result<std::optional<std::string>> accept_distribution(const std::string& from,
                                                         std::string_view encoded);
  Result<Opened> accept_announcement(const store::GroupRecord& g, const std::string& poster,
                                     std::string_view wire);
  // The epoch of our own key announced in an in-person group (0: none), kept in our own
  // member row's sent_epoch (members() never lists that row).
  Result<std::uint32_t> announced_epoch(std::string_view group_id);

  store::Store& store_;
  std::string own_user_id_;
  crypto::v1::MessageCipher& cipher_;
};

}  // namespace secchats::core
