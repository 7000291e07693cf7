// The example bot of docs/cli.md ("The daemon: one unlock for scripts and bots") is the file
// docs/examples/echo_bot.py; this runs that very file against Bob's daemon and checks that
// Alice gets the echo, so the documented example cannot rot.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

// python3 SCRIPT SOCKET as a child, stderr into a file; killed (SIGKILL) on destruction.
class PythonBot {
 public:
  PythonBot(const fs::path& script, const fs::path& socket, const fs::path& log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
      }
      execlp("python3", "python3", script.c_str(), socket.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PythonBot() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  PythonBot(const PythonBot&) = delete;
  PythonBot& operator=(const PythonBot&) = delete;
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CliDaemonBot : public DaemonE2eTest {};

TEST_F(CliDaemonBot, TheDocumentedEchoBotAnswersATextMessage) {
  const fs::path script = fs::path(SECCHATS_SOURCE_DIR) / "docs/examples/echo_bot.py";
  ASSERT_TRUE(fs::exists(script));
  // The doc shows the same file's lines.
  const std::string doc = read_file(fs::path(SECCHATS_SOURCE_DIR) / "docs/cli.md");
  EXPECT_NE(doc.find("docs/examples/echo_bot.py"), std::string::npos);
  EXPECT_NE(
      doc.find(R"(request(n, "send", friend=event["fromUserId"], text="echo: " + event["text"]))"),
      std::string::npos)
      << "docs/cli.md no longer shows the bot's answering line";

  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  auto sub = alice.daemon->connect();
  ASSERT_TRUE(sub);
  ASSERT_TRUE(sub->call("subscribe").ok());

  const fs::path log = dir_->path() / "bot.log";
  PythonBot bot(script, bob.daemon->socket(), log);
  // The bot answers what arrives after it subscribed, and what waited in the store before.
  rpc_ok(*alice.rpc, "send", params({{"friend", "Bob"}, {"text", "ping"}}));
  auto events = events_until(*sub, [](const std::vector<boost::json::object>& all) {
    auto t = texts_of(all);
    return std::find(t.begin(), t.end(), "echo: ping") != t.end();
  });
  auto texts = texts_of(events);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "echo: ping"), texts.end())
      << dump(events) << "bot said: " << read_file(log);
  for (const auto& e : events) {
    if (str(e, "text") == "echo: ping") {
      EXPECT_EQ(str(e, "fromUserId"), bob.id);
    }
  }
  EXPECT_TRUE(bot.running()) << read_file(log);
}

}  // namespace
}  // namespace secchats::testing
