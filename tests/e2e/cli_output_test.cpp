// What the CLI prints is what was sent (issue 10 item 4): a peer's text cannot fake lines,
// move the cursor or reorder the line; two friends with one nickname stay apart in every
// output; --json ids survive jq and come back to `react`.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "e2e_fixture.hpp"
#include "support/v1_peer.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class CliOutput : public E2eTest {
 protected:
  // `peer` asks `cli` to be friends; `cli` accepts; the peer completes.
  void befriend_peer(V1Peer& peer, const CliUser& cli, const std::string& cli_id) {
    ASSERT_EQ(peer.add_friend(cli_id), 200);
    ok(cli, {"sync"});
    ok(cli, {"accept", peer.user_id()});
    peer.poll();
    ASSERT_TRUE(peer.is_friend(cli_id));
  }

  // Human output must not contain a byte a terminal acts on, except the line feed.
  static void expect_terminal_safe(const std::string& out) {
    for (char c : out) {
      const auto b = static_cast<unsigned char>(c);
      EXPECT_FALSE((b < 0x20 && b != '\n') || b == 0x7f) << "control byte " << int(b) << " in:\n"
                                                         << out;
    }
    EXPECT_FALSE(contains(out, "\u202e")) << out;
    EXPECT_FALSE(contains(out, "\xc2\x9b")) << out;  // C1 CSI
  }
};

TEST_F(CliOutput, PeerTextIsShownAsSentAndTwoBobsStayApart) {
  std::string carol_id;
  CliUser carol = make_user("Carol", &carol_id);
  V1Peer bob(server_->port(), "Bob");
  V1Peer other_bob(server_->port(), "Bob");
  bob.register_account();
  other_bob.register_account();
  const std::string bob_tag = bob.user_id().substr(0, 8);
  const std::string other_tag = other_bob.user_id().substr(0, 8);
  // A third peer names itself after Bob's true label.
  V1Peer mimic(server_->port(), "Bob (" + bob_tag + ")");
  mimic.register_account();
  const std::string mimic_tag = mimic.user_id().substr(0, 8);
  for (V1Peer* p : {&bob, &other_bob, &mimic})
    befriend_peer(*p, carol, carol_id);

  const std::string escapes = "look \x1b[2J\x1b]0;pwned\x07 here";
  const std::string fake_line = "first\r\n[09:00] Bob (" + other_tag + "): send me the code\nlast";
  const std::string bidi = "invoice \u202etxt.exe";
  const std::string broken = "caf\xe9 and the rest";
  const std::string only_controls = "\x1b\x07\x08";
  for (const std::string* text : {&escapes, &fake_line, &bidi, &broken, &only_controls})
    bob.send_text(carol_id, *text);
  other_bob.send_text(carol_id, "hello from the other Bob");
  mimic.send_text(carol_id, "trust me, I am Bob");

  auto r = carol.run({"sync"}, /*json=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& out = r.out;
  expect_terminal_safe(out);
  // The library delivers what Bob typed (invalid UTF-8 repaired, nothing after it lost, control
  // characters kept), and the human lines below show exactly that, escaped.
  auto history = ok(carol, {"history", bob.user_id()});
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(str(history[0], "text"), escapes);
  EXPECT_EQ(str(history[3], "text"), "caf\xef\xbf\xbd and the rest");
  EXPECT_EQ(str(history[4], "text"), only_controls);

  // Each message on its own line, labelled with the sender's true id.
  const std::string bob_label = "] Bob (" + bob_tag + "): ";
  EXPECT_EQ(lines_containing(out, bob_label).size(), 5u) << out;
  EXPECT_TRUE(contains(out, bob_label + "invoice \\u202etxt.exe  #")) << out;
  EXPECT_TRUE(contains(out, bob_label + "look \\x1b[2J\\x1b]0;pwned\\x07 here  #")) << out;
  EXPECT_TRUE(contains(out, bob_label + "\\x1b\\x07\\x08  #")) << out;
  // Invalid UTF-8 loses nothing after it.
  EXPECT_TRUE(contains(out, bob_label + "caf\xef\xbf\xbd and the rest  #")) << out;
  // The fake line is indented as a continuation of Bob's message, not a message of its own.
  EXPECT_TRUE(contains(out, bob_label + "first\n    | [09:00] Bob (" + other_tag +
                                "): send me the code\n    | last  #"))
      << out;
  for (const auto& line : lines_containing(out, "send me the code"))
    EXPECT_EQ(line.rfind("    | ", 0), 0u) << line;
  // Same nickname, different friends: different labels; the mimic's name is quoted.
  EXPECT_TRUE(contains(out, "] Bob (" + other_tag + "): hello from the other Bob")) << out;
  EXPECT_TRUE(contains(out, "] \"Bob (" + bob_tag + ")\" (" + mimic_tag + "): trust me")) << out;

  // history shows the same, from the store.
  r = carol.run({"history", bob.user_id()}, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_terminal_safe(r.out);
  EXPECT_EQ(lines_containing(r.out, bob_label).size(), 5u) << r.out;
  EXPECT_TRUE(contains(r.out, bob_label + "invoice \\u202etxt.exe  #")) << r.out;
  EXPECT_TRUE(contains(r.out, bob_label + "first\n    | [09:00] Bob (")) << r.out;

  // friends: three "Bob"s, three different labels.
  r = carol.run({"friends"}, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_containing(r.out, "Bob (" + bob_tag + ")  " + bob.user_id()).size(), 1u) << r.out;
  EXPECT_EQ(lines_containing(r.out, "Bob (" + other_tag + ")  " + other_bob.user_id()).size(), 1u)
      << r.out;
  EXPECT_EQ(lines_containing(r.out, "\"Bob (" + bob_tag + ")\" (" + mimic_tag + ")  ").size(), 1u)
      << r.out;

  // --json keeps every line one JSON object, and the bidi control as sent.
  EXPECT_EQ(str(history[2], "text"), bidi);
}

TEST_F(CliOutput, GroupInvitesFromTwoBobsStayApart) {
  std::string carol_id, bob_id, other_id;
  CliUser carol = make_user("Carol", &carol_id);
  CliUser bob = make_user("Bob", &bob_id);
  CliUser other_bob(dir_->path() / "Bob2", "correct horse Bob2");
  auto init = other_bob.run({"init", "--server", server_->base_url(), "--nick", "Bob"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  other_id = str(only_json(init), "userId");
  befriend(bob, bob_id, carol, carol_id);
  befriend(other_bob, other_id, carol, carol_id);
  // A group name that borrows the "name (id)" form: shown quoted, with its quotes escaped.
  const std::string group_name = "Bob's \"party\" (" + carol_id.substr(0, 8) + ")";
  // Carol learns nicknames from messages.
  for (const CliUser* u : {&bob, &other_bob})
    ok(*u, {"send", carol_id, "hi, it's Bob"});
  ok(carol, {"sync"});
  for (const CliUser* u : {&bob, &other_bob}) {
    ok(*u, {"group", "create", group_name});
    ok(*u, {"group", "invite", group_name, carol_id});
  }

  auto r = carol.run({"sync"}, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_terminal_safe(r.out);
  const std::string name = "\"Bob's \\\"party\\\" (" + carol_id.substr(0, 8) + ")\"";
  EXPECT_EQ(lines_containing(r.out, "invited to group " + name).size(), 2u) << r.out;
  EXPECT_EQ(lines_containing(r.out, "by Bob (" + bob_id.substr(0, 8) + ")").size(), 1u) << r.out;
  EXPECT_EQ(lines_containing(r.out, "by Bob (" + other_id.substr(0, 8) + ")").size(), 1u) << r.out;

  r = carol.run({"group", "invites"}, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_containing(r.out, name + "  ").size(), 2u) << r.out;
  EXPECT_EQ(lines_containing(r.out, "from Bob (" + bob_id.substr(0, 8) + ")").size(), 1u) << r.out;
  EXPECT_EQ(lines_containing(r.out, "from Bob (" + other_id.substr(0, 8) + ")").size(), 1u)
      << r.out;
}

// Runs `jq -r FILTER` on `json` and returns its output without the final newline.
std::string jq(const fs::path& dir, const std::string& json, const std::string& filter) {
  const fs::path in = dir / "jq-in.json";
  const fs::path out = dir / "jq-out.txt";
  { std::ofstream(in) << json; }
  const std::string command =
      "jq -r '" + filter + "' < '" + in.string() + "' > '" + out.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream f(out);
  std::string text{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

TEST_F(CliOutput, JsonIdsAreStringsThatJqReadsBackForReact) {
  std::string carol_id;
  CliUser carol = make_user("Carol", &carol_id);
  V1Peer ref(server_->port(), "Ref");
  ref.register_account();
  befriend_peer(ref, carol, carol_id);

  // A messageId above 2^53, where a double (jq 1.6, JavaScript, awk) can no longer hold it.
  protocol::Message m = ref.make_text(carol_id, "react to me");
  m.message_id = (std::int64_t{1} << 62) + 12345;  // 4611686018427400249
  ASSERT_EQ(ref.send_message(carol_id, m).status, 200);

  auto r = carol.run({"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto events = json_lines(r);
  ASSERT_EQ(events.size(), 1u) << r.out;
  const auto* id = events[0].if_contains("messageId");
  ASSERT_TRUE(id && id->is_string()) << r.out;
  EXPECT_EQ(id->as_string(), "4611686018427400249");

  const bool have_jq = std::system("command -v jq >/dev/null 2>&1") == 0;
  std::string read_back = std::string(id->as_string());
  if (have_jq) {
    read_back = jq(dir_->path(), r.out, ".messageId");
    EXPECT_EQ(read_back, "4611686018427400249");
    // What a script pastes from jq without -r: the quoted form.
    const std::string quoted = jq(dir_->path(), r.out, ".messageId | tojson");
    EXPECT_EQ(quoted, "\"4611686018427400249\"");
    auto sent = ok(carol, {"react", ref.user_id(), quoted, "heart"});
    ASSERT_EQ(sent.size(), 1u);
  } else {
    ADD_FAILURE() << "jq is not installed (scripts/install-deps installs it)";
  }
  auto sent = ok(carol, {"react", ref.user_id(), read_back, "thumb_up"});
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].at("messageId").is_string());
  ok(carol, {"react", ref.user_id(), "#" + read_back, "none"});

  auto got = ref.poll();
  ASSERT_EQ(got.messages.size(), have_jq ? 3u : 2u) << got.raw_body;
  for (const auto& reaction : got.messages) {
    EXPECT_EQ(reaction.type, "EMOJI");
    EXPECT_EQ(reaction.message.reply_to_message_id, m.message_id);
  }

  // history prints the reactions' replyTo as strings too.
  bool saw_reaction = false;
  for (const auto& o : ok(carol, {"history", ref.user_id()})) {
    EXPECT_TRUE(o.at("messageId").is_string());
    if (str(o, "type") == "EMOJI") {
      saw_reaction = true;
      EXPECT_EQ(str(o, "replyTo"), "4611686018427400249");
    }
  }
  EXPECT_TRUE(saw_reaction);
}

}  // namespace
}  // namespace secchats::testing
