// Internal to secchats_client_net: the error for a non-2xx blob answer, shared by the
// transport (relay_client.cpp) and the blob calls (relay_blobs.cpp).
#pragma once

#include <string_view>

#include "secchats/common/result.hpp"

namespace secchats::net {

// The mapping of RelayClient's docstring (401, 404, 413, 429, 408/5xx, other 4xx), plus 507 →
// kUnavailable "relay storage full or quota exceeded: <reason>" (protocol-v2 §15.3).
Error relay_status_error(unsigned status, std::string_view reason);

}  // namespace secchats::net
