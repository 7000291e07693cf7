// The thread that owns the secchats::Client. Every library call runs here, never on the GUI
// thread. Between jobs it runs Client::listen (the live sync loop); a job posted while listen
// is inside its long-poll interrupts it (Client::interrupt_listen), runs, and listen resumes.
//
// Not the Qt event loop: listen blocks this thread for the relay's hold (up to 24 s), so jobs
// go through our own queue (mutex + deque) that the listen callbacks check between rounds.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "secchats/client.hpp"
#include "session.hpp"

namespace secchats::desktop {

class ClientWorker : public QObject {
  Q_OBJECT
 public:
  // Runs on the worker thread; `client` is nullptr until an account is open.
  using Job = std::function<void(Client* client)>;
  // Called on the worker thread after each round that brought events (in order), with the
  // client at rest between rounds: it may read the store (chats(), history()).
  using BatchHandler = std::function<void(Client& client, const std::vector<Event>& events)>;

  ClientWorker();
  ~ClientWorker() override;  // stop()

  void setBatchHandler(BatchHandler handler);  // before start()
  void start();
  // Stops the loop (interrupting a long-poll), joins the thread and closes the client there.
  // Idempotent. Jobs still queued are dropped.
  void stop();
  // Any thread. Runs `job` on the worker thread, in posting order.
  void post(Job job);

  // Worker thread only (from a job): takes ownership of an opened client; the live sync loop
  // starts once the job returns.
  void adoptClient(std::unique_ptr<Client> client);
  // Worker thread only: the connectivity last reported, and reporting a new one (emitted only
  // when it changes).
  Connectivity connectivity() const { return connectivity_; }
  void setConnectivity(Connectivity state, const QString& detail);

 signals:
  // Emitted on the worker thread; queued to receivers on other threads.
  void connectivityChanged(secchats::desktop::Connectivity state, const QString& detail);
  // The sync loop stopped for a reason retrying cannot fix (the relay no longer accepts our
  // token). The account stays open; sends still work from the outbox's point of view.
  void syncStopped(const QString& why);

 private:
  void run();
  void listenOnce();
  bool onEvent(const Event& event);
  bool keepGoing();
  void flushBatch();

  QThread* thread_ = nullptr;
  QThread* home_thread_ = nullptr;
  BatchHandler batch_handler_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;                // guarded by mu_
  bool stop_ = false;                   // guarded by mu_
  Client* listening_client_ = nullptr;  // guarded by mu_: set while inside listen()

  // Worker thread only.
  std::unique_ptr<Client> client_;
  bool listen_enabled_ = false;  // false after a fatal listen error until a new client
  std::vector<Event> batch_;
  int keep_going_calls_ = 0;
  bool network_trouble_ = false;  // a network warning since the last round
  Connectivity connectivity_ = Connectivity::kOffline;
  QString connectivity_detail_;
};

// Whether a kWarning event is about reaching the relay (listen's retries), not about
// something a peer sent.
bool isNetworkWarning(const std::string& text);

}  // namespace secchats::desktop

