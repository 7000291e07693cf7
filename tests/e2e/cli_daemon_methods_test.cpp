// `secchats daemon`'s methods (docs/cli.md, "Wire format"): each CLI command as a JSON-RPC 2.0
// method answers what the same command prints with --json in direct mode, a failure carries
// the CLI's exit code and reason, and malformed requests get JSON-RPC's error codes.
#include <filesystem>
#include <fstream>

#include "daemon_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

class CliDaemonMethods : public DaemonFriendsTest {
 protected:
  // Direct mode (--no-daemon) with the right password: what the command prints with --json.
  CliResult direct(const DaemonUser& u, std::vector<std::string> args) {
    args.insert(args.begin(), "--no-daemon");
    return u.cli->run(args);
  }

  // The method's result equals the command's --json lines in direct mode, object for object.
  void expect_same_as_direct(DaemonUser& u, const std::string& method, const boost::json::object& p,
                             const std::vector<std::string>& args) {
    auto via_daemon = u.rpc->call(method, p);
    auto cli = direct(u, args);
    ASSERT_EQ(cli.exit_code, 0) << method << ": " << cli.err;
    ASSERT_TRUE(via_daemon.ok()) << method << ": " << via_daemon.describe();
    EXPECT_EQ(dump(via_daemon.objects()), dump(json_lines(cli))) << method;
  }

  // A send-like method: both answer one object each with the same event, chat and type and
  // the same members (the message ids differ per call).
  void expect_same_shape(const RpcReply& via_daemon, const CliResult& cli,
                         const std::string& what) {
    ASSERT_EQ(cli.exit_code, 0) << what << ": " << cli.err;
    ASSERT_TRUE(via_daemon.ok()) << what << ": " << via_daemon.describe();
    auto d = via_daemon.objects();
    // Direct mode prints progress among its lines; the daemon sends it as notifications.
    std::vector<boost::json::object> c;
    for (auto& o : json_lines(cli)) {
      if (str(o, "event") != "progress") c.push_back(std::move(o));
    }
    ASSERT_EQ(d.size(), c.size()) << what << "\n" << dump(d) << dump(c);
    for (std::size_t i = 0; i < d.size(); ++i) {
      EXPECT_EQ(keys_of(d[i]), keys_of(c[i])) << what << "\n" << dump(d) << dump(c);
      for (const char* k : {"event", "chat", "chatKind", "type", "userId", "groupId"}) {
        EXPECT_EQ(str(d[i], k), str(c[i], k)) << what << " " << k;
      }
    }
  }

  // A failing method: code = the CLI's exit code, message = its reason (expected_exit < 0:
  // whichever failure the CLI reports).
  void expect_same_error(DaemonUser& u, const std::string& method, const boost::json::object& p,
                         const std::vector<std::string>& args, int expected_exit) {
    auto via_daemon = u.rpc->call(method, p);
    auto cli = cli_error(direct(u, args));
    if (expected_exit > 0) {
      EXPECT_EQ(cli.exit_code, expected_exit) << method;
    } else {
      EXPECT_GT(cli.exit_code, 0) << method;
    }
    ASSERT_TRUE(via_daemon.is_error()) << method << ": " << via_daemon.describe();
    EXPECT_EQ(via_daemon.code, cli.exit_code) << method << ": " << via_daemon.describe();
    EXPECT_EQ(via_daemon.message, cli.reason) << method;
    EXPECT_FALSE(via_daemon.message.empty()) << method;
  }

  std::string last_message_id(DaemonUser& u, const std::string& chat) {
    auto h = rpc_ok(*u.rpc, "history", params({{"chat", chat}, {"limit", 1}}));
    return h.empty() ? std::string() : str(h.back(), "messageId");
  }
};

TEST_F(CliDaemonMethods, ListingMethodsAnswerWhatDirectModePrints) {
  rpc_ok(*alice_.rpc, "send", params({{"friend", "Bob"}, {"text", "for the history"}}));
  expect_same_as_direct(alice_, "id", {}, {"id"});
  expect_same_as_direct(alice_, "friends", {}, {"friends"});
  expect_same_as_direct(alice_, "chats", {}, {"chats"});
  expect_same_as_direct(alice_, "requests", {}, {"requests"});
  expect_same_as_direct(alice_, "pending", {}, {"pending"});
  expect_same_as_direct(alice_, "groups", {}, {"groups"});
  expect_same_as_direct(alice_, "group.invites", {}, {"group", "invites"});
  expect_same_as_direct(alice_, "connection", {}, {"connection"});
  expect_same_as_direct(alice_, "verify", params({{"friend", "Bob"}}), {"verify", "Bob"});
  expect_same_as_direct(alice_, "history", params({{"chat", "Bob"}, {"limit", 5}}),
                        {"history", "Bob", "--limit", "5"});
  // An empty list is an empty array.
  auto pending = alice_.rpc->call("pending");
  ASSERT_TRUE(pending.ok()) << pending.describe();
  EXPECT_TRUE(pending.result.is_array() && pending.result.as_array().empty()) << pending.describe();
}

TEST_F(CliDaemonMethods, SendingMethodsAnswerLikeDirectModeAndTheFriendGetsThem) {
  auto sent = alice_.rpc->call("send", params({{"friend", "Bob"}, {"text", "via daemon"}}));
  expect_same_shape(sent, direct(alice_, {"send", "Bob", "via direct"}), "send");
  ASSERT_EQ(sent.objects().size(), 1u);
  EXPECT_EQ(str(sent.objects()[0], "event"), "sent");
  EXPECT_EQ(str(sent.objects()[0], "type"), "TEXT");
  const std::string text_id = str(sent.objects()[0], "messageId");

  const std::string png = write_png("photo.png", 4096);
  expect_same_shape(alice_.rpc->call("sendImage", params({{"friend", "Bob"}, {"file", png}})),
                    direct(alice_, {"send-image", "Bob", png}), "sendImage");
  expect_same_shape(
      alice_.rpc->call("react",
                       params({{"friend", "Bob"}, {"messageId", text_id}, {"emoji", "heart"}})),
      direct(alice_, {"react", "Bob", text_id, "smile"}), "react");

  const fs::path doc = dir_->path() / "notes.txt";
  std::ofstream(doc) << std::string(3000, 'n');
  auto file_sent =
      alice_.rpc->call("sendFile", params({{"path", doc.string()}, {"friend", "Bob"}}));
  expect_same_shape(file_sent, direct(alice_, {"send-file", "Bob", doc.string()}), "sendFile");

  // Bob's daemon has them all; he downloads the file through his daemon.
  auto got = sync_until(*bob_.rpc, [](const std::vector<boost::json::object>& all) {
    int files = 0;
    for (const auto& e : all)
      files += str(e, "type") == "FILE";
    return files >= 2;
  });
  auto texts = texts_of(got);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "via daemon"), texts.end()) << dump(got);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "via direct"), texts.end()) << dump(got);
  std::string file_id;
  for (const auto& e : got) {
    if (str(e, "type") == "FILE" && file_id.empty()) file_id = str(e, "messageId");
  }
  ASSERT_FALSE(file_id.empty()) << dump(got);
  const fs::path out = dir_->path() / "bob-notes.txt";
  auto down = rpc_ok(*bob_.rpc, "download",
                     params({{"chat", alice_.id}, {"messageId", file_id}, {"out", out.string()}}));
  auto downloaded = events_of(down, "downloaded");
  ASSERT_EQ(downloaded.size(), 1u) << dump(down);
  EXPECT_EQ(str(downloaded[0], "path"), out.string());
  EXPECT_EQ(fs::file_size(out), 3000u);
  // Progress notifications name the request; the result comes after them.
  // (Whether any were sent for so small a file is up to the daemon's rate limit.)
  while (auto n = bob_.rpc->next_notification(std::chrono::milliseconds(0))) {
    if (str(*n, "method") == "progress") {
      const auto& p = n->at("params").as_object();
      EXPECT_TRUE(p.contains("requestId")) << boost::json::serialize(*n);
      EXPECT_TRUE(p.contains("phase")) << boost::json::serialize(*n);
    }
  }
}

TEST_F(CliDaemonMethods, GroupMethodsWork) {
  auto created = rpc_ok(*alice_.rpc, "group.create", params({{"name", "Crew"}}));
  ASSERT_EQ(created.size(), 1u) << dump(created);
  EXPECT_EQ(str(created[0], "event"), "groupCreated");
  const std::string group = str(created[0], "groupId");
  auto invited = rpc_ok(*alice_.rpc, "group.invite", params({{"group", group}, {"friend", "Bob"}}));
  ASSERT_EQ(invited.size(), 1u) << dump(invited);
  EXPECT_EQ(str(invited[0], "event"), "invited");
  auto invites = sync_until(*bob_.rpc, [](const std::vector<boost::json::object>& all) {
    return !events_of(all, "groupInvite").empty();
  });
  ASSERT_FALSE(events_of(invites, "groupInvite").empty()) << dump(invites);
  expect_same_as_direct(bob_, "group.invites", {}, {"group", "invites"});
  auto joined = rpc_ok(*bob_.rpc, "group.join", params({{"group", group}}));
  ASSERT_EQ(joined.size(), 1u) << dump(joined);
  EXPECT_EQ(str(joined[0], "event"), "joined");

  auto gsent = alice_.rpc->call("group.send", params({{"group", "Crew"}, {"text", "hi crew"}}));
  expect_same_shape(gsent, direct(alice_, {"group", "send", "Crew", "hi crew 2"}), "group.send");
  const std::string gid = str(gsent.objects().at(0), "messageId");
  expect_same_shape(
      alice_.rpc->call("group.react",
                       params({{"group", "Crew"}, {"messageId", gid}, {"emoji", "heart"}})),
      direct(alice_, {"group", "react", "Crew", gid, "smile"}), "group.react");
  const std::string png = write_png("g.png", 2048);
  auto gimg = rpc_ok(*alice_.rpc, "group.sendImage", params({{"group", "Crew"}, {"file", png}}));
  ASSERT_EQ(gimg.size(), 1u) << dump(gimg);
  EXPECT_EQ(str(gimg[0], "type"), "IMG");
  const fs::path doc = dir_->path() / "g.dat";
  std::ofstream(doc) << std::string(1000, 'g');
  auto gfile = rpc_ok(*alice_.rpc, "group.sendFile",
                      params({{"group", "Crew"}, {"path", doc.string()}, {"asFile", true}}));
  EXPECT_FALSE(events_of(gfile, "sent").empty()) << dump(gfile);
  auto at_bob = sync_until(*bob_.rpc, [](const std::vector<boost::json::object>& all) {
    for (const auto& e : all) {
      if (str(e, "type") == "FILE") return true;
    }
    return false;
  });
  auto t = texts_of(at_bob);
  EXPECT_NE(std::find(t.begin(), t.end(), "hi crew"), t.end()) << dump(at_bob);

  // Not audio: the CLI's exit 2 and reason.
  const fs::path noise = dir_->path() / "noise.ogg";
  std::ofstream(noise) << std::string(5000, 'x');
  expect_same_error(alice_, "group.sendVoice",
                    params({{"group", "Crew"}, {"file", noise.string()}}),
                    {"group", "send-voice", "Crew", noise.string()}, 2);
  expect_same_error(alice_, "sendVoice", params({{"friend", "Bob"}, {"file", noise.string()}}),
                    {"send-voice", "Bob", noise.string()}, 2);

  auto removed =
      rpc_ok(*alice_.rpc, "group.remove", params({{"group", "Crew"}, {"member", "Bob"}}));
  EXPECT_FALSE(events_of(removed, "removed").empty()) << dump(removed);

  auto qr = rpc_ok(*alice_.rpc, "group.qrCreate",
                   params({{"name", "Meetup"},
                           {"png", (dir_->path() / "meetup.png").string()},
                           {"showPayload", true}}));
  ASSERT_EQ(qr.size(), 1u) << dump(qr);
  const std::string payload = str(qr[0], "payload");
  ASSERT_FALSE(payload.empty()) << dump(qr);
  auto qjoined = rpc_ok(*bob_.rpc, "group.qrJoin", params({{"payload", payload}}));
  ASSERT_EQ(qjoined.size(), 1u) << dump(qjoined);
  EXPECT_EQ(str(qjoined[0], "groupId"), str(qr[0], "groupId"));
  expect_same_error(bob_, "group.qrJoin", params({{"payload", "hello"}}),
                    {"group", "qr-join", "--payload", "hello"}, 2);
  expect_same_error(bob_, "group.decline", params({{"group", "Nope"}}),
                    {"group", "decline", "Nope"}, -1);
}

TEST_F(CliDaemonMethods, FailuresCarryTheCliExitCodeAndReason) {
  expect_same_error(alice_, "send", params({{"friend", "Nobody"}, {"text", "x"}}),
                    {"send", "Nobody", "x"}, 6);
  expect_same_error(alice_, "send", params({{"friend", "Bob"}, {"text", "   "}}),
                    {"send", "Bob", "   "}, 2);
  expect_same_error(alice_, "cancel", params({{"messageId", "12345"}}), {"cancel", "12345"}, 6);
  expect_same_error(alice_, "decline", params({{"id", std::string(64, 'a')}}),
                    {"decline", std::string(64, 'a')}, -1);
  expect_same_error(alice_, "react",
                    params({{"friend", "Bob"}, {"messageId", "1"}, {"emoji", "nonsense"}}),
                    {"react", "Bob", "1", "nonsense"}, 2);
}

TEST_F(CliDaemonMethods, CancelDropsAQueuedSend) {
  const unsigned short port = server_->port();
  ASSERT_EQ(server_->terminate(), 0);
  server_.reset();
  auto queued = alice_.rpc->call("send", params({{"friend", "Bob"}, {"text", "later"}}));
  ASSERT_TRUE(queued.is_error()) << queued.describe();
  EXPECT_EQ(queued.code, 4) << queued.describe();
  auto pending = rpc_ok(*alice_.rpc, "pending");
  ASSERT_EQ(pending.size(), 1u) << dump(pending);
  const std::string id = str(pending[0], "messageId");
  auto cancelled = rpc_ok(*alice_.rpc, "cancel", params({{"messageId", id}}));
  ASSERT_EQ(cancelled.size(), 1u) << dump(cancelled);
  EXPECT_EQ(str(cancelled[0], "event"), "cancelled");
  EXPECT_TRUE(rpc_ok(*alice_.rpc, "pending").empty());
  server_ =
      std::make_unique<ServerProcess>(ServerProcess::Options{dir_->path() / "relay", {}, port});
}

TEST_F(CliDaemonMethods, MalformedRequestsGetJsonRpcErrorsAndTheConnectionGoesOn) {
  DaemonClient& c = *alice_.rpc;
  auto expect_code = [&](const std::string& line, const boost::json::value& id, int code) {
    ASSERT_TRUE(c.send_line(line));
    auto r = c.wait_reply_value(id);
    ASSERT_TRUE(r.is_error()) << line << " -> " << r.describe();
    EXPECT_EQ(r.code, code) << line << " -> " << r.describe();
    EXPECT_FALSE(r.message.empty()) << line;
    EXPECT_EQ(str(r.raw, "jsonrpc"), "2.0") << r.describe();
  };
  expect_code("this is not json", nullptr, -32700);
  expect_code(R"({"jsonrpc":"2.0","id":1,"method":"id")", nullptr, -32700);
  expect_code(R"({"jsonrpc":"2.0","id":2})", 2, -32600);
  expect_code(R"({"jsonrpc":"1.0","id":3,"method":"id"})", 3, -32600);
  expect_code(R"({"jsonrpc":"2.0","id":4,"method":7})", 4, -32600);
  expect_code(R"([])", nullptr, -32600);
  expect_code(R"({"jsonrpc":"2.0","id":5,"method":"fly"})", 5, -32601);
  for (const char* not_methods : {"init", "passwd", "listen"}) {
    expect_code(std::string(R"({"jsonrpc":"2.0","id":"nm","method":")") + not_methods + "\"}", "nm",
                -32601);
  }
  expect_code(R"({"jsonrpc":"2.0","id":6,"method":"send","params":{"friend":"Bob"}})", 6, -32602);
  expect_code(
      R"({"jsonrpc":"2.0","id":7,"method":"send","params":{"friend":"Bob","text":"x","colour":"red"}})",
      7, -32602);
  expect_code(R"({"jsonrpc":"2.0","id":8,"method":"send","params":{"friend":"Bob","text":42}})", 8,
              -32602);
  expect_code(
      R"({"jsonrpc":"2.0","id":9,"method":"history","params":{"chat":"Bob","limit":"many"}})", 9,
      -32602);
  expect_code(R"({"jsonrpc":"2.0","id":10,"method":"send","params":["Bob","x"]})", 10, -32602);
  // Nothing was sent by any of them.
  EXPECT_TRUE(rpc_ok(c, "history", params({{"chat", "Bob"}})).empty());

  // String ids come back as strings; a batch gets a batch.
  auto r = c.call("id");
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_TRUE(c.send_line(R"([{"jsonrpc":"2.0","id":"a","method":"id"},)"
                          R"({"jsonrpc":"2.0","id":"b","method":"fly"}])"));
  auto batch = c.next_raw();
  ASSERT_TRUE(batch && batch->is_array()) << (batch ? boost::json::serialize(*batch) : "none");
  ASSERT_EQ(batch->as_array().size(), 2u) << boost::json::serialize(*batch);
  std::map<std::string, boost::json::object> by_id;
  for (const auto& v : batch->as_array())
    by_id[str(v.as_object(), "id")] = v.as_object();
  ASSERT_TRUE(by_id.count("a") && by_id.count("b")) << boost::json::serialize(*batch);
  EXPECT_EQ(by_id["a"].at("result"), r.result);
  EXPECT_EQ(by_id["b"].at("error").as_object().at("code").as_int64(), -32601);
  // A notification (no id) is run but not answered; the next call still is.
  ASSERT_TRUE(c.send_line(R"({"jsonrpc":"2.0","method":"id"})"));
  EXPECT_TRUE(c.call("friends").ok());
  EXPECT_FALSE(c.next_raw(std::chrono::milliseconds(300)).has_value());
}

}  // namespace
}  // namespace secchats::testing
