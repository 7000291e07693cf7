// Protocol v1 cryptography (COMPAT.md §4–§6) on OpenSSL 3's provider APIs.
#include "secchats/crypto/v1.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::crypto::v1 {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL ownership.

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
// Every BIGNUM here may hold a private scalar, so it is always cleared before it is freed.
struct BnClearFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnClearFree>;

// A failed OpenSSL call leaves entries on the thread's error queue; other code on the same
// thread (TLS in particular) reads that queue, so it is emptied before returning an error.
Error openssl_error(ErrorCode code, std::string message) {
  ERR_clear_error();
  return Error(code, std::move(message));
}

// Internal failures of operations that cannot fail on valid input (allocation, a broken
// provider): continuing with a half-made key or ciphertext would be worse than stopping.
[[noreturn]] void fatal_openssl() {
  std::abort();
}

constexpr std::string_view kInsecureMessage = "insecure key exchange refused";
constexpr std::string_view kDecryptMessage = "message could not be decrypted";
constexpr std::string_view kSalt = "SecureChat";
constexpr int kPbkdf2Iterations = 100000;
constexpr std::size_t kAesKeySize = 32;
constexpr std::size_t kGcmIvSize = 12;
constexpr std::size_t kGcmTagSize = 16;

// ---------------------------------------------------------------------------------------------
// Curves and the reference client's text format.

struct CurveInfo {
  Curve curve;
  std::string_view name;      // in cryptoData
  const char* openssl_group;  // OpenSSL group name
  std::size_t field_bytes;    // coordinate and scalar length (order fits as well)
};

constexpr CurveInfo kCurves[] = {
    {Curve::kP256, "secp256r1", "prime256v1", 32},
    {Curve::kP384, "secp384r1", "secp384r1", 48},
    {Curve::kP521, "secp521r1", "secp521r1", 66},
};

const CurveInfo& info(Curve curve) {
  for (const auto& c : kCurves) {
    if (c.curve == curve) return c;
  }
  std::abort();  // unreachable: every enumerator is in the table
}

const CurveInfo* find_curve(std::string_view name) {
  for (const auto& c : kCurves) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (hex_digit(c) < 0) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// The legacy format is "<priv hex>:<pub hex>:<modulus hex>" (public: empty first field), so
// a value made only of hex fields — none of them a curve name — is classic DH. A stored
// classic session may carry a fourth hex field in some reference builds; refuse that too.
bool looks_like_classic_dh(const std::vector<std::string_view>& fields) {
  if (fields.size() < 3 || fields.size() > 4) return false;
  if (!fields[0].empty() && !is_hex(fields[0])) return false;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    if (!is_hex(fields[i])) return false;
  }
  return true;
}

// Parses a big-endian hex number (any case, leading zeros allowed) into exactly `size`
// bytes. Fails on non-hex input and on values that need more than `size` bytes.
bool parse_hex_fixed(std::string_view hex, std::size_t size, SecretBytes& out) {
  if (!is_hex(hex)) return false;
  std::size_t first = hex.find_first_not_of('0');
  if (first == std::string_view::npos) first = hex.size();
  hex.remove_prefix(first);
  if (hex.size() > 2 * size) return false;
  out = SecretBytes(size);
  std::uint8_t* dst = out.data();
  std::size_t nibble = 0;  // counted from the least significant end
  for (std::size_t i = hex.size(); i-- > 0; ++nibble) {
    const auto v = static_cast<std::uint8_t>(hex_digit(hex[i]));
    std::uint8_t& byte = dst[size - 1 - nibble / 2];
    byte = static_cast<std::uint8_t>(byte | (nibble % 2 == 0 ? v : v << 4));
  }
  return true;
}

// Java BigInteger.toString(16): lowercase, no leading zeros, "0" for zero. Appends to `out`
// without reallocating when the caller reserved enough (so no stray copies of secrets).
void append_canonical_hex(std::span<const std::uint8_t> bytes, std::string& out) {
  constexpr char kDigits[] = "0123456789abcdef";
  bool started = false;
  for (std::uint8_t b : bytes) {
    for (int shift = 4; shift >= 0; shift -= 4) {
      const int v = (b >> shift) & 0x0f;
      if (v == 0 && !started) continue;
      started = true;
      out.push_back(kDigits[v]);
    }
  }
  if (!started) out.push_back('0');
}

// Base64 text decoded into wiped storage.
std::optional<SecretBytes> decode_secret_base64(std::string_view text) {
  auto decoded = base64_decode(text);
  if (!decoded) return std::nullopt;
  SecretBytes out(std::span<const std::uint8_t>(decoded->data(), decoded->size()));
  secure_wipe(*decoded);
  return out;
}

// A BIGNUM param of `pkey` as exactly `size` big-endian bytes.
SecretBytes get_bn_param_fixed(const EVP_PKEY* pkey, const char* name, std::size_t size) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) fatal_openssl();
  BnPtr bn(raw);
  SecretBytes out(size);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(size)) != static_cast<int>(size)) {
    fatal_openssl();
  }
  return out;
}

// "curve:x:y" in canonical form, not yet base64.
std::string public_text(const CurveInfo& curve, const EVP_PKEY* pkey) {
  const SecretBytes x = get_bn_param_fixed(pkey, OSSL_PKEY_PARAM_EC_PUB_X, curve.field_bytes);
  const SecretBytes y = get_bn_param_fixed(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, curve.field_bytes);
  std::string text;
  text.reserve(curve.name.size() + 2 + 4 * curve.field_bytes);
  text.append(curve.name);
  text.push_back(':');
  append_canonical_hex(x.span(), text);
  text.push_back(':');
  append_canonical_hex(y.span(), text);
  return text;
}

// Builds an EC key from coordinates (and optionally the private scalar) and validates it:
// the point must be on the curve and not the identity; with a scalar, the scalar must be in
// range and match the point.
Result<PkeyPtr> build_key(const CurveInfo& curve, std::string_view x_hex, std::string_view y_hex,
                          const std::string_view* d_hex) {
  const std::size_t n = curve.field_bytes;
  SecretBytes x, y;
  if (!parse_hex_fixed(x_hex, n, x) || !parse_hex_fixed(y_hex, n, y)) {
    return Error(ErrorCode::kInvalidArgument, "public key coordinate malformed or out of range");
  }
  std::vector<std::uint8_t> point(1 + 2 * n);
  point[0] = 0x04;  // uncompressed: 04 || X || Y
  std::copy(x.span().begin(), x.span().end(), point.begin() + 1);
  std::copy(y.span().begin(), y.span().end(), point.begin() + 1 + static_cast<std::ptrdiff_t>(n));

  BnPtr d;
  if (d_hex != nullptr) {
    SecretBytes d_bytes;
    if (!parse_hex_fixed(*d_hex, n, d_bytes)) {
      return Error(ErrorCode::kInvalidArgument, "private scalar malformed or out of range");
    }
    // A secure BIGNUM makes OSSL_PARAM_free clear the copy the param builder makes.
    d.reset(BN_secure_new());
    if (!d || BN_bin2bn(d_bytes.data(), static_cast<int>(n), d.get()) == nullptr) {
      fatal_openssl();
    }
  }

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_group,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (d && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1)) {
    fatal_openssl();
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) fatal_openssl();

  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) fatal_openssl();
  EVP_PKEY* raw = nullptr;
  const int selection = d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  // Import decodes the point and fails if it is not on the curve.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    return openssl_error(ErrorCode::kInvalidArgument,
                         "key is not a valid point or scalar on the curve");
  }
  PkeyPtr pkey(raw);

  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) fatal_openssl();
  if (EVP_PKEY_public_check(check.get()) != 1) {
    return openssl_error(ErrorCode::kInvalidArgument, "public key is not a valid curve point");
  }
  if (d && EVP_PKEY_check(check.get()) != 1) {
    return openssl_error(ErrorCode::kInvalidArgument,
                         "private scalar is out of range or does not match the public key");
  }
  return pkey;
}

struct ParsedPublic {
  const CurveInfo* curve;
  PkeyPtr key;
};

// Decodes and validates a peer's cryptoData: base64("curve:x:y").
Result<ParsedPublic> parse_public(std::string_view crypto_data) {
  auto decoded = base64_decode_to_string(crypto_data);
  if (!decoded || decoded->empty()) {
    return Error(ErrorCode::kInvalidArgument, "cryptoData is not valid base64");
  }
  const auto fields = split(*decoded, ':');
  const CurveInfo* curve = find_curve(fields[0]);
  if (curve == nullptr) {
    if (looks_like_classic_dh(fields)) {
      return Error(ErrorCode::kInsecure, std::string(kInsecureMessage));
    }
    return Error(ErrorCode::kInvalidArgument, "cryptoData uses an unsupported curve or format");
  }
  if (fields.size() != 3) {
    return Error(ErrorCode::kInvalidArgument, "cryptoData must be \"curve:x:y\"");
  }
  SC_ASSIGN_OR_RETURN(PkeyPtr key, build_key(*curve, fields[1], fields[2], nullptr));
  return ParsedPublic{curve, std::move(key)};
}

SecretBytes run_pbkdf2(std::string_view password) {
  SecretBytes out(kAesKeySize);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(kSalt.data()),
                        static_cast<int>(kSalt.size()), kPbkdf2Iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    fatal_openssl();
  }
  return out;
}

}  // namespace

std::string_view curve_name(Curve curve) {
  return info(curve).name;
}

Result<Curve> inspect_public_crypto_data(std::string_view crypto_data) {
  SC_ASSIGN_OR_RETURN(ParsedPublic parsed, parse_public(crypto_data));
  return parsed.curve->curve;
}

// ---------------------------------------------------------------------------------------------
// EcdhSession

struct EcdhSession::Impl {
  const CurveInfo* curve;
  PkeyPtr key;              // key pair; OpenSSL clears the scalar when it frees the key
  std::string public_text;  // canonical "curve:x:y"
};

EcdhSession::EcdhSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EcdhSession::EcdhSession(EcdhSession&&) noexcept = default;
EcdhSession& EcdhSession::operator=(EcdhSession&&) noexcept = default;
EcdhSession::~EcdhSession() = default;

Result<EcdhSession> EcdhSession::generate(Curve curve) {
  const CurveInfo& c = info(curve);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), c.openssl_group) != 1) {
    return openssl_error(ErrorCode::kInternal, "EC key generation unavailable");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return openssl_error(ErrorCode::kInternal, "EC key generation failed");
  }
  auto impl = std::make_unique<Impl>();
  impl->curve = &c;
  impl->key.reset(raw);
  impl->public_text = public_text(c, impl->key.get());
  return EcdhSession(std::move(impl));
}

Result<EcdhSession> EcdhSession::from_session_string(std::string_view session_string) {
  auto decoded = decode_secret_base64(session_string);
  if (!decoded || decoded->empty()) {
    return Error(ErrorCode::kInvalidArgument, "session string is not valid base64");
  }
  const auto fields = split(decoded->view(), ':');
  const CurveInfo* curve = find_curve(fields[0]);
  if (curve == nullptr) {
    if (looks_like_classic_dh(fields)) {
      return Error(ErrorCode::kInsecure, std::string(kInsecureMessage));
    }
    return Error(ErrorCode::kInvalidArgument, "session string uses an unsupported curve or format");
  }
  if (fields.size() != 4) {
    return Error(ErrorCode::kInvalidArgument, "session string must be \"curve:x:y:d\"");
  }
  SC_ASSIGN_OR_RETURN(PkeyPtr key, build_key(*curve, fields[1], fields[2], &fields[3]));
  auto impl = std::make_unique<Impl>();
  impl->curve = curve;
  impl->key = std::move(key);
  impl->public_text = public_text(*curve, impl->key.get());
  return EcdhSession(std::move(impl));
}

Curve EcdhSession::curve() const {
  return impl_->curve->curve;
}

std::string EcdhSession::public_crypto_data() const {
  return base64_encode(impl_->public_text);
}

SecretString EcdhSession::session_string() const {
  const CurveInfo& c = *impl_->curve;
  const SecretBytes d =
      get_bn_param_fixed(impl_->key.get(), OSSL_PKEY_PARAM_PRIV_KEY, c.field_bytes);
  std::string text;
  text.reserve(impl_->public_text.size() + 1 + 2 * c.field_bytes);  // no reallocation below
  text.append(impl_->public_text);
  text.push_back(':');
  append_canonical_hex(d.span(), text);
  const SecretString plain(std::move(text));  // wiped when this scope ends
  return SecretString(base64_encode(plain.view()));
}

Result<SecretString> EcdhSession::derive_channel_key(std::string_view peer_crypto_data) const {
  SC_ASSIGN_OR_RETURN(ParsedPublic peer, parse_public(peer_crypto_data));
  if (peer.curve != impl_->curve) {
    return Error(ErrorCode::kInvalidArgument, "peer key is on " + std::string(peer.curve->name) +
                                                  ", expected " + std::string(impl_->curve->name));
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->key.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) fatal_openssl();
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.key.get(), 1) != 1) {
    return openssl_error(ErrorCode::kInvalidArgument, "peer key rejected");
  }
  std::size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) fatal_openssl();
  SecretBytes shared(len);
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1) {
    return openssl_error(ErrorCode::kInvalidArgument, "key agreement failed");
  }
  // OpenSSL pads the x-coordinate to the field size, which is what the protocol hashes.
  if (len != impl_->curve->field_bytes) fatal_openssl();
  Sha256Digest digest = sha256(shared.span());
  SecretString key(base64_encode(digest));
  secure_wipe(digest.data(), digest.size());
  return key;
}

// ---------------------------------------------------------------------------------------------
// Message keys and AES-GCM

SecretBytes derive_message_key(std::string_view key_string) {
  return run_pbkdf2(key_string);
}

std::string aes_gcm_encrypt(const SecretBytes& key, std::string_view plaintext) {
  if (key.size() != kAesKeySize) std::abort();  // a caller bug, never input-dependent
  const std::vector<std::uint8_t> iv = random_bytes(kGcmIvSize);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx ||
      EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), iv.data(), nullptr) != 1) {
    fatal_openssl();
  }
  std::vector<std::uint8_t> out(kGcmIvSize + plaintext.size() + kGcmTagSize);
  std::copy(iv.begin(), iv.end(), out.begin());
  std::uint8_t* dst = out.data() + kGcmIvSize;
  const auto* src = reinterpret_cast<const std::uint8_t*>(plaintext.data());
  std::size_t remaining = plaintext.size();
  while (remaining > 0) {  // EVP lengths are int: feed very large inputs in pieces
    const int chunk = static_cast<int>(std::min<std::size_t>(remaining, INT_MAX / 2));
    int written = 0;
    if (EVP_EncryptUpdate(ctx.get(), dst, &written, src, chunk) != 1 || written != chunk) {
      fatal_openssl();
    }
    dst += written;
    src += chunk;
    remaining -= static_cast<std::size_t>(chunk);
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), dst, &final_len) != 1 || final_len != 0) fatal_openssl();
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize), dst) !=
      1) {
    fatal_openssl();
  }
  return base64_encode(out);
}

Result<std::string> aes_gcm_decrypt(const SecretBytes& key, std::string_view enc_content) {
  const auto fail = [] {
    return openssl_error(ErrorCode::kInvalidArgument, std::string(kDecryptMessage));
  };
  if (key.size() != kAesKeySize) return fail();
  auto data = base64_decode(enc_content);
  if (!data || data->size() < kGcmIvSize + kGcmTagSize) return fail();

  const std::size_t body_len = data->size() - kGcmIvSize - kGcmTagSize;
  const std::uint8_t* iv = data->data();
  const std::uint8_t* body = iv + kGcmIvSize;
  std::uint8_t* tag = data->data() + kGcmIvSize + body_len;

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), iv, nullptr) != 1) {
    fatal_openssl();
  }
  std::string plain(body_len, '\0');
  auto* dst = reinterpret_cast<std::uint8_t*>(plain.data());
  std::size_t remaining = body_len;
  bool ok = true;
  while (ok && remaining > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(remaining, INT_MAX / 2));
    int written = 0;
    ok = EVP_DecryptUpdate(ctx.get(), dst, &written, body, chunk) == 1 && written == chunk;
    dst += chunk;
    body += chunk;
    remaining -= static_cast<std::size_t>(chunk);
  }
  int final_len = 0;
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) ==
           1 &&
       EVP_DecryptFinal_ex(ctx.get(), dst, &final_len) == 1 && final_len == 0;
  if (!ok) {
    // Unauthenticated plaintext never leaves this function.
    secure_wipe(plain);
    return fail();
  }
  return plain;
}

// ---------------------------------------------------------------------------------------------
// MessageCipher

namespace {

struct DigestHash {
  std::size_t operator()(const Sha256Digest& d) const {
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);  // already uniformly distributed
    return h;
  }
};

}  // namespace

struct MessageCipher::Impl {
  struct Entry {
    Sha256Digest id;
    SecretBytes key;
  };

  explicit Impl(std::size_t cap) : capacity(cap == 0 ? 1 : cap) {}

  // The AES key for a key string, deriving it at most once even under concurrent misses.
  SecretBytes key_for(const SecretString& key_string) {
    Sha256Digest id = sha256(key_string.view());
    std::shared_future<SecretBytes> pending;
    std::promise<SecretBytes> promise;
    {
      std::lock_guard lock(mu);
      if (auto it = index.find(id); it != index.end()) {
        lru.splice(lru.begin(), lru, it->second);
        return it->second->key;
      }
      if (auto it = in_flight.find(id); it != in_flight.end()) {
        pending = it->second;
      } else {
        in_flight.emplace(id, promise.get_future().share());
      }
    }
    if (pending.valid()) return pending.get();

    SecretBytes key;
    try {
      key = run_pbkdf2(key_string.view());
      derivations.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
      std::lock_guard lock(mu);
      in_flight.erase(id);
      promise.set_exception(std::current_exception());
      throw;
    }
    {
      std::lock_guard lock(mu);
      lru.push_front(Entry{id, key});
      index[id] = lru.begin();
      while (lru.size() > capacity) {
        index.erase(lru.back().id);
        lru.pop_back();
      }
      in_flight.erase(id);
    }
    promise.set_value(key);
    return key;
  }

  std::mutex mu;
  std::size_t capacity;
  std::list<Entry> lru;  // most recently used first
  std::unordered_map<Sha256Digest, std::list<Entry>::iterator, DigestHash> index;
  std::unordered_map<Sha256Digest, std::shared_future<SecretBytes>, DigestHash> in_flight;
  std::atomic<std::uint64_t> derivations{0};
};

MessageCipher::MessageCipher(std::size_t capacity) : impl_(std::make_unique<Impl>(capacity)) {}
MessageCipher::~MessageCipher() = default;

std::string MessageCipher::encrypt(const SecretString& key_string, std::string_view plaintext) {
  return aes_gcm_encrypt(impl_->key_for(key_string), plaintext);
}

Result<std::string> MessageCipher::decrypt(const SecretString& key_string,
                                           std::string_view enc_content) {
  return aes_gcm_decrypt(impl_->key_for(key_string), enc_content);
}

std::uint64_t MessageCipher::derivations() const {
  return impl_->derivations.load(std::memory_order_relaxed);
}

SecretString generate_group_key() {
  const SecretBytes raw = random_secret(32);
  return SecretString(base64_encode(raw.span()));
}

}  // namespace secchats::crypto::v1
