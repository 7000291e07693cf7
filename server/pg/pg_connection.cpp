#include "pg/pg_connection.hpp"

#include <libpq-fe.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <thread>
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
  // Reject a malformed URI before trying the network (never echoing it: it may hold a
  // password).
  SC_TRY(check_uri_syntax(uri));

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
  // Sends never block: the query deadline is kept by poll() (see the header).
  if (PQsetnonblocking(conn, 1) != 0) {
    PQfinish(conn);
    return Error(ErrorCode::kInternal, "libpq could not make the connection non-blocking");
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

void PgConnection::start_deadline() {
  deadline_ = query_timeout_.count() > 0 ? std::chrono::steady_clock::now() + query_timeout_
                                         : std::chrono::steady_clock::time_point::max();
}

Error PgConnection::lost(std::string_view what) {
  if (conn_ == nullptr) {
    return Error(ErrorCode::kUnavailable, "database connection dropped after a missed deadline");
  }
  std::string why = first_line(PQerrorMessage(conn_));
  return Error(ErrorCode::kUnavailable, "database connection lost (" + std::string(what) +
                                            "): " + (why.empty() ? "no message" : why));
}

Error PgConnection::missed_deadline() {
  // Cancel the statement so the backend stops waiting (on a lock, say); PQcancel opens its own
  // connection and may itself wait on a frozen server, so it runs on a detached thread.
  if (PGcancel* cancel = PQgetCancel(conn_)) {
    try {
      std::thread([cancel] {
        char buffer[256];
        (void)PQcancel(cancel, buffer, sizeof buffer);
        PQfreeCancel(cancel);
      }).detach();
    } catch (...) {
      PQfreeCancel(cancel);  // no thread: the server-side statement_timeout ends it instead
    }
  }
  PQfinish(conn_);  // non-blocking: the goodbye is sent only if the socket takes it now
  conn_ = nullptr;
  timed_out_ = true;
  prepared_.clear();
  return Error(ErrorCode::kUnavailable,
               "database did not answer within " + std::to_string(query_timeout_.count()) + " ms");
}

Result<bool> PgConnection::poll_socket(short events) {
  const int fd = PQsocket(conn_);
  if (fd < 0) return lost("no socket");
  const bool bounded = deadline_ != std::chrono::steady_clock::time_point::max();
  for (;;) {
    int wait_ms = -1;
    if (bounded) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(std::min<std::int64_t>(left.count(), INT_MAX));
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, wait_ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return lost("poll");
  }
}

Status PgConnection::flush_output() {
  if (conn_ == nullptr) return lost("flush");
  for (;;) {
    const int r = PQflush(conn_);
    if (r == 0) return ok_status();
    if (r < 0) return lost("sending");
    // The socket is full: the server may be waiting for us to read (libpq docs, PQflush).
    SC_ASSIGN_OR_RETURN(bool ready, poll_socket(POLLOUT | POLLIN));
    if (!ready) return missed_deadline();
    if (PQconsumeInput(conn_) == 0) return lost("reading");
  }
}

Status PgConnection::wait_readable() {
  if (conn_ == nullptr) return lost("wait");
  SC_TRY(flush_output());
  while (PQisBusy(conn_) != 0) {
    SC_ASSIGN_OR_RETURN(bool ready, poll_socket(POLLIN));
    if (!ready) return missed_deadline();
    if (PQconsumeInput(conn_) == 0) return lost("reading");
  }
  return ok_status();
}

Result<PgResult> PgConnection::collect(bool sent) {
  if (!sent) return error_for(conn_, nullptr);
  std::optional<Result<PgResult>> out;
  for (;;) {
    SC_TRY(wait_readable());
    pg_result* res = PQgetResult(conn_);
    if (res == nullptr) break;
    auto r = finish(conn_, res);
    if (!out || out->ok()) out = std::move(r);  // the last result, or the first error
  }
  if (!out) return error_for(conn_, nullptr);
  return std::move(*out);
}

Result<PgResult> PgConnection::exec(std::string_view sql) {
  start_deadline();
  if (conn_ == nullptr) return lost("exec");
  const std::string text(sql);
  return collect(PQsendQuery(conn_, text.c_str()) != 0);
}

Status PgConnection::prepare(std::string_view name, std::string_view sql) {
  start_deadline();
  if (conn_ == nullptr) return lost("prepare");
  const std::string n(name), text(sql);
  SC_TRY(collect(PQsendPrepare(conn_, n.c_str(), text.c_str(), 0, nullptr) != 0));
  return ok_status();
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
  start_deadline();
  if (conn_ == nullptr) return lost("exec");
  const std::string text(sql);
  const ParamArrays a(params);
  return collect(PQsendQueryParams(conn_, text.c_str(), a.count(), nullptr, a.values.data(),
                                   a.lengths.data(), a.formats.data(), binary_result ? 1 : 0) != 0);
}

Result<PgResult> PgConnection::exec_prepared(std::string_view name, std::string_view sql,
                                             const std::vector<PgParam>& params,
                                             bool binary_result) {
  std::string n(name);
  if (!prepared_.contains(n)) {
    SC_TRY(prepare(n, sql));
    prepared_.insert(n);
  }
  start_deadline();
  if (conn_ == nullptr) return lost("exec");
  const ParamArrays a(params);
  return collect(PQsendQueryPrepared(conn_, n.c_str(), a.count(), a.values.data(), a.lengths.data(),
                                     a.formats.data(), binary_result ? 1 : 0) != 0);
}

bool PgConnection::healthy() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

int PgConnection::socket() const {
  return healthy() ? PQsocket(conn_) : -1;
}

Result<std::vector<std::pair<std::string, std::string>>> PgConnection::take_notifications() {
  if (conn_ == nullptr) return lost("notifications");
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

std::string uri_parse_reason(const char* libpq_error) {
  std::string reason = libpq_error != nullptr ? first_line(libpq_error) : "out of memory";
  if (auto quoted = reason.find(": \""); quoted != std::string::npos) reason.resize(quoted);
  if (auto quoted = reason.find('"'); quoted != std::string::npos) reason.resize(quoted);
  while (!reason.empty() && (reason.back() == ' ' || reason.back() == ':'))
    reason.pop_back();
  return reason.empty() ? "libpq rejected it" : reason;
}

Status check_uri_syntax(const std::string& uri) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &parse_error);
  if (parsed != nullptr) {
    PQconninfoFree(parsed);
    return ok_status();
  }
  const std::string why = uri_parse_reason(parse_error);
  if (parse_error != nullptr) PQfreemem(parse_error);
  return Error(ErrorCode::kInvalidArgument, "malformed PostgreSQL URI: " + why);
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
