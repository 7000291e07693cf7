#include "storage/postgres/pg_target.hpp"

#include <libpq-fe.h>

#include <memory>

#include "pg/pg_connection.hpp"

namespace secchats::server {

std::string PgTarget::describe() const {
  std::string out = host + ":" + port;
  if (!database.empty()) out += "/" + database;
  return out;
}

bool is_pg_uri(const std::string& value) {
  return value.starts_with("postgresql://") || value.starts_with("postgres://");
}

Result<PgTarget> parse_pg_target(const std::string& uri) {
  if (!is_pg_uri(uri)) {
    return Error(ErrorCode::kInvalidArgument,
                 "not a PostgreSQL connection URI (postgresql://USER@HOST:PORT/DB, or "
                 "postgres://...)");
  }
  char* raw_error = nullptr;
  PQconninfoOption* raw = PQconninfoParse(uri.c_str(), &raw_error);
  std::unique_ptr<char, decltype(&PQfreemem)> error(raw_error, &PQfreemem);
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(raw, &PQconninfoFree);
  if (!options) {
    // The same reason PgConnection::open and `migrate` give (the URI's quote cut off).
    return Error(ErrorCode::kInvalidArgument,
                 "malformed PostgreSQL URI: " + pg::uri_parse_reason(error.get()));
  }
  PgTarget target;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && target.host.empty()))
      target.host = o->val;
    else if (key == "port")
      target.port = o->val;
    else if (key == "dbname")
      target.database = o->val;
  }
  if (target.host.empty()) target.host = "localhost";
  if (target.port.empty()) target.port = "5432";
  return target;
}

}  // namespace secchats::server
