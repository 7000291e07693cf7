// Attachments, the receiving side (docs/protocol-v2.md §15): Client::download.
//
// The ciphertext collects in "<final>.<hash start>.secchats-part" (a download cut short resumes
// from its size with a Range request); once whole, its SHA-256 is checked against the FILE message,
// then every chunk is opened into a temporary file in the same directory, which is synced
// and linked to the final name only if nothing is there (never replaced). Any failed check
// deletes the partial file and writes nothing under the final name.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "client_impl.hpp"
#include "file_descriptor.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/blob_stream.hpp"
#include "transfer.hpp"

namespace secchats {
namespace fs = std::filesystem;
namespace blob = crypto::v2;
using core::transfer_stopped;
using Phase = TransferProgress::Phase;

namespace {

constexpr std::string_view kPartSuffix = ".secchats-part";

Error corrupt(std::string_view why) {
  return Error(ErrorCode::kCorrupt, "the attachment failed its integrity check (" +
                                        std::string(why) + "); nothing was saved");
}

Error io_error(std::string_view what, int err) {
  return Error(ErrorCode::kInternal,
               std::string(what) + ": " + std::generic_category().message(err));
}

// A file descriptor closed when it goes away.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status write_all(int fd, std::span<const std::uint8_t> data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write the file", errno);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return ok_status();
}

// Where the attachment goes: `out` itself (a new file in an existing directory) or, for a
// directory, the sender's name made safe inside it.
Result<fs::path> final_path(const fs::path& out, std::string_view peer_name) {
  std::error_code ec;
  fs::path target = out;
  if (fs::is_directory(out, ec)) target = out / core::safe_file_name(peer_name);
  target = fs::absolute(target, ec).lexically_normal();
  if (ec) return Error(ErrorCode::kInvalidArgument, "bad output path: " + ec.message());
  if (fs::exists(fs::symlink_status(target, ec))) {
    return Error(ErrorCode::kAlreadyExists, "a file is already there: " + target.string());
  }
  if (!fs::is_directory(target.parent_path(), ec)) {
    return Error(ErrorCode::kInvalidArgument,
                 "no such directory: " + target.parent_path().string());
  }
  return target;
}

// Hashes the whole part file (phase kVerifying, first half).
Result<std::string> file_sha256(const fs::path& part, std::uint64_t total,
                                core::ProgressReporter& progress) {
  std::ifstream in(part, std::ios::binary);
  if (!in) return Error(ErrorCode::kInternal, "cannot read the downloaded file");
  crypto::Sha256Hasher hasher;
  std::vector<std::uint8_t> buffer(blob::kBlobSealedChunkSize);
  std::uint64_t done = 0;
  while (in) {
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    hasher.update(std::span<const std::uint8_t>(buffer.data(), got));
    done += got;
    if (!progress.update(done)) return transfer_stopped();
  }
  (void)total;
  return hex_encode(hasher.finish());
}

// Opens every chunk of `part` into a new file `temp` (created exclusively, synced).
Status decrypt_to(const fs::path& part, const fs::path& temp, const blob::BlobKey& key,
                  std::uint64_t plain_size, std::uint64_t ciphertext_size,
                  core::ProgressReporter& progress) {
  std::ifstream in(part, std::ios::binary);
  if (!in) return Error(ErrorCode::kInternal, "cannot read the downloaded file");
  Fd out{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) return io_error("cannot create the file", errno);
  const std::uint64_t count = blob::blob_chunk_count(plain_size);
  std::vector<std::uint8_t> sealed;
  for (std::uint64_t i = 0; i < count; ++i) {
    sealed.resize(blob::blob_chunk_plain_size(plain_size, i) + blob::kBlobTagSize);
    if (!in.read(reinterpret_cast<char*>(sealed.data()),
                 static_cast<std::streamsize>(sealed.size()))) {
      return corrupt("blob cut short");
    }
    auto plain = blob::open_blob_chunk(key, i, i + 1 == count, sealed);
    if (!plain.ok()) return corrupt(plain.error().message());
    SC_TRY(write_all(out.fd, *plain));
    secure_wipe(*plain);
    const std::uint64_t done =
        ciphertext_size + std::min(ciphertext_size, (i + 1) * blob::kBlobSealedChunkSize);
    if (!progress.update(done)) return transfer_stopped();
  }
  if (::fsync(out.fd) != 0) return io_error("cannot sync the file", errno);
  return ok_status();
}

void sync_directory(const fs::path& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) (void)::fsync(d.fd);
}

}  // namespace

Result<fs::path> Client::download(std::string_view chat_id, std::int64_t message_id,
                                  const fs::path& out, const ProgressCallback& callback) {
  // The message and its descriptor (blob, key, hash) from the encrypted store.
  SC_ASSIGN_OR_RETURN(auto stored, impl_->store->messages(chat_id));
  const store::StoredMessage* message = nullptr;
  for (const auto& m : stored) {
    if (m.message_id == message_id && m.type == "FILE") message = &m;
  }
  if (message == nullptr) {
    return Error(ErrorCode::kNotFound, "no such message with an attachment in this chat");
  }
  SC_ASSIGN_OR_RETURN(core::FileDescriptor d, core::decode_file_descriptor(message->text));
  SC_ASSIGN_OR_RETURN(blob::BlobKey key, blob::BlobKey::from_bytes(d.key.span(), d.nonce_prefix));
  const std::uint64_t total = blob::blob_ciphertext_size(d.info.size);
  SC_ASSIGN_OR_RETURN(fs::path target, final_path(out, d.info.file_name));
  // The part file is tied to this blob (the start of its SHA-256), so a partial download of
  // another attachment that went to the same name is never resumed into this one.
  const std::string blob_tag = d.sha256_hex.substr(0, 16);
  const fs::path part = target.string() + "." + blob_tag + std::string(kPartSuffix);
  core::ProgressReporter progress(callback);
  std::error_code ec;
  const auto drop_part = [&] { fs::remove(part, ec); };

  // Ciphertext to the part file, resuming from its size.
  std::uint64_t have = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
  if (ec || have > total) {
    drop_part();
    have = 0;
  }
  if (have < total) {
    std::ofstream sink(part, std::ios::binary | std::ios::app);
    if (!sink) return Error(ErrorCode::kInternal, "cannot write " + part.string());
    progress.begin(Phase::kDownloading, total, have);
    if (!progress.report_now()) return transfer_stopped();
    const auto on_start = [&](const net::RelayClient::BlobDownload& start) -> Status {
      if (start.total != 0 && start.total != total) return corrupt("blob size differs");
      if (start.start != have) {  // the relay sent it all: start over
        sink.close();
        sink.open(part, std::ios::binary | std::ios::trunc);
        if (!sink) return Error(ErrorCode::kInternal, "cannot write " + part.string());
        have = 0;
      }
      return ok_status();
    };
    const auto on_piece = [&](std::span<const std::uint8_t> piece) -> Status {
      if (have + piece.size() > total) return corrupt("blob longer than announced");
      sink.write(reinterpret_cast<const char*>(piece.data()),
                 static_cast<std::streamsize>(piece.size()));
      if (!sink) return Error(ErrorCode::kInternal, "cannot write " + part.string());
      have += piece.size();
      if (!progress.update(have)) return transfer_stopped();
      return ok_status();
    };
    auto got = impl_->relay->download_blob(d.blob_id, have, on_piece, on_start);
    sink.close();
    if (!got.ok()) {
      if (got.error().code() == ErrorCode::kCorrupt || have == 0) drop_part();
      if (got.error().code() == ErrorCode::kNotFound) {
        drop_part();
        return Error(ErrorCode::kNotFound,
                     "the relay no longer has this file (expired or never finished)");
      }
      return std::move(got).error();
    }
  }
  if (fs::file_size(part, ec) != total || ec) {
    drop_part();
    return corrupt("blob cut short");
  }

  // SHA-256 of the whole blob before any plaintext is written, then every chunk's tag.
  progress.begin(Phase::kVerifying, 2 * total);
  if (!progress.report_now()) return transfer_stopped();
  SC_ASSIGN_OR_RETURN(std::string digest, file_sha256(part, total, progress));
  if (digest != d.sha256_hex) {
    drop_part();
    return corrupt("SHA-256 differs");
  }
  // A fixed name, so plaintext left by a run killed while decrypting is removed by the next.
  const fs::path temp = target.parent_path() / ("." + target.filename().string() + "." + blob_tag +
                                                std::string(".secchats-tmp"));
  fs::remove(temp, ec);
  Status opened = decrypt_to(part, temp, key, d.info.size, total, progress);
  if (!opened.ok()) {
    fs::remove(temp, ec);
    if (opened.error().code() == ErrorCode::kCorrupt) drop_part();
    return std::move(opened).error();
  }
  // link() never replaces: a file that appeared under the final name meanwhile stays.
  if (::link(temp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    fs::remove(temp, ec);
    if (err == EEXIST) {
      return Error(ErrorCode::kAlreadyExists, "a file is already there: " + target.string());
    }
    return io_error("cannot save the file", err);
  }
  fs::remove(temp, ec);
  sync_directory(target.parent_path());
  drop_part();
  SC_TRY(impl_->store->set_saved_path(chat_id, message->from_user_id, message_id, target.string()));
  return target;
}

}  // namespace secchats
