// RelayClient's attachment blob calls (docs/protocol-v2.md §15.3) over the raw exchange.
#include <charconv>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "relay_status.hpp"
#include "secchats/net/relay_client.hpp"

namespace secchats::net {
namespace {

constexpr std::uint64_t kMaxPatchBytes = std::uint64_t{8} << 20;

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// A blob id as the relay makes them: 43 characters of base64url. Anything else never goes
// into a request path.
Status check_blob_id(std::string_view id) {
  bool ok = id.size() == 43;
  for (char c : id) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-' && c != '_') ok = false;
  }
  if (!ok) return Error(ErrorCode::kInvalidArgument, "malformed blob id");
  return ok_status();
}

Error missing_header(std::string_view what, std::string_view call) {
  return Error(ErrorCode::kCorrupt,
               "malformed answer to " + std::string(call) + ": no valid " + std::string(what));
}

}  // namespace

Result<std::string> RelayClient::create_blob(const Credentials& me,
                                             std::uint64_t ciphertext_length) {
  RawRequest request{
      "POST", "/blobs", &me, {{"Upload-Length", std::to_string(ciphertext_length)}}, {}};
  SC_ASSIGN_OR_RETURN(RawResponse response, exchange(request, nullptr));
  if (response.status != 201 && response.status != 200) {
    return relay_status_error(response.status, response.reason);
  }
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(response.body, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* id = object != nullptr ? object->if_contains("blobId") : nullptr;
  if (id == nullptr || !id->is_string()) return missing_header("blobId", "POST /blobs");
  std::string blob_id(id->as_string());
  if (!check_blob_id(blob_id).ok()) return missing_header("blobId", "POST /blobs");
  return blob_id;
}

Result<RelayClient::BlobOffset> RelayClient::blob_offset(const Credentials& me,
                                                         std::string_view blob_id) {
  SC_TRY(check_blob_id(blob_id));
  RawRequest request{"HEAD", "/blobs/" + std::string(blob_id), &me, {}, {}};
  SC_ASSIGN_OR_RETURN(RawResponse response, exchange(request, nullptr));
  if (response.status != 200) return relay_status_error(response.status, response.reason);
  const std::string* offset = response.header("Upload-Offset");
  const std::string* length = response.header("Upload-Length");
  auto o = offset ? parse_u64(*offset) : std::nullopt;
  auto l = length ? parse_u64(*length) : std::nullopt;
  if (!o || !l || *o > *l) return missing_header("Upload-Offset/Length", "HEAD /blobs");
  return BlobOffset{*o, *l};
}

Result<RelayClient::BlobPatch> RelayClient::upload_blob_chunk(const Credentials& me,
                                                              std::string_view blob_id,
                                                              std::uint64_t offset,
                                                              std::span<const std::uint8_t> bytes) {
  SC_TRY(check_blob_id(blob_id));
  if (bytes.size() > kMaxPatchBytes) {
    return Error(ErrorCode::kInvalidArgument, "a blob PATCH carries at most 8 MiB");
  }
  RawRequest request{"PATCH",
                     "/blobs/" + std::string(blob_id),
                     &me,
                     {{"Upload-Offset", std::to_string(offset)},
                      {"Content-Type", "application/offset+octet-stream"}},
                     bytes};
  SC_ASSIGN_OR_RETURN(RawResponse response, exchange(request, nullptr));
  if (response.status != 204 && response.status != 200 && response.status != 409) {
    return relay_status_error(response.status, response.reason);
  }
  const std::string* header = response.header("Upload-Offset");
  auto now = header ? parse_u64(*header) : std::nullopt;
  if (!now) return missing_header("Upload-Offset", "PATCH /blobs");
  if (response.status == 409) return BlobPatch{*now, true};
  if (*now != offset + bytes.size()) return missing_header("Upload-Offset", "PATCH /blobs");
  return BlobPatch{*now, false};
}

namespace {

// Where a 200/206 answer's body starts: 0 for 200, the Content-Range start (which must be
// what we asked for) for 206.
Result<RelayClient::BlobDownload> download_start(unsigned status, const std::string* range,
                                                 const std::string* length,
                                                 std::uint64_t from_offset) {
  RelayClient::BlobDownload out;
  if (status == 200) {
    out.total = length ? parse_u64(*length).value_or(0) : 0;
    return out;
  }
  // Content-Range: bytes a-b/total
  std::string_view text = range ? std::string_view(*range) : std::string_view();
  const auto dash = text.find('-');
  const auto slash = text.find('/');
  if (!text.starts_with("bytes ") || dash == std::string_view::npos ||
      slash == std::string_view::npos || slash < dash) {
    return missing_header("Content-Range", "GET /blobs");
  }
  auto first = parse_u64(text.substr(6, dash - 6));
  if (!first || *first != from_offset) return missing_header("Content-Range", "GET /blobs");
  out.start = *first;
  out.total = parse_u64(text.substr(slash + 1)).value_or(0);
  return out;
}

}  // namespace

Result<RelayClient::BlobDownload> RelayClient::download_blob(std::string_view blob_id,
                                                             std::uint64_t from_offset,
                                                             const BlobSink& sink,
                                                             const BlobStart& on_start) {
  SC_TRY(check_blob_id(blob_id));
  RawRequest request{"GET", "/blobs/" + std::string(blob_id), nullptr, {}, {}};
  if (from_offset > 0) {
    request.headers.emplace_back("Range", "bytes=" + std::to_string(from_offset) + "-");
  }
  // The start must be known before the first byte reaches the sink: a 200 to a Range
  // request means the caller has to start over, which the sink is told by `start` below.
  std::optional<BlobDownload> started;
  const HeaderCheck check = [&](const RawResponse& head) -> Status {
    if (head.status != 200 && head.status != 206) {
      return Error(ErrorCode::kCorrupt, "unexpected answer to GET /blobs");
    }
    SC_ASSIGN_OR_RETURN(BlobDownload start,
                        download_start(head.status, head.header("Content-Range"),
                                       head.header("Content-Length"), from_offset));
    started = start;
    return on_start ? on_start(start) : ok_status();
  };
  SC_ASSIGN_OR_RETURN(RawResponse response, exchange(request, &sink, &check));
  if (response.status != 200 && response.status != 206) {
    return relay_status_error(response.status, response.reason);
  }
  if (started) return *started;
  // An empty body reached neither callback.
  SC_TRY(check(response));
  return *started;
}

Status RelayClient::delete_blob(const Credentials& me, std::string_view blob_id) {
  SC_TRY(check_blob_id(blob_id));
  RawRequest request{"DELETE", "/blobs/" + std::string(blob_id), &me, {}, {}};
  SC_ASSIGN_OR_RETURN(RawResponse response, exchange(request, nullptr));
  if (response.status != 204 && response.status != 200) {
    return relay_status_error(response.status, response.reason);
  }
  return ok_status();
}

}  // namespace secchats::net
