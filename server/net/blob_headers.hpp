// The request headers the /blobs routes read (docs/protocol-v2.md §15.3), copied from a parsed
// Beast request into the RequestContext the router takes. Shared by the transport
// (net/http_server.cpp) and the HTTP fuzzer, so both hand the router the same context.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "api/router.hpp"

namespace secchats::server {

// Upload-Length, Upload-Offset, Range, Authorization and X-Secchats-User; the last of each when
// a header is repeated; absent ones stay nullopt.
inline void read_blob_headers(
    const boost::beast::http::request<boost::beast::http::string_body>& request,
    RequestContext& context) {
  auto take = [&request](std::string_view name, std::optional<std::string>& into) {
    for (auto [it, end] = request.equal_range(name); it != end; ++it)
      into = std::string(it->value());
  };
  take("Upload-Length", context.upload_length);
  take("Upload-Offset", context.upload_offset);
  take("Range", context.range);
  take("Authorization", context.authorization);
  take("X-Secchats-User", context.secchats_user);
}

}  // namespace secchats::server
