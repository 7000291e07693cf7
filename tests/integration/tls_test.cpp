// HTTPS listeners of the real server binary: protocol versions and suites, the self-signed
// development certificate, reload on SIGHUP, and the plain-HTTP-on-loopback rule.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "secchats/common/encoding.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
namespace proto = secchats::protocol;
using tcp = asio::ip::tcp;

std::string sha256_base64(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &size) != 1) return {};
  return base64_encode(std::span<const std::uint8_t>(md, size));
}

// The base64 SHA-256 of the DER certificate in a PEM file.
std::string file_pin(const fs::path& pem) {
  BIO* bio = BIO_new_file(pem.c_str(), "r");
  if (bio == nullptr) return {};
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  std::string out = sha256_base64(cert);
  X509_free(cert);
  return out;
}

// What the test client offers.
struct Offer {
  int min_version = TLS1_2_VERSION;
  int max_version = 0;        // 0 = the highest the library has
  std::string tls12_ciphers;  // "" = OpenSSL's default list
  bool legacy = false;        // security level 0, so TLS 1.0/1.1 can be offered at all
};

// A TLS client that checks nothing about the certificate (the tests look at it instead).
class TlsClient {
 public:
  TlsClient(unsigned short port, const Offer& offer) : ctx_(asio::ssl::context::tls_client) {
    SSL_CTX* native = ctx_.native_handle();
    if (offer.legacy) SSL_CTX_set_security_level(native, 0);
    SSL_CTX_set_min_proto_version(native, offer.min_version);
    SSL_CTX_set_max_proto_version(native, offer.max_version);
    if (!offer.tls12_ciphers.empty()) SSL_CTX_set_cipher_list(native, offer.tls12_ciphers.c_str());
    ctx_.set_verify_mode(asio::ssl::verify_none);
    stream_.emplace(ioc_, ctx_);
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(std::chrono::seconds(10));
    tcp_layer.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                            [this](const beast::error_code& ec) { finish(ec); });
    wait();
    if (ec_) return;
    tcp_layer.expires_after(std::chrono::seconds(10));
    stream_->async_handshake(asio::ssl::stream_base::client,
                             [this](const beast::error_code& ec) { finish(ec); });
    wait();
  }

  bool ok() const { return !ec_; }
  std::string error() const { return ec_.message(); }
  std::string version() { return SSL_get_version(stream_->native_handle()); }
  std::string cipher() { return SSL_get_cipher_name(stream_->native_handle()); }
  std::string pin() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    std::string out = sha256_base64(cert);
    X509_free(cert);
    return out;
  }

  HttpResult post(const std::string& path, const std::string& body) {
    return request(http::verb::post, path, body);
  }

  HttpResult request(http::verb verb, const std::string& path, const std::string& body) {
    http::request<http::string_body> req{verb, path, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(10));
    http::async_write(*stream_, req,
                      [this](const beast::error_code& ec, std::size_t) { finish(ec); });
    wait();
    if (ec_) throw std::runtime_error("write failed: " + ec_.message());
    http::response<http::string_body> res;
    http::async_read(*stream_, buffer_, res,
                     [this](const beast::error_code& ec, std::size_t) { finish(ec); });
    wait();
    if (ec_) throw std::runtime_error("read failed: " + ec_.message());
    return {static_cast<int>(res.result_int()), res.body(),
            std::string(res[http::field::content_type])};
  }

 private:
  void finish(const beast::error_code& ec) {
    ec_ = ec;
    done_ = true;
  }
  void wait() {
    ioc_.restart();
    while (!done_ && ioc_.run_one() > 0) {
    }
    done_ = false;
  }

  asio::io_context ioc_;
  asio::ssl::context ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  beast::error_code ec_;
  bool done_ = false;
};

const std::vector<std::string> kTlsArgs = {"--tls-listen", "127.0.0.1:0", "--tls-self-signed"};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void start() {
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{dir_.path(), kTlsArgs});
  }

  fs::path cert_file() const { return dir_.path() / "tls" / "cert.pem"; }
  fs::path key_file() const { return dir_.path() / "tls" / "key.pem"; }

  TempDir dir_{"secchats-tls"};
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(TlsTest, NegotiatesTls13AndServesTheApi) {
  ASSERT_NE(server_->https_port(), 0);
  ASSERT_NE(server_->https_port(), server_->port());
  const std::string log = server_->stderr_text();
  EXPECT_NE(
      log.find("listening on 127.0.0.1:" + std::to_string(server_->https_port()) + " (https)"),
      std::string::npos)
      << log;

  TlsClient client(server_->https_port(), {});
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.version(), "TLSv1.3");
  // The printed pin is the certificate's, and the certificate is the one kept in the data dir.
  EXPECT_EQ(client.pin(), server_->tls_pin());
  EXPECT_EQ(client.pin(), file_pin(cert_file()));
  EXPECT_EQ(server_->tls_pin().size(), 44u);
  EXPECT_NE(log.find("SHA-256 fingerprint "), std::string::npos) << log;

  HttpResult user = client.post("/register", "");
  EXPECT_EQ(user.status, 200) << user.body;
  EXPECT_NE(user.body.find("\"authToken\""), std::string::npos) << user.body;
  // Keep-alive works over TLS too.
  EXPECT_EQ(client.post("/register", "").status, 200);

  // The private key is the owner's only.
  struct stat st {};
  ASSERT_EQ(::stat(key_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Plain HTTP still answers on its own (loopback) listener.
  EXPECT_EQ(HttpClient(server_->port()).post("/register", "").status, 200);
}

TEST_F(TlsTest, RefusesTls11) {
  Offer old;
  old.min_version = TLS1_VERSION;
  old.max_version = TLS1_1_VERSION;
  old.legacy = true;
  old.tls12_ciphers = "DEFAULT:@SECLEVEL=0";
  TlsClient client(server_->https_port(), old);
  EXPECT_FALSE(client.ok()) << client.version();
  // Refused by the server's alert, not by our own library.
  EXPECT_NE(client.error().find("protocol version"), std::string::npos) << client.error();
  // The server goes on serving others.
  EXPECT_TRUE(TlsClient(server_->https_port(), {}).ok());
}

TEST_F(TlsTest, Tls12OnlyWithEcdheAndAead) {
  Offer tls12;
  tls12.max_version = TLS1_2_VERSION;
  TlsClient client(server_->https_port(), tls12);
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.version(), "TLSv1.2");
  const std::string cipher = client.cipher();
  EXPECT_EQ(cipher.rfind("ECDHE-", 0), 0u) << cipher;
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos ||
              cipher.find("CHACHA20") != std::string::npos)
      << cipher;
  EXPECT_EQ(client.post("/register", "").status, 200);

  // CBC suites (even with ECDHE) and RSA key exchange are refused.
  Offer weak = tls12;
  weak.tls12_ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-GCM-SHA256";
  TlsClient refused(server_->https_port(), weak);
  EXPECT_FALSE(refused.ok()) << refused.cipher();
  EXPECT_NE(refused.error().find("handshake failure"), std::string::npos) << refused.error();
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortGetsNoAnswer) {
  const std::string answer = HttpClient::raw_exchange(
      server_->https_port(), "POST /register HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(answer.find("authToken"), std::string::npos) << answer;
  EXPECT_TRUE(TlsClient(server_->https_port(), {}).ok());
}

TEST_F(TlsTest, SelfSignedCertificateIsKeptAcrossRestarts) {
  const std::string pin = server_->tls_pin();
  ASSERT_EQ(server_->terminate(), 0);
  start();
  EXPECT_EQ(server_->tls_pin(), pin);
  TlsClient client(server_->https_port(), {});
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.pin(), pin);
  EXPECT_NE(server_->stderr_text().find("using the self-signed development certificate"),
            std::string::npos);
}

TEST_F(TlsTest, SighupReloadsTheCertificateForNewConnections) {
  const std::string old_pin = server_->tls_pin();
  TlsClient before(server_->https_port(), {});
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.pin(), old_pin);

  // A second server makes a fresh certificate for us; install it where the first one reads.
  std::string new_pin;
  {
    TempDir other("secchats-tls-other");
    ServerProcess maker({other.path(), kTlsArgs});
    new_pin = maker.tls_pin();
    ASSERT_EQ(maker.terminate(), 0);
    fs::copy_file(other.path() / "tls" / "key.pem", key_file(),
                  fs::copy_options::overwrite_existing);
    fs::copy_file(other.path() / "tls" / "cert.pem", cert_file(),
                  fs::copy_options::overwrite_existing);
  }
  ASSERT_NE(new_pin, old_pin);
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);

  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    TlsClient probe(server_->https_port(), {});
    ASSERT_TRUE(probe.ok()) << probe.error();
    seen = probe.pin();
    if (seen == new_pin) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(seen, new_pin) << server_->stderr_text();
  EXPECT_NE(server_->stderr_text().find("reloaded TLS certificate"), std::string::npos);
  // The connection made before the reload goes on with its certificate.
  EXPECT_EQ(before.post("/register", "").status, 200);
  EXPECT_EQ(before.pin(), old_pin);

  // A broken file: the error is logged and the last good certificate stays in use.
  std::ofstream(cert_file(), std::ios::trunc) << "not a certificate\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  const auto logged = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server_->stderr_text().find("TLS reload failed") == std::string::npos &&
         std::chrono::steady_clock::now() < logged) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(server_->stderr_text().find("TLS reload failed"), std::string::npos);
  TlsClient after(server_->https_port(), {});
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.pin(), new_pin);
  EXPECT_EQ(after.post("/register", "").status, 200);
}

// Starting must fail; returns the exception text (the server's stderr).
std::string start_failure(const fs::path& dir, std::vector<std::string> args) {
  try {
    ServerProcess server({dir, std::move(args)});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "the server started";
  return {};
}

TEST(TlsFlags, PlainHttpOnAPublicAddressNeedsAllowPlainHttp) {
  TempDir dir("secchats-tls-flags");
  const std::string refused = start_failure(dir.path(), {"--listen", "0.0.0.0:0"});
  EXPECT_NE(refused.find("refusing plain HTTP on 0.0.0.0:0: not a loopback address"),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("--allow-plain-http"), std::string::npos) << refused;

  ServerProcess allowed({dir.path(), {"--listen", "0.0.0.0:0", "--allow-plain-http"}});
  EXPECT_EQ(HttpClient(allowed.port()).post("/register", "").status, 200);
  EXPECT_EQ(allowed.terminate(), 0);
}

TEST(TlsFlags, TlsListenNeedsACertificate) {
  TempDir dir("secchats-tls-flags");
  std::string refused = start_failure(dir.path(), {"--tls-listen", "127.0.0.1:0"});
  EXPECT_NE(refused.find("--tls-listen needs --tls-cert FILE --tls-key FILE"), std::string::npos)
      << refused;
  refused = start_failure(dir.path(), {"--tls-listen", "127.0.0.1:0", "--tls-cert",
                                       (dir.path() / "missing.pem").string(), "--tls-key",
                                       (dir.path() / "missing.key").string()});
  EXPECT_NE(refused.find("not found"), std::string::npos) << refused;
}

TEST(TlsFlags, GivenCertificateAndKeyAreServed) {
  TempDir maker_dir("secchats-tls-maker");
  std::string pin;
  {
    ServerProcess maker({maker_dir.path(), kTlsArgs});
    pin = maker.tls_pin();
    ASSERT_EQ(maker.terminate(), 0);
  }
  TempDir dir("secchats-tls-given");
  ServerProcess server({dir.path(),
                        {"--tls-listen", "127.0.0.1:0", "--tls-cert",
                         (maker_dir.path() / "tls" / "cert.pem").string(), "--tls-key",
                         (maker_dir.path() / "tls" / "key.pem").string()}});
  EXPECT_EQ(server.tls_pin(), pin);
  TlsClient client(server.https_port(), {});
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.pin(), pin);
  EXPECT_FALSE(fs::exists(dir.path() / "tls"));
}

// A blob's body is streamed from its file in pieces over TLS as well as over plain TCP.
TEST_F(TlsTest, BlobDownloadsStreamOverTls) {
  HttpClient plain(server_->port());
  auto user = proto::decode_user(plain.post("/register", "").body);
  ASSERT_TRUE(user.ok());
  const HttpHeaders auth = {{"X-Secchats-User", *user->user_id},
                            {"Authorization", "Bearer " + *user->auth_token}};
  std::string blob(700 * 1024 + 3, '\0');
  for (std::size_t i = 0; i < blob.size(); ++i)
    blob[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  HttpHeaders create = auth;
  create.emplace_back("Upload-Length", std::to_string(blob.size()));
  auto created = plain.request("POST", "/blobs", "", create);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.body.substr(11, 43);
  HttpHeaders append = auth;
  append.emplace_back("Upload-Offset", "0");
  ASSERT_EQ(plain.request("PATCH", "/blobs/" + id, blob, append).status, 204);

  TlsClient client(server_->https_port(), {});
  ASSERT_TRUE(client.ok()) << client.error();
  for (int round = 0; round < 2; ++round) {  // and the connection stays usable after one
    HttpResult got = client.request(http::verb::get, "/blobs/" + id, "");
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.body.size(), blob.size());
    EXPECT_TRUE(got.body == blob);
  }
}

}  // namespace
}  // namespace secchats::testing
