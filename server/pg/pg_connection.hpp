// A thin, owning wrapper over one libpq connection (PostgreSQL 15, libpq from Debian). Used by
// the PostgreSQL storage backend, its LISTEN connection, the PostgreSQL blob store and
// `secchats-server migrate`. Errors are values; nothing here throws.
//
// Error mapping (every failing call returns one of these):
//  - kUnavailable: the server cannot be reached, the connection broke mid-call, the server is
//    shutting down or in recovery (SQLSTATE classes 08, 57P01-57P03, 53). The caller may retry
//    on a fresh connection; a write that got kUnavailable may or may not have committed only
//    when the break happened during COMMIT (the backend treats that as "not acknowledged").
//  - kAlreadyExists: unique violation (23505).
//  - kNotFound: foreign-key violation (23503).
//  - kRefused: disk full (53100) — the relay answers 507 for blobs, 503 elsewhere.
//  - kInternal: anything else (syntax errors, serialization failures the caller did not expect).
// Messages name the SQLSTATE and libpq's primary message, never parameter values. They may
// name the database host, port and user: log them on the relay, never send them to clients.
//
// Query deadline: every exec, prepare and pipeline runs under the connection's query timeout
// (set_query_timeout; none by default). Statements are sent with libpq's asynchronous API on
// a non-blocking socket and the socket is poll()ed until the deadline (PostgreSQL docs, libpq
// "Asynchronous Command Processing"). When it passes, the running statement is cancelled
// (PQcancel, best effort, off the calling thread) and the connection is dropped: the call
// returns kUnavailable "database did not answer within N ms" and healthy() is false from then
// on. A locked table or a frozen server therefore never holds the calling thread longer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "secchats/common/result.hpp"

struct pg_conn;
struct pg_result;

namespace secchats::server::pg {

// One query result. Rows and columns are 0-based; values are text unless the query asked for
// binary results. Owns the PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  ~PgResult();
  PgResult(PgResult&& o) noexcept;
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  int columns() const;
  bool is_null(int row, int col) const;
  // The raw bytes of a value (text format: the text; binary format: the bytes).
  std::string_view value(int row, int col) const;
  // A text-format integer column; kInternal if it is NULL or not a number.
  Result<std::int64_t> int64(int row, int col) const;
  // Rows affected by INSERT/UPDATE/DELETE (PQcmdTuples), 0 when not applicable.
  std::int64_t affected() const;

 private:
  pg_result* r_ = nullptr;
};

// A query parameter: text (NULL when empty optional) or binary bytes (bytea).
struct PgParam {
  std::optional<std::string_view> value;
  bool binary = false;
  static PgParam text(std::string_view v) { return {v, false}; }
  static PgParam null() { return {std::nullopt, false}; }
  static PgParam bytes(std::string_view v) { return {v, true}; }
};

class PgConnection {
 public:
  // Connects with `uri` (a libpq connection URI or key=value string). `connect_timeout` bounds
  // the TCP connect and start-up (libpq's connect_timeout, rounded up to whole seconds, at
  // least 2), and is the default tcp_user_timeout (the URI may set its own). kUnavailable
  // when the server cannot be reached; kInvalidArgument for a malformed URI;
  // kPermissionDenied for an authentication failure.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& uri,
                                                    std::chrono::milliseconds connect_timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Bounds every later call (exec, exec_prepared, prepare, a pipeline's run); 0 = no bound.
  void set_query_timeout(std::chrono::milliseconds timeout) { query_timeout_ = timeout; }
  std::chrono::milliseconds query_timeout() const { return query_timeout_; }

  // One statement without parameters (or several separated by ';', as a simple query). For
  // several statements the result is the last one's, or the first error.
  Result<PgResult> exec(std::string_view sql);
  // One statement with $1..$n parameters (extended protocol); `binary_result` asks for
  // binary-format result columns (for bytea).
  Result<PgResult> exec(std::string_view sql, const std::vector<PgParam>& params,
                        bool binary_result = false);
  // As exec(sql, params), through the statement prepared on this connection as `name`: the
  // first call per connection prepares `sql` (PQprepare, one extra round trip), later calls
  // only execute it (PQexecPrepared), so the server neither parses nor plans it again
  // (PostgreSQL docs, "PREPARE": after five runs a generic plan is cached). `name` must
  // always be given the same `sql`. Errors as exec; a failed PREPARE is retried next call.
  Result<PgResult> exec_prepared(std::string_view name, std::string_view sql,
                                 const std::vector<PgParam>& params, bool binary_result = false);
  // Prepares `sql` as the named statement (PQsendPrepare), under the query deadline.
  Status prepare(std::string_view name, std::string_view sql);
  // True once a call missed its deadline (the connection was dropped for it): callers do
  // not retry such a call on a fresh connection, the database is slow or frozen, not gone.
  bool timed_out() const { return timed_out_; }
  // False once the connection is known to be broken (PQstatus != CONNECTION_OK) or was
  // dropped after a missed deadline.
  bool healthy() const;
  // The socket, for waiting on notifications (LISTEN); -1 when broken.
  int socket() const;
  // Reads pending input and returns the notifications received on LISTENed channels, as
  // (channel, payload) pairs. kUnavailable when the connection broke.
  Result<std::vector<std::pair<std::string, std::string>>> take_notifications();

  // Null once the connection was dropped (missed deadline).
  pg_conn* raw() { return conn_; }

  // For PgPipeline: starts the deadline of one call (now + query timeout), sends libpq's
  // output buffer, and waits until a result can be read without blocking. kUnavailable
  // (connection dropped) when the deadline passes or the connection breaks.
  void start_deadline();
  Status flush_output();
  Status wait_readable();

 private:
  explicit PgConnection(pg_conn* c) : conn_(c) {}
  // Waits for `events` on the socket until the deadline; false on expiry.
  Result<bool> poll_socket(short events);
  // After a PQsend*: flushes, then collects every result (the last, or the first error).
  Result<PgResult> collect(bool sent);
  Error missed_deadline();
  Error lost(std::string_view what);

  pg_conn* conn_ = nullptr;
  std::chrono::milliseconds query_timeout_{0};
  std::chrono::steady_clock::time_point deadline_{};
  bool timed_out_ = false;
  // Statements exec_prepared() has prepared on this connection (they die with it).
  std::unordered_set<std::string> prepared_;
};

// libpq's reason for rejecting a connection string (PQconninfoParse's message): its first
// line, cut before the quote of the URI libpq appends (`... in URI: "postgresql://u:pw@..."`),
// which may hold the password. Safe to print and log.
std::string uri_parse_reason(const char* libpq_error);

// Parses `uri` with libpq (PostgreSQL docs §34.1.1 "Connection Strings") without connecting:
// kInvalidArgument "malformed PostgreSQL URI: <uri_parse_reason>" when libpq rejects it.
Status check_uri_syntax(const std::string& uri);

// Quotes an identifier for SQL text (CREATE DATABASE "x"), doubling embedded quotes.
std::string quote_identifier(std::string_view name);

}  // namespace secchats::server::pg
