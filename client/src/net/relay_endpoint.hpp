// Internal to secchats_client_net: where the relay is (the parsed server URL) and the TLS
// policy of our connections to it (relay_endpoint.cpp), apart from the transport.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include <openssl/x509.h>

#include "secchats/common/result.hpp"
#include "secchats/net/relay_client.hpp"

namespace secchats::net::endpoint {

using Sha256 = std::vector<std::uint8_t>;

// Where the relay is, split the ways the transport needs it.
struct ServerAddress {
  std::string host;         // for the resolver: decoded, IPv6 without brackets
  std::string port;         // decimal digits
  std::string host_header;  // "host[:port]" as written, IPv6 in brackets
  std::string prefix;       // "" or "/some/prefix" (no trailing slash), prepended to endpoints
  std::string origin;       // "http(s)://host[:port]", for messages
  bool tls = false;         // https://
  bool ip_literal = false;  // host is an IP address (no SNI; the certificate must name the IP)
  bool loopback = false;    // 127.0.0.0/8, ::1 or "localhost"
};

// "https://host[:port][/prefix]" or "http://..." split as above; kInvalidArgument naming
// what is wrong.
Result<ServerAddress> parse_server_url(std::string_view text);
// A pin: SHA-256 as base64 (44 characters, or 43 without the padding) or hex (64 digits,
// optionally with colons, either case). kInvalidArgument otherwise.
Result<Sha256> parse_pin(std::string_view text);
// SHA-256 of a certificate's DER encoding (empty on failure).
Sha256 certificate_sha256(X509* cert);
// The client side of our TLS policy: 1.2 or newer, AEAD with forward secrecy, verification
// as RelayOptions describes (`pinned`: a pin decides when no CA file is given).
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const RelayOptions& options,
                                                                    bool pinned);

}  // namespace secchats::net::endpoint
