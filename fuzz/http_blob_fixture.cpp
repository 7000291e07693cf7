#include "http_blob_fixture.hpp"

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>

#include "secchats/common/clock.hpp"

namespace secchats::fuzz {
namespace fs = std::filesystem;
using namespace secchats::server;

static_assert(kSeedCompleteId.size() == 43 && kSeedUploadId.size() == 43);

namespace {

[[noreturn]] void die(std::string_view what) {
  std::fprintf(stderr, "fuzz_http_handler: blob fixture: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::abort();
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) die("cannot write " + path.string());
}

std::string seed_bytes(std::uint64_t count) {
  std::string out(count, '\0');
  for (std::uint64_t i = 0; i < count; ++i)
    out[i] = seed_byte(i);
  return out;
}

// The sidecar FsBlobStore writes for a blob (fs_blob_store.cpp); if its format changes,
// the seeds fail to load and the fixture says so at startup.
std::string meta(const std::string& owner, std::uint64_t length) {
  return "secchats-blob 1\nowner " + owner + "\nlength " + std::to_string(length) + "\ncreated " +
         std::to_string(unix_millis_now()) + "\n";
}

// The value of the last header `name` (exact spelling: the routes set them), or nullptr.
const std::string* header(const HttpReply& reply, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [key, value] : reply.headers) {
    if (key == name) found = &value;
  }
  return found;
}

// Digits only, as the routes print numbers.
std::optional<std::uint64_t> decimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

bool is_seed_complete(std::string_view path) {
  return path.size() == 7 + kSeedCompleteId.size() && path.substr(7) == kSeedCompleteId;
}

// Reads the file body back from its descriptor: the whole range must be there (the transport
// announces file->length() as Content-Length), within a file of `blob_length` bytes, and for
// the seed blob equal to its known content.
std::string check_file_body(std::string_view path, const FileBody& file,
                            std::uint64_t blob_length) {
  struct stat st {};
  if (::fstat(file.fd(), &st) != 0) return "file body: fstat failed on its descriptor";
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size != blob_length) return "file body: the file's size is not the blob's length";
  if (file.length() == 0) return "file body: empty (a blob has at least one byte)";
  if (file.offset() > size || file.length() > size - file.offset()) {
    return "file body: the range passes the file's end (Content-Length would be a lie)";
  }
  std::string bytes(file.length(), '\0');
  std::uint64_t got = 0;
  while (got < file.length()) {
    const ssize_t n = ::pread(file.fd(), bytes.data() + got, file.length() - got,
                              static_cast<off_t>(file.offset() + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "file body: fewer bytes readable than Content-Length";
    got += static_cast<std::uint64_t>(n);
  }
  if (is_seed_complete(path)) {
    for (std::uint64_t i = 0; i < file.length(); ++i) {
      if (bytes[i] != seed_byte(file.offset() + i)) return "file body: not the seed blob's bytes";
    }
  }
  return {};
}

std::string check_get(std::string_view path, const HttpReply& reply) {
  if (!reply.file) return "GET success without a file body";
  if (reply.omit_body) return "GET success with the body omitted";
  const std::string* accept = header(reply, "Accept-Ranges");
  if (accept == nullptr || *accept != "bytes") return "GET success without Accept-Ranges: bytes";
  const std::string* range = header(reply, "Content-Range");
  if (reply.status == 200) {
    if (range != nullptr) return "200 with a Content-Range";
    if (reply.file->offset() != 0) return "200 whose file body does not start at 0";
    struct stat st {};
    if (::fstat(reply.file->fd(), &st) != 0) return "file body: fstat failed on its descriptor";
    return check_file_body(path, *reply.file, static_cast<std::uint64_t>(st.st_size));
  }
  // 206: "bytes a-b/L" describing exactly the file body.
  if (range == nullptr) return "206 without a Content-Range";
  std::string_view text = *range;
  if (!text.starts_with("bytes ")) return "206 Content-Range without the bytes unit";
  text.remove_prefix(6);
  const auto dash = text.find('-');
  const auto slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return "206 Content-Range is not 'bytes a-b/L'";
  }
  auto first = decimal(text.substr(0, dash));
  auto last = decimal(text.substr(dash + 1, slash - dash - 1));
  auto length = decimal(text.substr(slash + 1));
  if (!first || !last || !length) return "206 Content-Range has a bad number";
  if (*first > *last || *last >= *length) return "206 Content-Range is not within the blob";
  if (*first != reply.file->offset() || *last - *first + 1 != reply.file->length()) {
    return "206 Content-Range does not match the file body sent (offset, Content-Length)";
  }
  return check_file_body(path, *reply.file, *length);
}

}  // namespace

char seed_byte(std::uint64_t i) {
  return static_cast<char>((i * 31 + 7) & 0xff);
}

Result<std::string> ResettableBlobStore::create(const std::string& owner, std::uint64_t length) {
  return inner_->create(owner, length);
}
Result<BlobState> ResettableBlobStore::state(const std::string& id) {
  return inner_->state(id);
}
Result<AppendOutcome> ResettableBlobStore::append(const std::string& id, std::uint64_t offset,
                                                  std::string_view bytes) {
  return inner_->append(id, offset, bytes);
}
Result<BlobReader> ResettableBlobStore::open(const std::string& id) {
  return inner_->open(id);
}
Status ResettableBlobStore::remove(const std::string& id) {
  return inner_->remove(id);
}
BlobUsage ResettableBlobStore::usage(const std::string& owner) {
  return inner_->usage(owner);
}
BlobTotals ResettableBlobStore::totals() {
  return inner_->totals();
}
BlobPurgeResult ResettableBlobStore::purge(std::int64_t complete_before_ms,
                                           std::int64_t unfinished_before_ms) {
  return inner_->purge(complete_before_ms, unfinished_before_ms);
}

BlobFixture::BlobFixture(fs::path directory, Storage& storage, std::string seed_owner)
    : dir_(std::move(directory)), owner_(std::move(seed_owner)) {
  reset();
  BlobLimits limits;
  limits.max_blob_bytes = kMaxBlobBytes;
  limits.quota_bytes = kQuotaBytes;
  limits.min_free_bytes = 0;
  limits.max_unfinished_uploads = 8;
  // Plenty of room whatever /dev/shm holds: the quota is what bounds an input.
  auto plenty = []() -> Result<std::uint64_t> { return std::uint64_t{1} << 40; };
  service_ = std::make_unique<BlobService>(store_, storage, limits, dir_.string(), plenty);
}

BlobFixture::~BlobFixture() = default;

void BlobFixture::reset() {
  store_.replace(nullptr);
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) die("cannot create " + dir_.string());
  const std::string complete(kSeedCompleteId);
  const std::string upload(kSeedUploadId);
  write_file(dir_ / (complete + ".meta"), meta(owner_, kSeedCompleteLength));
  write_file(dir_ / (complete + ".blob"), seed_bytes(kSeedCompleteLength));
  write_file(dir_ / (upload + ".meta"), meta(owner_, kSeedUploadLength));
  write_file(dir_ / (upload + ".part"), seed_bytes(kSeedUploadOffset));
  auto opened = FsBlobStore::open(dir_);
  if (!opened.ok()) die("cannot open the blob store: " + opened.error().message());
  store_.replace(std::move(*opened));
  created_.clear();
  if (!seeds_intact()) die("the seed blobs did not load (did the .meta format change?)");
}

bool BlobFixture::seeds_intact() {
  const BlobTotals t = store_.totals();
  if (t.complete != 1 || t.unfinished != 1 || t.unfinished_bytes != kSeedUploadOffset) {
    return false;
  }
  auto complete = store_.state(std::string(kSeedCompleteId));
  auto upload = store_.state(std::string(kSeedUploadId));
  return complete.ok() && complete->complete && complete->length == kSeedCompleteLength &&
         upload.ok() && !upload->complete && upload->offset == kSeedUploadOffset &&
         upload->length == kSeedUploadLength;
}

void BlobFixture::note_reply(std::string_view method, std::string_view path,
                             const HttpReply& reply) {
  if (reply.status != 201 || method != "POST" || path != "/blobs") return;
  const std::string* location = header(reply, "Location");
  if (location != nullptr && location->starts_with("/blobs/")) {
    created_.push_back(location->substr(7));
  }
}

void BlobFixture::restore() {
  for (const auto& id : created_)
    (void)store_.remove(id);  // kNotFound if the input deleted it itself
  created_.clear();
  // The totals catch anything created that no reply named, too.
  if (!seeds_intact()) reset();
}

std::string check_blob_reply(std::string_view method, std::string_view path,
                             const HttpReply& reply) {
  const bool get = method == "GET";
  if (reply.file && !(get && (reply.status == 200 || reply.status == 206))) {
    return "a file body on a reply that is not a GET success";
  }
  switch (reply.status) {
    case 201: {
      if (method != "POST" || path != "/blobs") return "201 for something but POST /blobs";
      if (reply.content_type != "application/json") return "201 body is not JSON";
      boost::system::error_code ec;
      auto value = boost::json::parse(reply.body, ec);
      if (ec || !value.is_object() || value.as_object().size() != 1) {
        return "201 body is not {\"blobId\":...}";
      }
      const auto* id = value.as_object().if_contains("blobId");
      if (id == nullptr || !id->is_string() || !is_blob_id(id->as_string())) {
        return "201 body's blobId is not a blob id";
      }
      const std::string* location = header(reply, "Location");
      if (location == nullptr || *location != "/blobs/" + std::string(id->as_string())) {
        return "201 Location is not /blobs/<blobId>";
      }
      return {};
    }
    case 204: {
      if (!reply.body.empty() || !reply.content_type.empty() || !reply.omit_body) {
        return "204 with a body or a Content-Type";
      }
      if (method == "PATCH") {
        const std::string* offset = header(reply, "Upload-Offset");
        if (offset == nullptr || !decimal(*offset)) return "PATCH 204 without Upload-Offset";
      } else if (method != "DELETE") {
        return "204 for something but PATCH or DELETE";
      }
      return {};
    }
    case 200:
      if (method == "HEAD") {
        const std::string* offset = header(reply, "Upload-Offset");
        const std::string* length = header(reply, "Upload-Length");
        auto o = offset ? decimal(*offset) : std::nullopt;
        auto l = length ? decimal(*length) : std::nullopt;
        if (!o || !l) return "HEAD 200 without Upload-Offset and Upload-Length";
        if (*o > *l || *l == 0) return "HEAD 200 with Upload-Offset past Upload-Length";
        if (!reply.omit_body) return "HEAD 200 with a body";
        return {};
      }
      if (!get) return "200 for something but GET or HEAD";
      return check_get(path, reply);
    case 206:
      if (!get) return "206 for something but GET";
      return check_get(path, reply);
    case 409: {
      const std::string* offset = header(reply, "Upload-Offset");
      if (method != "PATCH" || offset == nullptr || !decimal(*offset)) {
        return "409 is not a PATCH answer with Upload-Offset";
      }
      return {};
    }
    case 416: {
      const std::string* range = header(reply, "Content-Range");
      if (method != "GET" || range == nullptr || !range->starts_with("bytes */") ||
          !decimal(std::string_view(*range).substr(8))) {
        return "416 without Content-Range: bytes */<length>";
      }
      return {};
    }
    case 400:
    case 401:
    case 404:
    case 405:
    case 413:
    case 429:
    case 507:
      return {};
    default:
      // 503 would be an I/O failure: on tmpfs with plenty of room, input must not cause one.
      return "undocumented /blobs status " + std::to_string(reply.status);
  }
}

}  // namespace secchats::fuzz
