// TLS for the relay's listeners: the server context with our policy (TLS 1.2+, AEAD and
// forward secrecy only), hot reload of certificate and key, and the self-signed development
// certificate kept in the data dir.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "secchats/common/result.hpp"

namespace secchats::server {

// SHA-256 of a certificate's DER encoding, in the two forms people copy around.
struct CertificateFingerprint {
  std::string hex;     // "AB:CD:...:EF", as `openssl x509 -fingerprint -sha256` prints it
  std::string base64;  // the same 32 bytes in standard base64: the client's --pin-sha256
};

// Fingerprints the first certificate of a PEM file.
Result<CertificateFingerprint> certificate_fingerprint(const std::filesystem::path& cert_file);

struct SelfSignedFiles {
  std::filesystem::path cert_file;  // DATA_DIR/tls/cert.pem
  std::filesystem::path key_file;   // DATA_DIR/tls/key.pem (mode 0600)
  bool created = false;             // false: an earlier run's certificate was kept
};

// Returns the development certificate in DATA_DIR/tls, creating it on first use: ECDSA
// P-256, valid for ten years, SAN 127.0.0.1, ::1, localhost and `extra_host` (a DNS name or
// an IP address) when not empty. An existing pair is kept as it is, so pins stay valid; if it
// does not cover `extra_host` a warning says how to make a new one.
Result<SelfSignedFiles> ensure_self_signed_certificate(const std::filesystem::path& data_dir,
                                                       const std::string& extra_host);

// The server's TLS context, replaceable while serving. Each connection takes the current one
// when it is accepted and keeps it; reload() only affects connections accepted afterwards.
// Thread-safe.
class TlsContext {
 public:
  // Loads the certificate chain and the private key (PEM) and checks that they match.
  static Result<std::shared_ptr<TlsContext>> create(std::filesystem::path cert_file,
                                                    std::filesystem::path key_file);

  std::shared_ptr<boost::asio::ssl::context> current() const;
  CertificateFingerprint fingerprint() const;

  // Re-reads both files. On any failure the current context stays in use and the error is
  // returned (the caller logs it).
  Status reload();

 private:
  struct Loaded {
    std::shared_ptr<boost::asio::ssl::context> context;
    CertificateFingerprint fingerprint;
  };
  TlsContext(std::filesystem::path cert_file, std::filesystem::path key_file, Loaded loaded);
  static Result<Loaded> load(const std::filesystem::path& cert_file,
                             const std::filesystem::path& key_file);

  const std::filesystem::path cert_file_;
  const std::filesystem::path key_file_;
  mutable std::mutex mutex_;
  Loaded loaded_;
};

}  // namespace secchats::server
