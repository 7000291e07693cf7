#include "blob/fs_blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/common/log.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::server {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBlobIdBytes = 32;
constexpr std::size_t kBlobIdChars = 43;
constexpr const char* kMetaMagic = "secchats-blob 1";

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

// The error for a failed system call; ENOSPC/EDQUOT become "insufficient storage".
Error io_error(const char* what) {
  const int err = errno;
  if (err == ENOSPC || err == EDQUOT) {
    return Error(ErrorCode::kRefused, "the relay's disk is full; try again later");
  }
  return Error(ErrorCode::kUnavailable,
               std::string("blob store: ") + what + ": " + std::strerror(err));
}

Status fsync_directory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.fd < 0) return io_error("open directory");
  if (::fsync(fd.fd) != 0) return io_error("fsync directory");
  return ok_status();
}

Status write_all(int fd, std::string_view bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return ok_status();
}

std::int64_t mtime_ms(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

std::string meta_text(const BlobState& s) {
  return std::string(kMetaMagic) + "\nowner " + s.owner + "\nlength " + std::to_string(s.length) +
         "\ncreated " + std::to_string(s.created_ms) + "\n";
}

// Parses a sidecar; nullopt when it is not one of ours.
std::optional<BlobState> parse_meta(const std::string& text) {
  std::istringstream in(text);
  std::string magic;
  if (!std::getline(in, magic) || magic != kMetaMagic) return std::nullopt;
  BlobState s;
  std::string key;
  bool owner = false, length = false, created = false;
  while (in >> key) {
    if (key == "owner" && in >> s.owner) {
      owner = true;
    } else if (key == "length" && in >> s.length) {
      length = true;
    } else if (key == "created" && in >> s.created_ms) {
      created = true;
    } else {
      return std::nullopt;
    }
  }
  if (!owner || !length || !created || s.length == 0) return std::nullopt;
  return s;
}

std::optional<std::string> read_small_file(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return std::nullopt;
  std::string out;
  char buf[1024];
  for (;;) {
    const ssize_t n = ::read(fd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > 4096) return std::nullopt;
  }
  return out;
}

}  // namespace

std::string make_blob_id() {
  auto bytes = crypto::random_bytes(kBlobIdBytes);
  std::string id = base64_encode(bytes);
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!id.empty() && id.back() == '=')
    id.pop_back();
  return id;
}

bool is_blob_id(std::string_view id) {
  if (id.size() != kBlobIdChars) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

BlobReader::~BlobReader() {
  if (fd_ >= 0) ::close(fd_);
}
BlobReader::BlobReader(BlobReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      source_(std::exchange(other.source_, nullptr)),
      length_(other.length_) {}
BlobReader& BlobReader::operator=(BlobReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    source_ = std::exchange(other.source_, nullptr);
    length_ = other.length_;
  }
  return *this;
}
int BlobReader::release() {
  return std::exchange(fd_, -1);
}

Result<std::string> BlobReader::read(std::uint64_t offset, std::size_t max_bytes) const {
  if (offset >= length_ || max_bytes == 0) {
    return Error(ErrorCode::kInvalidArgument, "blob read outside the blob");
  }
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, length_ - offset));
  if (source_) {
    SC_ASSIGN_OR_RETURN(std::string piece, source_(offset, want));
    if (piece.size() != want) {
      return Error(ErrorCode::kUnavailable, "blob store: a piece came back short");
    }
    return piece;
  }
  if (fd_ < 0) return Error(ErrorCode::kInvalidArgument, "blob read on an empty reader");
  std::string out(want, '\0');
  std::size_t done = 0;
  while (done < want) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, want - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read");
    if (n == 0)
      return Error(ErrorCode::kUnavailable, "blob store: the file is shorter than the blob");
    done += static_cast<std::size_t>(n);
  }
  return out;
}

Result<std::unique_ptr<FsBlobStore>> FsBlobStore::open(const fs::path& directory) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    return Error(ErrorCode::kUnavailable,
                 "cannot create blob directory " + directory.string() + ": " + ec.message());
  }
  auto store = std::unique_ptr<FsBlobStore>(new FsBlobStore(directory));
  SC_TRY(store->scan());
  return store;
}

fs::path FsBlobStore::path(const std::string& id, const char* suffix) const {
  return dir_ / (id + suffix);
}

void FsBlobStore::unlink_files(const std::string& id) const {
  for (const char* suffix : {".blob", ".part", ".meta"}) {
    ::unlink(path(id, suffix).c_str());  // absent files are fine
  }
}

void FsBlobStore::add_locked(const std::string& id, const BlobState& s) {
  entries_[id] = Entry{s, false};
  auto& u = usage_[s.owner];
  u.bytes += s.length;
  if (s.complete) {
    totals_.complete += 1;
    totals_.complete_bytes += s.length;
  } else {
    u.unfinished += 1;
    totals_.unfinished += 1;
    totals_.unfinished_bytes += s.offset;
    totals_.unfinished_pending += s.length - s.offset;
  }
}

void FsBlobStore::drop_locked(const std::string& id, const BlobState& s) {
  auto it = usage_.find(s.owner);
  if (it != usage_.end()) {
    it->second.bytes -= std::min(it->second.bytes, s.length);
    if (!s.complete && it->second.unfinished > 0) it->second.unfinished -= 1;
    if (it->second.bytes == 0 && it->second.unfinished == 0) usage_.erase(it);
  }
  if (s.complete) {
    totals_.complete -= 1;
    totals_.complete_bytes -= s.length;
  } else {
    totals_.unfinished -= 1;
    totals_.unfinished_bytes -= s.offset;
    totals_.unfinished_pending -= s.length - s.offset;
  }
  entries_.erase(id);
}

Status FsBlobStore::scan() {
  std::error_code ec;
  std::vector<std::string> metas;
  std::vector<fs::path> debris;
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto dot = name.find('.');
    const std::string id = name.substr(0, dot);
    const std::string suffix = dot == std::string::npos ? "" : name.substr(dot);
    if (!is_blob_id(id)) continue;  // not ours: leave it alone
    if (suffix == ".meta") {
      metas.push_back(id);
    } else if (suffix != ".part" && suffix != ".blob") {
      debris.push_back(it->path());  // a .meta.tmp from a create cut short
    } else if (!fs::exists(path(id, ".meta"))) {
      debris.push_back(it->path());  // data without its sidecar: nobody can own it
    }
  }
  if (ec) {
    return Error(ErrorCode::kUnavailable,
                 "cannot read blob directory " + dir_.string() + ": " + ec.message());
  }
  for (const auto& p : debris)
    fs::remove(p, ec);

  std::lock_guard lock(mutex_);
  std::size_t dropped = 0;
  for (const auto& id : metas) {
    auto text = read_small_file(path(id, ".meta"));
    auto state = text ? parse_meta(*text) : std::nullopt;
    struct stat st {};
    if (state && ::stat(path(id, ".blob").c_str(), &st) == 0) {
      if (static_cast<std::uint64_t>(st.st_size) != state->length) state.reset();
      if (state) {
        state->offset = state->length;
        state->complete = true;
        state->updated_ms = mtime_ms(st);
        ::unlink(path(id, ".part").c_str());  // a leftover from before the rename's fsync
      }
    } else if (state && ::stat(path(id, ".part").c_str(), &st) == 0) {
      auto size = static_cast<std::uint64_t>(st.st_size);
      if (size > state->length) {
        // Cannot come from append(); keep the declared length's worth.
        if (::truncate(path(id, ".part").c_str(), static_cast<off_t>(state->length)) != 0) {
          state.reset();
        }
        size = state ? state->length : 0;
      }
      if (state) {
        state->offset = size;
        state->updated_ms = mtime_ms(st);
      }
      if (state && size == state->length) {
        // Cut off between the last append's fsync and its rename: finish the job.
        Fd fd(::open(path(id, ".part").c_str(), O_WRONLY | O_CLOEXEC));
        const bool done = fd.fd >= 0 && ::fsync(fd.fd) == 0 &&
                          ::rename(path(id, ".part").c_str(), path(id, ".blob").c_str()) == 0 &&
                          fsync_directory(dir_).ok();
        if (done) state->complete = true;
      }
    } else {
      state.reset();  // created, but its .part never made it to disk
    }
    if (!state) {
      unlink_files(id);
      ++dropped;
      continue;
    }
    add_locked(id, *state);
  }
  if (dropped > 0) {
    log::warn("blob store: dropped " + std::to_string(dropped) +
              " unreadable or incomplete entries at start");
  }
  return ok_status();
}

Result<std::string> FsBlobStore::create(const std::string& owner, std::uint64_t length) {
  if (length == 0) return Error(ErrorCode::kInvalidArgument, "a blob has at least one byte");
  BlobState s;
  s.owner = owner;
  s.length = length;
  s.created_ms = s.updated_ms = unix_millis_now();
  const std::string id = make_blob_id();
  {
    Fd part(::open(path(id, ".part").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (part.fd < 0) return io_error("create upload");
  }
  const fs::path tmp = path(id, ".meta.tmp");
  Status written = [&]() -> Status {
    Fd meta(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (meta.fd < 0) return io_error("create sidecar");
    SC_TRY(write_all(meta.fd, meta_text(s), 0));
    if (::fsync(meta.fd) != 0) return io_error("fsync sidecar");
    if (::rename(tmp.c_str(), path(id, ".meta").c_str()) != 0) return io_error("rename sidecar");
    return fsync_directory(dir_);
  }();
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    unlink_files(id);
    return std::move(written).error();
  }
  std::lock_guard lock(mutex_);
  add_locked(id, s);
  return id;
}

Result<BlobState> FsBlobStore::state(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Error(ErrorCode::kNotFound, "no such blob");
  return it->second.state;
}

Result<AppendOutcome> FsBlobStore::append(const std::string& id, std::uint64_t offset,
                                          std::string_view bytes) {
  BlobState before;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return Error(ErrorCode::kNotFound, "no such blob");
    Entry& e = it->second;
    if (e.appending || e.state.offset != offset) return AppendOutcome{false, e.state.offset};
    if (e.state.complete) return AppendOutcome{bytes.empty(), e.state.offset};
    if (bytes.size() > e.state.length - offset) {
      return Error(ErrorCode::kInvalidArgument, "the bytes would pass the blob's Upload-Length");
    }
    e.appending = true;
    before = e.state;
  }
  const std::uint64_t end = offset + bytes.size();
  const bool completes = end == before.length;
  const fs::path part = path(id, ".part");
  Status written = [&]() -> Status {
    Fd fd(::open(part.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.fd < 0) {
      return errno == ENOENT ? Error(ErrorCode::kNotFound, "no such blob") : io_error("open");
    }
    Status wrote = write_all(fd.fd, bytes, offset);
    if (!wrote.ok()) {
      // Leave the .part where it was, so the offset the index reports stays true.
      if (::ftruncate(fd.fd, static_cast<off_t>(offset)) != 0) {
        log::warn("blob store: could not undo a partial write");
      }
      return wrote;
    }
    if (completes) {
      if (::fsync(fd.fd) != 0) return io_error("fsync");
      if (::rename(part.c_str(), path(id, ".blob").c_str()) != 0) {
        return errno == ENOENT ? Error(ErrorCode::kNotFound, "no such blob") : io_error("rename");
      }
      return fsync_directory(dir_);
    }
    // Acknowledged bytes survive a power cut: "204" means the relay has them.
    if (!bytes.empty() && ::fdatasync(fd.fd) != 0) return io_error("fdatasync");
    return ok_status();
  }();

  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    // Removed while we wrote: make sure nothing is left behind.
    unlink_files(id);
    return Error(ErrorCode::kNotFound, "no such blob");
  }
  Entry& e = it->second;
  e.appending = false;
  if (!written.ok()) return std::move(written).error();
  totals_.unfinished_bytes += bytes.size();
  totals_.unfinished_pending -= bytes.size();
  e.state.offset = end;
  e.state.updated_ms = unix_millis_now();
  if (completes) {
    // Move it from the unfinished to the complete counts.
    BlobState s = e.state;
    s.complete = false;
    drop_locked(id, s);
    s.complete = true;
    add_locked(id, s);
  }
  return AppendOutcome{true, end};
}

Result<BlobReader> FsBlobStore::open(const std::string& id) {
  std::uint64_t length = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.state.complete) {
      return Error(ErrorCode::kNotFound, "no such blob");
    }
    length = it->second.state.length;
  }
  Fd fd(::open(path(id, ".blob").c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    return errno == ENOENT ? Error(ErrorCode::kNotFound, "no such blob") : io_error("open");
  }
  return BlobReader(fd.release(), length);
}

Status FsBlobStore::remove(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return Error(ErrorCode::kNotFound, "no such blob");
    BlobState s = it->second.state;
    drop_locked(id, s);
  }
  // The data first, the sidecar last: a crash in between leaves debris scan() removes.
  unlink_files(id);
  return ok_status();
}

BlobUsage FsBlobStore::usage(const std::string& owner) {
  std::lock_guard lock(mutex_);
  auto it = usage_.find(owner);
  return it == usage_.end() ? BlobUsage{} : it->second;
}

BlobTotals FsBlobStore::totals() {
  std::lock_guard lock(mutex_);
  return totals_;
}

BlobPurgeResult FsBlobStore::purge(std::int64_t complete_before_ms,
                                   std::int64_t unfinished_before_ms) {
  BlobPurgeResult result;
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      const BlobState s = it->second.state;
      const bool expired = s.complete
                               ? s.updated_ms < complete_before_ms
                               : !it->second.appending && s.updated_ms < unfinished_before_ms;
      const std::string id = it->first;
      ++it;
      if (!expired) continue;
      (s.complete ? result.complete_removed : result.unfinished_removed) += 1;
      drop_locked(id, s);
      doomed.push_back(id);
    }
  }
  for (const auto& id : doomed)
    unlink_files(id);
  return result;
}

}  // namespace secchats::server
