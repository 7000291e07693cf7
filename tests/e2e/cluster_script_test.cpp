// `scripts/cluster` (make cluster) end to end: PostgreSQL, two relays and HAProxy come up in a
// temporary state directory on free ports, two people chat with the real `secchats` CLI
// through the printed URL, both relays carried some of that traffic (their /varz), and `down`
// leaves no process behind and keeps the data until `down --wipe`.
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "e2e_fixture.hpp"
#include "support/http_client.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

struct ScriptResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs `scripts/cluster ARGS` with the freshly built binaries and waits for it.
ScriptResult cluster_script(const std::string& args) {
  const std::string command = "SECCHATS_BIN_DIR=" + quoted(SECCHATS_BIN_DIR) + " " +
                              quoted(std::string(SECCHATS_SOURCE_DIR) + "/scripts/cluster") + " " +
                              args + " 2>&1";
  ScriptResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// KEY=VALUE lines of the state directory's cluster.env.
std::map<std::string, std::string> read_env(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return out;
}

int first_number(const fs::path& file) {
  std::ifstream in(file);
  int value = 0;
  in >> value;
  return value;
}

// A process counts as running until it is gone or a zombie (the processes the script starts
// are reparented to whoever reaps orphans here, maybe late).
bool running(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

// Requests a relay served for clients: every endpoint's count but /varz and the health checks.
std::int64_t client_requests(unsigned short port) {
  HttpClient http(port);
  const HttpResult r = http.get("/varz");
  EXPECT_EQ(r.status, 200) << r.body;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(r.body, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("requests")) {
    ADD_FAILURE() << "no requests in /varz: " << r.body;
    return 0;
  }
  std::int64_t total = 0;
  for (const auto& [name, count] : doc.at("requests").as_object()) {
    if (name != "/varz" && name != "/healthz" && name != "other" && count.is_int64()) {
      total += count.as_int64();
    }
  }
  return total;
}

class ClusterScript : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("secchats-cluster");
    // Under root PostgreSQL runs as `nobody`, who must reach the state directory.
    ::chmod(dir_->path().c_str(), 0755);
    state_ = dir_->path() / "state";
  }
  void TearDown() override {
    // Whatever happened, leave nothing running.
    cluster_script("down --wipe --dir " + quoted(state_.string()));
  }

  std::vector<boost::json::object> ok(const CliUser& u, const std::vector<std::string>& args) {
    auto r = u.run(args);
    EXPECT_EQ(r.exit_code, 0) << args.front() << ": " << r.err;
    return json_lines(r);
  }

  std::unique_ptr<TempDir> dir_;
  fs::path state_;
};

TEST_F(ClusterScript, UpChatThroughTheBalancerOnBothRelaysDownLeavesNothingRunning) {
  const std::string dir_arg = "--dir " + quoted(state_.string());
  ScriptResult up = cluster_script("up --port 0 " + dir_arg);
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(up.output, match, std::regex(R"(URL: +(http://127\.0\.0\.1:([0-9]+)))")))
      << up.output;
  const std::string url = match[1];
  EXPECT_NE(up.output.find("scripts/cluster down"), std::string::npos) << up.output;

  // A second `up` changes nothing and says so; status sees every part running.
  ScriptResult again = cluster_script("up " + dir_arg);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already running"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find(url), std::string::npos) << again.output;
  ScriptResult status = cluster_script("status " + dir_arg);
  EXPECT_EQ(status.exit_code, 0) << status.output;

  auto env = read_env(state_ / "cluster.env");
  const auto relay_a = static_cast<unsigned short>(std::stoi(env["RELAY_A_PORT"]));
  const auto relay_b = static_cast<unsigned short>(std::stoi(env["RELAY_B_PORT"]));
  const std::array<int, 4> pids = {
      first_number(state_ / "relay-a.pid"), first_number(state_ / "relay-b.pid"),
      first_number(state_ / "haproxy.pid"), first_number(state_ / "postgres/data/postmaster.pid")};
  for (int pid : pids)
    EXPECT_TRUE(running(pid)) << pid;
  const std::int64_t a_before = client_requests(relay_a);
  const std::int64_t b_before = client_requests(relay_b);

  // Two people, every command a new connection through HAProxy: init, friend request,
  // accept, messages both ways.
  auto make_user = [&](const std::string& nick, std::string* id) {
    CliUser user(dir_->path() / nick, "correct horse " + nick);
    auto r = user.run({"init", "--server", url, "--nick", nick});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    *id = str(only_json(r), "userId");
    return user;
  };
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  ASSERT_FALSE(alice_id.empty());
  ASSERT_FALSE(bob_id.empty());
  ok(alice, {"add", bob_id});
  bool asked = false;
  for (const auto& e : ok(bob, {"sync"}))
    asked |= str(e, "event") == "friendRequest" && str(e, "userId") == alice_id;
  ASSERT_TRUE(asked) << "Bob never saw Alice's friend request";
  ok(bob, {"accept", alice_id});
  bool accepted = false;
  for (const auto& e : ok(alice, {"sync"}))
    accepted |= str(e, "event") == "friendAccepted" && str(e, "userId") == bob_id;
  ASSERT_TRUE(accepted) << "Alice never saw Bob accept";

  auto texts = [](const std::vector<boost::json::object>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (str(e, "event") == "message") out.push_back(str(e, "text"));
    return out;
  };
  ok(alice, {"send", bob_id, "Hello Bob, through two relays"});
  ok(alice, {"send", bob_id, "and a second one"});
  EXPECT_EQ(texts(ok(bob, {"sync"})),
            (std::vector<std::string>{"Hello Bob, through two relays", "and a second one"}));
  ok(bob, {"send", alice_id, "Hi Alice"});
  EXPECT_EQ(texts(ok(alice, {"sync"})), std::vector<std::string>{"Hi Alice"});
  EXPECT_TRUE(texts(ok(bob, {"sync"})).empty()) << "a second sync repeated messages";

  // Round robin: each relay served some of it.
  EXPECT_GT(client_requests(relay_a), a_before) << "relay-a served no client request";
  EXPECT_GT(client_requests(relay_b), b_before) << "relay-b served no client request";

  // down stops every process it started and keeps the data.
  ScriptResult down = cluster_script("down " + dir_arg);
  EXPECT_EQ(down.exit_code, 0) << down.output;
  for (int pid : pids)
    EXPECT_FALSE(running(pid)) << "pid " << pid << " still runs after down";
  EXPECT_TRUE(fs::exists(state_ / "postgres/data/PG_VERSION"));
  status = cluster_script("status " + dir_arg);
  EXPECT_EQ(status.exit_code, 3) << status.output;

  ScriptResult wipe = cluster_script("down --wipe " + dir_arg);
  EXPECT_EQ(wipe.exit_code, 0) << wipe.output;
  EXPECT_FALSE(fs::exists(state_));
}

TEST_F(ClusterScript, ClearErrorsForBadArgumentsAndABusyPort) {
  ScriptResult bad = cluster_script("sideways");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("usage:"), std::string::npos) << bad.output;

  ScriptResult port = cluster_script("up --port 70000 --dir " + quoted(state_.string()));
  EXPECT_EQ(port.exit_code, 1) << port.output;
  EXPECT_NE(port.output.find("not a port number"), std::string::npos) << port.output;

  // A relay already listens where the balancer should: refused before anything starts.
  ServerProcess other(ServerProcess::Options{dir_->path() / "other-relay", {}});
  ScriptResult busy = cluster_script("up --port " + std::to_string(other.port()) + " --dir " +
                                     quoted(state_.string()));
  EXPECT_EQ(busy.exit_code, 1) << busy.output;
  EXPECT_NE(busy.output.find("port " + std::to_string(other.port()) + " is busy"),
            std::string::npos)
      << busy.output;
  EXPECT_FALSE(fs::exists(state_ / "postgres")) << "started PostgreSQL despite the busy port";
  // No choice of ports is kept from a refused first `up`: the next one picks again.
  EXPECT_FALSE(fs::exists(state_ / "cluster.env")) << "the busy port would be reused";
}

}  // namespace
}  // namespace secchats::testing
