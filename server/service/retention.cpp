#include "service/retention.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <string>

#include "secchats/common/clock.hpp"
#include "secchats/common/log.hpp"
#include "service/async_submit.hpp"

namespace secchats::server {
namespace asio = boost::asio;

asio::awaitable<Result<std::int64_t>> purge_expired(Storage& storage, std::int64_t before,
                                                    int batch_rows) {
  std::int64_t total = 0;
  for (;;) {
    WriteOp op = PurgeExpired{before, batch_rows};
    std::function<void(const WriteOutcome&)> no_hook;
    WriteOutcome outcome =
        co_await async_submit(storage, std::move(op), std::move(no_hook), asio::use_awaitable);
    if (!outcome.ok) co_return Error(outcome.code, outcome.message);
    total += outcome.rows;
    if (outcome.rows < batch_rows) co_return total;
  }
}

struct RetentionPurger::State {
  State(asio::any_io_executor ex, Storage& s, RetentionOptions o)
      : strand(asio::make_strand(ex)), storage(s), options(o), timer(strand) {}

  // The timer and the loop live on one strand, so stop() may come from any thread.
  asio::strand<asio::any_io_executor> strand;
  Storage& storage;
  RetentionOptions options;
  asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> runs{0}, last_rows{0}, last_micros{0}, total_micros{0};
};

asio::awaitable<void> RetentionPurger::purge_once(std::shared_ptr<State> state) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t before =
      unix_millis_now() - static_cast<std::int64_t>(state->options.max_age.count());
  auto rows = co_await purge_expired(state->storage, before, state->options.batch_rows);
  if (!rows.ok()) {
    // Shutdown refuses new writes; anything else is worth a line, and the next run retries.
    if (rows.error().code() != ErrorCode::kUnavailable || !state->stopped) {
      log::warn("retention purge failed: " + rows.error().message());
    }
    co_return;
  }
  const auto micros =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count());
  state->last_rows.store(static_cast<std::uint64_t>(*rows), std::memory_order_relaxed);
  state->last_micros.store(micros, std::memory_order_relaxed);
  state->total_micros.fetch_add(micros, std::memory_order_relaxed);
  state->runs.fetch_add(1, std::memory_order_relaxed);
  if (*rows > 0) {
    log::info("retention: purged " + std::to_string(*rows) + " expired rows in " +
              std::to_string(micros / 1000) + " ms");
  }
}

asio::awaitable<void> RetentionPurger::purge_loop(std::shared_ptr<State> state) {
  while (!state->stopped) {
    co_await purge_once(state);
    if (state->stopped) break;
    state->timer.expires_after(state->options.interval);
    boost::system::error_code ec;
    auto on_timer = asio::redirect_error(asio::use_awaitable, ec);
    co_await state->timer.async_wait(on_timer);
  }
}

RetentionPurger::RetentionPurger(asio::any_io_executor executor, Storage& storage,
                                 RetentionOptions options)
    : state_(std::make_shared<State>(std::move(executor), storage, options)) {}

RetentionPurger::~RetentionPurger() {
  stop();
}

bool RetentionPurger::enabled() const {
  return state_->options.max_age.count() > 0;
}

void RetentionPurger::start() {
  if (!enabled()) {
    log::info("retention: off; queued items stay until acknowledged");
    return;
  }
  log::info("retention: items older than " + std::to_string(state_->options.max_age.count()) +
            " ms are purged every " + std::to_string(state_->options.interval.count()) + " ms");
  asio::co_spawn(state_->strand, purge_loop(state_), asio::detached);
}

void RetentionPurger::stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->strand, [state = state_] { state->timer.cancel(); });
}

RetentionStats RetentionPurger::stats() const {
  RetentionStats s;
  s.runs = state_->runs.load(std::memory_order_relaxed);
  s.last_rows = state_->last_rows.load(std::memory_order_relaxed);
  s.last_micros = state_->last_micros.load(std::memory_order_relaxed);
  s.total_micros = state_->total_micros.load(std::memory_order_relaxed);
  return s;
}

}  // namespace secchats::server
