// Attachments, the sending side (docs/protocol-v2.md §15): send_file / send_group_file, the
// resumable blob upload, and the unfinished uploads pending() and cancel_pending() see.
//
// The upload is recorded (blob id, key, file identity) in the encrypted store before the
// first byte leaves, with a placeholder message (delivery "pending"); so a send cut short —
// network, progress returning false, the process killed — resumes at the next send_file of
// the same file to the same chat from where the relay's copy stops. STREAM is deterministic
// (same key, same nonces), so the chunk holding the relay's offset is sealed again and sent
// from that byte. Only once the relay has the whole blob does the FILE message go through
// the outbox like any other message.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <system_error>

#include "attachment_media.hpp"
#include "client_impl.hpp"
#include "file_descriptor.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/blob_stream.hpp"
#include "transfer.hpp"

namespace secchats {
namespace fs = std::filesystem;
namespace blob = crypto::v2;
using core::FileDescriptor;
using core::transfer_stopped;
using Phase = TransferProgress::Phase;

namespace {

// Sealed chunks per PATCH. Every PATCH costs a round trip and an fdatasync on the relay, so a
// fast link wants big pieces; a slow one wants small ones, or progress (and Ctrl-C, which is
// honoured between pieces) would wait seconds. So the piece starts at 16 chunks (about 1 MiB)
// and doubles while a PATCH takes under half a second, up to 120 chunks (7.5 MiB: §15.3 allows
// 8 MiB per PATCH); one that takes over two seconds halves it again.
constexpr std::uint64_t kFirstChunksPerPatch = 16;
constexpr std::uint64_t kMaxChunksPerPatch = 120;
constexpr auto kGrowBelow = std::chrono::milliseconds(500);
constexpr auto kShrinkAbove = std::chrono::milliseconds(2000);
constexpr int kMaxRealigns = 4;  // 409s in a row before giving up

// What identifies "the same file" for a resume: its absolute path, size and mtime.
struct FileIdentity {
  std::string path;
  std::int64_t size = 0;
  std::int64_t mtime = 0;  // ns since the epoch
};

Result<FileIdentity> identify(const fs::path& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  if (ec) return Error(ErrorCode::kInvalidArgument, "bad file path: " + ec.message());
  const auto status = fs::status(absolute, ec);
  if (ec || !fs::exists(status)) return Error(ErrorCode::kNotFound, "no such file");
  if (!fs::is_regular_file(status)) {
    return Error(ErrorCode::kInvalidArgument, "not a regular file");
  }
  const auto size = fs::file_size(absolute, ec);
  if (ec) return Error(ErrorCode::kNotFound, "cannot read the file: " + ec.message());
  const auto mtime = fs::last_write_time(absolute, ec);
  if (ec) return Error(ErrorCode::kNotFound, "cannot read the file: " + ec.message());
  if (size > blob::kBlobMaxPlaintext) {
    return Error(ErrorCode::kTooLarge, "a file is at most 1 TiB (2^40 bytes)");
  }
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  return FileIdentity{absolute.string(), static_cast<std::int64_t>(size),
                      static_cast<std::int64_t>(ns)};
}

// Re-encoded photos and converted voice notes wait in <home>/uploads/<message id>.<ext> until
// their message is sent (a resume uploads the same bytes again).
fs::path uploads_dir(const fs::path& home) {
  return home / "uploads";
}
fs::path scratch_path(const fs::path& home, std::int64_t message_id) {
  return uploads_dir(home) / std::to_string(message_id);
}
std::optional<fs::path> scratch_copy(const fs::path& home, std::int64_t message_id) {
  for (const char* ext : {".jpg", ".png", ".ogg"}) {
    fs::path p = scratch_path(home, message_id);
    p += ext;
    std::error_code ec;
    if (fs::exists(p, ec)) return p;
  }
  return std::nullopt;
}
void remove_scratch(const fs::path& home, std::int64_t message_id) {
  if (auto copy = scratch_copy(home, message_id)) {
    std::error_code ec;
    fs::remove(*copy, ec);
  }
}

// Reads and seals the chunks of one file.
class ChunkSealer {
 public:
  static Result<ChunkSealer> open(const fs::path& path, std::uint64_t size,
                                  const blob::BlobKey& key) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error(ErrorCode::kNotFound, "cannot open the file");
    return ChunkSealer(std::move(in), size, key);
  }

  std::uint64_t count() const { return count_; }

  // Appends sealed chunk `index` to `out`. kInvalidArgument if the file changed under us.
  Status seal(std::uint64_t index, std::vector<std::uint8_t>& out) {
    const std::size_t n = blob::blob_chunk_plain_size(size_, index);
    plain_.resize(n);
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(index * blob::kBlobChunkSize));
    if (n > 0 &&
        !in_.read(reinterpret_cast<char*>(plain_.data()), static_cast<std::streamsize>(n))) {
      return changed();
    }
    SC_ASSIGN_OR_RETURN(auto sealed,
                        blob::seal_blob_chunk(key_, index, index + 1 == count_, plain_));
    out.insert(out.end(), sealed.begin(), sealed.end());
    secure_wipe(plain_);
    return ok_status();
  }

  static Error changed() {
    return Error(ErrorCode::kInvalidArgument, "the file changed while it was being sent");
  }

 private:
  ChunkSealer(std::ifstream in, std::uint64_t size, const blob::BlobKey& key)
      : in_(std::move(in)), size_(size), count_(blob::blob_chunk_count(size)), key_(key) {}
  std::ifstream in_;
  std::uint64_t size_;
  std::uint64_t count_;
  const blob::BlobKey& key_;
  std::vector<std::uint8_t> plain_;
};

// The SHA-256 of the whole ciphertext: one sealing pass (the FILE message carries it).
Result<std::string> ciphertext_sha256(ChunkSealer& sealer, core::ProgressReporter& progress,
                                      std::uint64_t plain_size) {
  crypto::Sha256Hasher hasher;
  std::vector<std::uint8_t> sealed;
  progress.begin(Phase::kPreparing, plain_size);
  if (!progress.report_now()) return transfer_stopped();
  for (std::uint64_t i = 0; i < sealer.count(); ++i) {
    sealed.clear();
    SC_TRY(sealer.seal(i, sealed));
    hasher.update(sealed);
    const std::uint64_t done = std::min<std::uint64_t>(plain_size, (i + 1) * blob::kBlobChunkSize);
    if (!progress.update(done)) return transfer_stopped();
  }
  const auto digest = hasher.finish();
  return hex_encode(digest);
}

Result<blob::BlobKey> key_of(const FileDescriptor& d) {
  return blob::BlobKey::from_bytes(d.key.span(), d.nonce_prefix);
}

// Uploads the blob of `d` from where the relay's copy stops (`offset`) to its end.
Status upload_blob(net::RelayClient& relay, const net::Credentials& me, const FileDescriptor& d,
                   const fs::path& source, std::uint64_t offset, core::ProgressReporter& progress) {
  SC_ASSIGN_OR_RETURN(blob::BlobKey key, key_of(d));
  SC_ASSIGN_OR_RETURN(ChunkSealer sealer, ChunkSealer::open(source, d.info.size, key));
  const std::uint64_t total = blob::blob_ciphertext_size(d.info.size);
  progress.begin(Phase::kUploading, total, offset);
  if (!progress.report_now()) return transfer_stopped();
  std::vector<std::uint8_t> buffer;
  int realigns = 0;
  std::uint64_t chunks_per_patch = kFirstChunksPerPatch;
  while (offset < total) {
    // Realign to the chunk that holds `offset` and seal from there (same bytes as before).
    std::uint64_t index = offset / blob::kBlobSealedChunkSize;
    const std::size_t skip = static_cast<std::size_t>(offset % blob::kBlobSealedChunkSize);
    buffer.clear();
    const std::uint64_t end = std::min(sealer.count(), index + chunks_per_patch);
    for (; index < end; ++index)
      SC_TRY(sealer.seal(index, buffer));
    const auto piece = std::span<const std::uint8_t>(buffer).subspan(skip);
    const auto started = std::chrono::steady_clock::now();
    SC_ASSIGN_OR_RETURN(auto patched, relay.upload_blob_chunk(me, d.blob_id, offset, piece));
    const auto took = std::chrono::steady_clock::now() - started;
    if (took < kGrowBelow) {
      chunks_per_patch = std::min(kMaxChunksPerPatch, chunks_per_patch * 2);
    } else if (took > kShrinkAbove) {
      chunks_per_patch = std::max<std::uint64_t>(1, chunks_per_patch / 2);
    }
    if (patched.conflict) {
      if (++realigns > kMaxRealigns || patched.offset > total) {
        return Error(ErrorCode::kRefused, "the relay's copy of the file keeps moving; try again");
      }
      offset = patched.offset;
      continue;
    }
    realigns = 0;
    offset = patched.offset;
    if (!progress.update(offset)) return transfer_stopped();
  }
  return ok_status();
}

}  // namespace

Result<MessageInfo> Client::Impl::send_file(ChatKind kind, std::string_view id,
                                            const fs::path& path, const SendFileOptions& options,
                                            const ProgressCallback& callback) {
  // Where it goes, and that it may go there as v2 (checked before any byte is uploaded).
  SC_ASSIGN_OR_RETURN(Channel c, channel(kind, id));
  if (kind == ChatKind::kFriend) {
    SC_ASSIGN_OR_RETURN(auto f, require_friend(c.id));
    if (!f.v2_active && f.peer_v2_capable) {
      // One of our clients (docs/protocol-v2.md §2.1) whose upgrade has not finished: a sync
      // on both sides completes it, so say that rather than "v1 only".
      return Error(ErrorCode::kInvalidArgument,
                   "files need protocol v2: the upgrade with this friend is not finished yet "
                   "(run sync, on both sides, and try again)");
    }
    if (!f.v2_active) {
      return Error(ErrorCode::kInvalidArgument,
                   "files need protocol v2: this friend's client speaks v1 only (send an image "
                   "instead)");
    }
    if (f.send_blocked) {
      return Error(ErrorCode::kInsecure,
                   "sending is blocked: this friend's identity key changed; verify the safety "
                   "number first");
    }
  } else {
    SC_ASSIGN_OR_RETURN(auto g, require_group(c.id));
    SC_ASSIGN_OR_RETURN(GroupInfo info, describe(g));
    if (info.protocol != "v2") {
      return Error(ErrorCode::kInvalidArgument,
                   "files need protocol v2: " + (info.protocol_reason.empty()
                                                     ? std::string("this group runs v1")
                                                     : info.protocol_reason));
    }
  }
  SC_ASSIGN_OR_RETURN(FileIdentity file, identify(path));
  core::ProgressReporter progress(callback);

  // A resume: the same file (path, size, mtime) to the same chat.
  std::optional<store::UploadRecord> upload;
  SC_ASSIGN_OR_RETURN(auto uploads, store->uploads());
  const auto store_kind =
      kind == ChatKind::kGroup ? store::ChatKind::kGroup : store::ChatKind::kFriend;
  for (auto& u : uploads) {
    if (u.chat_kind != store_kind || u.chat_id != c.id || u.path != file.path) continue;
    if (u.size == file.size && u.mtime == file.mtime) {
      upload = std::move(u);
      break;
    }
    // The same path, changed since that upload stopped: it can never resume (its descriptor
    // hashes the old bytes), and it would hold quota and an upload slot on the relay until
    // cancelled. Drop it (blob and placeholder) and send the file as it is now.
    (void)cancel_upload(u.message_id);
  }

  if (upload && !scratch_copy(home, upload->message_id)) {
    // A photo or voice note whose re-encoded copy is gone cannot resume (the original's bytes
    // differ from the hashed ones): start it over.
    auto kept = core::decode_file_descriptor(upload->descriptor.view());
    if (!kept.ok() || kept->info.size != static_cast<std::uint64_t>(file.size)) {
      auto dropped = cancel_upload(upload->message_id);
      if (!dropped.ok()) return std::move(dropped).error();
      upload.reset();
    }
  }

  FileDescriptor d;
  std::uint64_t offset = 0;
  fs::path source = file.path;  // whose bytes are uploaded: the file or our re-encoded copy
  if (upload) {
    SC_ASSIGN_OR_RETURN(d, core::decode_file_descriptor(upload->descriptor.view()));
    if (auto copy = scratch_copy(home, upload->message_id)) source = *copy;
    auto head = relay->blob_offset(credentials, d.blob_id);
    if (head.ok()) {
      offset = head->offset;
    } else if (head.error().code() == ErrorCode::kNotFound) {
      // The relay dropped the unfinished blob (24 hours without progress): a new one, same
      // key and bytes.
      SC_ASSIGN_OR_RETURN(d.blob_id,
                          relay->create_blob(credentials, blob::blob_ciphertext_size(d.info.size)));
      std::string text = core::encode_file_descriptor(d);
      upload->descriptor = SecretString(std::move(text));
      SC_TRY(store->put_upload(*upload));
    } else {
      return std::move(head).error();
    }
  } else {
    const std::int64_t message_id = crypto::random_int63();
    std::error_code ec;
    fs::create_directories(uploads_dir(home), ec);
    SC_ASSIGN_OR_RETURN(
        core::PreparedAttachment prepared,
        core::describe_attachment(file.path, options, scratch_path(home, message_id)));
    source = prepared.upload_path;
    d.info = std::move(prepared.info);
    const blob::BlobKey key = blob::BlobKey::generate();
    d.key = key.key();
    d.nonce_prefix.assign(key.nonce_prefix().begin(), key.nonce_prefix().end());
    SC_ASSIGN_OR_RETURN(ChunkSealer sealer, ChunkSealer::open(source, d.info.size, key));
    SC_ASSIGN_OR_RETURN(d.sha256_hex, ciphertext_sha256(sealer, progress, d.info.size));
    SC_ASSIGN_OR_RETURN(d.blob_id,
                        relay->create_blob(credentials, blob::blob_ciphertext_size(d.info.size)));
    store::UploadRecord u;
    u.message_id = message_id;
    u.chat_kind = store_kind;
    u.chat_id = c.id;
    u.path = file.path;
    u.size = file.size;
    u.mtime = file.mtime;
    u.descriptor = SecretString(core::encode_file_descriptor(d));
    u.created_at_ms = unix_millis_now();
    // The placeholder shows the upload in history and pending() until the message is sent.
    store::StoredMessage placeholder;
    placeholder.chat_id = c.id;
    placeholder.chat_kind = store_kind;
    placeholder.from_user_id = user_id;
    placeholder.from_name = nickname;
    placeholder.message_id = u.message_id;
    placeholder.type = "FILE";
    placeholder.text = u.descriptor.str();
    placeholder.sender_timestamp = u.created_at_ms;
    placeholder.outgoing = true;
    placeholder.delivery = "pending";
    SC_TRY(store->transaction([&]() -> Status {
      SC_TRY(store->put_upload(u));
      SC_TRY(store->insert_message(placeholder));
      return ok_status();
    }));
    secure_wipe(placeholder.text);
    upload = std::move(u);
  }

  SC_TRY(upload_blob(*relay, credentials, d, source, offset, progress));
  // The file must still be the one hashed: a changed file would make a blob that fails its
  // check at the friend's end.
  SC_ASSIGN_OR_RETURN(FileIdentity after, identify(path));
  if (after.size != file.size || after.mtime != file.mtime) {
    return ChunkSealer::changed();
  }

  // The relay has the whole blob: the FILE message goes out through the outbox (the
  // placeholder with the same id becomes its history entry).
  std::string descriptor = core::encode_file_descriptor(d);
  auto m = core::make_file(sender(), c.id, upload->message_id, unix_millis_now(), descriptor);
  secure_wipe(descriptor);
  auto sent = deliver(c.kind, c.id, c.key, m);
  SC_ASSIGN_OR_RETURN(auto queued, store->find_outbox_item(upload->message_id));
  if (sent.ok() || queued) {
    SC_TRY(store->delete_upload(upload->message_id));
    remove_scratch(home, upload->message_id);
  }
  if (sent.ok()) {
    sent->attachment->upload_state = "uploaded";
  }
  return sent;
}

Result<MessageInfo> Client::send_file(std::string_view friend_id, const fs::path& path,
                                      const SendFileOptions& options,
                                      const ProgressCallback& progress) {
  return impl_->send_file(ChatKind::kFriend, friend_id, path, options, progress);
}

Result<MessageInfo> Client::send_group_file(std::string_view group_id, const fs::path& path,
                                            const SendFileOptions& options,
                                            const ProgressCallback& progress) {
  return impl_->send_file(ChatKind::kGroup, group_id, path, options, progress);
}

void Client::Impl::decorate_attachment(MessageInfo& info) {
  if (!info.attachment) return;
  auto saved = store->saved_path(info.chat_id, info.from_user_id, info.message_id);
  if (saved.ok()) info.attachment->saved_path = *saved;
  if (!info.outgoing) return;
  info.attachment->upload_state = "uploaded";
  if (info.delivery != "pending") return;
  auto uploads = store->uploads();
  if (!uploads.ok()) return;
  for (const auto& u : *uploads) {
    if (u.message_id == info.message_id) info.attachment->upload_state = "uploading";
  }
}

Result<std::vector<PendingSend>> Client::Impl::pending_uploads() {
  SC_ASSIGN_OR_RETURN(auto uploads, store->uploads());
  std::vector<PendingSend> out;
  for (const auto& u : uploads) {
    SC_ASSIGN_OR_RETURN(auto stored, store->messages(u.chat_id));
    for (const auto& m : stored) {
      if (!m.outgoing || m.message_id != u.message_id) continue;
      PendingSend p;
      p.message = to_info(m);
      decorate_attachment(p.message);
      p.queued_at_ms = u.created_at_ms;
      out.push_back(std::move(p));
    }
  }
  return out;
}

Result<bool> Client::Impl::cancel_upload(std::int64_t message_id) {
  std::optional<store::UploadRecord> found;
  SC_TRY(store->transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(auto uploads, store->uploads());
    for (auto& u : uploads) {
      if (u.message_id == message_id) found = std::move(u);
    }
    if (!found) return ok_status();
    SC_TRY(store->delete_upload(message_id));
    SC_TRY(store->delete_message(found->chat_id, user_id, message_id));
    return ok_status();
  }));
  if (!found) return false;
  remove_scratch(home, message_id);
  // Best effort: the relay drops unfinished uploads after 24 hours anyway.
  if (auto d = core::decode_file_descriptor(found->descriptor.view()); d.ok()) {
    (void)relay->delete_blob(credentials, d->blob_id);
  }
  return true;
}

}  // namespace secchats
