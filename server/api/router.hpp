// Thin HTTP handlers: decode the body, call RelayService, encode the answer. No relay logic
// lives here, and no socket: the router takes a request's parts and returns a reply.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "service/relay_service.hpp"

namespace secchats::server {

// Fetches up to `max_bytes` of a body from byte `offset` (absolute, within the blob), off the
// transport's threads: exactly min(max_bytes, what is left) bytes, or an error.
using PieceSource = std::function<boost::asio::awaitable<Result<std::string>>(
    std::uint64_t offset, std::size_t max_bytes)>;

// A response body the transport streams instead of `body`: `length` bytes from `offset`,
// never loaded whole. Either from an open file (owns `fd`, closed when the last reply copy
// goes; sent with sendfile(2) on plain TCP) or from a PieceSource, asked for at most
// kBodyPieceBytes at a time with the write timeout on each write.
class FileBody {
 public:
  FileBody(int fd, std::uint64_t offset, std::uint64_t length)
      : fd_(fd), offset_(offset), length_(length) {}
  FileBody(PieceSource source, std::uint64_t offset, std::uint64_t length)
      : source_(std::move(source)), offset_(offset), length_(length) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  // The descriptor, or -1 when the body comes from a PieceSource.
  int fd() const { return fd_; }
  const PieceSource& source() const { return source_; }
  std::uint64_t offset() const { return offset_; }
  std::uint64_t length() const { return length_; }

 private:
  int fd_ = -1;
  PieceSource source_;
  std::uint64_t offset_;
  std::uint64_t length_;
};

// The most bytes the transport reads (pread, PieceSource) and writes at once for a FileBody.
constexpr std::size_t kBodyPieceBytes = std::size_t{256} << 10;

struct HttpReply {
  HttpReply() = default;
  HttpReply(int status_code, std::string type, std::string text)
      : status(status_code), content_type(std::move(type)), body(std::move(text)) {}

  int status = 200;
  std::string content_type = "application/json";  // "" = no Content-Type (204)
  std::string body;
  // Only the /blobs routes use the members below; the other endpoints' bytes never change.
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  std::shared_ptr<FileBody> file;  // when set, the body (Content-Length = its length)
  bool omit_body = false;          // HEAD: headers as for the body, but no body
};

class BlobService;

// Request counters for /varz. Counts and timings only: never ids.
struct ApiCounters {
  static constexpr std::size_t kEndpoints = 15;  // the 14 endpoints + "other"
  std::array<std::atomic<std::uint64_t>, kEndpoints> requests{};
  std::atomic<std::uint64_t> status_2xx{0}, status_4xx{0}, status_5xx{0};
  std::atomic<std::uint64_t> rate_limited{0};         // 429s from the per-address limits
  std::atomic<std::uint64_t> connections_refused{0};  // over the connection limit
};

// What the transport knows about a request besides its method, target and body.
struct RequestContext {
  std::string client_ip;      // the socket peer's address; "" when unknown (no IP limits)
  std::string forwarded_for;  // the X-Forwarded-For header, "" when absent
  // Headers the /blobs routes read (protocol-v2 §15.3); nullopt when absent.
  std::optional<std::string> upload_length;  // Upload-Length
  std::optional<std::string> upload_offset;  // Upload-Offset
  std::optional<std::string> range;          // Range
  std::optional<std::string> authorization;  // Authorization
  std::optional<std::string> secchats_user;  // X-Secchats-User
};

// The largest PATCH /blobs/<id> body, bytes (protocol-v2 §15.3).
constexpr std::size_t kMaxBlobPatchBytes = std::size_t{8} << 20;

// Per-client-address limits: token buckets, 0 per second/minute disables one.
struct RouterLimits {
  double requests_per_second = 200;  // every request
  double request_burst = 400;
  double registrations_per_minute = 10;  // /register
  double registration_burst = 20;
  // Take the client address from the last X-Forwarded-For entry (the one the reverse proxy
  // in front of us appended) instead of the socket peer. Only behind such a proxy.
  bool trust_forwarded_for = false;
  std::size_t max_tracked_addresses = 100000;  // per limiter; bounds their memory
};

class ApiRouter {
 public:
  // Without `blobs` the /blobs routes answer 404.
  explicit ApiRouter(RelayService& service, RouterLimits limits = {}, BlobService* blobs = nullptr);

  // The largest body the request may carry: kMaxBlobPatchBytes for PATCH /blobs/<id>,
  // `fallback` (the transport's limit) for everything else.
  std::size_t body_limit(std::string_view method, std::string_view target,
                         std::size_t fallback) const;
  // The largest body_limit() any route may return besides `fallback`.
  std::size_t max_body_limit() const { return blobs_ ? kMaxBlobPatchBytes : 0; }

  // `target` is the request path (a query string is ignored).
  boost::asio::awaitable<HttpReply> handle(std::string_view method, std::string_view target,
                                           std::string body, RequestContext context);
  // The same without a client address (no per-address limits apply).
  boost::asio::awaitable<HttpReply> handle(std::string_view method, std::string_view target,
                                           std::string body);

  // Replies for failures detected by the transport before a request reaches a handler.
  HttpReply transport_error(int status, std::string_view reason);
  // The 503 for a connection over the server's connection limit (counted for /varz).
  HttpReply refuse_connection();

  // Named counters from outside the service (the PostgreSQL LISTEN connection) that /varz
  // adds at its top level. Call before serving; `source` must be thread-safe.
  using VarzSource = std::function<std::vector<std::pair<std::string, std::int64_t>>()>;
  void add_varz_source(VarzSource source) { varz_sources_.push_back(std::move(source)); }

 private:
  HttpReply varz();
  HttpReply healthz();
  // The address the per-address limits count `context` under ("" = none).
  std::string client_key(const RequestContext& context) const;
  HttpReply rate_limited(std::string_view reason);

  RelayService& service_;
  BlobService* blobs_;
  ApiCounters counters_;
  RouterLimits limits_;
  RateLimiter ip_requests_;
  RateLimiter ip_registrations_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::vector<VarzSource> varz_sources_;
};

// Maps an error to its HTTP status (400/401/403/404/413/429/503/500).
int http_status_for(ErrorCode code);

// The /blobs routes (api/blob_routes.cpp): `path` is "/blobs" or "/blobs/<id>".
boost::asio::awaitable<HttpReply> handle_blob_request(BlobService& blobs, std::string_view method,
                                                      std::string_view path, std::string body,
                                                      RequestContext context);

}  // namespace secchats::server
