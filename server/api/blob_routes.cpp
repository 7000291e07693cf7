// The /blobs routes (protocol-v2 §15.3): headers in, BlobService calls, statuses and headers
// out. Upload relay logic lives in BlobService; byte streaming in the transport.
#include <boost/asio/use_awaitable.hpp>

#include "api/router.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "service/blob_service.hpp"

namespace secchats::server {
namespace asio = boost::asio;

namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

// The relay's usual mapping (http_status_for), except that the blob layer reports "quota or
// disk reserve exceeded" as kRefused: 507 Insufficient Storage.
int blob_status_for(ErrorCode code) {
  return code == ErrorCode::kRefused ? 507 : http_status_for(code);
}

HttpReply failure(const Error& e) {
  return {blob_status_for(e.code()), kText, e.message() + "\n"};
}

HttpReply reason(int status, std::string_view text) {
  return {status, kText, std::string(text) + "\n"};
}

HttpReply no_content() {
  HttpReply reply{204, "", ""};
  reply.omit_body = true;  // and no Content-Length (RFC 9110 §8.6)
  return reply;
}

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

// "bytes=a-", "bytes=a-b" or "bytes=-n" against a blob of `length` bytes. nullopt in `range`
// means "serve it whole" (no header, or one we ignore: multiple ranges, bad syntax, as
// RFC 9110 §14.2 allows); `unsatisfiable` means 416.
struct RangeRequest {
  std::optional<ByteRange> range;
  bool unsatisfiable = false;
};

std::optional<std::uint64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

RangeRequest parse_range(const std::optional<std::string>& header, std::uint64_t length) {
  if (!header) return {};
  std::string_view h = *header;
  constexpr std::string_view kUnit = "bytes=";
  if (!h.starts_with(kUnit)) return {};
  h.remove_prefix(kUnit.size());
  if (h.find(',') != std::string_view::npos) return {};
  const auto dash = h.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view a = h.substr(0, dash);
  const std::string_view b = h.substr(dash + 1);
  if (a.empty()) {  // suffix: the last n bytes
    auto n = digits(b);
    if (!n) return {};
    if (*n == 0) return {std::nullopt, true};
    return {ByteRange{length - std::min(*n, length), length - 1}, false};
  }
  auto first = digits(a);
  if (!first) return {};
  std::uint64_t last = length - 1;
  if (!b.empty()) {
    auto parsed = digits(b);
    if (!parsed || *parsed < *first) return {};
    last = std::min(*parsed, length - 1);
  }
  if (*first >= length) return {std::nullopt, true};
  return {ByteRange{*first, last}, false};
}

asio::awaitable<HttpReply> get_blob(BlobService& blobs, std::string id,
                                    const RequestContext& context, bool head) {
  Result<BlobReader> reader = co_await blobs.open(std::move(id));
  if (!reader.ok()) co_return failure(reader.error());
  const std::uint64_t length = reader->length();
  RangeRequest wanted = parse_range(context.range, length);
  HttpReply reply{200, "application/octet-stream", ""};
  reply.omit_body = head;
  reply.headers.emplace_back("Accept-Ranges", "bytes");
  if (wanted.unsatisfiable) {
    reply = reason(416, "the range starts past the blob's end");
    reply.omit_body = head;
    reply.headers.emplace_back("Content-Range", "bytes */" + std::to_string(length));
    co_return reply;
  }
  ByteRange range{0, length - 1};
  if (wanted.range) {
    range = *wanted.range;
    reply.status = 206;
    reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                    std::to_string(range.last) + "/" +
                                                    std::to_string(length));
  }
  const std::uint64_t count = range.last - range.first + 1;
  if (reader->fd() >= 0) {
    reply.file = std::make_shared<FileBody>(reader->release(), range.first, count);
  } else {
    // A range source (the PostgreSQL store): the transport asks for the body piece by piece,
    // each read on the blob service's I/O pool.
    auto shared = std::make_shared<const BlobReader>(std::move(*reader));
    PieceSource source = [&blobs, shared](std::uint64_t offset, std::size_t max_bytes) {
      return blobs.read_piece(shared, offset, max_bytes);
    };
    reply.file = std::make_shared<FileBody>(std::move(source), range.first, count);
  }
  if (!head) blobs.count_downloaded(count);
  co_return reply;
}

}  // namespace

asio::awaitable<HttpReply> handle_blob_request(BlobService& blobs, std::string_view method,
                                               std::string_view path, std::string body,
                                               RequestContext context) {
  BlobCredentials credentials{context.secchats_user, context.authorization};
  if (path == "/blobs") {
    if (method != "POST") co_return reason(405, "use POST /blobs to start an upload");
    if (!body.empty()) co_return reason(400, "POST /blobs takes no body; send Upload-Length");
    std::optional<std::string> length = context.upload_length;
    Result<std::string> id = co_await blobs.create(std::move(credentials), std::move(length));
    if (!id.ok()) co_return failure(id.error());
    std::string json = "{\"blobId\":";
    protocol::append_json_string(json, *id);
    json += "}";
    HttpReply reply{201, "application/json", std::move(json)};
    reply.headers.emplace_back("Location", "/blobs/" + *id);
    co_return reply;
  }

  std::string id(path.substr(std::string_view("/blobs/").size()));
  const bool head = method == "HEAD";
  if (method == "GET") {
    HttpReply reply = co_await get_blob(blobs, std::move(id), context, false);
    co_return reply;
  }
  if (head) {
    // The owner learns the upload's offset; a complete blob reports offset == length.
    Result<BlobState> state = co_await blobs.state(std::move(credentials), std::move(id));
    HttpReply reply = state.ok() ? no_content() : failure(state.error());
    reply.omit_body = true;
    if (state.ok()) {
      reply.status = 200;
      reply.headers.emplace_back("Upload-Offset", std::to_string(state->offset));
      reply.headers.emplace_back("Upload-Length", std::to_string(state->length));
    }
    co_return reply;
  }
  if (method == "PATCH") {
    std::optional<std::string> offset = context.upload_offset;
    Result<AppendOutcome> outcome = co_await blobs.append(std::move(credentials), std::move(id),
                                                          std::move(offset), std::move(body));
    if (!outcome.ok()) co_return failure(outcome.error());
    HttpReply reply = outcome->accepted
                          ? no_content()
                          : reason(409,
                                   "Upload-Offset is not where the upload stands; resume "
                                   "from the Upload-Offset in this answer");
    reply.headers.emplace_back("Upload-Offset", std::to_string(outcome->offset));
    co_return reply;
  }
  if (method == "DELETE") {
    Status removed = co_await blobs.remove(std::move(credentials), std::move(id));
    co_return removed.ok() ? no_content() : failure(removed.error());
  }
  co_return reason(405, "use GET, HEAD, PATCH or DELETE on /blobs/<id>");
}

}  // namespace secchats::server
