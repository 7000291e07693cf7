// Helpers for tests that use /blobs over HTTP (protocol-v2 §15.3; README "Blobs"): stand-in
// ciphertext and the headers an authenticated blob request carries.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <utility>

#include "support/http_client.hpp"

namespace secchats::testing {

// `n` pseudo-random bytes, the same for the same `seed`: stands in for an attachment's
// ciphertext (which, like it, does not compress).
inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(rng() & 0xff);
  return out;
}

// The credentials of a blob request by `user` (any type with `id` and `token` strings):
// X-Secchats-User and Authorization: Bearer.
template <typename User>
HttpHeaders blob_auth(const User& user) {
  return {{"X-Secchats-User", user.id}, {"Authorization", "Bearer " + user.token}};
}

// `headers` with one more header appended.
inline HttpHeaders with_header(HttpHeaders headers, std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return headers;
}

}  // namespace secchats::testing
