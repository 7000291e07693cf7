// A relay on a random loopback port plus CLI users with their own homes, for journey tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "support/cli_process.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {

// Parses every stdout line as a JSON object (the --json contract); fails the test otherwise.
std::vector<boost::json::object> json_lines(const CliResult& r);
// The single JSON object a command printed.
boost::json::object only_json(const CliResult& r);
std::string str(const boost::json::object& o, const char* key);
// The stderr of a --json transfer stopped by Ctrl-C (docs/cli.md "Attachments: progress and
// Ctrl-C"): exactly one line, saying where it stopped and how to resume, with exit code 130.
void expect_ctrl_c_stop_line(const std::string& err);

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates a user with `init` and returns it; `id` receives the new user id.
  CliUser make_user(const std::string& nick, std::string* id);
  // Makes a and b friends through add / sync / accept / sync.
  void befriend(const CliUser& a, const std::string& a_id, const CliUser& b,
                const std::string& b_id);
  // Runs a command that must succeed; returns its JSON lines.
  std::vector<boost::json::object> ok(const CliUser& u, const std::vector<std::string>& args);
  // Restarts the relay on the same port and data dir (kill -9 when `crash`).
  void restart_server(bool crash);
  // The relay's flags beyond data dir and port, at start and at every restart.
  virtual std::vector<std::string> server_args() const { return {}; }
  // Writes a valid 16×16 PNG padded to `size` bytes (at least 1 KiB) with an ancillary chunk.
  std::string write_png(const std::string& name, std::size_t size);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace secchats::testing
