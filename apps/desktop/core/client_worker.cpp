#include "client_worker.hpp"

#include <chrono>

namespace secchats::desktop {

bool isNetworkWarning(const std::string& text) {
  // listen's back-off warnings: "sync failed, retrying: ..." / "long-poll failed, retrying: ..."
  return text.find("failed, retrying") != std::string::npos;
}

ClientWorker::ClientWorker() {
  qRegisterMetaType<secchats::desktop::Connectivity>();
  home_thread_ = QThread::currentThread();
}

ClientWorker::~ClientWorker() {
  stop();
}

void ClientWorker::setBatchHandler(BatchHandler handler) {
  batch_handler_ = std::move(handler);
}

void ClientWorker::start() {
  if (thread_) return;
  thread_ = QThread::create([this] { run(); });
  thread_->setObjectName(QStringLiteral("secchats-client"));
  moveToThread(thread_);
  thread_->start();
}

void ClientWorker::stop() {
  if (!thread_) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    jobs_.clear();
    if (listening_client_) listening_client_->interrupt_listen();
  }
  cv_.notify_all();
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
}

void ClientWorker::post(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    jobs_.push_back(std::move(job));
    // The one Client method safe from another thread: the long-poll returns at once and
    // keepGoing() sees the job. Under the lock, so the client cannot leave listen() (and be
    // replaced) in between.
    if (listening_client_) listening_client_->interrupt_listen();
  }
  cv_.notify_all();
}

void ClientWorker::adoptClient(std::unique_ptr<Client> client) {
  client_ = std::move(client);
  listen_enabled_ = client_ != nullptr;
}

void ClientWorker::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!jobs_.empty()) {
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job(client_.get());
      lock.lock();
      continue;
    }
    if (client_ && listen_enabled_) {
      listening_client_ = client_.get();
      lock.unlock();
      listenOnce();
      lock.lock();
      listening_client_ = nullptr;
      continue;
    }
    cv_.wait(lock);
  }
  lock.unlock();
  client_.reset();  // closes the store on the thread that used it
  // Back to the thread that owns us, so our destructor runs where we live.
  moveToThread(home_thread_);
}

void ClientWorker::listenOnce() {
  keep_going_calls_ = 0;
  network_trouble_ = false;
  if (connectivity_ == Connectivity::kOffline) setConnectivity(Connectivity::kConnecting, {});
  const Status status = client_->listen([this](const Event& e) { return onEvent(e); },
                                        [this] { return keepGoing(); });
  flushBatch();
  if (status.ok()) return;  // stopped or a job is waiting
  const QString why = QString::fromStdString(status.error().message());
  setConnectivity(Connectivity::kOffline, why);
  if (status.error().code() == ErrorCode::kUnauthenticated) {
    listen_enabled_ = false;
    emit syncStopped(why);
    return;
  }
  // Anything else (the store, an unexpected answer): try again a little later, at once for a
  // job or stop.
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stop_ || !jobs_.empty(); });
}

bool ClientWorker::onEvent(const Event& event) {
  if (event.kind == Event::Kind::kWarning && isNetworkWarning(event.text)) {
    network_trouble_ = true;
    // The library's reason ("long-poll failed, retrying: connection refused"): no content.
    setConnectivity(Connectivity::kOffline, QString::fromStdString(event.text));
    return true;
  }
  batch_.push_back(event);
  return true;
}

bool ClientWorker::keepGoing() {
  // listen calls this before its first round and then between rounds: from the second call
  // on, a round without a network warning means the relay answered.
  if (++keep_going_calls_ > 1 && !network_trouble_) setConnectivity(Connectivity::kOnline, {});
  network_trouble_ = false;
  flushBatch();
  std::lock_guard lock(mu_);
  return !stop_ && jobs_.empty();
}

void ClientWorker::flushBatch() {
  if (batch_.empty() || !client_) return;
  std::vector<Event> events;
  events.swap(batch_);
  if (batch_handler_) batch_handler_(*client_, events);
}

void ClientWorker::setConnectivity(Connectivity state, const QString& detail) {
  if (state == connectivity_ && detail == connectivity_detail_) return;
  connectivity_ = state;
  connectivity_detail_ = detail;
  emit connectivityChanged(state, detail);
}

}  // namespace secchats::desktop
