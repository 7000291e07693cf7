// What a `--storage` connection URI points at, for start-up messages and logs: host, port and
// database, never the user name or password (docs/operations.md "Several relays").
#pragma once

#include <string>

#include "secchats/common/result.hpp"

namespace secchats::server {

struct PgTarget {
  std::string host;      // as written, or "localhost" (libpq's default: the Unix socket)
  std::string port;      // as written, or "5432"
  std::string database;  // as written, or "" (libpq then uses the user name)

  // "host:port/database" (or "host:port" without a database): safe to log.
  std::string describe() const;
};

// Parses a libpq connection URI (PostgreSQL docs §34.1.1 "Connection URIs") that starts with
// postgresql:// or postgres://. kInvalidArgument, with a one-line reason that never repeats
// the URI (it may hold a password), for anything else or a URI libpq rejects.
Result<PgTarget> parse_pg_target(const std::string& uri);

// Whether `value` is meant as a PostgreSQL URI (its scheme), so callers can tell a
// PostgreSQL --storage from a mistake.
bool is_pg_uri(const std::string& value);

}  // namespace secchats::server
