// Bridges Storage::submit (a callback on the writer thread) into Asio completion tokens, so a
// coroutine can `co_await` a durable write.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <memory>
#include <utility>

#include "storage/storage.hpp"

namespace secchats::server {

// GCC 12 mishandles temporaries (braced initialisers, nested calls) inside co_await
// expressions, destroying them twice: callers pass named locals only.
//
// Completes with the WriteOutcome once the storage writer has committed (or refused) `op`,
// on the handler's associated executor. `on_commit` runs first, on the writer thread, right
// after the commit (keep it short).
template <typename Token>
auto async_submit(Storage& storage, WriteOp op, std::function<void(const WriteOutcome&)> on_commit,
                  Token&& token) {
  return boost::asio::async_initiate<Token, void(WriteOutcome)>(
      [&storage](auto handler, WriteOp write_op, std::function<void(const WriteOutcome&)> hook) {
        auto ex = boost::asio::get_associated_executor(handler);
        // std::function needs a copyable target; the awaitable's handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        storage.submit(std::move(write_op),
                       [shared, ex, hook = std::move(hook)](WriteOutcome outcome) {
                         if (hook) hook(outcome);
                         boost::asio::post(ex, [shared, outcome = std::move(outcome)]() mutable {
                           (*shared)(std::move(outcome));
                         });
                       });
      },
      token, std::move(op), std::move(on_commit));
}

}  // namespace secchats::server
