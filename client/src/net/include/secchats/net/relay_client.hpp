// The client side of the open API: one method per endpoint, blocking, with a timeout on
// every call. Only this library knows HTTP; callers see protocol objects and Results.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"
#include "secchats/protocol/objects.hpp"

namespace secchats::net {

// Who we are on the relay (every call but /register carries these in the body).
struct Credentials {
  std::string user_id;
  SecretString auth_token;
};

struct RelayOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  // Must exceed the server's long-poll hold (≤ 24 s) so a quiet poll ends with the server's
  // empty 200, not our timeout. The reference client uses 25 s.
  std::chrono::milliseconds long_poll_timeout{25000};

  // TLS (https:// only; giving either for http:// is kInvalidArgument).
  //
  // By default the server's certificate chain is verified against the system's trust store
  // and must name the URL's host (DNS name or IP address, via subjectAltName).
  //
  // PEM file of trusted certificates used instead of the system's: CA roots, intermediates,
  // or the server's own (self-signed) certificate — every certificate in it is a trust anchor.
  std::string ca_file;
  // Certificate pinning: the SHA-256 of the server certificate's DER encoding (the whole
  // certificate, not its public key: `openssl x509 -noout -fingerprint -sha256`, or what
  // `secchats-server` prints at start), as base64 (44 characters) or hex (64 digits, colons
  // and case ignored). A server presenting any other certificate is refused. With a pin and
  // no ca_file, chain and host name are not checked (so a self-signed development
  // certificate works with the pin alone); with both, all checks apply.
  std::string pin_sha256;

  // Plain http:// is refused (kInsecure) unless the host is loopback (127.0.0.0/8, ::1,
  // localhost) or this is set.
  bool allow_insecure_http = false;
};

// Error mapping: cannot connect / time out / broken connection → kNetwork; HTTP 401 →
// kUnauthenticated; 404 → kNotFound; 413 → kTooLarge; 429 → kRateLimited; 408 and every
// 5xx → kUnavailable (worth retrying); any other non-200 → kRefused. The message carries the status
// and the server's short reason (first line, at most 200 chars), never the request body. A 200
// whose body does not decode → kCorrupt. TLS: a certificate that fails verification →
// kInsecure "certificate verify failed: <reason>"; a pinned one that differs → kInsecure
// "certificate pin mismatch ..."; any other TLS handshake failure → kInsecure too.
//
// Keeps one keep-alive connection open and reuses it; if a kept connection turns out to be
// closed before any byte of the answer arrived, the request is sent once more on a new one.
//
// Thread-safety: a RelayClient is not thread-safe; use each instance from one thread at a
// time. Instances share no state, so a second instance may long-poll on another thread.
class RelayClient {
 public:
  // `server_url`: "https://host[:port]" or "http://host[:port]" (an optional trailing path
  // prefix is kept). Other schemes, a malformed pin or an unreadable ca_file are
  // kInvalidArgument; http:// to a host that is not loopback is kInsecure unless
  // options.allow_insecure_http. Does not connect yet.
  static Result<std::unique_ptr<RelayClient>> create(std::string_view server_url,
                                                     RelayOptions options = {});
  ~RelayClient();
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;

  Result<protocol::User> register_user();                         // POST /register
  Result<protocol::Group> register_group(const Credentials& me);  // /register2
  Result<protocol::Notifications> receive(const Credentials& me, std::int64_t after);
  Status connect(const Credentials& me, protocol::FriendRequest request);     // /connect
  Status respond(const Credentials& me, protocol::FriendResponse response);   // /connect2
  Status post_message(const Credentials& me, protocol::SendMessage message);  // /postmsg
  Status invite(const Credentials& me, protocol::GroupInvite invite);         // /groupinv
  Status post_group(const Credentials& me, protocol::SendMessage message);    // /postgroup
  Result<protocol::GroupNotifications> poll_group(const Credentials& me, std::string_view group_id,
                                                  std::int64_t after);
  Result<protocol::GroupNotifications> poll_groups(const Credentials& me,
                                                   const std::vector<std::string>& group_ids,
                                                   std::int64_t after);
  // Holds until traffic for any of `ids` (our own user id = our queue) newer than `after`, or
  // the server's timeout. Returns the id the server named, or nullopt on an empty answer.
  // The one method that may be called from another thread: the call in flight on this
  // client ends at once with kUnavailable "request cancelled" (its connection is closed; the
  // next call opens a new one). A cancel that arrives when no call is in flight, or after the
  // call it raced has ended, does nothing — the caller keeps its own flag for that window.
  void cancel();

  Result<std::optional<std::string>> long_poll(const Credentials& me,
                                               const std::vector<std::string>& ids,
                                               std::int64_t after);

  // Fills the credential fields of each object (fromUserId/userId and authToken) from `me`
  // before sending, so callers never handle the token in request objects themselves.

  // Attachment blobs (docs/protocol-v2.md §15.3). Uploads carry `me` as the headers
  // X-Secchats-User and Authorization: Bearer; downloads need only the blob id (a
  // capability). Besides the mapping above: 507 → kUnavailable "relay storage full or quota
  // exceeded: <reason>". Each call has its own timeout (request_timeout, for a PATCH one per
  // started MiB of body; a download's per piece read), never one for a whole 100 MB blob.

  // POST /blobs with Upload-Length `ciphertext_length` (bytes): the new blob's id.
  Result<std::string> create_blob(const Credentials& me, std::uint64_t ciphertext_length);
  // HEAD /blobs/<id> (ours): how far the relay's copy goes.
  struct BlobOffset {
    std::uint64_t offset = 0;  // bytes the relay has (Upload-Offset)
    std::uint64_t length = 0;  // the blob's declared size (Upload-Length)
  };
  Result<BlobOffset> blob_offset(const Credentials& me, std::string_view blob_id);
  // PATCH /blobs/<id> at `offset` with `bytes` (at most 8 MiB).
  struct BlobPatch {
    // Accepted: where the relay's copy now stops (offset + bytes). A 409 (`conflict`): where
    // it really stops — realign there and send again.
    std::uint64_t offset = 0;
    bool conflict = false;
  };
  Result<BlobPatch> upload_blob_chunk(const Credentials& me, std::string_view blob_id,
                                      std::uint64_t offset, std::span<const std::uint8_t> bytes);
  // GET /blobs/<id> from byte `from_offset` (a Range request when > 0), the body handed to
  // `sink` in pieces of at most 64 KiB as it arrives (never buffered whole). A sink error
  // ends the call with that error (the connection is dropped). kNotFound: unknown, expired
  // or unfinished blob.
  struct BlobDownload {
    // Where the bytes handed to the sink begin: `from_offset` after a 206, 0 when the relay
    // answered 200 with the whole blob (the caller starts over).
    std::uint64_t start = 0;
    std::uint64_t total = 0;  // the whole blob's size, when the relay said (else 0)
  };
  using BlobSink = std::function<Status(std::span<const std::uint8_t>)>;
  // `on_start`, if given, learns where the body starts before its first byte reaches `sink`
  // (an error from it ends the call like a sink error).
  using BlobStart = std::function<Status(const BlobDownload&)>;
  Result<BlobDownload> download_blob(std::string_view blob_id, std::uint64_t from_offset,
                                     const BlobSink& sink, const BlobStart& on_start = {});
  // DELETE /blobs/<id> (ours): an upload given up or a blob no longer needed.
  Status delete_blob(const Credentials& me, std::string_view blob_id);

 private:
  // One HTTP exchange outside the JSON API (relay_client.cpp), for the blob calls
  // (relay_blobs.cpp).
  struct RawRequest {
    std::string method;               // "POST", "HEAD", "PATCH", "GET", "DELETE"
    std::string target;               // path after the URL's prefix, e.g. "/blobs/<id>"
    const Credentials* me = nullptr;  // adds X-Secchats-User and Authorization when set
    std::vector<std::pair<std::string, std::string>> headers;
    std::span<const std::uint8_t> body;
  };
  struct RawResponse {
    unsigned status = 0;
    std::string reason;  // short_reason of a non-2xx body (or the phrase)
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // a 2xx body when no sink was given (at most 64 KiB)
    const std::string* header(std::string_view name) const;
  };
  // With a sink, a 2xx answer's body goes to it piece by piece (after `on_header`, if given,
  // accepted the status and headers); otherwise it is collected.
  using HeaderCheck = std::function<Status(const RawResponse&)>;
  Result<RawResponse> exchange(const RawRequest& request, const BlobSink* sink,
                               const HeaderCheck* on_header = nullptr);

  struct Impl;
  explicit RelayClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::net
