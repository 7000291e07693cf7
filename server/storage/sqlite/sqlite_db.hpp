// A thin RAII layer over the SQLite C API: connections and prepared statements whose
// failures come back as Status values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "secchats/common/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace secchats::server::sqlite {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds are 1-based like SQLite's. Text is copied (SQLITE_TRANSIENT) so callers may reuse it.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind_blob(int index, std::span<const std::uint8_t> value);

  // Returns true while a row is available, false when done.
  Result<bool> step();
  Status run();  // steps to completion, ignoring rows
  void reset();  // clears bindings and rewinds, ready for reuse

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  std::optional<std::string> column_opt_text(int index) const;
  std::span<const std::uint8_t> column_blob(int index) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  static Result<std::unique_ptr<Connection>> open(const std::string& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  std::string last_error() const;
  // Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
  std::int64_t changes() const;
  sqlite3* handle() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace secchats::server::sqlite
