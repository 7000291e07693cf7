// Client-side crypto costs: a v1 message with the cached channel key versus re-deriving
// PBKDF2 for every message as the reference client does, a v2 (Double Ratchet) message, and
// unlocking the store.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <filesystem>
#include <string>
#include <vector>

#include "secchats/crypto/v1.hpp"
#include "secchats/crypto/v2/blob_stream.hpp"
#include "secchats/crypto/v2/identity.hpp"
#include "secchats/crypto/v2/padding.hpp"
#include "secchats/crypto/v2/ratchet.hpp"
#include "secchats/store/store.hpp"

namespace {

using namespace secchats;

const SecretString kKey("OfpXBRVOdR6DjavVaQmcXcLIGJc6ctkEIbQZatvmVDM=");
const std::string kPlaintext(
    R"({"object":"Message","fromUserId":"9f1c2b3a4d5e6f70","fromName":"Alice",)"
    R"("toId":"0a1b2c3d4e5f6071","replyToMessageId":0,"newEmoji":null,"oldEmoji":null,)"
    R"("messageId":123,"type":"TEXT","content":"SGVsbG8sIGhvdyBhcmUgeW91Pw==",)"
    R"("timestamp":1795444291649})");

// Our client: PBKDF2 once per key string, then AES-GCM only.
void BM_V1MessageCachedKey(benchmark::State& state) {
  crypto::v1::MessageCipher cipher;
  (void)cipher.encrypt(kKey, "warm-up");
  std::size_t wire = 0;
  for (auto _ : state) {
    std::string sealed = cipher.encrypt(kKey, kPlaintext);
    auto opened = cipher.decrypt(kKey, sealed);
    wire = sealed.size();
    benchmark::DoNotOptimize(opened);
  }
  state.counters["wire_bytes"] = static_cast<double>(wire);
}
BENCHMARK(BM_V1MessageCachedKey);

// The reference client: PBKDF2 (100 000 iterations) on both sides of every message.
void BM_V1MessagePbkdf2PerMessage(benchmark::State& state) {
  for (auto _ : state) {
    std::string sealed =
        crypto::v1::aes_gcm_encrypt(crypto::v1::derive_message_key(kKey.view()), kPlaintext);
    auto opened = crypto::v1::aes_gcm_decrypt(crypto::v1::derive_message_key(kKey.view()), sealed);
    benchmark::DoNotOptimize(opened);
  }
}
BENCHMARK(BM_V1MessagePbkdf2PerMessage)->Unit(benchmark::kMillisecond);

// Protocol v2: pad, Double Ratchet seal, open, unpad (the store write that persists the state
// is not included). Arg 0: every message in the same direction (a chain step each);
// arg 1: the direction alternates, so every message also takes a DH ratchet step (X25519).
void BM_V2MessageRatchet(benchmark::State& state) {
  using namespace crypto::v2;
  const std::string alice_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
  const std::string bob_id = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
  auto alice_ik = IdentityKeyPair::generate();
  auto bob_ik = IdentityKeyPair::generate();
  auto alice_spk = SignedPrekey::generate(alice_ik);
  auto bob_spk = SignedPrekey::generate(bob_ik);
  auto alice =
      RatchetSession::create(alice_id, alice_ik, alice_spk, bob_id, make_bundle(bob_ik, bob_spk));
  auto bob =
      RatchetSession::create(bob_id, bob_ik, bob_spk, alice_id, make_bundle(alice_ik, alice_spk));
  if (!alice.ok() || !bob.ok()) {
    state.SkipWithError("session set-up failed");
    return;
  }
  // alice_id < bob_id: Alice initiates; Bob can send once he has heard from her.
  auto first = alice->encrypt(pad(std::string_view("hello")));
  if (!first.ok() || !bob->decrypt(*first).ok()) {
    state.SkipWithError("first message failed");
    return;
  }
  const bool alternate = state.range(0) == 1;
  bool from_alice = true;
  std::size_t wire = 0;
  for (auto _ : state) {
    auto& sender = from_alice ? *alice : *bob;
    auto& receiver = from_alice ? *bob : *alice;
    auto sealed = sender.encrypt(pad(kPlaintext));
    auto opened = receiver.decrypt(*sealed);
    auto plain = unpad(*opened);
    wire = sealed->size();
    benchmark::DoNotOptimize(plain);
    if (alternate) from_alice = !from_alice;
  }
  state.counters["wire_bytes"] = static_cast<double>(wire);
}
BENCHMARK(BM_V2MessageRatchet)->Arg(0)->Arg(1);

// Unlocking the store: Argon2id (64 MiB, 3 passes) plus opening SQLCipher.
void BM_StoreUnlock(benchmark::State& state) {
  const auto home =
      std::filesystem::temp_directory_path() / ("secchats-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(home);
  const SecretString password("benchmark password");
  store::Identity identity;
  identity.user_id = "0123456789abcdef0123456789abcdef";
  identity.auth_token = SecretString("token");
  identity.nickname = "Bench";
  identity.server_url = "http://127.0.0.1:8080";
  auto created = store::Store::create(home, password, identity);
  if (!created.ok()) {
    state.SkipWithError(created.error().message().c_str());
    return;
  }
  created->reset();
  for (auto _ : state) {
    auto opened = store::Store::open(home, password);
    if (!opened.ok()) state.SkipWithError(opened.error().message().c_str());
    benchmark::DoNotOptimize(opened);
  }
  std::filesystem::remove_all(home);
}
BENCHMARK(BM_StoreUnlock)->Unit(benchmark::kMillisecond)->Iterations(5);

// Attachment encryption (protocol-v2 §15.1): one 64 KiB STREAM chunk sealed / opened with
// XChaCha20-Poly1305, the unit send_file and download work in. Bytes per second = MB/s.
void BM_BlobStreamSeal(benchmark::State& state) {
  const auto key = crypto::v2::BlobKey::generate();
  const std::vector<std::uint8_t> chunk(crypto::v2::kBlobChunkSize, 0x5a);
  std::uint64_t index = 0;
  for (auto _ : state) {
    auto sealed = crypto::v2::seal_blob_chunk(key, index++, false, chunk);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(chunk.size()));
}
BENCHMARK(BM_BlobStreamSeal);

void BM_BlobStreamOpen(benchmark::State& state) {
  const auto key = crypto::v2::BlobKey::generate();
  const std::vector<std::uint8_t> chunk(crypto::v2::kBlobChunkSize, 0x5a);
  const auto sealed = crypto::v2::seal_blob_chunk(key, 7, false, chunk).value();
  for (auto _ : state) {
    auto opened = crypto::v2::open_blob_chunk(key, 7, false, sealed);
    if (!opened) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(chunk.size()));
}
BENCHMARK(BM_BlobStreamOpen);

}  // namespace

BENCHMARK_MAIN();
