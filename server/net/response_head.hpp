// The status line and header fields of the relay's ordinary answers, written straight into one
// buffer: the same bytes Beast's serializer produces for the response http_server.cpp builds
// (Server, Content-Type, Cache-Control, then Connection and Content-Length as Beast's
// keep_alive() and prepare_payload() add them), without Beast's per-field allocations and
// buffer-sequence machinery. The header then goes out with the body in one gather write.
// RFC 9112 §4 (status line), §6.3 (Content-Length); COMPAT.md: the bytes never change, and
// response_head_test.cpp checks them against Beast's own serializer.
#pragma once

#include <string>

#include "api/router.hpp"

namespace secchats::server {

// Whether `reply` is an ordinary answer with a body in `reply.body`: no file, no HEAD, no
// extra headers (the /blobs routes), and a status whose answer carries a Content-Length
// (>= 200, not 204 or 304). Only such replies take the direct path.
bool has_plain_head(const HttpReply& reply);

// Appends the head (status line, fields and the empty line) of `reply` to `out`, for an HTTP
// version of 10 or 11 (Beast's numbering) and the given keep-alive decision. Requires
// has_plain_head(reply).
void append_response_head(std::string& out, const HttpReply& reply, unsigned version,
                          bool keep_alive);

}  // namespace secchats::server
