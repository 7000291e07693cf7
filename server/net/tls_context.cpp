#include "net/tls_context.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "secchats/common/encoding.hpp"
#include "secchats/common/log.hpp"

namespace secchats::server {
namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers only; no CBC, no
// static RSA, no DHE. TLS 1.3 suites are all AEAD; listed to fix the order.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr long kSelfSignedValiditySeconds = 10L * 365 * 24 * 3600;

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION, X509_EXTENSION_free>>;

// The reason of the most recent OpenSSL error (and clears the queue).
std::string openssl_reason(std::string_view fallback) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return std::string(fallback);
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? std::string(reason) : std::string(fallback);
}

Error tls_error(const std::string& what, std::string_view fallback = "OpenSSL error") {
  return Error(ErrorCode::kInternal, what + ": " + openssl_reason(fallback));
}

CertificateFingerprint fingerprint_of(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  CertificateFingerprint out;
  if (X509_digest(cert, EVP_sha256(), md, &size) != 1) return out;
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (unsigned int i = 0; i < size; ++i) {
    if (i > 0) out.hex.push_back(':');
    out.hex.push_back(kDigits[md[i] >> 4]);
    out.hex.push_back(kDigits[md[i] & 0x0F]);
  }
  out.base64 = base64_encode(std::span<const std::uint8_t>(md, size));
  return out;
}

Result<X509Ptr> read_certificate(const fs::path& file) {
  BioPtr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return Error(ErrorCode::kNotFound, "cannot read TLS certificate " + file.string());
  }
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return tls_error("no PEM certificate in " + file.string());
  return cert;
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  char previous = '.';
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '.') return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

// Writes `data` to `path` through a temporary file and a rename, with `mode` from the start.
Status write_file_atomically(const fs::path& path, std::string_view data, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return Error(ErrorCode::kInternal,
                 "cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t written = 0;
  while (ok && written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = ok ? errno : saved;
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return Error(ErrorCode::kInternal,
                 "cannot write " + path.string() + ": " + std::strerror(error));
  }
  return ok_status();
}

Result<std::string> bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) return Error(ErrorCode::kInternal, "empty PEM output");
  return std::string(data, static_cast<std::size_t>(size));
}

Status add_extension(X509* cert, X509V3_CTX* v3, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, v3, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return tls_error("cannot add certificate extension " + value);
  }
  return ok_status();
}

// A new ECDSA P-256 key and a self-signed certificate for it, both as PEM.
Result<std::pair<std::string, std::string>> make_self_signed(const std::string& extra_host) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return tls_error("cannot generate an EC key");
  X509Ptr cert(X509_new());
  if (!cert) return tls_error("cannot allocate a certificate");

  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return tls_error("no randomness for the serial");
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7F) | 0x40);  // positive, 16 bytes
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kSelfSignedValiditySeconds) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return tls_error("cannot fill in the certificate");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* org = reinterpret_cast<const unsigned char*>("secchats");
  const auto* cn = reinterpret_cast<const unsigned char*>("secchats development certificate");
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, org, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return tls_error("cannot set the certificate's name");
  }

  std::string san = "IP:127.0.0.1,IP:::1,DNS:localhost";
  if (!extra_host.empty() && extra_host != "localhost" && extra_host != "127.0.0.1" &&
      extra_host != "::1") {
    san += (is_ip_address(extra_host) ? ",IP:" : ",DNS:") + extra_host;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  SC_TRY(add_extension(cert.get(), &v3, NID_basic_constraints, "critical,CA:FALSE"));
  SC_TRY(add_extension(cert.get(), &v3, NID_ext_key_usage, "serverAuth"));
  SC_TRY(add_extension(cert.get(), &v3, NID_subject_key_identifier, "hash"));
  SC_TRY(add_extension(cert.get(), &v3, NID_subject_alt_name, san));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return tls_error("cannot sign the certificate");
  }

  BioPtr key_bio(BIO_new(BIO_s_mem()));
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !cert_bio ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) {
    return tls_error("cannot encode the certificate");
  }
  SC_ASSIGN_OR_RETURN(std::string key_pem, bio_text(key_bio.get()));
  SC_ASSIGN_OR_RETURN(std::string cert_pem, bio_text(cert_bio.get()));
  return std::make_pair(std::move(cert_pem), std::move(key_pem));
}

}  // namespace

Result<CertificateFingerprint> certificate_fingerprint(const fs::path& cert_file) {
  SC_ASSIGN_OR_RETURN(X509Ptr cert, read_certificate(cert_file));
  return fingerprint_of(cert.get());
}

Result<SelfSignedFiles> ensure_self_signed_certificate(const fs::path& data_dir,
                                                       const std::string& extra_host) {
  if (!extra_host.empty() && !is_ip_address(extra_host) && !valid_dns_name(extra_host)) {
    return Error(ErrorCode::kInvalidArgument,
                 "TLS host name must be a DNS name or an IP address, got '" + extra_host + "'");
  }
  const fs::path dir = data_dir / "tls";
  SelfSignedFiles files{dir / "cert.pem", dir / "key.pem", false};
  std::error_code ec;
  const bool have_cert = fs::exists(files.cert_file, ec);
  const bool have_key = fs::exists(files.key_file, ec);
  if (have_cert && have_key) {
    if (!extra_host.empty()) {
      SC_ASSIGN_OR_RETURN(X509Ptr cert, read_certificate(files.cert_file));
      const int covered =
          is_ip_address(extra_host)
              ? X509_check_ip_asc(cert.get(), extra_host.c_str(), 0)
              : X509_check_host(cert.get(), extra_host.data(), extra_host.size(), 0, nullptr);
      if (covered != 1) {
        log::warn("the kept development certificate " + files.cert_file.string() +
                  " does not name " + extra_host + "; delete " + dir.string() +
                  " to make a new one (its fingerprint will change)");
      }
    }
    return files;
  }
  if (have_cert || have_key) {
    log::warn("only one of cert.pem and key.pem exists in " + dir.string() +
              "; making a new development certificate");
  }
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kInternal, "cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  SC_ASSIGN_OR_RETURN(auto pem, make_self_signed(extra_host));
  // The key first: a cert.pem next to a stale key would be a pair that does not match.
  SC_TRY(write_file_atomically(files.key_file, pem.second, 0600));
  SC_TRY(write_file_atomically(files.cert_file, pem.first, 0644));
  files.created = true;
  return files;
}

TlsContext::TlsContext(fs::path cert_file, fs::path key_file, Loaded loaded)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      loaded_(std::move(loaded)) {}

Result<TlsContext::Loaded> TlsContext::load(const fs::path& cert_file, const fs::path& key_file) {
  std::shared_ptr<ssl::context> context;
  try {
    context = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* native = context->native_handle();
  // TLS 1.2 and 1.3 only: OpenSSL picks the highest version both sides have, so 1.3 wins
  // whenever the client offers it.
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(native, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(native, kGroups) != 1) {
    return tls_error("cannot apply the TLS policy");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                                  SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Session resumption (cache and tickets) is fine; a new context after reload starts afresh.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  static constexpr unsigned char kSessionContext[] = "secchats";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  // An encrypted key must fail to load, not prompt on a terminal nobody watches.
  boost::system::error_code ec;
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); }, ec);

  if (ec) return Error(ErrorCode::kInternal, "cannot configure TLS: " + ec.message());
  std::error_code fs_ec;
  if (!fs::exists(cert_file, fs_ec)) {
    return Error(ErrorCode::kNotFound, "TLS certificate " + cert_file.string() + " not found");
  }
  if (!fs::exists(key_file, fs_ec)) {
    return Error(ErrorCode::kNotFound, "TLS key " + key_file.string() + " not found");
  }
  context->use_certificate_chain_file(cert_file.string(), ec);
  if (ec) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument,
                 "cannot load TLS certificate " + cert_file.string() + ": " + ec.message());
  }
  context->use_private_key_file(key_file.string(), ssl::context::pem, ec);
  if (ec) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument, "cannot load TLS key " + key_file.string() +
                                                  " (PEM, not encrypted): " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Error(
        ErrorCode::kInvalidArgument,
        "TLS key " + key_file.string() + " does not match certificate " + cert_file.string());
  }
  const X509* leaf = SSL_CTX_get0_certificate(native);
  if (leaf == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "no certificate in " + cert_file.string());
  }
  return Loaded{std::move(context), fingerprint_of(leaf)};
}

Result<std::shared_ptr<TlsContext>> TlsContext::create(fs::path cert_file, fs::path key_file) {
  SC_ASSIGN_OR_RETURN(Loaded loaded, load(cert_file, key_file));
  return std::shared_ptr<TlsContext>(
      new TlsContext(std::move(cert_file), std::move(key_file), std::move(loaded)));
}

std::shared_ptr<ssl::context> TlsContext::current() const {
  std::lock_guard lock(mutex_);
  return loaded_.context;
}

CertificateFingerprint TlsContext::fingerprint() const {
  std::lock_guard lock(mutex_);
  return loaded_.fingerprint;
}

Status TlsContext::reload() {
  SC_ASSIGN_OR_RETURN(Loaded loaded, load(cert_file_, key_file_));
  std::lock_guard lock(mutex_);
  loaded_ = std::move(loaded);
  return ok_status();
}

}  // namespace secchats::server
