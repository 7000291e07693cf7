#include "migrate/sqlite_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "storage/sqlite/schema.hpp"

namespace secchats::server::migrate {
namespace {

// Who holds a lock conflicting with a write lock on [start, start + len) of `path`; 0 if
// nobody (or the file does not exist). F_GETLK sees other processes' POSIX locks, which is
// what SQLite's unix VFS takes.
pid_t lock_holder(const std::filesystem::path& path, off_t start, off_t len) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  pid_t pid = 0;
  if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) pid = fl.l_pid;
  ::close(fd);
  return pid;
}

// SQLite's lock bytes in the main file: PENDING at 2^30, then RESERVED, then 510 SHARED
// bytes. In the -shm file: 8 lock slots from byte 120, then the "dead man switch" byte that
// each connection holds a shared lock on while it is open.
constexpr off_t kPendingByte = 0x40000000;
constexpr off_t kMainLockBytes = 512;
constexpr off_t kShmLocksStart = 120;
constexpr off_t kShmLockBytes = 9;

Error refused_held(const std::filesystem::path& db, pid_t pid) {
  std::string who = pid > 0 ? "process " + std::to_string(pid) : "another process";
  return Error(ErrorCode::kRefused, who + " holds " + db.string() +
                                        " (a running relay?): stop the relay before migrating");
}

}  // namespace

pid_t sqlite_lock_holder(const std::filesystem::path& db) {
  if (pid_t pid = lock_holder(db, kPendingByte, kMainLockBytes); pid != 0) return pid;
  std::filesystem::path shm = db;
  shm += "-shm";
  return lock_holder(shm, kShmLocksStart, kShmLockBytes);
}

Result<std::int64_t> sqlite_scalar(sqlite::Connection& db, std::string_view sql) {
  SC_ASSIGN_OR_RETURN(auto stmt, db.prepare(sql));
  SC_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return Error(ErrorCode::kInternal, "no row from source query");
  return stmt.column_int(0);
}

Result<std::unique_ptr<sqlite::Connection>> open_source_exclusive(const std::filesystem::path& db) {
  if (pid_t pid = sqlite_lock_holder(db); pid != 0) return refused_held(db, pid);
  SC_ASSIGN_OR_RETURN(auto conn,
                      sqlite::Connection::open(db.string(), sqlite::Connection::Mode::kReadWrite));
  // Exclusive locking mode on a WAL database: the first read takes an exclusive lock on the
  // file (no shared-memory index), held until close (SQLite docs, PRAGMA locking_mode).
  SC_TRY(conn->exec("PRAGMA busy_timeout = 0"));
  SC_TRY(conn->exec("PRAGMA locking_mode = EXCLUSIVE"));
  if (auto begun = conn->exec("BEGIN"); !begun.ok()) return begun.error();
  auto version = sqlite_scalar(*conn, sqlite::sql::kSelectVersion);
  if (!version.ok()) {
    // SQLITE_BUSY: a relay opened the file between the probe and here.
    if (pid_t pid = sqlite_lock_holder(db); pid != 0) return refused_held(db, pid);
    return Error(ErrorCode::kRefused, "cannot read " + db.string() + " exclusively (" +
                                          version.error().message() +
                                          "): stop the relay before migrating");
  }
  const auto known = static_cast<std::int64_t>(sqlite::sql::kMigrations.size());
  if (*version != known) {
    return Error(ErrorCode::kRefused,
                 db.string() + " has schema version " + std::to_string(*version) +
                     "; this migrate reads version " + std::to_string(known) +
                     (*version < known ? ": start this relay version on it once to upgrade"
                                       : ": use the secchats-server that wrote it"));
  }
  return conn;
}

}  // namespace secchats::server::migrate
