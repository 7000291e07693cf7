// Values and look-ups the storage tests share (the contract suite over every backend and the
// SQLite-only tests): token hashes, queue items and group messages to write, and a queue's
// payloads to compare (storage/storage.hpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "storage/storage.hpp"

namespace secchats::server::test {

// A token hash whose bytes follow from `seed` (different seeds, different hashes).
inline TokenHash hash_of(std::uint8_t seed) {
  TokenHash h{};
  for (std::size_t i = 0; i < h.size(); ++i)
    h[i] = static_cast<std::uint8_t>(seed + i * 7);
  return h;
}

// A direct message for `recipient`'s queue (timestamp 0: the writer stamps it).
inline QueueItem message_to(const std::string& recipient, const std::string& sender,
                            const std::string& payload) {
  QueueItem item;
  item.kind = ItemKind::kMessage;
  item.recipient_id = recipient;
  item.sender_id = sender;
  item.payload = payload;
  return item;
}

// A post to `group`'s log (timestamp 0: the writer stamps it).
inline GroupMessage group_message(const std::string& group, const std::string& sender,
                                  const std::string& payload) {
  return GroupMessage{group, sender, payload, 0};
}

// The payloads in `user`'s queue, oldest first ("" for an item without one); a failed read
// fails the test and returns nothing.
inline std::vector<std::string> payloads(Storage& storage, const std::string& user) {
  auto items = storage.queue_items_after(user, 0, 100000);
  EXPECT_TRUE(items.ok());
  std::vector<std::string> out;
  if (items.ok()) {
    for (const auto& i : *items)
      out.push_back(i.payload.value_or(""));
  }
  return out;
}

}  // namespace secchats::server::test
