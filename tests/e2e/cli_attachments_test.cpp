// Attachments end to end (issue 12, protocol-v2.md §15): the real CLI and relay, through the
// recording proxy — a 50 MB round trip, a group file, a v1 friend refused, Ctrl-C during an
// upload and a download and their resumption, the relay's limits, what the relay stores, and
// a blob changed on the relay's disk.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "secchats/crypto/hash.hpp"

#include "support/v1_peer.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kChunk = 65536;

std::uint64_t ciphertext_size(std::uint64_t size) {
  return size + 16 * std::max<std::uint64_t>(1, (size + kChunk - 1) / kChunk);
}

// 64 bytes no random file contains by chance: searched for in the relay's data dir.
const std::string& marker() {
  static const std::string m = "SECCHATS-PLAINTEXT-MARKER-7f3a9c21-if-you-can-read-this-it-leaked";
  return m;
}

// `size` pseudo-random bytes with the marker written at a few places.
void write_test_file(const fs::path& path, std::size_t size, std::uint32_t seed) {
  std::string bytes(size, '\0');
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, 8);
  }
  for (std::size_t at : {std::size_t{0}, size / 2, size - marker().size()}) {
    if (size >= marker().size()) bytes.replace(at, marker().size(), marker());
  }
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size));
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(const fs::path& path) {
  const auto digest = crypto::sha256(read_all(path));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Every regular file under `dir`, recursively.
std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

std::int64_t num(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : -1;
}

boost::json::object attachment(const boost::json::object& o) {
  const auto* v = o.if_contains("attachment");
  return v && v->is_object() ? v->as_object() : boost::json::object{};
}

// The one line of a failed command's stderr.
int stderr_lines(const CliResult& r) {
  return static_cast<int>(std::count(r.err.begin(), r.err.end(), '\n'));
}

// Runs `secchats --home HOME ARGS...` (no --json) with standard error on a pseudo-terminal
// of `columns` columns and standard output on a pipe; returns {exit code, stdout, what the
// terminal got}.
struct TerminalRun {
  int exit_code = -1;
  std::string out, terminal;
};

TerminalRun run_on_terminal(const CliUser& u, const std::vector<std::string>& args,
                            unsigned short columns) {
  int master = -1, slave = -1;
  winsize ws{};
  ws.ws_col = columns;
  ws.ws_row = 24;
  if (openpty(&master, &slave, nullptr, nullptr, &ws) != 0) return {};
  int out[2];
  if (pipe(out) != 0) return {};
  std::vector<std::string> argv{CliUser::binary().string(), "--home", u.home().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string password = "SECCHATS_PASSWORD=" + u.password();
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();
    const int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(slave, STDERR_FILENO);
    close(master);
    close(out[0]);
    std::vector<char*> cargv;
    for (auto& a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    putenv(const_cast<char*>(password.c_str()));
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(slave);
  close(out[1]);
  TerminalRun r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {master, POLLIN, 0}};
  int open_fds = 2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
    if (poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {  // EOF, or EIO once the last holder of the terminal closed it
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.terminal).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliAttachments : public CliV2 {
 protected:
  void pair() {
    alice_ = std::make_unique<CliUser>(make_cli("Alice", &alice_id_));
    bob_ = std::make_unique<CliUser>(make_cli("Bob", &bob_id_));
    befriend_v2(*alice_, alice_id_, *bob_, bob_id_);
  }

  // Bob's FILE messages from one sync.
  std::vector<boost::json::object> files_synced(const CliUser& u) {
    std::vector<boost::json::object> out;
    for (const auto& m : events_of(ok(u, {"sync"}), "message")) {
      if (str(m, "type") == "FILE") out.push_back(m);
    }
    return out;
  }

  // Reads --json lines of a background command until `pred` holds for a progress event;
  // returns it (or an empty object if the command ended or nothing came in time).
  boost::json::object progress_until(CliBackground& cli,
                                     const std::function<bool(const boost::json::object&)>& pred) {
    for (;;) {
      auto line = cli.next_line(std::chrono::seconds(60));
      if (!line) return {};
      auto v = boost::json::parse(*line).as_object();
      if (str(v, "event") == "progress" && pred(v)) return v;
      if (str(v, "event") == "sent" || str(v, "event") == "downloaded") {
        ADD_FAILURE() << "finished before it could be interrupted: " << *line;
        return {};
      }
    }
  }

  // Restarts the relay with extra flags (a fresh data dir) and a new proxy in front.
  void restart_relay_with(const std::vector<std::string>& args) {
    proxy_.reset();
    server_->terminate();
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{dir_->path() / "relay-limited", args});
    proxy_ = std::make_unique<TamperingProxy>(server_->port());
  }

  std::unique_ptr<CliUser> alice_, bob_;
  std::string alice_id_, bob_id_;
};

TEST_F(CliAttachments, A50MegabyteFileRoundTripsAndTheRelayStoresNeitherContentNorName) {
  pair();
  const std::string name = "quarterly-secret-report-7f3a.bin";
  const fs::path file = dir_->path() / name;
  const std::size_t size = 50u * 1000 * 1000;
  write_test_file(file, size, 1);

  auto sent = alice_->run({"send-file", "Bob", file.string()});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto lines = json_lines(sent);
  auto progress = events_of(lines, "progress");
  ASSERT_FALSE(progress.empty()) << sent.out.substr(0, 2000);
  // The upload's completing event counts ciphertext bytes.
  bool upload_done = false;
  for (const auto& p : progress) {
    if (str(p, "phase") == "uploading" && num(p, "doneBytes") == num(p, "totalBytes")) {
      EXPECT_EQ(num(p, "totalBytes"), static_cast<std::int64_t>(ciphertext_size(size)));
      EXPECT_EQ(num(p, "percent"), 100);
      upload_done = true;
    }
  }
  EXPECT_TRUE(upload_done) << dump(progress);
  auto sent_events = events_of(lines, "sent");
  ASSERT_EQ(sent_events.size(), 1u) << sent.out;
  EXPECT_EQ(str(sent_events[0], "type"), "FILE");
  EXPECT_EQ(str(attachment(sent_events[0]), "fileName"), name);
  EXPECT_EQ(lines.back(), sent_events[0]) << "the result comes last";

  auto got = files_synced(*bob_);
  ASSERT_EQ(got.size(), 1u);
  const auto a = attachment(got[0]);
  EXPECT_EQ(str(a, "kind"), "file");
  EXPECT_EQ(str(a, "fileName"), name);
  EXPECT_EQ(num(a, "size"), static_cast<std::int64_t>(size));
  EXPECT_EQ(str(a, "savedPath"), "");
  const std::string message_id = str(got[0], "messageId");

  // history, human form: kind, name, size in binary units.
  auto history = bob_->run({"history", "Alice"}, /*json=*/false);
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("[file " + name + ", application/octet-stream, 47.7 MiB]"),
            std::string::npos)
      << history.out;

  const fs::path downloads = dir_->path() / "downloads";
  fs::create_directories(downloads);
  auto down = bob_->run({"download", "Alice", message_id, "--out", downloads.string()});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  auto done = events_of(json_lines(down), "downloaded");
  ASSERT_EQ(done.size(), 1u) << down.out.substr(0, 2000);
  const fs::path written = str(done[0], "path");
  EXPECT_EQ(written, fs::absolute(downloads / name));
  EXPECT_EQ(num(done[0], "size"), static_cast<std::int64_t>(size));
  EXPECT_EQ(sha256_hex(written), sha256_hex(file));

  // Shown as saved; never overwritten.
  history = bob_->run({"history", "Alice"}, /*json=*/false);
  EXPECT_NE(history.out.find("saved to " + written.string()), std::string::npos) << history.out;
  auto again = bob_->run({"download", "Alice", message_id, "--out", written.string()});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_EQ(stderr_lines(again), 1) << again.err;
  EXPECT_EQ(sha256_hex(written), sha256_hex(file));

  // The relay's data dir, every file: no plaintext marker, no file name.
  proxy_->clear();
  for (const auto& f : files_under(dir_->path() / "relay")) {
    const std::string bytes = read_all(f);
    EXPECT_EQ(bytes.find(marker()), std::string::npos) << f;
    EXPECT_EQ(bytes.find(name), std::string::npos) << f;
    EXPECT_EQ(bytes.find("quarterly-secret-report"), std::string::npos) << f;
  }
}

TEST_F(CliAttachments, OnATerminalABarIsRedrawnInPlaceAndClearedAtTheEnd) {
  pair();
  const fs::path file = dir_->path() / "slow.bin";
  write_test_file(file, 6u << 20, 9);
  proxy_->set_throttle(2u << 20);  // about 3 s: long enough for the bar to appear
  auto r = run_on_terminal(*alice_, {"send-file", "Bob", file.string()}, 72);
  ASSERT_EQ(r.exit_code, 0) << r.terminal;
  EXPECT_TRUE(r.out.starts_with("sent #")) << r.out;
  // Redrawn in place (carriage return, erase to the end of the line), never a new line.
  EXPECT_NE(r.terminal.find("\ruploading "), std::string::npos) << r.terminal;
  EXPECT_NE(r.terminal.find(" %"), std::string::npos) << r.terminal;
  EXPECT_NE(r.terminal.find("MiB / 6.0 MiB"), std::string::npos) << r.terminal;
  EXPECT_EQ(r.terminal.find('\n'), std::string::npos) << r.terminal;
  EXPECT_TRUE(r.terminal.ends_with("\r\x1b[K")) << r.terminal;
  // No drawn line is wider than the terminal (the last column stays free).
  std::size_t at = 0;
  while ((at = r.terminal.find('\r', at)) != std::string::npos) {
    const std::size_t end = r.terminal.find("\x1b[K", at);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - at - 1, 71u) << r.terminal.substr(at, end - at);
    at = end;
  }
}

TEST_F(CliAttachments, AFileToAV2GroupReachesItsMembers) {
  pair();
  const std::string group = str(only_json(alice_->run({"group", "create", "Crew"})), "groupId");
  ASSERT_FALSE(group.empty());
  ok(*alice_, {"group", "invite", group, bob_id_});
  EXPECT_EQ(events_of(ok(*bob_, {"sync"}), "groupInvite").size(), 1u);
  ok(*bob_, {"group", "join", group});
  for (int round = 0; round < 2; ++round) {
    ok(*alice_, {"sync"});
    ok(*bob_, {"sync"});
  }
  const fs::path file = dir_->path() / "minutes.txt";
  write_test_file(file, 300 * 1000, 2);
  auto sent = alice_->run({"group", "send-file", "Crew", file.string(), "--name", "notes.dat"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto s = events_of(json_lines(sent), "sent");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(str(s[0], "chatKind"), "group");

  auto got = files_synced(*bob_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "chatKind"), "group");
  EXPECT_EQ(str(attachment(got[0]), "fileName"), "notes.dat");
  const fs::path out = dir_->path() / "bob-notes.dat";
  auto down = bob_->run({"download", "Crew", str(got[0], "messageId"), "--out", out.string()});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(sha256_hex(out), sha256_hex(file));
}

TEST_F(CliAttachments, AVoiceNoteThatIsNotAudioIsRefusedInOneLineAndNothingIsSent) {
  pair();
  const fs::path file = dir_->path() / "not-audio.ogg";
  write_test_file(file, 20000, 12);
  proxy_->clear();
  auto r = alice_->run({"send-voice", "Bob", file.string()}, /*json=*/false);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(stderr_lines(r), 1) << r.err;
  EXPECT_TRUE(r.err.starts_with("secchats: " + file.string() + ": ")) << r.err;
  for (const auto& x : proxy_->exchanges()) {
    EXPECT_FALSE(x.path.starts_with("/blobs")) << x.method << " " << x.path;
  }
  EXPECT_TRUE(ok(*alice_, {"pending"}).empty());
}

TEST_F(CliAttachments, AFileToAV1FriendIsRefusedInOneLineAndNothingIsSent) {
  std::string carol_id;
  CliUser carol = make_cli("Carol", &carol_id);
  V1Peer ref(proxy_->port(), "Ref");
  ref.register_account();
  ok(carol, {"add", ref.user_id()});
  ref.poll();
  for (int round = 0; round < 2; ++round)
    ok(carol, {"sync"});
  const fs::path file = dir_->path() / "for-ref.bin";
  write_test_file(file, 4096, 3);
  proxy_->clear();
  auto r = carol.run({"send-file", ref.user_id(), file.string()}, /*json=*/false);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(stderr_lines(r), 1) << r.err;
  EXPECT_NE(r.err.find("protocol v2"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  for (const auto& x : proxy_->exchanges()) {
    EXPECT_FALSE(x.path.starts_with("/blobs")) << x.method << " " << x.path;
    EXPECT_NE(x.path, "/postmsg");
  }
  EXPECT_TRUE(ok(carol, {"pending"}).empty());
  EXPECT_TRUE(ref.poll().messages.empty());
}

TEST_F(CliAttachments, CtrlCDuringAnUploadExits130AndTheSameCommandResumes) {
  pair();
  const fs::path file = dir_->path() / "big.bin";
  const std::size_t size = 40u << 20;
  write_test_file(file, size, 4);
  proxy_->set_throttle(8u << 20);  // about 5 s for the whole upload
  {
    CliBackground cli(*alice_, {"send-file", "Bob", file.string()});
    auto at = progress_until(cli, [](const boost::json::object& p) {
      return str(p, "phase") == "uploading" && num(p, "percent") >= 50 && num(p, "percent") < 100;
    });
    ASSERT_FALSE(at.empty()) << cli.stderr_text();
    EXPECT_EQ(cli.stop(SIGINT), 130);
    expect_ctrl_c_stop_line(cli.stderr_text());
  }
  proxy_->set_throttle(0);
  EXPECT_TRUE(files_synced(*bob_).empty()) << "nothing reaches Bob before the upload is done";

  proxy_->clear();
  auto resumed = alice_->run({"send-file", "Bob", file.string()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ASSERT_EQ(events_of(json_lines(resumed), "sent").size(), 1u) << resumed.out;
  // Only what the relay did not have yet went up again.
  std::uint64_t patched = 0;
  std::int64_t first_offset = -1;
  for (const auto& x : proxy_->exchanges()) {
    if (x.method != "PATCH") continue;
    patched += x.request_body.size();
    if (first_offset < 0) first_offset = std::stoll("0" + x.header("Upload-Offset"));
  }
  // It asked the relay where its copy stops and sent exactly the rest.
  EXPECT_GT(first_offset, 0);
  EXPECT_EQ(static_cast<std::uint64_t>(first_offset) + patched, ciphertext_size(size));

  auto got = files_synced(*bob_);
  ASSERT_EQ(got.size(), 1u) << "the friend gets the file once";
  EXPECT_TRUE(files_synced(*bob_).empty());
  const fs::path out = dir_->path() / "big-at-bob.bin";
  auto down = bob_->run({"download", "Alice", str(got[0], "messageId"), "--out", out.string()});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(sha256_hex(out), sha256_hex(file));
}

TEST_F(CliAttachments, CtrlCDuringADownloadExits130AndTheSameCommandResumes) {
  pair();
  const fs::path file = dir_->path() / "movie.bin";
  const std::size_t size = 40u << 20;
  write_test_file(file, size, 5);
  ASSERT_EQ(alice_->run({"send-file", "Bob", file.string(), "--as-file"}).exit_code, 0);
  auto got = files_synced(*bob_);
  ASSERT_EQ(got.size(), 1u);
  const std::string id = str(got[0], "messageId");
  const fs::path out = dir_->path() / "movie-at-bob.bin";

  proxy_->set_throttle(8u << 20);
  {
    CliBackground cli(*bob_, {"download", "Alice", id, "--out", out.string()});
    auto at = progress_until(cli, [](const boost::json::object& p) {
      return str(p, "phase") == "downloading" && num(p, "percent") >= 50 && num(p, "percent") < 100;
    });
    ASSERT_FALSE(at.empty()) << cli.stderr_text();
    EXPECT_EQ(cli.stop(SIGINT), 130);
    const std::string err = cli.stderr_text();
    EXPECT_NE(err.find("stopped at "), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  EXPECT_FALSE(fs::exists(out)) << "nothing under the final name before it is all verified";
  proxy_->set_throttle(0);
  proxy_->clear();
  auto resumed = bob_->run({"download", "Alice", id, "--out", out.string()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(sha256_hex(out), sha256_hex(file));
  // It continued with a range request from where it had stopped.
  bool ranged = false;
  for (const auto& x : proxy_->exchanges()) {
    if (x.method == "GET" && x.path.starts_with("/blobs/")) {
      const std::string range = x.header("Range");
      ranged = ranged || (range.starts_with("bytes=") && !range.starts_with("bytes=0-"));
    }
  }
  EXPECT_TRUE(ranged);
}

TEST_F(CliAttachments, TheRelaysLimitsAreClearOneLineRefusals) {
  restart_relay_with({"--max-blob-bytes", "1048576", "--blob-quota-bytes", "3000000"});
  pair();
  const fs::path big = dir_->path() / "too-big.bin";
  write_test_file(big, 2u << 20, 6);
  auto r = alice_->run({"send-file", "Bob", big.string()}, /*json=*/false);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(stderr_lines(r), 1) << r.err;
  EXPECT_TRUE(r.err.starts_with("secchats: ")) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  // Under the blob limit, but the third one passes the quota.
  int refused_at = -1;
  for (int i = 0; i < 4 && refused_at < 0; ++i) {
    const fs::path part = dir_->path() / ("part" + std::to_string(i) + ".bin");
    write_test_file(part, 900 * 1000, 10 + static_cast<std::uint32_t>(i));
    auto s = alice_->run({"send-file", "Bob", part.string()});
    if (s.exit_code != 0) {
      refused_at = i;
      EXPECT_EQ(s.exit_code, 5) << s.err;
      EXPECT_EQ(stderr_lines(s), 1) << s.err;
      EXPECT_NE(s.err.find("quota"), std::string::npos) << s.err;
    }
  }
  EXPECT_EQ(refused_at, 3);
  // Bob got the ones the relay took, and only those.
  EXPECT_EQ(files_synced(*bob_).size(), 3u);
}

TEST_F(CliAttachments, ABlobChangedOnTheRelayIsRefusedAndNothingIsWritten) {
  pair();
  const fs::path file = dir_->path() / "contract.bin";
  const std::size_t size = 300 * 1000;
  write_test_file(file, size, 8);
  // Not a terminal and no --json: no progress at all, just the result.
  auto sent = alice_->run({"send-file", "Bob", file.string()}, /*json=*/false);
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_TRUE(sent.err.empty()) << sent.err;
  EXPECT_TRUE(sent.out.starts_with("sent #")) << sent.out;
  EXPECT_NE(sent.out.find("(file contract.bin, "), std::string::npos) << sent.out;
  EXPECT_EQ(std::count(sent.out.begin(), sent.out.end(), '\n'), 1) << sent.out;
  auto got = files_synced(*bob_);
  ASSERT_EQ(got.size(), 1u);

  // The blob is the one file of exactly the ciphertext's size: flip a byte in its middle.
  int changed = 0;
  for (const auto& f : files_under(dir_->path() / "relay")) {
    if (fs::file_size(f) != ciphertext_size(size)) continue;
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    io.get(c);
    io.seekp(static_cast<std::streamoff>(size / 2));
    io.put(static_cast<char>(c ^ 0x40));
    ++changed;
  }
  ASSERT_EQ(changed, 1);

  const fs::path out_dir = dir_->path() / "bob-out";
  fs::create_directories(out_dir);
  auto r = bob_->run({"download", "Alice", str(got[0], "messageId"), "--out", out_dir.string()},
                     /*json=*/false);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(stderr_lines(r), 1) << r.err;
  EXPECT_TRUE(fs::is_empty(out_dir)) << "nothing written, no partial file left";
}

}  // namespace
}  // namespace secchats::testing
