// `secchats-server migrate` end to end: a real relay on SQLite fed through its HTTP API, then
// stopped and migrated into a fresh PostgreSQL database, then a relay on that database
// (--storage) serves every item by cursor with the same order, timestamps and bytes; new posts
// stamp above everything migrated; the blob downloads byte-exact. Migrating while the
// SQLite relay runs, or into a target that already holds users, is refused and changes
// nothing.
#include <sys/wait.h>

#include <boost/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "server_fixture.hpp"
#include "support/blob_http.hpp"
#include "support/pg_cluster.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
namespace json = boost::json;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult run_migrate(const std::filesystem::path& from, const std::string& to) {
  std::string cmd = "'" + ServerProcess::binary().string() + "' migrate --from '" + from.string() +
                    "' --to '" + to + "' 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr)
    r.output += buf;
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class MigrateTest : public ServerTest {
 protected:
  // Everything a user can read by cursor from 0, as the relay's own bytes.
  std::string inbox_body(HttpClient& c, const TestUser& u) {
    auto res = c.post("/receive", proto::encode(proto::User{u.id, "", u.token, 0}));
    EXPECT_EQ(res.status, 200) << res.body;
    return res.body;
  }
  std::string group_body(HttpClient& c, const TestUser& u, const std::string& g) {
    auto res = c.post("/pollgroups", proto::encode(proto::PollGroups{u.id, u.token, {g}, 0}));
    EXPECT_EQ(res.status, 200) << res.body;
    return res.body;
  }

  std::unique_ptr<ServerProcess> start_on_postgres(const std::string& uri) {
    return std::make_unique<ServerProcess>(
        ServerProcess::Options{pg_data_dir_.path(),
                               {"--storage", uri, "--ip-rate-per-sec", "0", "--user-rate-per-sec",
                                "0", "--register-rate-per-min", "0"}});
  }

  TempDir pg_data_dir_{"secchats-migrate-pg"};
};

TEST_F(MigrateTest, MovesEverythingAndARelayOnPostgresServesItUnchanged) {
  // --- Traffic on the SQLite relay.
  auto alice = register_user();
  auto bob = register_user();
  auto carol = register_user();
  ASSERT_EQ(http()
                .post("/connect", proto::encode(proto::FriendRequest{
                                      alice.id, alice.token, bob.id, 0,
                                      std::string(proto::kKeyAgreementProtocol), "cHVi"}))
                .status,
            200);
  ASSERT_EQ(http()
                .post("/connect2", proto::encode(proto::FriendResponse{bob.id, bob.token, alice.id,
                                                                       0, "cmVzcA=="}))
                .status,
            200);
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(post_message(i % 2 ? alice : carol, bob.id, "m" + std::to_string(i)).status, 200);
  }
  ASSERT_EQ(post_message(bob, carol.id, "to carol").status, 200);
  const std::string g = register_group(alice);
  ASSERT_EQ(http()
                .post("/groupinv", proto::encode(proto::GroupInvite{
                                       alice.id, alice.token, bob.id, g, 0,
                                       std::string(proto::kGroupAlgorithm), "aW52"}))
                .status,
            200);
  for (int i = 0; i < 10; ++i) {
    const TestUser& u = i % 2 ? alice : bob;
    ASSERT_EQ(http()
                  .post("/postgroup", proto::encode(proto::SendMessage{g, u.token, u.id,
                                                                       "g" + std::to_string(i), 0}))
                  .status,
              200);
  }
  // A complete blob over several 1 MiB chunk rows, and an upload left unfinished.
  const std::string blob = random_bytes(2 * 1024 * 1024 + 4321, 7);
  auto created = http().request("POST", "/blobs", "", [&] {
    auto h = blob_auth(alice);
    h.emplace_back("Upload-Length", std::to_string(blob.size()));
    return h;
  }());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string blob_id(json::parse(created.body).at("blobId").as_string());
  auto h = blob_auth(alice);
  h.emplace_back("Upload-Offset", "0");
  ASSERT_EQ(http().request("PATCH", "/blobs/" + blob_id, blob, h).status, 204);
  auto h2 = blob_auth(bob);
  h2.emplace_back("Upload-Length", "100");
  ASSERT_EQ(http().request("POST", "/blobs", "", h2).status, 201);

  const std::string bob_before = inbox_body(http(), bob);
  const std::string alice_before = inbox_body(http(), alice);
  const std::string carol_before = inbox_body(http(), carol);
  const std::string group_before = group_body(http(), bob, g);
  ASSERT_EQ(proto::decode_notifications(bob_before, proto::UnknownFields::kReject)->messages.size(),
            30u);

  // --- Refused while the relay holds relay.db; the target stays empty.
  PgCluster& cluster = PgCluster::shared();
  const std::string uri = cluster.create_database();
  auto busy = run_migrate(data_dir_.path(), uri);
  EXPECT_EQ(busy.exit_code, 2) << busy.output;
  EXPECT_NE(busy.output.find("stop the relay"), std::string::npos) << busy.output;

  // --- Stopped, migrated.
  client_.reset();
  ASSERT_EQ(server_->terminate(), 0);
  server_.reset();
  auto done = run_migrate(data_dir_.path(), uri);
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("migrated 3 users, 1 groups, 34 queue items, 10 group messages, 1 "
                             "blobs (" +
                             std::to_string(blob.size()) + " bytes)"),
            std::string::npos)
      << done.output;
  EXPECT_NE(done.output.find("left behind 1 unfinished uploads"), std::string::npos) << done.output;
  for (const std::string& secret : {alice.token, bob.token, alice.id, blob_id})
    EXPECT_EQ(done.output.find(secret), std::string::npos) << "ids and tokens stay out of output";

  // --- A relay on PostgreSQL serves the same bytes, by cursor, with the old tokens.
  auto relay = start_on_postgres(uri);
  HttpClient c(relay->port());
  EXPECT_EQ(inbox_body(c, bob), bob_before);
  EXPECT_EQ(inbox_body(c, alice), alice_before);
  EXPECT_EQ(inbox_body(c, carol), carol_before);
  EXPECT_EQ(group_body(c, bob, g), group_before);

  auto before = proto::decode_notifications(bob_before, proto::UnknownFields::kReject);
  ASSERT_TRUE(before.ok());
  // Paging by cursor visits the same items in the same order.
  const std::int64_t mid = before->messages[14].timestamp;
  auto page = c.post("/receive", proto::encode(proto::User{bob.id, "", bob.token, mid}));
  ASSERT_EQ(page.status, 200);
  auto after_mid = proto::decode_notifications(page.body, proto::UnknownFields::kReject);
  ASSERT_TRUE(after_mid.ok());
  ASSERT_EQ(after_mid->messages.size(), 15u);
  EXPECT_EQ(after_mid->messages[0].timestamp, before->messages[15].timestamp);

  // New posts stamp above everything migrated.
  std::int64_t newest = 0;
  for (const auto& m : before->messages)
    newest = std::max(newest, m.timestamp);
  auto groups = proto::decode_group_notifications(group_before, proto::UnknownFields::kReject);
  ASSERT_TRUE(groups.ok());
  for (const auto& m : groups->messages)
    newest = std::max(newest, m.timestamp);
  ASSERT_EQ(c.post("/postmsg",
                   proto::encode(proto::SendMessage{bob.id, alice.token, alice.id, "after", 0}))
                .status,
            200);
  auto all = proto::decode_notifications(inbox_body(c, bob), proto::UnknownFields::kReject);
  ASSERT_TRUE(all.ok());
  // The cursor read above acknowledged the first 15 (forget-after-ack): 15 old + the new one.
  ASSERT_EQ(all->messages.size(), 16u);
  EXPECT_GT(all->messages.back().timestamp, newest);
  EXPECT_EQ(all->messages.back().enc_content, "after");

  // The blob downloads byte-exact through the PostgreSQL blob store.
  auto got = c.get("/blobs/" + blob_id);
  ASSERT_EQ(got.status, 200);
  EXPECT_TRUE(got.body == blob) << "blob differs after migration (" << got.body.size() << " of "
                                << blob.size() << " bytes)";

  // --- A second migrate into the same target is refused and changes nothing.
  auto again = run_migrate(data_dir_.path(), uri);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("already holds 3 users"), std::string::npos) << again.output;
  auto unchanged = proto::decode_notifications(inbox_body(c, bob), proto::UnknownFields::kReject);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->messages.size(), 16u);
}

TEST_F(MigrateTest, BadArgumentsAreRefusedWithOneLine) {
  auto missing = run_migrate(data_dir_.path() / "nope", "postgresql://127.0.0.1:1/x");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("no relay database"), std::string::npos) << missing.output;
  CommandResult no_target;
  {
    std::string cmd = "'" + ServerProcess::binary().string() + "' migrate --from x 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[512];
    while (fgets(buf, sizeof buf, p) != nullptr)
      no_target.output += buf;
    int status = pclose(p);
    no_target.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  EXPECT_EQ(no_target.exit_code, 2) << no_target.output;
  EXPECT_NE(no_target.output.find("--to"), std::string::npos) << no_target.output;
}

}  // namespace
}  // namespace secchats::testing
