#include "service/user_auth.hpp"

#include "secchats/crypto/hash.hpp"

namespace secchats::server {

Status authenticate_user(Storage& storage, const std::string& user_id, const std::string& token) {
  SC_ASSIGN_OR_RETURN(auto stored, storage.user_token_hash(user_id));
  // Hash even for unknown users so both failures cost the same.
  auto presented = crypto::sha256(token);
  if (!stored || !crypto::constant_time_equal(*stored, presented)) {
    return Error(ErrorCode::kUnauthenticated, "unknown user or wrong token");
  }
  return ok_status();
}

}  // namespace secchats::server
