// Account authentication shared by the relay's JSON endpoints and the blob endpoints: a user
// id and the bearer token whose SHA-256 the storage keeps (Storage::user_token_hash).
#pragma once

#include <string>

#include "secchats/common/result.hpp"
#include "storage/storage.hpp"

namespace secchats::server {

// ok when `token` is `user_id`'s token; kUnauthenticated ("unknown user or wrong token")
// otherwise, at the same cost for unknown users and wrong tokens. Both must be non-empty.
Status authenticate_user(Storage& storage, const std::string& user_id, const std::string& token);

}  // namespace secchats::server
