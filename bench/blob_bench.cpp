// Attachment throughput through a running relay (docs/protocol-v2.md §15), the way a user
// sends and fetches a file: Client::send_file (read, STREAM-encrypt, upload in PATCH pieces,
// the relay's fsync + rename, the FILE message) and Client::download (ranged GET, SHA-256,
// AEAD open into a temporary file, fsync, rename). Two fresh accounts become v2 friends first.
//
// Usage: blob_bench --server URL --work DIR [--megabytes N] [--runs N]
// Prints one JSON object per run on stdout:
//   {"bytes":N,"upload_s":S,"download_s":S}
// and exits non-zero with one line on stderr when anything fails. bench/run_all.py compares
// the figures with curl moving the same bytes to and from nginx in the same run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "secchats/client.hpp"

namespace {

using namespace secchats;
namespace fs = std::filesystem;
const char* const kPassword = "blob-bench-password";

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "blob_bench: %s: %s\n", what, r.error().message().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}
void must(const Status& s, const char* what) {
  if (!s) {
    std::fprintf(stderr, "blob_bench: %s: %s\n", what, s.error().message().c_str());
    std::exit(1);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Pseudo-random bytes: neither side can compress or deduplicate them.
void write_random_file(const fs::path& path, std::size_t bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::mt19937_64 generator(std::random_device{}());
  std::vector<std::uint64_t> block((1 << 20) / sizeof(std::uint64_t));
  const std::size_t block_bytes = block.size() * sizeof(std::uint64_t);
  for (std::size_t done = 0; done < bytes; done += block_bytes) {
    const std::size_t n = std::min(block_bytes, bytes - done);
    for (auto& word : block)
      word = generator();
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
  }
  if (!out.flush()) {
    std::fprintf(stderr, "blob_bench: cannot write the test file\n");
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string server;
  fs::path work;
  std::size_t megabytes = 100;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--server")
      server = argv[i + 1];
    else if (flag == "--work")
      work = argv[i + 1];
    else if (flag == "--megabytes")
      megabytes = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--runs")
      runs = std::atoi(argv[i + 1]);
  }
  if (server.empty() || work.empty() || megabytes == 0 || runs < 1) {
    std::fprintf(stderr, "usage: blob_bench --server URL --work DIR [--megabytes N] [--runs N]\n");
    return 2;
  }
  fs::create_directories(work);

  auto alice = must(Client::create_account(work / "alice", SecretString(kPassword), server, "A"),
                    "create account");
  auto bob = must(Client::create_account(work / "bob", SecretString(kPassword), server, "B"),
                  "create account");
  must(alice->add_friend(bob->user_id()), "add friend");
  must(bob->sync(), "sync");
  must(bob->accept(alice->user_id()), "accept");
  bool v2 = false;
  for (int round = 0; round < 10 && !v2; ++round) {
    must(alice->sync(), "sync");
    must(bob->sync(), "sync");
    auto friends = must(alice->friends(), "friends");
    v2 = !friends.empty() && friends.front().protocol == "v2";
  }
  if (!v2) {
    std::fprintf(stderr, "blob_bench: the friendship did not upgrade to v2\n");
    return 1;
  }

  const std::size_t bytes = megabytes * 1000 * 1000;
  const fs::path file = work / "payload.bin";
  write_random_file(file, bytes);
  SendFileOptions options;
  options.kind = "file";
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    auto sent = must(alice->send_file(bob->user_id(), file, options), "send_file");
    const double upload_s = seconds_since(start);

    auto events = must(bob->sync(), "sync");
    std::int64_t message_id = 0;
    for (const auto& e : events) {
      if (e.kind == Event::Kind::kMessage && e.message.attachment)
        message_id = e.message.message_id;
    }
    if (message_id == 0) message_id = sent.message_id;
    const fs::path out = work / ("download-" + std::to_string(run) + ".bin");
    start = std::chrono::steady_clock::now();
    must(bob->download(alice->user_id(), message_id, out), "download");
    const double download_s = seconds_since(start);
    if (fs::file_size(out) != bytes) {
      std::fprintf(stderr, "blob_bench: downloaded %ju bytes, sent %zu\n",
                   static_cast<std::uintmax_t>(fs::file_size(out)), bytes);
      return 1;
    }
    fs::remove(out);
    std::cout << "{\"bytes\":" << bytes << ",\"upload_s\":" << upload_s
              << ",\"download_s\":" << download_s << "}" << std::endl;
  }
  return 0;
}
