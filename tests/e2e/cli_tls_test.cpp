// Two people chat through a relay that serves HTTPS with its self-signed development
// certificate, trusting it by the fingerprint the server printed (--pin-sha256).
#include "e2e_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

class CliTls : public E2eTest {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("secchats-e2e-tls");
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{
        dir_->path() / "relay", {"--tls-listen", "127.0.0.1:0", "--tls-self-signed"}});
    ASSERT_NE(server_->https_port(), 0);
    ASSERT_FALSE(server_->tls_pin().empty()) << server_->stderr_text();
  }

  // The fingerprint as printed in hex ("AB:CD:..."), the other accepted form of a pin.
  std::string hex_fingerprint() {
    const std::string log = server_->stderr_text();
    const std::string marker = "SHA-256 fingerprint ";
    const auto at = log.find(marker);
    return at == std::string::npos ? std::string() : log.substr(at + marker.size(), 95);
  }

  CliUser init_user(const std::string& nick, const std::vector<std::string>& tls_args,
                    std::string* id) {
    CliUser user(dir_->path() / nick, "correct horse " + nick);
    std::vector<std::string> args = {"init", "--server", server_->https_url(), "--nick", nick};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    auto r = user.run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto o = only_json(r);
    EXPECT_EQ(str(o, "event"), "initialized");
    EXPECT_EQ(str(o, "server"), server_->https_url());
    *id = str(o, "userId");
    return user;
  }
};

TEST_F(CliTls, TwoUsersChatOverHttpsWithAPinnedCertificate) {
  std::string alice_id, bob_id;
  CliUser alice = init_user("Alice", {"--pin-sha256", server_->tls_pin()}, &alice_id);
  const std::string hex = hex_fingerprint();
  ASSERT_EQ(hex.size(), 95u) << server_->stderr_text();
  CliUser bob = init_user("Bob", {"--pin-sha256", hex}, &bob_id);
  ASSERT_FALSE(alice_id.empty());
  ASSERT_FALSE(bob_id.empty());

  // Every later command reads the pin from the store.
  befriend(alice, alice_id, bob, bob_id);
  ok(alice, {"send", bob_id, "Hello over TLS"});
  bool got = false;
  for (const auto& e : ok(bob, {"sync"})) {
    got |= str(e, "event") == "message" && str(e, "text") == "Hello over TLS" &&
           str(e, "fromUserId") == alice_id;
  }
  EXPECT_TRUE(got);
}

TEST_F(CliTls, CertificateProblemsExitWith5AndCreateNothing) {
  std::string id;
  // No pin and no CA file: the self-signed certificate is not trusted.
  CliUser untrusting(dir_->path() / "untrusting", "pw one");
  auto r =
      untrusting.run({"init", "--server", server_->https_url(), "--nick", "U"}, /*json=*/false);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(untrusting.home() / "store.key"));

  // A pin of some other certificate.
  CliUser wrong(dir_->path() / "wrong", "pw two");
  r = wrong.run({"init", "--server", server_->https_url(), "--nick", "W", "--pin-sha256",
                 std::string(43, 'A') + "="},
                /*json=*/false);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("certificate pin mismatch"), std::string::npos) << r.err;

  // The server's own certificate as the CA file works (no pin needed then).
  CliUser with_ca = init_user(
      "WithCa", {"--ca-file", (dir_->path() / "relay" / "tls" / "cert.pem").string()}, &id);
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(with_ca.run({"sync"}).exit_code, 0);

  // Plain HTTP to a host that is not this machine is refused before any connection.
  CliUser plain(dir_->path() / "plain", "pw three");
  r = plain.run({"init", "--server", "http://relay.example.com", "--nick", "P"}, false);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("refusing plain http://"), std::string::npos) << r.err;
}

// The relay's certificate is renewed (a new key, so a new pin): the old pin refuses it, a
// wrong new pin changes nothing, and `connection --pin-sha256` with the right one carries on.
TEST_F(CliTls, ARenewedCertificateIsTakenWithItsNewPin) {
  std::string alice_id;
  CliUser alice = init_user("Alice", {"--pin-sha256", server_->tls_pin()}, &alice_id);
  const std::string old_pin = server_->tls_pin();
  auto shown = ok(alice, {"connection"});
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(str(shown[0], "pinSha256"), old_pin);

  const unsigned short https_port = server_->https_port();
  ASSERT_EQ(server_->terminate(), 0);
  server_.reset();
  fs::remove_all(dir_->path() / "relay" / "tls");
  server_ = std::make_unique<ServerProcess>(ServerProcess::Options{
      dir_->path() / "relay",
      {"--tls-listen", "127.0.0.1:" + std::to_string(https_port), "--tls-self-signed"}});
  const std::string new_pin = server_->tls_pin();
  ASSERT_FALSE(new_pin.empty());
  ASSERT_NE(new_pin, old_pin);

  auto r = alice.run({"sync"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("certificate pin mismatch"), std::string::npos) << r.err;

  // A wrong pin is tried and refused; the stored one stays.
  r = alice.run({"connection", "--pin-sha256", std::string(64, 'a')});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(str(ok(alice, {"connection"})[0], "pinSha256"), old_pin);

  auto updated = ok(alice, {"connection", "--pin-sha256", new_pin});
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(str(updated[0], "event"), "connectionUpdated");
  EXPECT_EQ(str(updated[0], "pinSha256"), new_pin);
  ok(alice, {"sync"});
}

}  // namespace
}  // namespace secchats::testing
