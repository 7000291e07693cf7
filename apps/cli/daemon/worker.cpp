#include "daemon/worker.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "daemon/jsonrpc.hpp"
#include "output.hpp"

namespace secchats::cli::daemon {
namespace json = boost::json;

Worker::~Worker() {
  request_stop();
  join();
}

void Worker::start() {
  thread_ = std::thread([this] { loop(); });
}

void Worker::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      wake_.notify_all();
      client_.interrupt_listen();
      return;
    }
  }
  job.refuse();
}

void Worker::request_stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  wake_.notify_all();
  client_.interrupt_listen();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::subscribe(const std::shared_ptr<Peer>& peer, bool text) {
  for (auto& s : subscribers_) {
    if (s.peer == peer) {
      s.text = text;
      return;
    }
  }
  subscribers_.push_back({peer, text});
}

bool Worker::unsubscribe(const Peer* peer) {
  for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
    if (it->peer.get() == peer) {
      subscribers_.erase(it);
      return true;
    }
  }
  return false;
}

bool Worker::has_subscribers() {
  std::erase_if(subscribers_, [](const Subscriber& s) { return !s.peer->open(); });
  return !subscribers_.empty();
}

bool Worker::deliver(const Event& e) {
  // The same lines `listen --json` and `listen` print (Output::event).
  std::string json_line, human;
  Output(true, [&json_line](std::string_view l) {
    json_line = l;
    return true;
  }).event(e);
  Output(false, [&human](std::string_view l) {
    human = l;
    return true;
  }).event(e);
  std::error_code ec;
  json::value object = json::parse(json_line, ec);
  if (ec || !object.is_object()) return false;
  const std::string as_json = notification("event", std::move(object.as_object()));
  json::object text_params;
  text_params["text"] = human;
  const std::string as_text = notification("event", std::move(text_params));
  // Queued to every subscriber first, then waited for: a slow one delays the event by at
  // most kWriteTimeout (and is dropped), not by that for each.
  std::vector<std::shared_ptr<WriteDone>> writes;
  for (auto& s : subscribers_)
    writes.push_back(s.peer->send_tracked(s.text ? as_text : as_json));
  const auto deadline = std::chrono::steady_clock::now() + kWriteTimeout + std::chrono::seconds(1);
  bool taken = false;
  for (const auto& w : writes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (w->wait(std::max(left, std::chrono::milliseconds(0)))) taken = true;
  }
  if (!taken) nobody_took_ = true;
  return taken;
}

void Worker::post_outbox() {
  auto round = client_.post_outbox();
  if (round.ok() && round->waiting == 0) {
    outbox_due_.reset();
    outbox_backoff_ = kOutboxRetryFirst;
    return;
  }
  // The relay still does not take it (or the store failed: said by code only).
  if (!round.ok()) {
    std::cerr << "secchats daemon: posting the outbox failed (error code "
              << static_cast<int>(round.error().code()) << ")\n";
  }
  outbox_due_ = std::chrono::steady_clock::now() + outbox_backoff_;
  outbox_backoff_ = std::min<std::chrono::seconds>(outbox_backoff_ * 2, kOutboxRetryMax);
}

void Worker::loop() {
  for (;;) {
    std::optional<Job> job;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      if (!queue_.empty()) {
        job = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (job) {
      job->run(client_);
      // It may have queued a send the relay did not take: looked at once idle (an empty
      // outbox costs one store read), at the pace of the current backoff.
      if (!outbox_due_) outbox_due_ = std::chrono::steady_clock::now() + outbox_backoff_;
      continue;
    }
    if (has_subscribers()) {
      nobody_took_ = false;
      const Status s = client_.listen([this](const Event& e) { return deliver(e); },
                                      [this] {
                                        {
                                          std::lock_guard lock(mu_);
                                          if (stopping_ || !queue_.empty()) return false;
                                        }
                                        return has_subscribers();
                                      });
      if (!s.ok() && !nobody_took_) {
        // A real failure (the store): said by code only, then tried again after a pause.
        std::cerr << "secchats daemon: listen failed (error code "
                  << static_cast<int>(s.error().code()) << "), retrying in 5 s\n";
        std::unique_lock lock(mu_);
        wake_.wait_for(lock, std::chrono::seconds(5),
                       [this] { return stopping_ || !queue_.empty(); });
      }
      continue;
    }
    // Idle with nobody subscribed: nothing polls, so the outbox is posted here.
    if (outbox_due_ && std::chrono::steady_clock::now() >= *outbox_due_) {
      post_outbox();
      continue;
    }
    std::unique_lock lock(mu_);
    const auto woken = [this] { return stopping_ || !queue_.empty(); };
    if (outbox_due_) {
      wake_.wait_until(lock, *outbox_due_, woken);
    } else {
      wake_.wait(lock, woken);
    }
  }
  std::deque<Job> refused;
  {
    std::lock_guard lock(mu_);
    refused.swap(queue_);
  }
  for (auto& j : refused)
    j.refuse();
  for (auto& s : subscribers_)
    s.peer->finish();  // writes what it was sent, then closes
  subscribers_.clear();
}

}  // namespace secchats::cli::daemon
