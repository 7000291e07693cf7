// The client side of the open API: one method per endpoint, blocking, with a timeout on
// every call. Only this library knows HTTP; callers see protocol objects and Results.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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

 private:
  struct Impl;
  explicit RelayClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::net
