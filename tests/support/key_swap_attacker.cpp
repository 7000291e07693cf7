#include "support/key_swap_attacker.hpp"

#include <boost/json.hpp>

#include <mutex>
#include <optional>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/v1.hpp"
#include "secchats/crypto/v2/identity.hpp"
#include "secchats/crypto/v2/padding.hpp"
#include "secchats/crypto/v2/ratchet.hpp"
#include "secchats/crypto/v2/wire.hpp"
#include "support/tampering_proxy.hpp"

namespace secchats::testing {
namespace {

// Copies our clients' v2 marker (docs/protocol-v2.md §2.1: x written with one extra leading
// zero) from the value it replaces onto its own: the marker is public and unauthenticated, so
// a transparent attacker keeps it, and both sides still upgrade (to the attacker's keys).
std::string with_marker_of(const std::string& original, const std::string& replacement) {
  auto text = base64_decode_to_string(original);
  const auto colon = text ? text->find(':') : std::string::npos;
  if (colon == std::string::npos || text->compare(colon, 2, ":0") != 0) return replacement;
  std::string mine = base64_decode_to_string(replacement).value_or("");
  const auto at = mine.find(':');
  if (at == std::string::npos) return replacement;
  return base64_encode(mine.substr(0, at + 1) + "0" + mine.substr(at + 1));
}

namespace json = boost::json;
namespace v1 = crypto::v1;
namespace v2 = crypto::v2;

std::string field(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// An identity the attacker shows one side in place of the other side's.
struct FakeIdentity {
  v2::IdentityKeyPair identity = v2::IdentityKeyPair::generate();
  v2::SignedPrekey prekey = v2::SignedPrekey::generate(identity);
  v2::Bundle bundle() const { return v2::make_bundle(identity, prekey); }
};

std::string bundle_json(const v2::Bundle& b) {
  json::object o;
  o["v"] = 2;
  o["ik"] = base64_encode(b.ik);
  o["spk"] = base64_encode(b.spk);
  o["sig"] = base64_encode(b.spk_sig);
  return json::serialize(o);
}

std::optional<v2::Bundle> parse_bundle(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto ik = base64_decode(field(o, "ik"));
  auto spk = base64_decode(field(o, "spk"));
  auto sig = base64_decode(field(o, "sig"));
  v2::Bundle b{};
  if (!ik || !spk || !sig || ik->size() != b.ik.size() || spk->size() != b.spk.size() ||
      sig->size() != b.spk_sig.size()) {
    return std::nullopt;
  }
  std::copy(ik->begin(), ik->end(), b.ik.begin());
  std::copy(spk->begin(), spk->end(), b.spk.begin());
  std::copy(sig->begin(), sig->end(), b.spk_sig.begin());
  return b;
}

}  // namespace

struct KeySwapAttacker::State {
  std::string a, b;
  std::mutex mutex;
  v1::MessageCipher cipher;

  // v1 handshake: the attacker poses as the requester towards the responder (toward_responder)
  // and answers the requester itself (toward_requester).
  std::string requester, responder;
  std::optional<v1::EcdhSession> toward_responder, toward_requester;
  std::optional<SecretString> key_with_requester, key_with_responder;

  // v2: fake_as[x] is shown to the other side as x's identity; real[x] is x's real bundle.
  FakeIdentity fake_as_a, fake_as_b;
  std::optional<v2::Bundle> real_a, real_b;
  // facing_a: the attacker's session with a (it plays b); facing_b: with b (it plays a).
  std::optional<v2::RatchetSession> facing_a, facing_b;

  std::vector<std::string> texts;
  int relayed = 0;
  std::vector<std::string> failures;

  std::optional<std::string> rewrite(std::string_view path, std::string_view body) {
    std::lock_guard lock(mutex);
    json::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) return std::nullopt;
    auto& o = parsed.as_object();
    const std::string from = field(o, "fromUserId");
    const std::string to = path == "/postmsg" ? field(o, "toId") : field(o, "toUserId");
    if (!((from == a && to == b) || (from == b && to == a))) return std::nullopt;
    std::optional<std::string> out;
    if (path == "/connect") {
      out = swap_request(o, from, to);
    } else if (path == "/connect2") {
      out = swap_response(o, from);
    } else if (path == "/postmsg") {
      out = reencrypt(o, from);
    }
    return out;
  }

  std::optional<std::string> swap_request(json::object& o, const std::string& from,
                                          const std::string& to) {
    const std::string theirs = field(o, "cryptoData");
    auto curve = v1::inspect_public_crypto_data(theirs);
    if (!curve.ok()) return fail("request curve: " + curve.error().message());
    auto ours = v1::EcdhSession::generate(*curve);
    auto answer = v1::EcdhSession::generate(*curve);
    if (!ours.ok() || !answer.ok()) return fail("ECDH generate");
    auto key = answer->derive_channel_key(theirs);
    if (!key.ok()) return fail("ECDH with requester: " + key.error().message());
    requester = from;
    responder = to;
    key_with_requester = std::move(*key);
    o["cryptoData"] = with_marker_of(theirs, ours->public_crypto_data());
    toward_responder.emplace(std::move(*ours));
    toward_requester.emplace(std::move(*answer));
    return json::serialize(o);
  }

  std::optional<std::string> swap_response(json::object& o, const std::string& from) {
    if (!toward_responder || from != responder) return fail("answer without a request");
    const std::string theirs = field(o, "cryptoData");
    auto key = toward_responder->derive_channel_key(theirs);
    if (!key.ok()) return fail("ECDH with responder: " + key.error().message());
    key_with_responder = std::move(*key);
    o["cryptoData"] = with_marker_of(theirs, toward_requester->public_crypto_data());
    return json::serialize(o);
  }

  const SecretString* v1_key_of(const std::string& user) const {
    const auto& k = user == requester ? key_with_requester : key_with_responder;
    return k ? &*k : nullptr;
  }

  std::optional<std::string> reencrypt(json::object& o, const std::string& from) {
    const std::string to = from == a ? b : a;
    const std::string enc = field(o, "encContent");
    if (v2::is_v2_wire(enc)) {
      if (!make_sessions()) return fail("v2 message before both bundles");
      auto& in = from == a ? *facing_a : *facing_b;
      auto& onward = from == a ? *facing_b : *facing_a;
      auto padded = in.decrypt(enc);
      if (!padded.ok()) return fail("v2 decrypt: " + padded.error().message());
      if (auto plain = v2::unpad(*padded); plain.ok()) {
        note_text(std::string(plain->begin(), plain->end()));
      }
      auto wire = onward.encrypt(std::span<const std::uint8_t>(*padded));
      if (!wire.ok()) return fail("v2 encrypt: " + wire.error().message());
      o["encContent"] = *wire;
    } else {
      const SecretString* in = v1_key_of(from);
      const SecretString* onward = v1_key_of(to);
      if (!in || !onward) return fail("v1 message before the handshake");
      auto plain = cipher.decrypt(*in, enc);
      if (!plain.ok()) return fail("v1 decrypt: " + plain.error().message());
      std::string text = std::move(*plain);
      if (auto swapped = swap_bundle(text, from)) text = std::move(*swapped);
      note_text(text);
      o["encContent"] = cipher.encrypt(*onward, text);
    }
    ++relayed;
    return json::serialize(o);
  }

  // An UPDATE carrying `from`'s bundle: remember it, and put a fake identity in its place.
  std::optional<std::string> swap_bundle(const std::string& message_json, const std::string& from) {
    json::error_code ec;
    auto v = json::parse(message_json, ec);
    if (ec || !v.is_object()) return std::nullopt;
    auto& m = v.as_object();
    if (field(m, "type") != "UPDATE") return std::nullopt;
    auto content = base64_decode_to_string(field(m, "content"));
    if (!content) return std::nullopt;
    auto real = parse_bundle(*content);
    if (!real) return std::nullopt;
    (from == a ? real_a : real_b) = *real;
    const FakeIdentity& fake = from == a ? fake_as_a : fake_as_b;
    m["content"] = base64_encode(bundle_json(fake.bundle()));
    return json::serialize(m);
  }

  bool make_sessions() {
    if (facing_a && facing_b) return true;
    if (!real_a || !real_b) return false;
    auto with_a = v2::RatchetSession::create(b, fake_as_b.identity, fake_as_b.prekey, a, *real_a);
    auto with_b = v2::RatchetSession::create(a, fake_as_a.identity, fake_as_a.prekey, b, *real_b);
    if (!with_a.ok() || !with_b.ok()) return false;
    facing_a.emplace(std::move(*with_a));
    facing_b.emplace(std::move(*with_b));
    return true;
  }

  void note_text(const std::string& message_json) {
    json::error_code ec;
    auto v = json::parse(message_json, ec);
    if (ec || !v.is_object()) return;
    const auto& m = v.as_object();
    if (field(m, "type") != "TEXT") return;
    if (auto text = base64_decode_to_string(field(m, "content"))) texts.push_back(*text);
  }

  // Leaves the request unchanged: the attack then shows as a failure at the receiver.
  std::optional<std::string> fail(std::string why) {
    failures.push_back(std::move(why));
    return std::nullopt;
  }
};

KeySwapAttacker::KeySwapAttacker(TamperingProxy& proxy, std::string a, std::string b)
    : state_(std::make_shared<State>()) {
  state_->a = std::move(a);
  state_->b = std::move(b);
  proxy.set_request_rewriter([state = state_](std::string_view path, std::string_view body) {
    return state->rewrite(path, body);
  });
}

KeySwapAttacker::~KeySwapAttacker() = default;

std::vector<std::string> KeySwapAttacker::texts_read() const {
  std::lock_guard lock(state_->mutex);
  return state_->texts;
}

int KeySwapAttacker::relayed() const {
  std::lock_guard lock(state_->mutex);
  return state_->relayed;
}

int KeySwapAttacker::failures() const {
  std::lock_guard lock(state_->mutex);
  return static_cast<int>(state_->failures.size());
}

std::vector<std::string> KeySwapAttacker::failure_reasons() const {
  std::lock_guard lock(state_->mutex);
  return state_->failures;
}

}  // namespace secchats::testing
