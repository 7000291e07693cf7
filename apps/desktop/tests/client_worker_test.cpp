// ClientWorker's queue without a relay: jobs run in order on the worker thread, and stopping
// never drops a job already queued (a send the composer has cleared must reach the outbox).
#include <gtest/gtest.h>

#include <QThread>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/client_worker.hpp"

namespace secchats::desktop {
namespace {

TEST(ClientWorker, RunsJobsInOrderOffTheCallingThread) {
  ClientWorker worker;
  worker.start();
  std::vector<int> order;
  std::atomic<bool> other_thread{true};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 5; ++i) {
    worker.post([&, i](Client* client) {
      EXPECT_EQ(client, nullptr);  // no account open
      if (std::this_thread::get_id() == caller) other_thread = false;
      order.push_back(i);
    });
  }
  worker.stop();
  EXPECT_TRUE(other_thread);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(ClientWorker, StopRunsWhatIsQueuedAndRefusesWhatComesAfter) {
  ClientWorker worker;
  worker.start();
  std::atomic<bool> slow_done{false}, queued_ran{false}, late_ran{false};
  worker.post([&](Client*) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    slow_done = true;
  });
  worker.post([&](Client*) { queued_ran = true; });  // waits behind the slow job
  worker.stop();
  EXPECT_TRUE(slow_done);
  EXPECT_TRUE(queued_ran) << "a queued job was dropped at stop";
  worker.post([&](Client*) { late_ran = true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(late_ran);
}

}  // namespace
}  // namespace secchats::desktop
