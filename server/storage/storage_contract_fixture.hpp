// The shared storage contract suite (storage/storage.hpp): one value-parameterised fixture
// whose tests run against every backend — "sqlite" (a database in a fresh temporary
// directory) and "postgresql" (a fresh database on the test binary's throwaway cluster,
// tests/support/pg_cluster.hpp). What only one backend has (SQLite's WAL checkpoints and file
// layout, PostgreSQL's reconnects) is tested beside that backend instead.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/storage.hpp"
#include "storage/storage_test_values.hpp"

namespace secchats::server::contract {

// One backend's store for one test. open() may be called again after the previous Storage
// was closed or destroyed: it reopens the same data (durability tests).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<std::unique_ptr<Storage>> open(int max_batch) = 0;
  // The persisted clock's high-water mark (last timestamp issued); only while closed.
  virtual std::int64_t stored_clock() = 0;
  // Moves the persisted clock, as an earlier run whose wall clock was ahead would have left
  // it; only while closed.
  virtual void set_stored_clock(std::int64_t ts) = 0;
};

std::unique_ptr<Backend> make_backend(const std::string& name);
// Every backend: "sqlite", "postgresql".
std::vector<std::string> backend_names();

using test::group_message;
using test::hash_of;
using test::message_to;
using test::payloads;

// Counts callbacks and lets the test wait until an expected number has arrived.
class CallbackLatch {
 public:
  void arrive();
  bool wait_for(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(120));

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t arrived_ = 0;
};

class StorageContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;

  // Opens (or reopens) this test's store; nullptr after reporting a failure.
  std::unique_ptr<Storage> open(int max_batch = 512);
  Backend& backend() { return *backend_; }

  // Submits one write and waits for its outcome (exactly one callback).
  static WriteOutcome write(Storage& storage, WriteOp op);
  static void must_write(Storage& storage, WriteOp op);
  static std::int64_t must_enqueue(Storage& storage, QueueItem item);
  static std::int64_t must_append(Storage& storage, GroupMessage message);
  // Rows an AckQueue / PurgeExpired deleted (expects success).
  static std::int64_t deleted(Storage& storage, WriteOp op);
  // Payloads of the user's queue, oldest first.

 private:
  std::unique_ptr<Backend> backend_;
};

// Test names end in the backend: .../sqlite, .../postgresql.
std::string backend_param_name(const ::testing::TestParamInfo<std::string>& info);

}  // namespace secchats::server::contract
