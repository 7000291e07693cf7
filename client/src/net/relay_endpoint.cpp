// The relay's address (server URL parsing) and our TLS policy; see relay_endpoint.hpp.
#include "relay_endpoint.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cctype>
#include <exception>

#include "secchats/common/encoding.hpp"

namespace secchats::net::endpoint {
namespace {
namespace asio = boost::asio;
namespace urls = boost::urls;

// TLS 1.2 suites we accept: ECDHE (forward secrecy) with AEAD ciphers only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr std::string_view kDefaultPort = "80";
constexpr std::string_view kDefaultTlsPort = "443";

Error invalid_url(std::string_view why) {
  return Error(ErrorCode::kInvalidArgument, "invalid server URL: " + std::string(why));
}

bool valid_host_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

}  // namespace

Result<ServerAddress> parse_server_url(std::string_view text) {
  auto parsed = urls::parse_uri(text);
  if (!parsed) return invalid_url(parsed.error().message());
  const urls::url_view& url = *parsed;
  if (url.scheme_id() != urls::scheme::http && url.scheme_id() != urls::scheme::https) {
    return Error(ErrorCode::kInvalidArgument, "the server URL must start with https:// or http://");
  }
  if (!url.has_authority() || url.encoded_host().empty()) return invalid_url("no host");
  if (url.has_userinfo()) return invalid_url("user:password@ is not supported");
  if (url.has_query() || url.has_fragment()) return invalid_url("no query or fragment allowed");

  ServerAddress out;
  out.tls = url.scheme_id() == urls::scheme::https;
  switch (url.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6: {
      out.host = url.host_address();
      out.ip_literal = true;
      boost::system::error_code ec;
      const auto ip = asio::ip::make_address(out.host, ec);
      if (ec) return invalid_url("bad IP address");
      out.loopback = ip.is_loopback() ||
                     (ip.is_v6() && ip.to_v6().is_v4_mapped() &&
                      asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6()).is_loopback());
      break;
    }
    case urls::host_type::name: {
      out.host = url.host_address();
      if (!valid_host_name(out.host)) return invalid_url("bad host name");
      std::string lower = out.host;
      for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.loopback = lower == "localhost";
      break;
    }
    default:
      return invalid_url("unsupported host");
  }

  std::string_view port = url.has_port() ? std::string_view(url.port()) : std::string_view();
  if (!port.empty()) {
    unsigned long value = 0;
    for (char c : port) {  // the URL grammar already guarantees digits
      value = value * 10 + static_cast<unsigned long>(c - '0');
      if (value > 65535) return invalid_url("port out of range");
    }
    if (value == 0) return invalid_url("port out of range");
    out.port = std::to_string(value);
  } else {
    out.port = std::string(out.tls ? kDefaultTlsPort : kDefaultPort);
  }
  out.host_header = std::string(url.encoded_host());
  if (!port.empty()) out.host_header += ":" + out.port;
  out.origin = (out.tls ? "https://" : "http://") + out.host_header;

  std::string_view path = url.encoded_path();
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (!path.empty() && path.front() != '/') return invalid_url("bad path");
  out.prefix = std::string(path);
  return out;
}

// A pin: SHA-256 as base64 (44 characters, or 43 without the padding) or hex (64 digits,
// optionally with colons, either case).
Result<Sha256> parse_pin(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c != ':') hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() == 64) {
    if (auto bytes = hex_decode(hex)) return std::move(*bytes);
  }
  std::string b64(text);
  if (b64.size() == 43) b64 += "=";
  if (auto bytes = base64_decode(b64); bytes && bytes->size() == 32) return std::move(*bytes);
  return Error(ErrorCode::kInvalidArgument,
               "the certificate pin must be a SHA-256 in base64 (44 characters) or hex "
               "(64 digits)");
}

Sha256 certificate_sha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), md, &size) != 1) return {};
  return Sha256(md, md + size);
}

// The client side of our TLS policy: 1.2 or newer, AEAD with forward secrecy, verification
// as RelayOptions describes.
Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const RelayOptions& options,
                                                             bool pinned) {
  std::shared_ptr<asio::ssl::context> context;
  try {
    context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Error(ErrorCode::kInternal, "cannot apply the TLS policy");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  boost::system::error_code ec;
  if (pinned && options.ca_file.empty()) {
    // The pin alone decides (checked after the handshake).
    context->set_verify_mode(asio::ssl::verify_none, ec);
    return context;
  }
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (ec) {
      return Error(ErrorCode::kInvalidArgument,
                   "cannot load CA file " + options.ca_file + ": " + ec.message());
    }
    // Every certificate in the file is an anchor, a server's own self-signed one included.
    X509_STORE_set_flags(SSL_CTX_get_cert_store(native), X509_V_FLAG_PARTIAL_CHAIN);
  } else {
    context->set_default_verify_paths(ec);
    if (ec) {
      return Error(ErrorCode::kInternal,
                   "cannot load the system's trusted certificates: " + ec.message());
    }
  }
  context->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return Error(ErrorCode::kInternal, "cannot configure TLS: " + ec.message());
  return context;
}

}  // namespace secchats::net::endpoint
