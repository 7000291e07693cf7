// Database-side failures while a relay runs, on a throwaway cluster: a login that starts
// failing reaches requests only as kUnavailable "storage unavailable" (no host, port, user or
// SQLSTATE text), and no call waits on the database past its deadline — a table locked by
// another session, or backends frozen with SIGSTOP.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <vector>

#include "storage/postgres/pg_test_helpers.hpp"
#include "support/pg_cluster.hpp"

namespace secchats::server {
namespace {

using namespace pgtest;
using pg::PgConnection;
using secchats::testing::PgCluster;
using Clock = std::chrono::steady_clock;

std::string with_user(const std::string& uri, const std::string& user) {
  // PgCluster URIs name the user before the host: postgresql://postgres@host:port/db.
  const auto at = uri.find('@');
  return "postgresql://" + user + uri.substr(at);
}

// Runs `fn` on its own thread; fails the test (instead of hanging it) when it has not
// returned within `bound`, after calling `unblock`.
template <typename Fn, typename Unblock>
auto within(std::chrono::seconds bound, Fn fn, Unblock unblock) {
  auto f = std::async(std::launch::async, std::move(fn));
  if (f.wait_for(bound) != std::future_status::ready) {
    ADD_FAILURE() << "the call did not return within " << bound.count() << " s";
    unblock();
  }
  return f.get();
}

TEST(PgDeadlineTest, ALoginThatStartsFailingIsStorageUnavailableWithNoDetail) {
  const std::string db = PgCluster::shared().create_database();
  auto admin = connect(db);
  ASSERT_TRUE(admin);
  must(*admin, "CREATE ROLE sc_relay_login LOGIN SUPERUSER");
  auto storage = open_storage(with_user(db, "sc_relay_login"));
  ASSERT_TRUE(storage);
  ASSERT_TRUE(submit_sync(*storage, CreateUser{"alice", hash_of(1)}).ok);

  // The operator locks the relay's role out and ends its sessions.
  must(*admin, "ALTER ROLE sc_relay_login NOLOGIN");
  must(*admin,
       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'sc_relay_login'");

  auto read = storage->group_exists("g");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(read.error().message(), "storage unavailable");
  auto write = submit_sync(*storage, CreateUser{"bob", hash_of(2)});
  ASSERT_FALSE(write.ok);
  EXPECT_EQ(write.code, ErrorCode::kUnavailable);
  EXPECT_EQ(write.message, "storage unavailable");
  must(*admin, "ALTER ROLE sc_relay_login LOGIN");
}

TEST(PgDeadlineTest, AReadOnALockedTableFailsUnavailableAtItsDeadline) {
  const std::string db = PgCluster::shared().create_database();
  PgOptions o;
  o.uri = db;
  o.pool_size = 2;
  o.read_timeout = std::chrono::milliseconds(1000);
  auto opened = open_postgres_storage(o);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto storage = std::move(opened).value();
  auto locker = connect(db);
  ASSERT_TRUE(locker);
  must(*locker, "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE");

  auto read = within(
      std::chrono::seconds(20), [&] { return storage->user_token_hash("someone"); },
      [&] { (void)locker->exec("ROLLBACK"); });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(read.error().message(), "storage unavailable");
  must(*locker, "ROLLBACK");
  // The lock is gone: reads work again on a fresh connection.
  auto again = storage->user_token_hash("someone");
  ASSERT_TRUE(again.ok()) << again.error().message();
}

TEST(PgDeadlineTest, AFrozenBackendMissesTheDeadlineAndTheConnectionIsDropped) {
  const std::string db = PgCluster::shared().create_database();
  auto conn = connect(db);
  ASSERT_TRUE(conn);
  conn->set_query_timeout(std::chrono::milliseconds(1000));
  const pid_t pid = static_cast<pid_t>(scalar(*conn, "SELECT pg_backend_pid()"));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  auto r = within(
      std::chrono::seconds(20), [&] { return conn->exec("SELECT 1"); },
      [&] { ::kill(pid, SIGCONT); });
  ::kill(pid, SIGCONT);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("did not answer within 1000 ms"), std::string::npos);
  EXPECT_FALSE(conn->healthy());
  EXPECT_FALSE(conn->exec("SELECT 1").ok());  // dropped: no call touches the old socket
}

// The postmaster's pid, from a backend's /proc entry.
pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 1));
  std::string state;
  long ppid = 0;
  rest >> state >> ppid;
  return static_cast<pid_t>(ppid);
}

TEST(PgDeadlineTest, WithTheWholeServerFrozenReadsWritesAndCloseAllFinish) {
  // Its own cluster: the postmaster is frozen too, so no new connection gets an answer.
  auto cluster = PgCluster::start();
  const std::string db = cluster->create_database();
  PgOptions o;
  o.uri = db;
  o.pool_size = 2;
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.read_timeout = std::chrono::milliseconds(1000);
  auto opened = open_postgres_storage(o);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto storage = std::move(opened).value();
  ASSERT_TRUE(submit_sync(*storage, CreateUser{"alice", hash_of(1)}).ok);
  ASSERT_TRUE(storage->group_exists("g").ok());  // a pool connection exists now

  auto admin = connect(db);
  ASSERT_TRUE(admin);
  auto pids = must(*admin,
                   "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
                   "pid <> pg_backend_pid() AND backend_type = 'client backend'");
  std::vector<pid_t> frozen;
  struct ThawOnExit {  // even when an assertion ends the test early
    std::vector<pid_t>& pids;
    ~ThawOnExit() {
      for (pid_t p : pids)
        ::kill(p, SIGCONT);
    }
  } thaw_on_exit{frozen};
  for (int i = 0; i < pids.rows(); ++i) {
    frozen.push_back(static_cast<pid_t>(*pids.int64(i, 0)));
    ASSERT_EQ(::kill(frozen.back(), SIGSTOP), 0);
  }
  ASSERT_GE(frozen.size(), 2u);  // the writer and one read connection
  frozen.push_back(parent_of(frozen.front()));
  ASSERT_GT(frozen.back(), 1);
  ASSERT_EQ(::kill(frozen.back(), SIGSTOP), 0);
  auto thaw = [&] {
    for (pid_t p : frozen)
      ::kill(p, SIGCONT);
  };

  auto read = within(
      std::chrono::seconds(20), [&] { return storage->group_exists("g"); }, thaw);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "storage unavailable");
  auto write = within(
      std::chrono::seconds(20),
      [&] {
        return submit_sync(*storage, CreateUser{"bob", hash_of(2)});
      },
      thaw);
  ASSERT_FALSE(write.ok);
  EXPECT_EQ(write.code, ErrorCode::kUnavailable);
  within(
      std::chrono::seconds(20),
      [&] {
        storage->close();
        return 0;
      },
      thaw);
  thaw();
}

}  // namespace
}  // namespace secchats::server
