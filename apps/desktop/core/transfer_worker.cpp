#include "transfer_worker.hpp"

namespace secchats::desktop {

TransferWorker::~TransferWorker() {
  stop();
}

void TransferWorker::start() {
  if (thread_) return;
  thread_ = QThread::create([this] { run(); });
  thread_->setObjectName(QStringLiteral("secchats-transfers"));
  thread_->start();
}

void TransferWorker::stop() {
  if (!thread_) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    jobs_.clear();  // not started: nothing of them is stored yet, the user can send again
  }
  stopping_ = true;
  cv_.notify_all();
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
}

void TransferWorker::post(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void TransferWorker::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) break;  // stop_ and nothing left
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job(client_.get());
    lock.lock();
  }
  lock.unlock();
  client_.reset();  // closes the store on the thread that used it
}

}  // namespace secchats::desktop
