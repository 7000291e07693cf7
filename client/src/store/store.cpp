#include "secchats/store/store.hpp"

#include <fcntl.h>
#include <sqlcipher/sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "schema.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::store {
namespace {

namespace fs = std::filesystem;
namespace pw = crypto::password;

constexpr const char* kKeyFileName = "store.key";
constexpr const char* kDbFileName = "store.db";
constexpr std::size_t kDbKeyBytes = 32;
// A key file line is ~200 bytes; anything much larger is not ours.
constexpr off_t kMaxKeyFileBytes = 4096;
constexpr int kBusyTimeoutMs = 5000;

// --- errors -----------------------------------------------------------------------------------

// Messages name the operation and SQLite's generic reason, never a value or a path.
Error sqlite_error(int rc, std::string_view what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = ErrorCode::kCorrupt;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = ErrorCode::kUnavailable;
      break;
    case SQLITE_TOOBIG:
      code = ErrorCode::kTooLarge;
      break;
    default:
      break;
  }
  return Error(code, "store: " + std::string(what) + ": " + sqlite3_errstr(rc));
}

Error os_error(std::string_view what, int err) {
  return Error(ErrorCode::kInternal,
               "store: " + std::string(what) + ": " + std::generic_category().message(err));
}

// Runs `f` and turns any escaping exception into an error value.
template <typename F>
auto guarded(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kInternal, "store: " + std::string(what) + ": out of memory");
  } catch (...) {
    return Error(ErrorCode::kInternal, "store: " + std::string(what) + ": unexpected exception");
  }
}

// --- prepared statements ----------------------------------------------------------------------

// A borrowed cached statement: parameters bound left to right; reset when it goes away.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), next_(other.next_), bind_rc_(other.bind_rc_) {}
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  // Values are bound SQLITE_STATIC: they must outlive the step, which they do because every
  // statement is stepped within the expression or block that bound it.
  Stmt& text(std::string_view v) {
    if (v.size() > static_cast<std::size_t>(INT_MAX)) return fail(SQLITE_TOOBIG);
    // An empty view may have a null data pointer, which SQLite would store as NULL.
    const char* data = v.data() != nullptr ? v.data() : "";
    return check(
        sqlite3_bind_text(stmt_, next_++, data, static_cast<int>(v.size()), SQLITE_STATIC));
  }
  Stmt& integer(std::int64_t v) {
    return check(sqlite3_bind_int64(stmt_, next_++, static_cast<sqlite3_int64>(v)));
  }
  Stmt& blob(std::span<const std::uint8_t> v) {
    if (v.empty()) return check(sqlite3_bind_null(stmt_, next_++));
    if (v.size() > static_cast<std::size_t>(INT_MAX)) return fail(SQLITE_TOOBIG);
    return check(
        sqlite3_bind_blob(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }

  // Raw step: a bind failure is reported as that failure's code.
  int step_rc() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(stmt_); }

  // true: a row is available; false: done.
  Result<bool> step(std::string_view what) {
    const int rc = step_rc();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(rc, what);
  }

  // Runs a statement that returns no rows; yields the number of rows it changed.
  Result<int> run(std::string_view what) {
    const int rc = step_rc();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return sqlite3_changes(sqlite3_db_handle(stmt_));
    return sqlite_error(rc, what);
  }

  std::string col_text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    const int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
  }
  SecretString col_secret(int i) const { return SecretString(col_text(i)); }
  std::int64_t col_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::vector<std::uint8_t> col_blob(int i) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, i));
    const int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::vector<std::uint8_t>() : std::vector<std::uint8_t>(p, p + n);
  }
  // Read straight into SecretBytes, so no unwiped copy of the secret is left behind.
  SecretBytes col_secret_blob(int i) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, i));
    const int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? SecretBytes() : SecretBytes(p, static_cast<std::size_t>(n));
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  Stmt& fail(int rc) {
    ++next_;
    return check(rc);
  }

  sqlite3_stmt* stmt_;
  int next_ = 1;
  int bind_rc_ = SQLITE_OK;
};

// --- the connection ---------------------------------------------------------------------------

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { close(); }

  void close() {
    for (auto& [sql, stmt] : cache_)
      sqlite3_finalize(stmt);
    cache_.clear();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  // Opens an existing file (never creates one), keys it, checks the key, configures the
  // connection and brings the schema up to date.
  Status open(const fs::path& path, const SecretBytes& key) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) {
      if (db_ == nullptr) return Error(ErrorCode::kInternal, "store: out of memory");
      return sqlite_error(rc, "open database");
    }
    sqlite3_extended_result_codes(db_, 1);

    // Plain SQLite exports the same symbols and silently ignores PRAGMA key: make sure the
    // library we run against really encrypts before giving it a single byte.
    {
      SC_ASSIGN_OR_RETURN(Stmt version, prepare(schema::kCipherVersion));
      SC_ASSIGN_OR_RETURN(bool row, version.step("check SQLCipher"));
      if (!row || version.col_text(0).empty()) {
        return Error(ErrorCode::kInternal, "store: the SQLite library in use is not SQLCipher");
      }
    }
    SC_TRY(apply_key(key));
    // The first read of the file: a key that does not match fails here with SQLITE_NOTADB.
    // The password has already unwrapped the key, so this means key file and database
    // belong to different stores (or the database is damaged).
    if (Status s = exec(schema::kVerifyKey, "check database key"); !s.ok()) {
      if (s.error().code() == ErrorCode::kCorrupt) {
        return Error(ErrorCode::kCorrupt,
                     "store: the database cannot be decrypted with the key file's key");
      }
      return s;
    }
    {
      SC_ASSIGN_OR_RETURN(Stmt wal, prepare(schema::kJournalWal));
      SC_ASSIGN_OR_RETURN(bool row, wal.step("set journal mode"));
      if (!row || wal.col_text(0) != "wal") {
        return Error(ErrorCode::kInternal, "store: cannot enable write-ahead logging");
      }
    }
    SC_TRY(exec(schema::kConnectionPragmas, "configure connection"));
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    return migrate();
  }

  Result<Stmt> prepare(std::string_view sql) {
    // If SQLite aborted the enclosing transaction (I/O error, disk full), do not let the rest
    // of the body run in autocommit mode.
    if (depth_ > 0 && sqlite3_get_autocommit(db_) != 0) {
      return Error(ErrorCode::kInternal, "store: the transaction was aborted");
    }
    auto [it, inserted] = cache_.try_emplace(sql, nullptr);
    if (inserted) {
      const int rc =
          sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &it->second, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(it->second);
        cache_.erase(it);
        return sqlite_error(rc, "prepare statement");
      }
    }
    return Stmt(it->second);
  }

  // For fixed SQL without parameters (pragmas, DDL, BEGIN/COMMIT).
  Status exec(std::string_view sql, std::string_view what) {
    const std::string text(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    sqlite3_free(message);
    if (rc != SQLITE_OK) return sqlite_error(rc, what);
    return ok_status();
  }

  Status transaction(const std::function<Status()>& body) {
    if (!body) return Error(ErrorCode::kInvalidArgument, "store: empty transaction body");
    if (depth_ > 0) {
      // Joined: the outer transaction commits or rolls back everything. A failed inner body
      // dooms the outer one even if the outer body ignores the failure.
      ++depth_;
      Status s = run_body(body);
      --depth_;
      if (!s.ok() && !doomed_) doomed_ = s.error();
      return s;
    }
    SC_TRY(exec(schema::kBegin, "begin transaction"));
    depth_ = 1;
    doomed_.reset();
    Status s = run_body(body);
    depth_ = 0;
    if (s.ok() && doomed_) s = *doomed_;
    doomed_.reset();
    if (!s.ok()) {
      rollback();
      return s;
    }
    if (Status c = exec(schema::kCommit, "commit"); !c.ok()) {
      rollback();
      return c;
    }
    return ok_status();
  }

  sqlite3* handle() { return db_; }
  std::recursive_mutex& mutex() { return mutex_; }

 private:
  static Status run_body(const std::function<Status()>& body) {
    try {
      return body();
    } catch (...) {
      return Error(ErrorCode::kInternal, "store: transaction body threw an exception");
    }
  }

  void rollback() {
    // SQLite may already have rolled back on its own (autocommit is then back on).
    if (sqlite3_get_autocommit(db_) == 0) (void)exec(schema::kRollback, "rollback");
  }

  Status apply_key(const SecretBytes& key) {
    static constexpr char kHex[] = "0123456789abcdef";
    // PRAGMA key = "x'<hex>'": a raw 256-bit key, no passphrase derivation by SQLCipher.
    std::string sql;
    sql.reserve(64 + 2 * key.size());  // no reallocation: no stray copies of the key
    sql.append("PRAGMA key = \"x'");
    for (std::uint8_t b : key.span()) {
      sql.push_back(kHex[b >> 4]);
      sql.push_back(kHex[b & 0x0f]);
    }
    sql.append("'\";");
    const SecretString pragma(std::move(sql));  // wiped when it goes out of scope
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, pragma.str().c_str(), nullptr, nullptr, &message);
    sqlite3_free(message);
    if (rc != SQLITE_OK) return sqlite_error(rc, "set database key");
    return ok_status();
  }

  Status migrate() {
    std::int64_t version = 0;
    {
      SC_ASSIGN_OR_RETURN(Stmt get, prepare(schema::kGetUserVersion));
      SC_ASSIGN_OR_RETURN(bool row, get.step("read schema version"));
      if (row) version = get.col_int(0);
    }
    if (version > schema::kLatestVersion) {
      return Error(ErrorCode::kCorrupt,
                   "store: the database was written by a newer version of the client");
    }
    if (version < 0) return Error(ErrorCode::kCorrupt, "store: bad schema version");
    for (const schema::Migration& m : schema::kMigrations) {
      if (m.version <= version) continue;
      const std::string set_version =
          std::string(schema::kSetUserVersionPrefix) + std::to_string(m.version) + ";";
      const auto step = [&]() -> Status {
        SC_TRY(exec(m.sql, "migrate schema"));
        return exec(set_version, "set schema version");
      };
      SC_TRY(transaction(step));
    }
    return ok_status();
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string_view, sqlite3_stmt*> cache_;
  std::recursive_mutex mutex_;
  int depth_ = 0;
  std::optional<Error> doomed_;
};

// Runs `f(db)` with the connection locked; exceptions become errors.
template <typename F>
auto locked(std::string_view what, Db& db, F&& f) -> decltype(f(db)) {
  return guarded(what, [&]() -> decltype(f(db)) {
    std::lock_guard<std::recursive_mutex> lock(db.mutex());
    return f(db);
  });
}

// --- enum spellings in the database -----------------------------------------------------------

std::string_view origin_name(GroupOrigin o) {
  switch (o) {
    case GroupOrigin::kCreated:
      return "created";
    case GroupOrigin::kInvited:
      return "invited";
    case GroupOrigin::kInPerson:
      return "in_person";
  }
  return "created";
}

Result<GroupOrigin> parse_origin(std::string_view s) {
  if (s == "created") return GroupOrigin::kCreated;
  if (s == "invited") return GroupOrigin::kInvited;
  if (s == "in_person") return GroupOrigin::kInPerson;
  return Error(ErrorCode::kCorrupt, "store: unknown group origin");
}

std::string_view chat_kind_name(ChatKind k) {
  return k == ChatKind::kGroup ? "group" : "friend";
}

Result<ChatKind> parse_chat_kind(std::string_view s) {
  if (s == "friend") return ChatKind::kFriend;
  if (s == "group") return ChatKind::kGroup;
  return Error(ErrorCode::kCorrupt, "store: unknown chat kind");
}

// --- row readers (column order as in schema.hpp) ----------------------------------------------

Friend read_friend(const Stmt& s) {
  Friend f;
  f.user_id = s.col_text(0);
  f.nickname = s.col_text(1);
  f.channel_key = s.col_secret(2);
  f.protocol = s.col_text(3);
  f.created_at_ms = s.col_int(4);
  f.peer_bundle = s.col_blob(5);
  f.ratchet_state = s.col_secret_blob(6);
  f.update_sent = s.col_int(7) != 0;
  f.control_pending = s.col_int(8) != 0;
  f.v2_active = s.col_int(9) != 0;
  f.verified_ik = s.col_blob(10);
  f.identity_changed = s.col_int(11) != 0;
  f.send_blocked = s.col_int(12) != 0;
  f.peer_v2_capable = s.col_int(13) != 0;
  return f;
}

OutgoingRequest read_outgoing(const Stmt& s) {
  OutgoingRequest r;
  r.to_user_id = s.col_text(0);
  r.session_string = s.col_secret(1);
  r.created_at_ms = s.col_int(2);
  return r;
}

IncomingRequest read_incoming(const Stmt& s) {
  IncomingRequest r;
  r.from_user_id = s.col_text(0);
  r.crypto_data = s.col_text(1);
  r.server_timestamp = s.col_int(2);
  r.received_at_ms = s.col_int(3);
  return r;
}

Result<GroupRecord> read_group(const Stmt& s) {
  GroupRecord g;
  g.group_id = s.col_text(0);
  g.name = s.col_text(1);
  g.key = s.col_secret(2);
  SC_ASSIGN_OR_RETURN(g.origin, parse_origin(s.col_text(3)));
  g.created_at_ms = s.col_int(4);
  return g;
}

GroupInviteRecord read_invite(const Stmt& s) {
  GroupInviteRecord i;
  i.group_id = s.col_text(0);
  i.from_user_id = s.col_text(1);
  i.name = s.col_text(2);
  i.key = s.col_secret(3);
  i.server_timestamp = s.col_int(4);
  return i;
}

GroupMember read_member(const Stmt& s) {
  GroupMember m;
  m.group_id = s.col_text(0);
  m.user_id = s.col_text(1);
  m.removed = s.col_int(2) != 0;
  m.sent_epoch = static_cast<std::uint32_t>(s.col_int(3));
  return m;
}

ReceivedSenderKeyRecord read_received_key(const Stmt& s) {
  ReceivedSenderKeyRecord k;
  k.group_id = s.col_text(0);
  k.owner_user_id = s.col_text(1);
  k.epoch = static_cast<std::uint32_t>(s.col_int(2));
  k.key_id = s.col_blob(3);
  k.state = s.col_secret_blob(4);
  return k;
}

Result<StoredMessage> read_message(const Stmt& s) {
  StoredMessage m;
  m.local_id = s.col_int(0);
  m.chat_id = s.col_text(1);
  SC_ASSIGN_OR_RETURN(m.chat_kind, parse_chat_kind(s.col_text(2)));
  m.from_user_id = s.col_text(3);
  m.from_name = s.col_text(4);
  m.message_id = s.col_int(5);
  m.type = s.col_text(6);
  m.text = s.col_text(7);
  m.image = s.col_blob(8);
  m.reply_to_message_id = s.col_int(9);
  m.new_emoji = s.col_text(10);
  m.old_emoji = s.col_text(11);
  m.sender_timestamp = s.col_int(12);
  m.server_timestamp = s.col_int(13);
  m.outgoing = s.col_int(14) != 0;
  m.delivery = s.col_text(15);
  return m;
}

Result<OutboxKind> parse_outbox_kind(std::string_view s) {
  if (s == "direct") return OutboxKind::kDirect;
  if (s == "group") return OutboxKind::kGroup;
  if (s == "invite") return OutboxKind::kInvite;
  return Error(ErrorCode::kCorrupt, "store: unknown outbox kind");
}

std::string_view outbox_kind_name(OutboxKind k) {
  switch (k) {
    case OutboxKind::kDirect:
      return "direct";
    case OutboxKind::kGroup:
      return "group";
    case OutboxKind::kInvite:
      return "invite";
  }
  return "direct";
}

Result<OutboxItem> read_outbox_item(const Stmt& s) {
  OutboxItem o;
  o.local_id = s.col_int(0);
  SC_ASSIGN_OR_RETURN(o.kind, parse_outbox_kind(s.col_text(1)));
  o.chat_id = s.col_text(2);
  o.to_id = s.col_text(3);
  o.message_id = s.col_int(4);
  o.body = s.col_text(5);
  o.created_at_ms = s.col_int(6);
  o.attempts = static_cast<int>(s.col_int(7));
  o.last_error = s.col_text(8);
  o.failed = s.col_int(9) != 0;
  return o;
}

// Collects every row of `stmt` through `read` (which returns T or Result<T>).
template <typename T, typename Read>
Result<std::vector<T>> read_all(Stmt& stmt, std::string_view what, Read read) {
  std::vector<T> out;
  while (true) {
    SC_ASSIGN_OR_RETURN(bool row, stmt.step(what));
    if (!row) return out;
    Result<T> item = read(stmt);
    if (!item.ok()) return std::move(item).error();
    out.push_back(std::move(item).value());
  }
}

template <typename T, typename Read>
Result<std::optional<T>> read_one(Stmt& stmt, std::string_view what, Read read) {
  SC_ASSIGN_OR_RETURN(bool row, stmt.step(what));
  if (!row) return std::optional<T>();
  Result<T> item = read(stmt);
  if (!item.ok()) return std::move(item).error();
  return std::optional<T>(std::move(item).value());
}

// --- files ------------------------------------------------------------------------------------

bool path_exists(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::symlink_status(p, ec);
  return st.type() != fs::file_type::not_found && st.type() != fs::file_type::none;
}

Status fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("open directory", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return os_error("sync directory", err);
  return ok_status();
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write key file", errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

// Creates `home` (mode 0700) if missing; returns whether it was created here.
Result<bool> ensure_home(const fs::path& home) {
  std::error_code ec;
  const auto st = fs::status(home, ec);
  if (st.type() == fs::file_type::directory) return false;
  if (st.type() != fs::file_type::not_found) {
    if (ec) return os_error("inspect home directory", ec.value());
    return Error(ErrorCode::kInvalidArgument, "store: the home path is not a directory");
  }
  const fs::path parent = home.parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return os_error("create parent directory", ec.value());
  }
  if (::mkdir(home.c_str(), 0700) != 0) {
    const int err = errno;
    if (err == EEXIST && fs::is_directory(home, ec)) return false;
    return os_error("create home directory", err);
  }
  // mkdir honours the umask; make the mode exact.
  if (::chmod(home.c_str(), 0700) != 0) return os_error("set home directory mode", errno);
  if (!parent.empty()) (void)fsync_dir(parent);
  return true;
}

// Writes `line` as the key file: temp file (0600) + fsync, then link (create) or rename
// (replace), then fsync of the directory. Never leaves a partial store.key behind.
Status write_key_file(const fs::path& home, std::string_view line, bool replace) {
  std::string tmp = (home / "store.key.tmp-XXXXXX").string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return os_error("create temporary key file", errno);
  struct TmpGuard {
    const std::string& path;
    bool keep = false;
    ~TmpGuard() {
      if (!keep) ::unlink(path.c_str());
    }
  } guard{tmp};

  Status s = write_all(fd, line);
  if (s.ok()) s = write_all(fd, "\n");
  if (s.ok() && ::fchmod(fd, 0600) != 0) s = os_error("set key file mode", errno);
  if (s.ok() && ::fsync(fd) != 0) s = os_error("sync key file", errno);
  if (::close(fd) != 0 && s.ok()) s = os_error("close key file", errno);
  SC_TRY(s);

  const fs::path target = home / kKeyFileName;
  if (replace) {
    if (::rename(tmp.c_str(), target.c_str()) != 0) return os_error("replace key file", errno);
    guard.keep = true;  // it is store.key now
  } else if (::link(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    if (err == EEXIST) return Error(ErrorCode::kAlreadyExists, "store: a store already exists");
    return os_error("create key file", err);
  }
  return fsync_dir(home);
}

Result<pw::WrappedKey> read_key_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Error(ErrorCode::kCorrupt, "store: the key file is missing");
    return os_error("open key file", err);
  }
  std::string text;
  struct stat st {};
  Status s = ok_status();
  if (::fstat(fd, &st) != 0) {
    s = os_error("inspect key file", errno);
  } else if (!S_ISREG(st.st_mode) || st.st_size > kMaxKeyFileBytes) {
    s = Error(ErrorCode::kCorrupt, "store: the key file is not a key file");
  } else {
    char buf[512];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        s = os_error("read key file", errno);
        break;
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > static_cast<std::size_t>(kMaxKeyFileBytes)) {
        s = Error(ErrorCode::kCorrupt, "store: the key file is not a key file");
        break;
      }
    }
  }
  ::close(fd);
  SC_TRY(s);
  std::string_view line = text;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return pw::parse_wrapped_key(line);
}

// Creates an empty store.db with mode 0600 before SQLite opens it: SQLite would create it
// 0644 and gives the -wal and -shm files the database file's mode.
Status create_empty_db_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) return Error(ErrorCode::kAlreadyExists, "store: a store already exists");
    return os_error("create database file", err);
  }
  Status s = ok_status();
  if (::fchmod(fd, 0600) != 0) s = os_error("set database file mode", errno);
  ::close(fd);
  return s;
}

}  // namespace

// ----------------------------------------------------------------------------------------------

struct Store::Impl {
  Db db;
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

fs::path Store::database_path(const fs::path& home) {
  return home / kDbFileName;
}
fs::path Store::key_path(const fs::path& home) {
  return home / kKeyFileName;
}

bool Store::exists(const fs::path& home) {
  try {
    return path_exists(key_path(home)) || path_exists(database_path(home));
  } catch (...) {
    return false;
  }
}

Result<std::unique_ptr<Store>> Store::create(const fs::path& home, const SecretString& password,
                                             const Identity& identity,
                                             crypto::password::KdfCost cost) {
  return guarded("create", [&]() -> Result<std::unique_ptr<Store>> {
    if (exists(home)) return Error(ErrorCode::kAlreadyExists, "store: a store already exists");
    // Wrap first: a bad password or cost fails before any file is touched.
    const SecretBytes db_key = crypto::random_secret(kDbKeyBytes);
    SC_ASSIGN_OR_RETURN(const pw::WrappedKey wrapped, pw::wrap_key(db_key, password, cost));
    const std::string line = pw::serialize(wrapped);

    SC_ASSIGN_OR_RETURN(const bool created_home, ensure_home(home));
    auto impl = std::make_unique<Impl>();

    // Undoes everything this call created unless it succeeds.
    struct Cleanup {
      const fs::path& home;
      Impl& impl;
      bool created_home;
      bool created_db = false;
      bool created_key = false;
      bool done = false;
      ~Cleanup() {
        if (done) return;
        impl.db.close();
        std::error_code ec;
        if (created_key) fs::remove(key_path(home), ec);
        if (created_db) {
          const std::string db = database_path(home).string();
          fs::remove(db, ec);
          fs::remove(db + "-wal", ec);
          fs::remove(db + "-shm", ec);
          fs::remove(db + "-journal", ec);
        }
        if (created_home) fs::remove(home, ec);  // only if empty
      }
    } cleanup{home, *impl, created_home};

    if (path_exists(key_path(home))) {
      return Error(ErrorCode::kAlreadyExists, "store: a store already exists");
    }
    SC_TRY(create_empty_db_file(database_path(home)));
    cleanup.created_db = true;
    SC_TRY(impl->db.open(database_path(home), db_key));
    {
      SC_ASSIGN_OR_RETURN(Stmt stmt, impl->db.prepare(schema::kInsertIdentity));
      stmt.text(identity.user_id)
          .text(identity.auth_token.view())
          .text(identity.nickname)
          .text(identity.server_url)
          .integer(identity.created_at_ms)
          .text(identity.ca_file)
          .text(identity.pin_sha256)
          .integer(identity.allow_insecure_http ? 1 : 0);
      SC_TRY(stmt.run("store identity"));
    }
    // The key file is written last: its presence marks a complete store.
    Status key_written = write_key_file(home, line, /*replace=*/false);
    if (!key_written.ok()) {
      // kAlreadyExists means someone else's store.key appeared: not ours to remove.
      cleanup.created_key =
          key_written.error().code() != ErrorCode::kAlreadyExists && path_exists(key_path(home));
      return std::move(key_written).error();
    }
    cleanup.done = true;
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  });
}

Result<std::unique_ptr<Store>> Store::open(const fs::path& home, const SecretString& password) {
  return guarded("open", [&]() -> Result<std::unique_ptr<Store>> {
    const bool has_key = path_exists(key_path(home));
    const bool has_db = path_exists(database_path(home));
    if (!has_key && !has_db) return Error(ErrorCode::kNotFound, "store: no store");
    if (!has_key) return Error(ErrorCode::kCorrupt, "store: the key file is missing");
    if (!has_db) return Error(ErrorCode::kCorrupt, "store: the database file is missing");

    // The database is not touched until the password has unwrapped its key.
    SC_ASSIGN_OR_RETURN(const pw::WrappedKey wrapped, read_key_file(key_path(home)));
    SC_ASSIGN_OR_RETURN(const SecretBytes db_key, pw::unwrap_key(wrapped, password));
    if (db_key.size() != kDbKeyBytes) {
      return Error(ErrorCode::kCorrupt, "store: the key file holds a key of the wrong size");
    }
    auto impl = std::make_unique<Impl>();
    SC_TRY(impl->db.open(database_path(home), db_key));
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  });
}

Status Store::change_password(const fs::path& home, const SecretString& old_password,
                              const SecretString& new_password) {
  return guarded("change password", [&]() -> Status {
    if (!exists(home)) return Error(ErrorCode::kNotFound, "store: no store");
    SC_ASSIGN_OR_RETURN(const pw::WrappedKey old_wrapped, read_key_file(key_path(home)));
    SC_ASSIGN_OR_RETURN(const SecretBytes db_key, pw::unwrap_key(old_wrapped, old_password));
    // Same cost as before (already at or above the floor); fresh salt and nonce.
    SC_ASSIGN_OR_RETURN(const pw::WrappedKey new_wrapped,
                        pw::wrap_key(db_key, new_password, old_wrapped.cost));
    return write_key_file(home, pw::serialize(new_wrapped), /*replace=*/true);
  });
}

// --- data access ------------------------------------------------------------------------------

Status Store::transaction(const std::function<Status()>& body) {
  return locked("transaction", impl_->db, [&](Db& db) -> Status { return db.transaction(body); });
}

Result<Identity> Store::identity() {
  return locked("read identity", impl_->db, [&](Db& db) -> Result<Identity> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectIdentity));
    SC_ASSIGN_OR_RETURN(bool row, stmt.step("read identity"));
    if (!row) return Error(ErrorCode::kCorrupt, "store: the identity is missing");
    Identity id;
    id.user_id = stmt.col_text(0);
    id.auth_token = stmt.col_secret(1);
    id.nickname = stmt.col_text(2);
    id.server_url = stmt.col_text(3);
    id.created_at_ms = stmt.col_int(4);
    id.ca_file = stmt.col_text(5);  // NULL (older stores) reads as ""
    id.pin_sha256 = stmt.col_text(6);
    id.allow_insecure_http = stmt.col_int(7) == 1;
    return id;
  });
}

Status Store::set_nickname(std::string_view nickname) {
  return locked("set nickname", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kUpdateNickname));
    stmt.text(nickname);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("set nickname"));
    if (changed == 0) return Error(ErrorCode::kCorrupt, "store: the identity is missing");
    return ok_status();
  });
}

Status Store::set_connection(std::string_view ca_file, std::string_view pin_sha256,
                             bool allow_insecure_http) {
  return locked("set connection", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kUpdateConnection));
    stmt.text(ca_file).text(pin_sha256).integer(allow_insecure_http ? 1 : 0);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("set connection"));
    if (changed == 0) return Error(ErrorCode::kCorrupt, "store: the identity is missing");
    return ok_status();
  });
}

Result<std::optional<OwnV2Keys>> Store::own_v2_keys() {
  return locked("read v2 keys", impl_->db, [&](Db& db) -> Result<std::optional<OwnV2Keys>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectOwnV2Keys));
    SC_ASSIGN_OR_RETURN(bool row, stmt.step("read v2 keys"));
    if (!row) return Error(ErrorCode::kCorrupt, "store: the identity is missing");
    OwnV2Keys keys{stmt.col_secret_blob(0), stmt.col_secret_blob(1)};
    if (keys.identity_key.empty() && keys.signed_prekey.empty()) return std::optional<OwnV2Keys>();
    if (keys.identity_key.empty() || keys.signed_prekey.empty()) {
      return Error(ErrorCode::kCorrupt, "store: half of the v2 keys is missing");
    }
    return std::optional<OwnV2Keys>(std::move(keys));
  });
}

Status Store::set_own_v2_keys(const OwnV2Keys& keys) {
  return locked("store v2 keys", impl_->db, [&](Db& db) -> Status {
    if (keys.identity_key.empty() || keys.signed_prekey.empty()) {
      return Error(ErrorCode::kInvalidArgument, "store: empty v2 key");
    }
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSetOwnV2Keys));
    stmt.blob(keys.identity_key.span()).blob(keys.signed_prekey.span());
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("store v2 keys"));
    if (changed == 0) return Error(ErrorCode::kAlreadyExists, "store: the v2 keys are already set");
    return ok_status();
  });
}

Status Store::upsert_friend(const Friend& f) {
  return locked("store friend", impl_->db, [&](Db& db) -> Status {
    return db.transaction([&]() -> Status {
      SC_ASSIGN_OR_RETURN(Stmt insert, db.prepare(schema::kInsertFriendIfNew));
      insert.text(f.user_id)
          .text(f.nickname)
          .text(f.channel_key.view())
          .text(f.protocol)
          .integer(f.created_at_ms)
          .integer(f.peer_v2_capable ? 1 : 0);
      SC_ASSIGN_OR_RETURN(int inserted, insert.run("store friend"));
      if (inserted > 0) return ok_status();
      SC_ASSIGN_OR_RETURN(Stmt update, db.prepare(schema::kUpdateFriendV1));
      update.text(f.nickname)
          .text(f.channel_key.view())
          .text(f.protocol)
          .integer(f.peer_v2_capable ? 1 : 0)
          .text(f.user_id);
      SC_TRY(update.run("store friend"));
      return ok_status();
    });
  });
}

Status Store::update_friend_v2(const Friend& f) {
  return locked("store friend v2 state", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kUpdateFriendV2));
    stmt.blob(f.peer_bundle)
        .blob(f.ratchet_state.span())
        .integer(f.update_sent ? 1 : 0)
        .integer(f.control_pending ? 1 : 0)
        .integer(f.v2_active ? 1 : 0)
        .blob(f.verified_ik)
        .integer(f.identity_changed ? 1 : 0)
        .integer(f.send_blocked ? 1 : 0)
        .integer(f.peer_v2_capable ? 1 : 0)
        .text(f.user_id);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("store friend v2 state"));
    if (changed == 0) return Error(ErrorCode::kNotFound, "store: no such friend");
    return ok_status();
  });
}

Result<std::optional<Friend>> Store::find_friend(std::string_view user_id) {
  return locked("find friend", impl_->db, [&](Db& db) -> Result<std::optional<Friend>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectFriend));
    stmt.text(user_id);
    return read_one<Friend>(stmt, "find friend", read_friend);
  });
}

Result<std::vector<Friend>> Store::friends() {
  return locked("list friends", impl_->db, [&](Db& db) -> Result<std::vector<Friend>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectFriends));
    return read_all<Friend>(stmt, "list friends", read_friend);
  });
}

Status Store::set_friend_nickname(std::string_view user_id, std::string_view nickname) {
  return locked("set friend nickname", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kUpdateFriendNickname));
    stmt.text(nickname).text(user_id);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("set friend nickname"));
    if (changed == 0) return Error(ErrorCode::kNotFound, "store: no such friend");
    return ok_status();
  });
}

Status Store::put_outgoing_request(const OutgoingRequest& r) {
  return locked("store outgoing request", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutOutgoing));
    stmt.text(r.to_user_id).text(r.session_string.view()).integer(r.created_at_ms);
    SC_TRY(stmt.run("store outgoing request"));
    return ok_status();
  });
}

Result<std::optional<OutgoingRequest>> Store::find_outgoing_request(std::string_view to_user_id) {
  return locked("find outgoing request", impl_->db,
                [&](Db& db) -> Result<std::optional<OutgoingRequest>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectOutgoing));
                  stmt.text(to_user_id);
                  return read_one<OutgoingRequest>(stmt, "find outgoing request", read_outgoing);
                });
}

Result<std::vector<OutgoingRequest>> Store::outgoing_requests() {
  return locked("list outgoing requests", impl_->db,
                [&](Db& db) -> Result<std::vector<OutgoingRequest>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectOutgoings));
                  return read_all<OutgoingRequest>(stmt, "list outgoing requests", read_outgoing);
                });
}

Status Store::delete_outgoing_request(std::string_view to_user_id) {
  return locked("delete outgoing request", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteOutgoing));
    stmt.text(to_user_id);
    SC_TRY(stmt.run("delete outgoing request"));
    return ok_status();
  });
}

Status Store::put_incoming_request(const IncomingRequest& r) {
  return locked("store incoming request", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutIncoming));
    stmt.text(r.from_user_id)
        .text(r.crypto_data)
        .integer(r.server_timestamp)
        .integer(r.received_at_ms);
    SC_TRY(stmt.run("store incoming request"));
    return ok_status();
  });
}

Result<std::optional<IncomingRequest>> Store::find_incoming_request(std::string_view from_user_id) {
  return locked("find incoming request", impl_->db,
                [&](Db& db) -> Result<std::optional<IncomingRequest>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectIncoming));
                  stmt.text(from_user_id);
                  return read_one<IncomingRequest>(stmt, "find incoming request", read_incoming);
                });
}

Result<std::vector<IncomingRequest>> Store::incoming_requests() {
  return locked("list incoming requests", impl_->db,
                [&](Db& db) -> Result<std::vector<IncomingRequest>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectIncomings));
                  return read_all<IncomingRequest>(stmt, "list incoming requests", read_incoming);
                });
}

Status Store::delete_incoming_request(std::string_view from_user_id) {
  return locked("delete incoming request", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteIncoming));
    stmt.text(from_user_id);
    SC_TRY(stmt.run("delete incoming request"));
    return ok_status();
  });
}

Status Store::upsert_group(const GroupRecord& g) {
  return locked("store group", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kUpsertGroup));
    stmt.text(g.group_id)
        .text(g.name)
        .text(g.key.view())
        .text(origin_name(g.origin))
        .integer(g.created_at_ms);
    SC_TRY(stmt.run("store group"));
    return ok_status();
  });
}

Result<std::optional<GroupRecord>> Store::find_group(std::string_view group_id) {
  return locked("find group", impl_->db, [&](Db& db) -> Result<std::optional<GroupRecord>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectGroup));
    stmt.text(group_id);
    return read_one<GroupRecord>(stmt, "find group", read_group);
  });
}

Result<std::vector<GroupRecord>> Store::groups() {
  return locked("list groups", impl_->db, [&](Db& db) -> Result<std::vector<GroupRecord>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectGroups));
    return read_all<GroupRecord>(stmt, "list groups", read_group);
  });
}

Status Store::put_group_invite(const GroupInviteRecord& i) {
  return locked("store group invite", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutInvite));
    stmt.text(i.group_id)
        .text(i.from_user_id)
        .text(i.name)
        .text(i.key.view())
        .integer(i.server_timestamp);
    SC_TRY(stmt.run("store group invite"));
    return ok_status();
  });
}

Result<std::optional<GroupInviteRecord>> Store::find_group_invite(std::string_view group_id) {
  return locked("find group invite", impl_->db,
                [&](Db& db) -> Result<std::optional<GroupInviteRecord>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectInvite));
                  stmt.text(group_id);
                  return read_one<GroupInviteRecord>(stmt, "find group invite", read_invite);
                });
}

Result<std::vector<GroupInviteRecord>> Store::group_invites() {
  return locked("list group invites", impl_->db,
                [&](Db& db) -> Result<std::vector<GroupInviteRecord>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectInvites));
                  return read_all<GroupInviteRecord>(stmt, "list group invites", read_invite);
                });
}

Status Store::delete_group_invite(std::string_view group_id) {
  return locked("delete group invite", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteInvite));
    stmt.text(group_id);
    SC_TRY(stmt.run("delete group invite"));
    return ok_status();
  });
}

Status Store::add_group_member(std::string_view group_id, std::string_view user_id) {
  return locked("store group member", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kAddGroupMember));
    stmt.text(group_id).text(user_id);
    SC_TRY(stmt.run("store group member"));
    return ok_status();
  });
}

Status Store::put_group_member(const GroupMember& m) {
  return locked("store group member", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutGroupMember));
    stmt.text(m.group_id).text(m.user_id).integer(m.removed ? 1 : 0).integer(m.sent_epoch);
    SC_TRY(stmt.run("store group member"));
    return ok_status();
  });
}

Result<std::vector<GroupMember>> Store::group_members(std::string_view group_id) {
  return locked("list group members", impl_->db, [&](Db& db) -> Result<std::vector<GroupMember>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectGroupMembers));
    stmt.text(group_id);
    return read_all<GroupMember>(stmt, "list group members", read_member);
  });
}

Result<bool> Store::member_list_received(std::string_view group_id) {
  return locked("read group state", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectMemberListReceived));
    stmt.text(group_id);
    SC_ASSIGN_OR_RETURN(bool row, stmt.step("read group state"));
    return row && stmt.col_int(0) != 0;
  });
}

Status Store::set_member_list_received(std::string_view group_id) {
  return locked("store group state", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSetMemberListReceived));
    stmt.text(group_id);
    SC_TRY(stmt.run("store group state"));
    return ok_status();
  });
}

Status Store::put_upload(const UploadRecord& u) {
  return locked("store upload", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutUpload));
    stmt.integer(u.message_id)
        .integer(u.chat_kind == ChatKind::kGroup ? 1 : 0)
        .text(u.chat_id)
        .text(u.path)
        .integer(u.size)
        .integer(u.mtime)
        .text(u.descriptor.view())
        .integer(u.created_at_ms);
    SC_TRY(stmt.run("store upload"));
    return ok_status();
  });
}

Result<std::vector<UploadRecord>> Store::uploads() {
  return locked("list uploads", impl_->db, [&](Db& db) -> Result<std::vector<UploadRecord>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectUploads));
    return read_all<UploadRecord>(stmt, "list uploads", [](const Stmt& s) {
      UploadRecord u;
      u.message_id = s.col_int(0);
      u.chat_kind = s.col_int(1) == 1 ? ChatKind::kGroup : ChatKind::kFriend;
      u.chat_id = s.col_text(2);
      u.path = s.col_text(3);
      u.size = s.col_int(4);
      u.mtime = s.col_int(5);
      u.descriptor = s.col_secret(6);
      u.created_at_ms = s.col_int(7);
      return u;
    });
  });
}

Status Store::delete_upload(std::int64_t message_id) {
  return locked("delete upload", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteUpload));
    stmt.integer(message_id);
    SC_TRY(stmt.run("delete upload"));
    return ok_status();
  });
}

Status Store::set_saved_path(std::string_view chat_id, std::string_view from_user_id,
                             std::int64_t message_id, std::string_view path) {
  return locked("store saved path", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutSavedPath));
    stmt.text(chat_id).text(from_user_id).integer(message_id).text(path);
    SC_TRY(stmt.run("store saved path"));
    return ok_status();
  });
}

Result<std::string> Store::saved_path(std::string_view chat_id, std::string_view from_user_id,
                                      std::int64_t message_id) {
  return locked("read saved path", impl_->db, [&](Db& db) -> Result<std::string> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectSavedPath));
    stmt.text(chat_id).text(from_user_id).integer(message_id);
    SC_ASSIGN_OR_RETURN(auto found,
                        read_one<std::string>(stmt, "read saved path",
                                              [](const Stmt& s) { return s.col_text(0); }));
    return found.value_or("");
  });
}

Status Store::put_removal_notice(std::string_view group_id, std::string_view user_id) {
  return locked("store removal notice", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutRemovalNotice));
    stmt.text(group_id).text(user_id);
    SC_TRY(stmt.run("store removal notice"));
    return ok_status();
  });
}

Result<std::vector<RemovalNotice>> Store::removal_notices() {
  return locked("list removal notices", impl_->db,
                [&](Db& db) -> Result<std::vector<RemovalNotice>> {
                  SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectRemovalNotices));
                  return read_all<RemovalNotice>(stmt, "list removal notices", [](const Stmt& s) {
                    return RemovalNotice{s.col_text(0), s.col_text(1)};
                  });
                });
}

Status Store::delete_removal_notice(std::string_view group_id, std::string_view user_id) {
  return locked("delete removal notice", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteRemovalNotice));
    stmt.text(group_id).text(user_id);
    SC_TRY(stmt.run("delete removal notice"));
    return ok_status();
  });
}

Status Store::close_group(const ClosedGroup& c) {
  return locked("close group", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kCloseGroup));
    stmt.text(c.group_id).text(c.removed_by).integer(c.closed_at_ms);
    SC_TRY(stmt.run("close group"));
    return ok_status();
  });
}

Result<std::optional<ClosedGroup>> Store::closed_group(std::string_view group_id) {
  return locked("read closed group", impl_->db, [&](Db& db) -> Result<std::optional<ClosedGroup>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectClosedGroup));
    stmt.text(group_id);
    return read_one<ClosedGroup>(stmt, "read closed group", [](const Stmt& s) {
      return ClosedGroup{s.col_text(0), s.col_text(1), s.col_int(2)};
    });
  });
}

Result<std::optional<OwnSenderKey>> Store::own_sender_key(std::string_view group_id) {
  return locked("read sender key", impl_->db, [&](Db& db) -> Result<std::optional<OwnSenderKey>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectOwnSenderKey));
    stmt.text(group_id);
    return read_one<OwnSenderKey>(stmt, "read sender key", [](const Stmt& s) {
      return OwnSenderKey{s.col_text(0), static_cast<std::uint32_t>(s.col_int(1)),
                          s.col_secret_blob(2)};
    });
  });
}

Status Store::put_own_sender_key(const OwnSenderKey& k) {
  return locked("store sender key", impl_->db, [&](Db& db) -> Status {
    if (k.state.empty()) return Error(ErrorCode::kInvalidArgument, "store: empty sender key");
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutOwnSenderKey));
    stmt.text(k.group_id).integer(k.epoch).blob(k.state.span());
    SC_TRY(stmt.run("store sender key"));
    return ok_status();
  });
}

Result<std::optional<ReceivedSenderKeyRecord>> Store::find_received_sender_key(
    std::string_view group_id, std::span<const std::uint8_t> key_id, std::uint32_t epoch) {
  return locked(
      "find sender key", impl_->db, [&](Db& db) -> Result<std::optional<ReceivedSenderKeyRecord>> {
        SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectReceivedSenderKey));
        stmt.text(group_id).blob(key_id).integer(epoch);
        return read_one<ReceivedSenderKeyRecord>(stmt, "find sender key", read_received_key);
      });
}

Result<std::vector<ReceivedSenderKeyRecord>> Store::received_sender_keys(
    std::string_view group_id) {
  return locked(
      "list sender keys", impl_->db, [&](Db& db) -> Result<std::vector<ReceivedSenderKeyRecord>> {
        SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectReceivedSenderKeys));
        stmt.text(group_id);
        return read_all<ReceivedSenderKeyRecord>(stmt, "list sender keys", read_received_key);
      });
}

Status Store::put_received_sender_key(const ReceivedSenderKeyRecord& k) {
  return locked("store received sender key", impl_->db, [&](Db& db) -> Status {
    if (k.state.empty()) return Error(ErrorCode::kInvalidArgument, "store: empty sender key");
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kPutReceivedSenderKey));
    stmt.text(k.group_id)
        .text(k.owner_user_id)
        .integer(k.epoch)
        .blob(k.key_id)
        .blob(k.state.span());
    SC_TRY(stmt.run("store received sender key"));
    return ok_status();
  });
}

Status Store::delete_received_sender_keys(std::string_view group_id,
                                          std::string_view owner_user_id) {
  return locked("delete sender keys", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteReceivedSenderKeys));
    stmt.text(group_id).text(owner_user_id);
    SC_TRY(stmt.run("delete sender keys"));
    return ok_status();
  });
}

Result<bool> Store::insert_message(const StoredMessage& m) {
  return locked("store message", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kInsertMessage));
    stmt.text(m.chat_id)
        .text(chat_kind_name(m.chat_kind))
        .text(m.from_user_id)
        .text(m.from_name)
        .integer(m.message_id)
        .text(m.type)
        .text(m.text)
        .blob(m.image)
        .integer(m.reply_to_message_id)
        .text(m.new_emoji)
        .text(m.old_emoji)
        .integer(m.sender_timestamp)
        .integer(m.server_timestamp)
        .integer(m.outgoing ? 1 : 0)
        .text(m.delivery);
    const int rc = stmt.step_rc();
    if (rc == SQLITE_DONE) return true;
    if (rc == SQLITE_CONSTRAINT_UNIQUE) return false;  // already stored
    return sqlite_error(rc, "store message");
  });
}

Result<std::vector<StoredMessage>> Store::messages(std::string_view chat_id, std::size_t limit,
                                                   std::int64_t before_local_id) {
  return locked("list messages", impl_->db, [&](Db& db) -> Result<std::vector<StoredMessage>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(before_local_id > 0 ? schema::kSelectMessagesBefore
                                                                  : schema::kSelectMessages));
    const std::int64_t sql_limit = limit == 0 ? -1
                                              : static_cast<std::int64_t>(std::min<std::size_t>(
                                                    limit, static_cast<std::size_t>(INT64_MAX)));
    stmt.text(chat_id);
    if (before_local_id > 0) stmt.integer(before_local_id);
    stmt.integer(sql_limit);
    return read_all<StoredMessage>(stmt, "list messages", read_message);
  });
}

Result<Store::ChatStats> Store::chat_stats(std::string_view chat_id) {
  return locked("read chat summary", impl_->db, [&](Db& db) -> Result<ChatStats> {
    ChatStats stats;
    {
      SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kChatCounts));
      stmt.text(chat_id);
      SC_ASSIGN_OR_RETURN(bool row, stmt.step("read chat summary"));
      if (row) {
        stats.message_count = stmt.col_int(0);
        stats.unread = stmt.col_int(1);
      }
    }
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectLastMessage));
    stmt.text(chat_id);
    SC_ASSIGN_OR_RETURN(stats.last_message,
                        read_one<StoredMessage>(stmt, "read chat summary", read_message));
    return stats;
  });
}

Status Store::mark_read(std::string_view chat_id) {
  return locked("mark chat read", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kMarkChatRead));
    stmt.text(chat_id);
    SC_TRY(stmt.run("mark chat read"));
    return ok_status();
  });
}

Result<bool> Store::set_message_delivery(std::string_view chat_id, std::string_view from_user_id,
                                         std::int64_t message_id, std::string_view delivery) {
  return locked("set delivery", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSetMessageDelivery));
    stmt.text(delivery).text(chat_id).text(from_user_id).integer(message_id);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("set delivery"));
    return changed > 0;
  });
}

Result<bool> Store::delete_message(std::string_view chat_id, std::string_view from_user_id,
                                   std::int64_t message_id) {
  return locked("delete message", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteMessage));
    stmt.text(chat_id).text(from_user_id).integer(message_id);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("delete message"));
    return changed > 0;
  });
}

Result<std::int64_t> Store::put_outbox_item(const OutboxItem& item) {
  return locked("queue in outbox", impl_->db, [&](Db& db) -> Result<std::int64_t> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kInsertOutbox));
    stmt.text(outbox_kind_name(item.kind))
        .text(item.chat_id)
        .text(item.to_id)
        .integer(item.message_id)
        .text(item.body)
        .integer(item.created_at_ms);
    const int rc = stmt.step_rc();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      return Error(ErrorCode::kAlreadyExists, "store: that message is already in the outbox");
    }
    if (rc != SQLITE_DONE) return sqlite_error(rc, "queue in outbox");
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db.handle()));
  });
}

Result<std::vector<OutboxItem>> Store::outbox_items() {
  return locked("list outbox", impl_->db, [&](Db& db) -> Result<std::vector<OutboxItem>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectOutbox));
    return read_all<OutboxItem>(stmt, "list outbox", read_outbox_item);
  });
}

Result<std::optional<OutboxItem>> Store::find_outbox_item(std::int64_t message_id) {
  return locked("find outbox item", impl_->db, [&](Db& db) -> Result<std::optional<OutboxItem>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectOutboxItem));
    stmt.integer(message_id);
    return read_one<OutboxItem>(stmt, "find outbox item", read_outbox_item);
  });
}

Status Store::note_outbox_attempt(std::int64_t local_id, std::string_view error, bool failed) {
  return locked("note outbox attempt", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kNoteOutboxAttempt));
    stmt.text(error).integer(failed ? 1 : 0).integer(local_id);
    SC_TRY(stmt.run("note outbox attempt"));
    return ok_status();
  });
}

Result<bool> Store::delete_outbox_item(std::int64_t local_id) {
  return locked("delete outbox item", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteOutbox));
    stmt.integer(local_id);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("delete outbox item"));
    return changed > 0;
  });
}

Result<std::int64_t> Store::put_undelivered_event(std::string_view event) {
  return locked("store event", impl_->db, [&](Db& db) -> Result<std::int64_t> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kInsertUndeliveredEvent));
    stmt.text(event);
    SC_TRY(stmt.run("store event"));
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db.handle()));
  });
}

Result<std::vector<std::pair<std::int64_t, std::string>>> Store::undelivered_events() {
  using Row = std::pair<std::int64_t, std::string>;
  return locked("list events", impl_->db, [&](Db& db) -> Result<std::vector<Row>> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectUndeliveredEvents));
    return read_all<Row>(stmt, "list events", [](const Stmt& s) -> Result<Row> {
      return Row{s.col_int(0), s.col_text(1)};
    });
  });
}

Result<bool> Store::delete_undelivered_event(std::int64_t local_id) {
  return locked("delete event", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kDeleteUndeliveredEvent));
    stmt.integer(local_id);
    SC_ASSIGN_OR_RETURN(int changed, stmt.run("delete event"));
    return changed > 0;
  });
}

Result<bool> Store::ciphertext_seen(std::string_view chat_id,
                                    std::span<const std::uint8_t> digest) {
  return locked("check duplicate", impl_->db, [&](Db& db) -> Result<bool> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectSeenCiphertext));
    stmt.text(chat_id).blob(digest);
    return stmt.step("check duplicate");
  });
}

Status Store::add_seen_ciphertext(std::string_view chat_id, std::span<const std::uint8_t> digest) {
  return locked("remember ciphertext", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kInsertSeenCiphertext));
    stmt.text(chat_id).blob(digest);
    SC_TRY(stmt.run("remember ciphertext"));
    return ok_status();
  });
}

Result<std::int64_t> Store::cursor(std::string_view channel) {
  return locked("read cursor", impl_->db, [&](Db& db) -> Result<std::int64_t> {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSelectCursor));
    stmt.text(channel);
    SC_ASSIGN_OR_RETURN(bool row, stmt.step("read cursor"));
    return row ? stmt.col_int(0) : std::int64_t{0};
  });
}

Status Store::set_cursor(std::string_view channel, std::int64_t timestamp) {
  return locked("set cursor", impl_->db, [&](Db& db) -> Status {
    SC_ASSIGN_OR_RETURN(Stmt stmt, db.prepare(schema::kSetCursor));
    stmt.text(channel).integer(timestamp);
    SC_TRY(stmt.run("set cursor"));
    return ok_status();
  });
}

}  // namespace secchats::store
