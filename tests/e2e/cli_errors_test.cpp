// Bad input gets one clear line on stderr, a distinct exit code, and changes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "e2e_fixture.hpp"
#include "support/png_builder.hpp"

namespace secchats::testing {
namespace {

class CliErrors : public E2eTest {
 protected:
  // Expects failure with `code`, nothing on stdout and exactly one line on stderr.
  void expect_failure(const CliUser& u, const std::vector<std::string>& args, int code,
                      const std::string& message_part, bool json = false) {
    auto r = u.run(args, json);
    EXPECT_EQ(r.exit_code, code) << args.front() << ": " << r.err;
    EXPECT_EQ(r.out, "") << args.front();
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    EXPECT_NE(r.err.find(message_part), std::string::npos) << r.err;
  }
};

TEST_F(CliErrors, EachFailureHasItsExitCodeAndOneLine) {
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);

  CliUser nobody(dir_->path() / "nobody", "pw");
  expect_failure(nobody, {"friends"}, 6, "no account");
  CliUser wrong(alice.home(), "not the password");
  expect_failure(wrong, {"friends"}, 3, "wrong password");
  expect_failure(wrong, {"friends"}, 3, "\"exitCode\":3", /*json=*/true);

  expect_failure(alice, {"send"}, 2, "");        // missing arguments
  expect_failure(alice, {"frobnicate"}, 2, "");  // unknown command
  expect_failure(alice, {"add", "not-hex!"}, 2, "not a Secure Chats ID");
  expect_failure(alice, {"add", alice_id}, 2, "your own ID");
  expect_failure(alice, {"add", std::string(32, 'a')}, 6, "does not exist on this server");
  expect_failure(alice, {"send", "Nobody", "hi"}, 6, "no friend");
  expect_failure(alice, {"accept", bob_id}, 6, "no friend request");
  expect_failure(alice, {"group", "send", "nope", "hi"}, 6, "no group");
  expect_failure(alice, {"group", "qr-join", "--payload", "hello"}, 2, "not a Secure Chats group");
  expect_failure(alice, {"group", "qr-join"}, 2, "exactly one of");
  expect_failure(alice, {"init", "--server", server_->base_url(), "--nick", "Again"}, 2,
                 "already exists");
  const std::string not_png = write_png("x.txt", 1024);
  { std::ofstream(not_png) << "plain text"; }

  befriend(alice, alice_id, bob, bob_id);
  expect_failure(alice, {"send", bob_id, ""}, 2, "empty message");
  expect_failure(alice, {"send-image", bob_id, not_png}, 2,
                 not_png + ": not an image this client can read (JPEG, PNG, WebP, GIF or HEIC)");
  expect_failure(alice, {"send-image", bob_id, "/no/such/file.png"}, 2, "cannot read");
  // Over 64 MiB: refused after reading 64 MiB + 1 byte (a sparse file: nothing on disk).
  const std::string huge = (dir_->path() / "huge.jpg").string();
  { std::ofstream(huge, std::ios::binary) << "\xFF\xD8\xFF"; }
  std::filesystem::resize_file(huge, 64ull * 1024 * 1024 + 1);
  expect_failure(alice, {"send-image", bob_id, huge}, 2, huge + ": photo larger than 64 MiB");
  expect_failure(alice, {"react", bob_id, "12", "banana"}, 2, "unknown reaction");
  expect_failure(alice, {"react", bob_id, "twelve", "heart"}, 2, "MESSAGE_ID");
  expect_failure(alice, {"react", bob_id, "12", "heart"}, 6, "no such message");

  // None of that changed anything: Bob got no messages, Alice's history is empty.
  EXPECT_TRUE(ok(bob, {"sync"}).empty());
  EXPECT_TRUE(ok(alice, {"history", bob_id}).empty());

  // A relay that is not there: network exit code.
  CliUser lost(dir_->path() / "lost", "pw");
  expect_failure(lost, {"init", "--server", "http://127.0.0.1:1", "--nick", "Lost"}, 4,
                 "cannot reach");
  expect_failure(lost, {"init", "--server", "ftp://example.org", "--nick", "Lost"}, 2, "http");
  EXPECT_FALSE(std::filesystem::exists(lost.home() / "store.db"));
}

// Issue 10 item 4: a PNG cut short or claiming 60000×60000 pixels used to be sent; a directory
// gave "internal error: basic_filebuf...". Each bad file is refused with one line, exit 2, and
// nothing reaches the friend or the group.
TEST_F(CliErrors, BadFilesAndImagesAreRefusedAndNothingIsSent) {
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  befriend(alice, alice_id, bob, bob_id);
  ok(alice, {"group", "create", "Picnic"});
  ok(alice, {"group", "invite", "Picnic", bob_id});
  ok(bob, {"sync"});
  ok(bob, {"group", "join", "Picnic"});
  ok(alice, {"sync"});
  ok(bob, {"sync"});

  const auto write = [&](const std::string& name, const std::string& bytes) {
    const std::string path = (dir_->path() / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  };
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  const std::string whole = make_png(64, 64);
  const std::string cut = write("cut.png", whole.substr(0, 8 + 4));  // just after the signature
  const std::string half = write("half.png", whole.substr(0, whole.size() / 2));
  const std::string bomb = write("bomb.png", signature + png_ihdr(60000, 60000) +
                                                 png_chunk("IDAT", "x") + png_chunk("IEND", ""));
  const std::string empty = write("empty.png", "");
  const std::string directory = (dir_->path() / "a-directory").string();
  std::filesystem::create_directories(directory);
  const std::string missing = (dir_->path() / "missing.png").string();
  const std::string unreadable = write("unreadable.png", whole);
  ::chmod(unreadable.c_str(), 0);
  const bool root = ::geteuid() == 0;  // root reads it anyway

  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"send-image", bob_id}, {"group", "send-image", "Picnic"}}) {
    const auto with = [&](const std::string& file) {
      auto args = command;
      args.push_back(file);
      return args;
    };
    expect_failure(alice, with(cut), 2, cut + ": image is corrupt or cut short");
    expect_failure(alice, with(half), 2, half + ": image is corrupt or cut short");
    expect_failure(alice, with(bomb), 2, bomb + ": image is 60000×60000 pixels");
    expect_failure(alice, with(directory), 2, "cannot read " + directory + ": is a directory");
    expect_failure(alice, with(missing), 2,
                   "cannot read " + missing + ": No such file or directory");
    expect_failure(alice, with(empty), 2, "cannot read " + empty + ": the file is empty");
    if (!root) {
      expect_failure(alice, with(unreadable), 2,
                     "cannot read " + unreadable + ": Permission denied");
    }
    expect_failure(alice, with(directory), 2, "\"exitCode\":2", /*json=*/true);
  }
  // The other file arguments get the same checks.
  for (const auto& [file, reason] :
       std::vector<std::pair<std::string, std::string>>{{directory, "is a directory"},
                                                        {missing, "No such file or directory"},
                                                        {empty, "the file is empty"}}) {
    expect_failure(alice, {"verify", bob_id, "--scan", file}, 2,
                   "cannot read " + file + ": " + reason);
    expect_failure(alice, {"group", "qr-join", "--png", file}, 2,
                   "cannot read " + file + ": " + reason);
    CliUser by_file(alice.home(), "");  // no $SECCHATS_PASSWORD: --password-file is used
    expect_failure(by_file, {"--password-file", file, "friends"}, 2,
                   "cannot read " + file + ": " + reason);
  }
  expect_failure(alice, {"history", bob_id, "--save-images", cut}, 2, "cannot create " + cut);
  expect_failure(alice, {"verify", bob_id, "--qr-out", directory}, 2, "is a directory");
  // A file name with a line break still gives one line.
  expect_failure(alice, {"send-image", bob_id, missing + "\nsecchats: sent"}, 2,
                 "missing.png\\nsecchats: sent: No such file");

  // Nothing was sent: Bob's sync brings nothing, Alice's chats hold nothing.
  EXPECT_TRUE(ok(bob, {"sync"}).empty());
  EXPECT_TRUE(ok(alice, {"history", bob_id}).empty());
  EXPECT_TRUE(ok(alice, {"history", "Picnic"}).empty());
  // A whole PNG still goes through both ways.
  const std::string good = write("good.png", whole);
  ok(alice, {"send-image", bob_id, good});
  ok(alice, {"group", "send-image", "Picnic", good});
  EXPECT_EQ(ok(bob, {"sync"}).size(), 2u);
}

TEST_F(CliErrors, PasswdRewrapsAndAWrongOldPasswordChangesNothing) {
  std::string alice_id;
  CliUser alice = make_user("Alice", &alice_id);
  auto r = alice.run({"passwd"}, true, "", {{"SECCHATS_NEW_PASSWORD", "new secret"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(str(only_json(r), "event"), "passwordChanged");
  expect_failure(alice, {"id"}, 3, "wrong password");
  CliUser renewed(alice.home(), "new secret");
  EXPECT_EQ(str(only_json(renewed.run({"id"})), "userId"), alice_id);
  // Wrong current password: nothing changes, the new one still works.
  r = alice.run({"passwd"}, true, "", {{"SECCHATS_NEW_PASSWORD", "third"}});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(str(only_json(renewed.run({"id"})), "userId"), alice_id);
  // No new password anywhere (no terminal either): the error names where the NEW one comes
  // from, not the current password's sources, which were fine.
  r = renewed.run({"passwd"}, false);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("SECCHATS_NEW_PASSWORD"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--new-password-file"), std::string::npos) << r.err;
  EXPECT_EQ(str(only_json(renewed.run({"id"})), "userId"), alice_id);
}

}  // namespace
}  // namespace secchats::testing
