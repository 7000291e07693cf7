#include "storage/storage_contract_fixture.hpp"

#include <future>
#include <stdexcept>

#include "pg/pg_connection.hpp"
#include "storage/postgres/pg_storage.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server::contract {
namespace {

class SqliteBackend final : public Backend {
 public:
  Result<std::unique_ptr<Storage>> open(int max_batch) override {
    SqliteOptions options;
    options.data_dir = data_dir();
    options.max_batch = max_batch;
    return open_sqlite_storage(options);
  }

  std::int64_t stored_clock() override {
    auto db = connect();
    auto select = db->prepare(sqlite::sql::kSelectLastTs);
    if (!select.ok()) throw std::runtime_error(select.error().message());
    auto row = select->step();
    if (!row.ok() || !*row) throw std::runtime_error("no clock row");
    return select->column_int(0);
  }

  void set_stored_clock(std::int64_t ts) override {
    auto db = connect();
    auto update = db->prepare(sqlite::sql::kUpdateLastTs);
    if (!update.ok()) throw std::runtime_error(update.error().message());
    if (!update->bind(1, ts).run().ok()) throw std::runtime_error("clock update failed");
  }

 private:
  std::filesystem::path data_dir() const { return dir_.path() / "data"; }
  std::unique_ptr<sqlite::Connection> connect() {
    auto db = sqlite::Connection::open((data_dir() / "relay.db").string(),
                                       sqlite::Connection::Mode::kReadWrite);
    if (!db.ok()) throw std::runtime_error(db.error().message());
    return std::move(db).value();
  }

  secchats::testing::TempDir dir_{"secchats-contract"};
};

class PostgresBackend final : public Backend {
 public:
  PostgresBackend() : uri_(secchats::testing::PgCluster::shared().create_database()) {}

  Result<std::unique_ptr<Storage>> open(int max_batch) override {
    PgOptions options;
    options.uri = uri_;
    options.pool_size = 4;
    options.max_batch = max_batch;
    return open_postgres_storage(options);
  }

  std::int64_t stored_clock() override {
    auto conn = connect();
    auto r = conn->exec("SELECT last_ts FROM clock");
    if (!r.ok()) throw std::runtime_error(r.error().message());
    if (r->rows() != 1) throw std::runtime_error("clock must hold exactly one row");
    auto v = r->int64(0, 0);
    if (!v.ok()) throw std::runtime_error(v.error().message());
    return *v;
  }

  void set_stored_clock(std::int64_t ts) override {
    auto conn = connect();
    auto r = conn->exec("UPDATE clock SET last_ts = $1", {pg::PgParam::text(std::to_string(ts))});
    if (!r.ok()) throw std::runtime_error(r.error().message());
    if (r->affected() != 1) throw std::runtime_error("clock must hold exactly one row");
  }

 private:
  std::unique_ptr<pg::PgConnection> connect() {
    auto conn = pg::PgConnection::open(uri_, std::chrono::seconds(10));
    if (!conn.ok()) throw std::runtime_error(conn.error().message());
    return std::move(conn).value();
  }

  std::string uri_;
};

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "sqlite") return std::make_unique<SqliteBackend>();
  if (name == "postgresql") return std::make_unique<PostgresBackend>();
  throw std::invalid_argument("unknown storage backend " + name);
}

std::vector<std::string> backend_names() {
  return {"sqlite", "postgresql"};
}

void CallbackLatch::arrive() {
  std::lock_guard lock(mutex_);
  ++arrived_;
  cv_.notify_all();
}

bool CallbackLatch::wait_for(std::size_t n, std::chrono::seconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return arrived_ >= n; });
}

void StorageContractTest::SetUp() {
  backend_ = make_backend(GetParam());
}

std::unique_ptr<Storage> StorageContractTest::open(int max_batch) {
  auto opened = backend_->open(max_batch);
  if (!opened.ok()) {
    ADD_FAILURE() << GetParam() << " open failed: " << opened.error().message();
    return nullptr;
  }
  return std::move(opened).value();
}

WriteOutcome StorageContractTest::write(Storage& storage, WriteOp op) {
  auto promise = std::make_shared<std::promise<WriteOutcome>>();
  auto future = promise->get_future();
  auto calls = std::make_shared<std::atomic<int>>(0);
  storage.submit(std::move(op), [promise, calls](WriteOutcome outcome) {
    if (calls->fetch_add(1) == 0) promise->set_value(std::move(outcome));
  });
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "write never completed";
    return WriteOutcome::failure(ErrorCode::kInternal, "timeout");
  }
  WriteOutcome outcome = future.get();
  EXPECT_EQ(calls->load(), 1);
  return outcome;
}

void StorageContractTest::must_write(Storage& storage, WriteOp op) {
  WriteOutcome outcome = write(storage, std::move(op));
  ASSERT_TRUE(outcome.ok) << outcome.message;
}

std::int64_t StorageContractTest::must_enqueue(Storage& storage, QueueItem item) {
  WriteOutcome outcome = write(storage, EnqueueItem{std::move(item)});
  EXPECT_TRUE(outcome.ok) << outcome.message;
  return outcome.timestamp;
}

std::int64_t StorageContractTest::must_append(Storage& storage, GroupMessage message) {
  WriteOutcome outcome = write(storage, AppendGroupMessage{std::move(message)});
  EXPECT_TRUE(outcome.ok) << outcome.message;
  return outcome.timestamp;
}

std::int64_t StorageContractTest::deleted(Storage& storage, WriteOp op) {
  WriteOutcome outcome = write(storage, std::move(op));
  EXPECT_TRUE(outcome.ok) << outcome.message;
  return outcome.rows;
}

std::string backend_param_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace secchats::server::contract
