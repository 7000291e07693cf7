// A malicious relay for tests: sits in a TamperingProxy between two users and swaps every
// key they exchange, the attack protocol v1 cannot detect and v2's safety numbers must.
//
// It replaces the ECDH values of the v1 friend handshake with its own (so it holds both v1
// channel keys), replaces each side's v2 bundle in the UPDATE messages with an identity of
// its own, and then re-encrypts every message in both directions — v1 with the two channel
// keys, v2 with two Double Ratchet sessions of its own. Done right, both users see a working
// v2 chat; only comparing safety numbers shows that their keys differ.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace secchats::testing {

class TamperingProxy;

class KeySwapAttacker {
 public:
  // Attacks the friendship between user ids `a` and `b` that starts after this call.
  // Installs the proxy's request rewriter (replacing any other).
  KeySwapAttacker(TamperingProxy& proxy, std::string a, std::string b);
  ~KeySwapAttacker();
  KeySwapAttacker(const KeySwapAttacker&) = delete;
  KeySwapAttacker& operator=(const KeySwapAttacker&) = delete;

  // Text of every TEXT message the attacker decrypted on its way (proof it reads the chat).
  std::vector<std::string> texts_read() const;
  // How many messages it re-encrypted, and how many it failed to handle (must stay 0 for a
  // transparent attack).
  int relayed() const;
  int failures() const;
  std::vector<std::string> failure_reasons() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace secchats::testing
