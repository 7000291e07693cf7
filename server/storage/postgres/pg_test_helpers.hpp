// Helpers shared by the PostgreSQL backend's tests: synchronous submits and plain SQL on a
// fresh connection. Tests only (they abort the test on a failed connection).
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "pg/pg_connection.hpp"
#include "storage/postgres/pg_storage.hpp"

namespace secchats::server::pgtest {

inline WriteOutcome submit_sync(Storage& s, WriteOp op) {
  std::promise<WriteOutcome> done;
  auto f = done.get_future();
  s.submit(std::move(op), [&done](WriteOutcome o) { done.set_value(std::move(o)); });
  return f.get();
}

inline TokenHash hash_of(std::uint8_t b) {
  TokenHash h{};
  h.fill(b);
  return h;
}

inline WriteOp message_to(const std::string& user, std::string payload,
                          const std::string& sender = "sender") {
  QueueItem item;
  item.kind = ItemKind::kMessage;
  item.recipient_id = user;
  item.sender_id = sender;
  item.payload = std::move(payload);
  return EnqueueItem{std::move(item)};
}

inline WriteOp group_message(const std::string& group, std::string payload) {
  GroupMessage m;
  m.group_id = group;
  m.sender_id = "sender";
  m.payload = std::move(payload);
  return AppendGroupMessage{std::move(m)};
}

inline std::unique_ptr<pg::PgConnection> connect(const std::string& uri) {
  auto c = pg::PgConnection::open(uri, std::chrono::milliseconds(5000));
  if (!c.ok()) ADD_FAILURE() << c.error().message();
  return c.ok() ? std::move(c).value() : nullptr;
}

// Runs SQL that must succeed; returns the result.
inline pg::PgResult must(pg::PgConnection& c, const std::string& sql) {
  auto r = c.exec(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? std::move(r).value() : pg::PgResult();
}

inline std::int64_t scalar(pg::PgConnection& c, const std::string& sql) {
  auto r = must(c, sql);
  auto v = r.int64(0, 0);
  EXPECT_TRUE(v.ok()) << sql;
  return v.ok() ? *v : -1;
}

inline std::unique_ptr<Storage> open_storage(const std::string& uri, int max_batch = 512) {
  PgOptions o;
  o.uri = uri;
  o.pool_size = 4;
  o.max_batch = max_batch;
  auto s = open_postgres_storage(o);
  if (!s.ok()) ADD_FAILURE() << s.error().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

}  // namespace secchats::server::pgtest
