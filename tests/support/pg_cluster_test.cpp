// The throwaway PostgreSQL cluster fixture itself: start, connect, a database per test,
// crash and restart on the same port with committed rows intact, and nothing left listening
// after destruction.
#include "support/pg_cluster.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace secchats::testing {
namespace {

struct PsqlOutput {
  int status = -1;
  std::string out;
};

// Runs one SQL command through the cluster's psql; unaligned, tuples only.
PsqlOutput psql(const std::string& uri, const std::string& sql) {
  std::string cmd = "psql -X -q -A -t -v ON_ERROR_STOP=1 -d '" + uri + "' -c \"" + sql + "\" 2>&1";
  PsqlOutput r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 256> buf{};
  while (fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr)
    r.out += buf.data();
  r.status = pclose(p);
  while (!r.out.empty() && r.out.back() == '\n')
    r.out.pop_back();
  return r;
}

TEST(PgClusterTest, StartsAndAcceptsConnectionsOnLoopback) {
  auto cluster = PgCluster::start();
  ASSERT_TRUE(cluster->running());
  EXPECT_GT(cluster->port(), 0);
  auto r = psql(cluster->uri(),
                "SELECT current_setting('fsync') || ' ' || "
                "current_setting('max_connections') || ' ' || "
                "current_setting('listen_addresses')");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "on 200 127.0.0.1");
}

TEST(PgClusterTest, CreateDatabaseGivesAFreshDatabaseEachCall) {
  auto cluster = PgCluster::start();
  std::string a = cluster->create_database();
  std::string b = cluster->create_database();
  EXPECT_NE(a, b);
  ASSERT_EQ(psql(a, "CREATE TABLE t (x int)").status, 0);
  // The table exists in `a` only.
  EXPECT_EQ(psql(a, "SELECT count(*) FROM t").out, "0");
  EXPECT_NE(psql(b, "SELECT count(*) FROM t").status, 0);
}

TEST(PgClusterTest, CrashKeepsCommittedRowsAndRestartsOnTheSamePort) {
  auto cluster = PgCluster::start();
  std::string db = cluster->create_database();
  ASSERT_EQ(psql(db, "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3)").status, 0);
  unsigned short port = cluster->port();

  cluster->stop(/*crash=*/true);
  EXPECT_FALSE(cluster->running());
  EXPECT_NE(psql(db, "SELECT 1").status, 0) << "still answering after an immediate stop";

  cluster->restart_stopped();
  EXPECT_TRUE(cluster->running());
  EXPECT_EQ(cluster->port(), port);
  auto r = psql(db, "SELECT sum(x) FROM t");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "6");

  cluster->stop(/*crash=*/false);
  cluster->restart_stopped();
  EXPECT_EQ(psql(db, "SELECT count(*) FROM t").out, "3");
}

TEST(PgClusterTest, DestructorStopsTheServer) {
  std::string uri;
  {
    auto cluster = PgCluster::start();
    uri = cluster->uri();
    ASSERT_EQ(psql(uri, "SELECT 1").status, 0);
  }
  EXPECT_NE(psql(uri, "SELECT 1").status, 0);
}

TEST(PgClusterTest, SharedIsOneClusterPerBinary) {
  PgCluster& a = PgCluster::shared();
  PgCluster& b = PgCluster::shared();
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(psql(a.create_database(), "SELECT 42").out, "42");
}

}  // namespace
}  // namespace secchats::testing
