// In-person groups (COMPAT.md §7, docs/qr-payload.md): the key goes from screen to camera.
#include "client_impl.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/qr/qr.hpp"

namespace secchats {

Result<std::pair<GroupInfo, SecretString>> Client::create_in_person_group(std::string_view name) {
  SC_ASSIGN_OR_RETURN(GroupInfo created, create_group(name));
  SC_ASSIGN_OR_RETURN(auto record, impl_->require_group(created.group_id));
  record.origin = store::GroupOrigin::kInPerson;
  SC_TRY(impl_->store->upsert_group(record));
  // Best effort: our key announcement (docs/protocol-v2.md section 8.1); a failure is
  // retried at the next sync or post.
  (void)impl_->prepare_group_send(record);
  SecretString payload = qr::format_group_payload({record.group_id, record.key, record.name});
  // Described after the announcement: the protocol shown is the one our posts will use.
  SC_ASSIGN_OR_RETURN(GroupInfo info, impl_->describe(record));
  return std::pair{std::move(info), std::move(payload)};
}

Result<GroupInfo> Client::join_in_person_group(std::string_view payload) {
  SC_ASSIGN_OR_RETURN(qr::GroupPayload parsed, qr::parse_group_payload(payload));
  SC_ASSIGN_OR_RETURN(auto existing, impl_->store->find_group(parsed.group_id));
  if (existing) return impl_->describe(*existing);  // scanning twice is harmless
  store::GroupRecord g;
  g.group_id = parsed.group_id;
  g.name = parsed.name.empty() ? "in-person group" : parsed.name;
  g.key = std::move(parsed.key);
  g.origin = store::GroupOrigin::kInPerson;
  g.created_at_ms = unix_millis_now();
  SC_TRY(impl_->store->upsert_group(g));
  // Best effort, as above.
  (void)impl_->prepare_group_send(g);
  // Described after the announcement, as groups() would show it.
  return impl_->describe(g);
}

}  // namespace secchats
