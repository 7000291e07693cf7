// Internal to secchats_server_pg: turns a failed libpq call into an Error as documented in
// pg_connection.hpp (SQLSTATE mapping; kUnavailable whenever the connection broke).
#pragma once

#include "secchats/common/result.hpp"

struct pg_conn;
struct pg_result;

namespace secchats::server::pg::detail {

// `res` may be null (libpq returns none when the connection broke or memory ran out).
Error error_for(pg_conn* conn, const pg_result* res);

}  // namespace secchats::server::pg::detail
