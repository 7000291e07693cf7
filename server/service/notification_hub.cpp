#include "service/notification_hub.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace secchats::server {

std::shared_ptr<NotificationHub::Waiter> NotificationHub::watch(
    const boost::asio::any_io_executor& ex, const std::vector<std::string>& queue_ids,
    std::chrono::milliseconds timeout) {
  auto w = std::make_shared<Waiter>(ex);
  w->timer_.expires_after(timeout);
  std::lock_guard lock(mutex_);
  waiting_.fetch_add(1, std::memory_order_relaxed);
  if (shut_down_) {
    fire_locked(w, {});
    return w;
  }
  for (const auto& id : queue_ids)
    by_queue_[id].push_back(w);
  return w;
}

void NotificationHub::unwatch(const std::shared_ptr<Waiter>& waiter,
                              const std::vector<std::string>& queue_ids) {
  std::lock_guard lock(mutex_);
  waiting_.fetch_sub(1, std::memory_order_relaxed);
  for (const auto& id : queue_ids) {
    auto it = by_queue_.find(id);
    if (it == by_queue_.end()) continue;
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), waiter), list.end());
    if (list.empty()) by_queue_.erase(it);
  }
}

void NotificationHub::fire_locked(const std::shared_ptr<Waiter>& w, const std::string& id) {
  if (w->fired_) return;
  w->fired_ = true;
  // Moving the expiry into the past both cancels a pending wait and makes a wait that has
  // not started yet complete at once, so there is no window in which a wake-up is lost.
  boost::asio::post(w->timer_.get_executor(), [w, id] {
    w->woken_by_ = id;
    w->timer_.expires_at(boost::asio::steady_timer::time_point::min());
  });
}

void NotificationHub::notify(const std::string& queue_id) {
  std::lock_guard lock(mutex_);
  auto it = by_queue_.find(queue_id);
  if (it == by_queue_.end()) return;
  for (const auto& w : it->second)
    fire_locked(w, queue_id);
}

void NotificationHub::wake_all() {
  std::lock_guard lock(mutex_);
  const std::string recheck(kRecheckAll);
  for (auto& [id, list] : by_queue_) {
    for (const auto& w : list)
      fire_locked(w, recheck);
  }
}

void NotificationHub::shutdown() {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  for (auto& [id, list] : by_queue_) {
    for (const auto& w : list)
      fire_locked(w, {});
  }
}

}  // namespace secchats::server
