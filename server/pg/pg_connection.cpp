#include "pg/pg_connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

#include "pg/pg_error.hpp"

namespace secchats::server::pg {
namespace {

// libpq messages end with a newline (sometimes several lines); keep the first line only.
std::string first_line(const char* text) {
  if (text == nullptr) return {};
  std::string_view v(text);
  v = v.substr(0, v.find('\n'));
  return std::string(v);
}

// Maps a SQLSTATE onto an error code as documented in the header.
ErrorCode code_for_sqlstate(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;
  if (state == "23503") return ErrorCode::kNotFound;
  if (state == "53100") return ErrorCode::kRefused;  // disk full
  if (state.starts_with("08") || state.starts_with("53")) return ErrorCode::kUnavailable;
  if (state == "57P01" || state == "57P02" || state == "57P03") return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

}  // namespace

namespace detail {

Error error_for(pg_conn* conn, const pg_result* res) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? first_line(primary) : first_line(PQerrorMessage(conn));
  if (message.empty()) message = "no message";
  // A broken connection is unavailability whatever the last statement reported.
  if (PQstatus(conn) != CONNECTION_OK) {
    return Error(ErrorCode::kUnavailable, "database connection lost: " + message);
  }
  if (state == nullptr) return Error(ErrorCode::kInternal, "database error: " + message);
  return Error(code_for_sqlstate(state), "SQLSTATE " + std::string(state) + ": " + message);
}

}  // namespace detail

namespace {

using detail::error_for;

// Takes ownership of `res` and turns an error status into an Error.
Result<PgResult> finish(pg_conn* conn, pg_result* res) {
  if (res == nullptr) return error_for(conn, nullptr);
  switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return PgResult(res);
    default: {
      Error e = error_for(conn, res);
      PQclear(res);
      return e;
    }
  }
}

}  // namespace

PgResult::PgResult(pg_result* r) : r_(r) {}

PgResult::~PgResult() {
  if (r_ != nullptr) PQclear(r_);
}

PgResult::PgResult(PgResult&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_ != nullptr) PQclear(r_);
    r_ = std::exchange(o.r_, nullptr);
  }
  return *this;
}

int PgResult::rows() const {
  return r_ != nullptr ? PQntuples(r_) : 0;
}

int PgResult::columns() const {
  return r_ != nullptr ? PQnfields(r_) : 0;
}

bool PgResult::is_null(int row, int col) const {
  return r_ == nullptr || row >= rows() || col >= columns() || PQgetisnull(r_, row, col) != 0;
}

std::string_view PgResult::value(int row, int col) const {
  if (is_null(row, col)) return {};
  return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
}

Result<std::int64_t> PgResult::int64(int row, int col) const {
  if (is_null(row, col)) return Error(ErrorCode::kInternal, "expected an integer, got NULL");
  std::string_view text = value(row, col);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error(ErrorCode::kInternal, "expected an integer column");
  }
  return v;
}

std::int64_t PgResult::affected() const {
  if (r_ == nullptr) return 0;
  const char* n = PQcmdTuples(r_);
  std::int64_t v = 0;
  if (n == nullptr || *n == '\0') return 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

Result<std::unique_ptr<PgConnection>> PgConnection::open(
    const std::string& uri, std::chrono::milliseconds connect_timeout) {
  // Reject a malformed URI before trying the network.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string why = parse_error != nullptr ? first_line(parse_error) : "out of memory";
    if (parse_error != nullptr) PQfreemem(parse_error);
    return Error(ErrorCode::kInvalidArgument, "invalid database URI: " + why);
  }
  PQconninfoFree(parsed);

  // libpq takes whole seconds and treats 1 as 2; round up and use at least 2.
  const auto ms = std::max<std::int64_t>(connect_timeout.count(), 0);
  const std::int64_t seconds = std::max<std::int64_t>(2, (ms + 999) / 1000);
  const std::string timeout = std::to_string(seconds);
  // Keywords before the URI are defaults it may override; those after it override the URI.
  // tcp_user_timeout (ms): a query to a peer that vanished without a reset fails after it
  // instead of waiting for TCP's retransmission limit (minutes).
  const std::string user_timeout = std::to_string(std::max<std::int64_t>(ms, 1000));
  const char* keywords[] = {"fallback_application_name", "tcp_user_timeout", "dbname",
                            "connect_timeout", nullptr};
  const char* values[] = {"secchats-server", user_timeout.c_str(), uri.c_str(), timeout.c_str(),
                          nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Error(ErrorCode::kInternal, "libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = first_line(PQerrorMessage(conn));
    const bool auth = PQconnectionNeedsPassword(conn) != 0 ||
                      why.find("authentication failed") != std::string::npos ||
                      why.find("no pg_hba.conf entry") != std::string::npos;
    PQfinish(conn);
    if (auth) return Error(ErrorCode::kPermissionDenied, "database authentication failed: " + why);
    return Error(ErrorCode::kUnavailable, "cannot connect to the database: " + why);
  }
  // NOTICEs ("relation ... already exists, skipping") would go to stderr; nothing needs them.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Result<PgResult> PgConnection::exec(std::string_view sql) {
  const std::string text(sql);
  return finish(conn_, PQexec(conn_, text.c_str()));
}

namespace {

// libpq's parallel parameter arrays. Text values must be NUL-terminated for libpq; binary
// ones are passed with their length.
struct ParamArrays {
  explicit ParamArrays(const std::vector<PgParam>& params)
      : values(params.size(), nullptr), lengths(params.size(), 0), formats(params.size(), 0) {
    storage.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const PgParam& p = params[i];
      if (!p.value) continue;
      storage.emplace_back(*p.value);
      values[i] = storage.back().c_str();
      lengths[i] = static_cast<int>(p.value->size());
      formats[i] = p.binary ? 1 : 0;
    }
  }
  int count() const { return static_cast<int>(values.size()); }
  std::vector<std::string> storage;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

}  // namespace

Result<PgResult> PgConnection::exec(std::string_view sql, const std::vector<PgParam>& params,
                                    bool binary_result) {
  const std::string text(sql);
  const ParamArrays a(params);
  pg_result* res = PQexecParams(conn_, text.c_str(), a.count(), nullptr, a.values.data(),
                                a.lengths.data(), a.formats.data(), binary_result ? 1 : 0);
  return finish(conn_, res);
}

Result<PgResult> PgConnection::exec_prepared(std::string_view name, std::string_view sql,
                                             const std::vector<PgParam>& params,
                                             bool binary_result) {
  std::string n(name);
  if (!prepared_.contains(n)) {
    const std::string text(sql);
    SC_TRY(finish(conn_, PQprepare(conn_, n.c_str(), text.c_str(), 0, nullptr)));
    prepared_.insert(n);
  }
  const ParamArrays a(params);
  pg_result* res = PQexecPrepared(conn_, n.c_str(), a.count(), a.values.data(), a.lengths.data(),
                                  a.formats.data(), binary_result ? 1 : 0);
  return finish(conn_, res);
}

bool PgConnection::healthy() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

int PgConnection::socket() const {
  return healthy() ? PQsocket(conn_) : -1;
}

Result<std::vector<std::pair<std::string, std::string>>> PgConnection::take_notifications() {
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
    return Error(ErrorCode::kUnavailable,
                 "database connection lost: " + first_line(PQerrorMessage(conn_)));
  }
  std::vector<std::pair<std::string, std::string>> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->relname != nullptr ? n->relname : "", n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace secchats::server::pg
