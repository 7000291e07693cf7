// The daemon's connections (docs/cli.md, "Wire format" and "Events"): a peer that does not
// read its answers stalls nobody else (every write on the I/O thread is asynchronous), and a
// `secchats listen` served by the daemon ends once nobody reads its stdout, as direct mode's
// does (`listen | head -n 1`), leaving later events for the next subscriber.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "support/shell_text.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

// Runs SCRIPT with bash; "$SC_BIN" is the secchats binary and "$SC_HOME" the home of U. No
// password is passed: only the daemon can serve the commands.
int run_shell(const CliUser& u, const std::string& script) {
  const std::string command = "SC_BIN=" + shell_quote(CliUser::binary().string()) +
                              " SC_HOME=" + shell_quote(u.home().string()) + " bash -c " +
                              shell_quote(script);
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool wait_for_text(const fs::path& p, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (read_text(p).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return !read_text(p).empty();
}

class CliDaemonConnections : public DaemonE2eTest {};

TEST_F(CliDaemonConnections, APeerThatDoesNotReadStallsNobodyElse) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  auto stalled = alice.daemon->connect();
  ASSERT_TRUE(stalled);
  // Twenty thousand lines that each get a -32700 answer on the I/O thread: about 1.4 MB of
  // answers, far more than the socket holds, and this peer reads none of them yet.
  std::string garbage;
  for (int i = 0; i < 20000; ++i)
    garbage += "not json\n";
  garbage.pop_back();
  ASSERT_TRUE(stalled->send_line(garbage));

  // Another connection is answered while that one's writes wait.
  auto other = alice.daemon->connect();
  ASSERT_TRUE(other);
  for (int i = 0; i < 3; ++i) {
    auto r = other->call("id", {}, std::chrono::seconds(8));
    ASSERT_TRUE(r.ok()) << r.describe();
  }
  // The stalled peer still gets its answers once it reads.
  auto first = stalled->wait_reply_value(nullptr, std::chrono::seconds(8));
  ASSERT_TRUE(first.is_error()) << first.describe();
  EXPECT_EQ(first.code, -32700);
}

TEST_F(CliDaemonConnections, ListenThroughTheDaemonEndsOnceItsReaderIsGone) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  rpc_ok(*alice.rpc, "send", params({{"friend", bob.id}, {"text", "one"}}));

  const fs::path out = dir_->path() / "head.out";
  const fs::path status = dir_->path() / "listen.status";
  const fs::path pid = dir_->path() / "listen.pid";
  const std::string script =
      R"({ "$SC_BIN" --home "$SC_HOME" --json listen 2>/dev/null & echo $! >)" +
      shell_quote(pid.string()) + "; wait $!; echo $? >" + shell_quote(status.string()) +
      "; } | head -n 1 >" + shell_quote(out.string());
  std::thread pipeline([&] { run_shell(*bob.cli, script); });
  EXPECT_TRUE(wait_for_text(out, std::chrono::seconds(30)));
  EXPECT_NE(read_text(out).find("\"one\""), std::string::npos) << read_text(out);
  // head is gone: listen notices without another event and fails, like direct mode.
  const bool ended = wait_for_text(status, std::chrono::seconds(20));
  if (!ended) {
    const std::string text = read_text(pid);
    const pid_t listen_pid = text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
    if (listen_pid > 0) ::kill(listen_pid, SIGTERM);  // so that the test can finish
  }
  pipeline.join();
  EXPECT_TRUE(ended) << "listen through the daemon kept running after head ended";
  EXPECT_EQ(read_text(status), "1\n");

  // Later events wait in the daemon for the next reader.
  rpc_ok(*alice.rpc, "send", params({{"friend", bob.id}, {"text", "two"}}));
  auto got = sync_until(
      *bob.rpc, [](const std::vector<boost::json::object>& all) { return !texts_of(all).empty(); });
  EXPECT_EQ(texts_of(got), std::vector<std::string>{"two"}) << dump(got);
}

}  // namespace
}  // namespace secchats::testing
