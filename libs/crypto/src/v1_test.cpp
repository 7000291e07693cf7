#include "secchats/crypto/v1.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "secchats/common/encoding.hpp"

namespace secchats::crypto::v1 {
namespace {

namespace json = boost::json;

constexpr Curve kAllCurves[] = {Curve::kP256, Curve::kP384, Curve::kP521};
constexpr const char* kInsecure = "insecure key exchange refused";

// Field primes, for "coordinate >= p" inputs.
const std::string kP256Prime = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const std::string kP384Prime =
    "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000"
    "ffffffff";
const std::string kP521Prime = "1" + std::string(130, 'f');

const json::object& vectors() {
  static const json::object root = [] {
    const std::string path = std::string(SECCHATS_VECTORS_DIR) + "/reference-crypto.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    return json::parse(buf.str()).as_object();
  }();
  return root;
}

std::string str(const json::value& v, std::string_view key) {
  return std::string(v.as_object().at(key).as_string());
}

std::string b64(std::string_view s) {
  return base64_encode(s);
}
std::string unb64(std::string_view s) {
  auto d = base64_decode_to_string(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or("");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(':', start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ':';
    out += parts[i];
  }
  return out;
}

// Sum of two non-negative hex numbers, canonical lowercase hex.
std::string hex_add(const std::string& a, const std::string& b) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int s = carry;
    if (i < a.size()) s += digit(a[a.size() - 1 - i]);
    if (i < b.size()) s += digit(b[b.size() - 1 - i]);
    out.push_back("0123456789abcdef"[s % 16]);
    carry = s / 16;
  }
  while (out.size() > 1 && out.back() == '0')
    out.pop_back();
  std::reverse(out.begin(), out.end());
  return out;
}

// A public cryptoData with one field replaced.
std::string with_field(const std::string& crypto_data, std::size_t index, std::string value) {
  auto parts = split(unb64(crypto_data));
  parts.at(index) = std::move(value);
  return b64(join(parts));
}

bool is_canonical_hex(const std::string& s) {
  return is_lower_hex(s) && (s == "0" || s[0] != '0');
}

void expect_error(const Result<Curve>& r, ErrorCode code, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code(), code) << what << ": " << r.error().message();
}

// Refused both by inspection and by a session on `curve` trying to derive with it.
void expect_public_refused(const std::string& crypto_data, Curve curve, ErrorCode code,
                           const std::string& what) {
  SCOPED_TRACE(what);
  expect_error(inspect_public_crypto_data(crypto_data), code, what);
  auto session = EcdhSession::generate(curve);
  ASSERT_TRUE(session.ok());
  auto key = session->derive_channel_key(crypto_data);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code(), code) << key.error().message();
}

// ---------------------------------------------------------------------------------------------

TEST(V1Curves, NamesMatchReference) {
  EXPECT_EQ(curve_name(Curve::kP256), "secp256r1");
  EXPECT_EQ(curve_name(Curve::kP384), "secp384r1");
  EXPECT_EQ(curve_name(Curve::kP521), "secp521r1");
  EXPECT_EQ(kDefaultCurve, Curve::kP521);
}

TEST(V1Pbkdf2, MatchesEveryVector) {
  const auto& entries = vectors().at("pbkdf2_sha256_100000_salt_SecureChat").as_array();
  ASSERT_EQ(entries.size(), 3u);
  std::chrono::nanoseconds total{0};
  for (const auto& e : entries) {
    SCOPED_TRACE(str(e, "password"));
    const auto start = std::chrono::steady_clock::now();
    const SecretBytes key = derive_message_key(str(e, "password"));
    total += std::chrono::steady_clock::now() - start;
    ASSERT_EQ(key.size(), 32u);
    EXPECT_EQ(hex_encode(key.span()), str(e, "key_hex"));
  }
  const auto per = std::chrono::duration_cast<std::chrono::microseconds>(total) /
                   static_cast<long>(entries.size());
  std::cout << "[          ] PBKDF2 (100000 iterations): " << per.count() / 1000.0
            << " ms per derivation\n";
}

TEST(V1Ecdh, EveryVectorDerivesTheReferenceChannelKey) {
  const auto& entries = vectors().at("ecdh").as_array();
  ASSERT_EQ(entries.size(), 4u);
  for (const auto& e : entries) {
    const std::string want = str(e, "privateEncKey");
    SCOPED_TRACE(want);
    auto initiator = EcdhSession::from_session_string(str(e, "initiator_session"));
    auto responder = EcdhSession::from_session_string(str(e, "responder_session"));
    ASSERT_TRUE(initiator.ok()) << initiator.error().message();
    ASSERT_TRUE(responder.ok()) << responder.error().message();
    EXPECT_EQ(initiator->curve(), responder->curve());

    const std::string curve_text = split(unb64(str(e, "initiator_public")))[0];
    EXPECT_EQ(curve_name(initiator->curve()), curve_text);

    EXPECT_EQ(initiator->public_crypto_data(), str(e, "initiator_public"));
    EXPECT_EQ(responder->public_crypto_data(), str(e, "responder_public"));
    EXPECT_EQ(initiator->session_string().str(), str(e, "initiator_session"));
    EXPECT_EQ(responder->session_string().str(), str(e, "responder_session"));

    auto i_key = initiator->derive_channel_key(str(e, "responder_public"));
    auto r_key = responder->derive_channel_key(str(e, "initiator_public"));
    ASSERT_TRUE(i_key.ok()) << i_key.error().message();
    ASSERT_TRUE(r_key.ok()) << r_key.error().message();
    EXPECT_EQ(i_key->str(), want);
    EXPECT_EQ(r_key->str(), want);

    auto inspected = inspect_public_crypto_data(str(e, "responder_public"));
    ASSERT_TRUE(inspected.ok());
    EXPECT_EQ(*inspected, initiator->curve());

    // A re-parsed session is the same key pair.
    auto again = EcdhSession::from_session_string(initiator->session_string().view());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->public_crypto_data(), initiator->public_crypto_data());
    auto again_key = again->derive_channel_key(str(e, "responder_public"));
    ASSERT_TRUE(again_key.ok());
    EXPECT_EQ(again_key->str(), want);
  }
}

TEST(V1Ecdh, ClassicDhIsRefusedAsInsecure) {
  const auto& dh = vectors().at("classic_dh_512");
  for (const char* field : {"initiator_public", "responder_public"}) {
    SCOPED_TRACE(field);
    auto inspected = inspect_public_crypto_data(str(dh, field));
    ASSERT_FALSE(inspected.ok());
    EXPECT_EQ(inspected.error().code(), ErrorCode::kInsecure);
    EXPECT_EQ(inspected.error().message(), kInsecure);
    for (Curve curve : kAllCurves) {
      auto session = EcdhSession::generate(curve);
      ASSERT_TRUE(session.ok());
      auto key = session->derive_channel_key(str(dh, field));
      ASSERT_FALSE(key.ok());
      EXPECT_EQ(key.error().code(), ErrorCode::kInsecure);
      EXPECT_EQ(key.error().message(), kInsecure);
    }
  }
  // The private halves (priv:pub:modulus) are refused the same way, wherever they show up.
  for (const char* field : {"initiator_session", "responder_session"}) {
    SCOPED_TRACE(field);
    auto session = EcdhSession::from_session_string(str(dh, field));
    ASSERT_FALSE(session.ok());
    EXPECT_EQ(session.error().code(), ErrorCode::kInsecure);
    EXPECT_EQ(session.error().message(), kInsecure);
    auto inspected = inspect_public_crypto_data(str(dh, field));
    ASSERT_FALSE(inspected.ok());
    EXPECT_EQ(inspected.error().code(), ErrorCode::kInsecure);
  }
  // Uppercase hex is still classic DH.
  std::string upper = unb64(str(dh, "initiator_public"));
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  expect_error(inspect_public_crypto_data(b64(upper)), ErrorCode::kInsecure, "uppercase DH");
}

TEST(V1AesGcm, EveryMessageVectorDecryptsAndRoundTrips) {
  const auto& entries = vectors().at("aes256gcm_messages").as_array();
  ASSERT_EQ(entries.size(), 5u);
  MessageCipher cipher;
  for (const auto& e : entries) {
    const std::string plaintext = str(e, "plaintext");
    SCOPED_TRACE(plaintext.substr(0, 40));
    const SecretString key_string(str(e, "key"));

    const SecretBytes key = derive_message_key(key_string.view());
    auto plain = aes_gcm_decrypt(key, str(e, "encContent"));
    ASSERT_TRUE(plain.ok()) << plain.error().message();
    EXPECT_EQ(*plain, plaintext);

    auto via_cipher = cipher.decrypt(key_string, str(e, "encContent"));
    ASSERT_TRUE(via_cipher.ok());
    EXPECT_EQ(*via_cipher, plaintext);

    const std::string enc = aes_gcm_encrypt(key, plaintext);
    EXPECT_EQ(base64_decode(enc)->size(), 12 + plaintext.size() + 16);
    EXPECT_NE(enc, aes_gcm_encrypt(key, plaintext));  // fresh IV every time
    auto back = aes_gcm_decrypt(key, enc);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, plaintext);

    auto back_cipher = cipher.decrypt(key_string, cipher.encrypt(key_string, plaintext));
    ASSERT_TRUE(back_cipher.ok());
    EXPECT_EQ(*back_cipher, plaintext);
  }
  EXPECT_EQ(cipher.derivations(), 1u);  // all vectors share one key string
}

TEST(V1Group, InviteAndGroupMessageMatchReference) {
  const auto& g = vectors().at("group");
  MessageCipher cipher;
  auto group_json =
      cipher.decrypt(SecretString(str(g, "pairwise_key")), str(g, "invite_cryptoData"));
  ASSERT_TRUE(group_json.ok()) << group_json.error().message();
  EXPECT_EQ(*group_json, str(g, "group_json"));

  const auto group = json::parse(*group_json).as_object();
  EXPECT_EQ(group.at("object").as_string(), "Group");
  EXPECT_EQ(group.at("algorithm").as_string(), "AES_256");
  const std::string group_key(group.at("privateKey").as_string());
  EXPECT_EQ(group_key, str(g, "group_key"));
  EXPECT_EQ(base64_decode(group_key)->size(), 32u);

  auto message = cipher.decrypt(SecretString(group_key), str(g, "message_encContent"));
  ASSERT_TRUE(message.ok()) << message.error().message();
  EXPECT_EQ(*message, str(g, "message_plaintext"));

  // The group message does not open under the pairwise key, nor the invite under the group key.
  EXPECT_FALSE(
      cipher.decrypt(SecretString(str(g, "pairwise_key")), str(g, "message_encContent")).ok());
  EXPECT_FALSE(cipher.decrypt(SecretString(group_key), str(g, "invite_cryptoData")).ok());
  EXPECT_EQ(cipher.derivations(), 2u);
}

TEST(V1Ecdh, FreshSessionsAgreeOnEveryCurve) {
  for (Curve curve : kAllCurves) {
    SCOPED_TRACE(std::string(curve_name(curve)));
    auto a = EcdhSession::generate(curve);
    auto b = EcdhSession::generate(curve);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(a->curve(), curve);
    EXPECT_NE(a->public_crypto_data(), b->public_crypto_data());

    auto ab = a->derive_channel_key(b->public_crypto_data());
    auto ba = b->derive_channel_key(a->public_crypto_data());
    ASSERT_TRUE(ab.ok()) << ab.error().message();
    ASSERT_TRUE(ba.ok()) << ba.error().message();
    EXPECT_EQ(ab->str(), ba->str());
    EXPECT_EQ(base64_decode(ab->view())->size(), 32u);

    // A third party gets a different key.
    auto c = EcdhSession::generate(curve);
    ASSERT_TRUE(c.ok());
    auto cb = c->derive_channel_key(b->public_crypto_data());
    ASSERT_TRUE(cb.ok());
    EXPECT_NE(cb->str(), ab->str());

    // Wire format: "curve:x:y" in Java BigInteger hex; the session adds d.
    const auto pub = split(unb64(a->public_crypto_data()));
    ASSERT_EQ(pub.size(), 3u);
    EXPECT_EQ(pub[0], curve_name(curve));
    EXPECT_TRUE(is_canonical_hex(pub[1])) << pub[1];
    EXPECT_TRUE(is_canonical_hex(pub[2])) << pub[2];
    const auto priv = split(unb64(a->session_string().view()));
    ASSERT_EQ(priv.size(), 4u);
    EXPECT_EQ(join({priv[0], priv[1], priv[2]}), join(pub));
    EXPECT_TRUE(is_canonical_hex(priv[3])) << priv[3];

    auto inspected = inspect_public_crypto_data(a->public_crypto_data());
    ASSERT_TRUE(inspected.ok());
    EXPECT_EQ(*inspected, curve);

    // Stored and restored, the session still agrees with the peer.
    auto restored = EcdhSession::from_session_string(a->session_string().view());
    ASSERT_TRUE(restored.ok()) << restored.error().message();
    EXPECT_EQ(restored->session_string().str(), a->session_string().str());
    auto restored_key = restored->derive_channel_key(b->public_crypto_data());
    ASSERT_TRUE(restored_key.ok());
    EXPECT_EQ(restored_key->str(), ab->str());

    // Moving keeps the key pair.
    EcdhSession moved = std::move(*a);
    EXPECT_EQ(moved.derive_channel_key(b->public_crypto_data())->str(), ab->str());
  }
  auto def = EcdhSession::generate();
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->curve(), Curve::kP521);
}

TEST(V1Ecdh, CurveMismatchIsRefused) {
  for (Curve ours : kAllCurves) {
    auto session = EcdhSession::generate(ours);
    ASSERT_TRUE(session.ok());
    for (Curve theirs : kAllCurves) {
      if (theirs == ours) continue;
      auto peer = EcdhSession::generate(theirs);
      ASSERT_TRUE(peer.ok());
      auto key = session->derive_channel_key(peer->public_crypto_data());
      ASSERT_FALSE(key.ok());
      EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(V1Ecdh, AcceptsUppercaseAndLeadingZerosButWritesCanonical) {
  const auto& e = vectors().at("ecdh").as_array().at(0);
  auto parts = split(unb64(str(e, "responder_public")));
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::transform(parts[i].begin(), parts[i].end(), parts[i].begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    parts[i] = "000" + parts[i];
  }
  const std::string loose = b64(join(parts));
  auto inspected = inspect_public_crypto_data(loose);
  ASSERT_TRUE(inspected.ok()) << inspected.error().message();
  auto initiator = EcdhSession::from_session_string(str(e, "initiator_session"));
  ASSERT_TRUE(initiator.ok());
  auto key = initiator->derive_channel_key(loose);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->str(), str(e, "privateEncKey"));

  auto session_parts = split(unb64(str(e, "responder_session")));
  for (std::size_t i = 1; i < session_parts.size(); ++i) {
    std::transform(session_parts[i].begin(), session_parts[i].end(), session_parts[i].begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    session_parts[i] = "0" + session_parts[i];
  }
  auto responder = EcdhSession::from_session_string(b64(join(session_parts)));
  ASSERT_TRUE(responder.ok()) << responder.error().message();
  EXPECT_EQ(responder->session_string().str(), str(e, "responder_session"));
  EXPECT_EQ(responder->public_crypto_data(), str(e, "responder_public"));
}

TEST(V1Ecdh, InvalidPublicValuesAreRefused) {
  const auto& entries = vectors().at("ecdh").as_array();
  for (const auto& e : entries) {
    const std::string pub = str(e, "initiator_public");
    const auto parts = split(unb64(pub));
    auto curve = inspect_public_crypto_data(pub);
    ASSERT_TRUE(curve.ok());
    const std::string& prime =
        *curve == Curve::kP256 ? kP256Prime : (*curve == Curve::kP384 ? kP384Prime : kP521Prime);
    SCOPED_TRACE(parts[0]);
    const auto bad = ErrorCode::kInvalidArgument;

    expect_public_refused(with_field(pub, 2, hex_add(parts[2], "1")), *curve, bad, "y + 1");
    expect_public_refused(with_field(pub, 1, hex_add(parts[1], "1")), *curve, bad, "x + 1");
    expect_public_refused(b64(parts[0] + ":0:0"), *curve, bad, "zero point");
    expect_public_refused(b64(parts[0] + ":0:" + parts[2]), *curve, bad, "x = 0");
    expect_public_refused(with_field(pub, 1, prime), *curve, bad, "x = p");
    expect_public_refused(with_field(pub, 2, prime), *curve, bad, "y = p");
    // Equal to the real coordinates modulo p: only a reducing parser would accept these.
    expect_public_refused(with_field(pub, 1, hex_add(parts[1], prime)), *curve, bad, "x + p");
    expect_public_refused(with_field(pub, 2, hex_add(parts[2], prime)), *curve, bad, "y + p");
    expect_public_refused(with_field(pub, 1, "1" + std::string(2 * 66 + 2, '0')), *curve, bad,
                          "x too long");
    expect_public_refused(with_field(pub, 1, ""), *curve, bad, "empty x");
    expect_public_refused(with_field(pub, 2, parts[2] + "g"), *curve, bad, "non-hex y");
    expect_public_refused(with_field(pub, 1, "-" + parts[1]), *curve, bad, "negative x");
    expect_public_refused(b64(parts[0] + ":" + parts[1]), *curve, bad, "missing y");
    expect_public_refused(b64(unb64(pub) + ":1"), *curve, bad, "public with a private part");
    expect_public_refused(b64(unb64(pub) + ":"), *curve, bad, "trailing colon");
    expect_public_refused(with_field(pub, 0, "secp256k1"), *curve, bad, "unknown curve");
    expect_public_refused(with_field(pub, 0, "SECP256R1"), *curve, bad, "curve name case");
    expect_public_refused(with_field(pub, 0, "brainpoolP256r1"), *curve, bad, "brainpool");
  }
  for (const std::string& garbage :
       {std::string(""), std::string("not base64!"), std::string("c2VjcDI1NnIx"),
        std::string("===="), std::string("c2VjcDI1NnIxOjE6Mg"), b64("hello"), b64(":"), b64("::"),
        b64(std::string("secp256r1\0:1:2", 15))}) {
    expect_public_refused(garbage, Curve::kP256, ErrorCode::kInvalidArgument, "garbage " + garbage);
  }
}

TEST(V1Ecdh, InvalidSessionStringsAreRefused) {
  const auto& e = vectors().at("ecdh").as_array().at(0);
  const auto init = split(unb64(str(e, "initiator_session")));
  const auto resp = split(unb64(str(e, "responder_session")));
  const std::string n256 = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"d of another key", join({init[0], init[1], init[2], resp[3]})},
      {"d = 0", join({init[0], init[1], init[2], "0"})},
      {"d = n", join({init[0], init[1], init[2], n256})},
      {"d + n", join({init[0], init[1], init[2], hex_add(init[3], n256)})},
      {"point off curve", join({init[0], init[1], hex_add(init[2], "1"), init[3]})},
      {"public only", join({init[0], init[1], init[2]})},
      {"empty d", join({init[0], init[1], init[2], ""})},
      {"unknown curve", join({"secp256k1", init[1], init[2], init[3]})},
      {"extra field", join({init[0], init[1], init[2], init[3], "1"})},
  };
  for (const auto& [what, text] : cases) {
    auto session = EcdhSession::from_session_string(b64(text));
    ASSERT_FALSE(session.ok()) << what;
    EXPECT_EQ(session.error().code(), ErrorCode::kInvalidArgument) << what;
  }
  for (const char* garbage : {"", "%%%%", "c2VjcDI1NnIx"}) {
    auto session = EcdhSession::from_session_string(garbage);
    ASSERT_FALSE(session.ok()) << garbage;
    EXPECT_EQ(session.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(V1AesGcm, TamperingAndMalformedInputFailAlike) {
  const SecretBytes key = derive_message_key("OfpXBRVOdR6DjavVaQmcXcLIGJc6ctkEIbQZatvmVDM=");
  const std::string plaintext = "attack at dawn";
  const std::string enc = aes_gcm_encrypt(key, plaintext);
  const std::vector<std::uint8_t> raw = *base64_decode(enc);
  ASSERT_EQ(raw.size(), 12 + plaintext.size() + 16);

  const auto expect_rejected = [&](std::string_view input, const std::string& what) {
    auto r = aes_gcm_decrypt(key, input);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << what;
    EXPECT_EQ(r.error().message(), "message could not be decrypted") << what;
  };

  // One flipped bit anywhere: IV, body, tag (first and last byte of each part).
  for (std::size_t pos : {std::size_t{0}, std::size_t{11}, std::size_t{12}, std::size_t{12 + 13},
                          raw.size() - 16, raw.size() - 1}) {
    for (int bit : {0, 7}) {
      auto tampered = raw;
      tampered[pos] ^= static_cast<std::uint8_t>(1u << bit);
      expect_rejected(base64_encode(tampered),
                      "bit " + std::to_string(bit) + " of byte " + std::to_string(pos));
    }
  }
  expect_rejected("", "empty");
  expect_rejected("not base64", "not base64");
  expect_rejected(enc.substr(0, enc.size() - 4), "truncated base64");
  expect_rejected(base64_encode(std::span(raw).first(27)), "shorter than IV + tag");
  expect_rejected(base64_encode(std::span(raw).first(raw.size() - 1)), "tag cut short");
  auto extended = raw;
  extended.push_back(0);
  expect_rejected(base64_encode(extended), "extra byte");

  const SecretBytes other = derive_message_key("r0oQ4ZH5XGupz8FzzrOZK3fx5H7unYhVRGWRBcvD+SM=");
  {
    auto r = aes_gcm_decrypt(other, enc);  // wrong key
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), "message could not be decrypted");
  }

  // The untouched message still opens, and the empty message (IV + tag only) too.
  auto ok = aes_gcm_decrypt(key, enc);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, plaintext);
  auto empty = aes_gcm_decrypt(key, aes_gcm_encrypt(key, ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(V1MessageCipher, DerivesOncePerKeyString) {
  MessageCipher cipher;
  const SecretString key_a(str(vectors().at("group"), "pairwise_key"));
  const SecretString key_b(str(vectors().at("group"), "group_key"));
  for (int i = 0; i < 100; ++i) {
    const std::string text = "message " + std::to_string(i);
    auto back = cipher.decrypt(key_a, cipher.encrypt(key_a, text));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, text);
  }
  EXPECT_EQ(cipher.derivations(), 1u);

  // The cached key is the PBKDF2 key: interoperates with the uncached functions.
  const SecretBytes direct = derive_message_key(key_a.view());
  auto back = aes_gcm_decrypt(direct, cipher.encrypt(key_a, "x"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "x");
  auto forward = cipher.decrypt(key_a, aes_gcm_encrypt(direct, "y"));
  ASSERT_TRUE(forward.ok());
  EXPECT_EQ(*forward, "y");

  for (int i = 0; i < 100; ++i)
    (void)cipher.encrypt(key_b, "m");
  EXPECT_EQ(cipher.derivations(), 2u);
  auto cross = cipher.decrypt(key_b, cipher.encrypt(key_a, "secret"));
  EXPECT_FALSE(cross.ok());
  EXPECT_EQ(cipher.derivations(), 2u);
}

TEST(V1MessageCipher, EvictsLeastRecentlyUsed) {
  MessageCipher cipher(2);
  const SecretString a("a2V5LWE="), b("a2V5LWI="), c("a2V5LWM=");
  (void)cipher.encrypt(a, "1");
  (void)cipher.encrypt(b, "2");
  EXPECT_EQ(cipher.derivations(), 2u);
  (void)cipher.encrypt(a, "3");  // a is now the most recently used
  EXPECT_EQ(cipher.derivations(), 2u);
  (void)cipher.encrypt(c, "4");  // evicts b
  EXPECT_EQ(cipher.derivations(), 3u);
  (void)cipher.encrypt(a, "5");
  (void)cipher.encrypt(c, "6");
  EXPECT_EQ(cipher.derivations(), 3u);
  const std::string enc = cipher.encrypt(b, "7");  // b comes back, evicting a
  EXPECT_EQ(cipher.derivations(), 4u);
  auto back = cipher.decrypt(b, enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "7");
  (void)cipher.encrypt(c, "8");
  EXPECT_EQ(cipher.derivations(), 4u);
  (void)cipher.encrypt(a, "9");
  EXPECT_EQ(cipher.derivations(), 5u);
}

TEST(V1MessageCipher, ConcurrentUseDerivesOnce) {
  MessageCipher cipher;
  const SecretString key(str(vectors().at("group"), "group_key"));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string text = std::to_string(t) + "/" + std::to_string(i);
        auto back = cipher.decrypt(key, cipher.encrypt(key, text));
        if (!back.ok() || *back != text) ++failures;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(cipher.derivations(), 1u);
}

TEST(V1GroupKey, IsBase64Of32RandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const SecretString key = generate_group_key();
    auto raw = base64_decode(key.view());
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(raw->size(), 32u);
    EXPECT_EQ(key.size(), 44u);
    seen.insert(key.str());
  }
  EXPECT_EQ(seen.size(), 50u);

  MessageCipher cipher;
  const SecretString key = generate_group_key();
  auto back = cipher.decrypt(key, cipher.encrypt(key, "hello group"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "hello group");
}

}  // namespace
}  // namespace secchats::crypto::v1
