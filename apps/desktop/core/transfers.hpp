// Attachment transfers for the Session (docs/protocol-v2.md §15): uploads (send_file /
// send_group_file) and downloads, run by a TransferWorker with its own Client so that text,
// reactions and the live sync loop never wait behind them (docs/desktop.md, "Attachments").
// GUI thread API; progress and results come back as queued calls into the TransferModel and
// as signals. Never logs file names, paths or contents.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "secchats/client.hpp"
#include "transfer_model.hpp"

namespace secchats::desktop {

class TransferWorker;

class TransferController : public QObject {
  Q_OBJECT
 public:
  explicit TransferController(QString home, QObject* parent = nullptr);
  ~TransferController() override;  // stop()

  TransferModel* model() { return &model_; }

  // Any thread: opens the transfer thread's own Client on the account (Argon2id, off the GUI
  // thread). Transfers posted before it is open wait for it; if it fails they fail with why.
  void openClient(const SecretString& password);
  // Ends the transfer thread: transfers not started are dropped, the running one is stopped
  // (resumable: the next send of the same file continues where the relay's copy ends).
  void stop();

  // Queues an upload of `path` to the friend or group `chat_id`; `kind` is SendFileOptions::kind
  // ("auto", "file", "voice"). Returns the transfer id (TransferModel::kIdRole).
  qint64 sendFile(const QString& chat_id, const QString& path, const QString& kind);
  // Queues a download of message `message_id`'s attachment to `target`: an existing directory
  // (the sender's file name, made safe, inside it) or a file path (replaced only once the new
  // file is complete and verified). open_when_done is handed back in downloaded().
  qint64 download(const QString& chat_id, qint64 message_id, const QString& name,
                  const QString& target, bool open_when_done);
  // Cancel (queued or running): the progress callback returns false, the transfer stops and
  // stays resumable (kStopped). Retry: queues a stopped transfer again. Dismiss: forgets it.
  void cancel(qint64 id);
  void retry(qint64 id);
  void dismiss(qint64 id);

 signals:
  // Refused for good, or stopped by something other than Cancel. `what` names the operation
  // ("Send file", "Download"), `why` is the library's reason.
  void failed(const QString& what, const QString& why);
  // The transfer client changed the chat's history (an upload stored or sent its message, a
  // download recorded where it saved the file): re-read it.
  void chatChanged(const QString& chat_id);
  void downloaded(qint64 id, const QString& chat_id, qint64 message_id, const QString& path,
                  bool open_when_done);
  // For the timeline row of the transfer's message: a download's (message_id) or an upload's
  // (message_id 0; its row is found by file name) percent, -1 once it ended or stopped.
  void progressChanged(const QString& chat_id, qint64 message_id, const QString& name, int percent);

 private:
  void run(qint64 id);
  bool current(const TransferModel::Transfer& run) const;
  template <class F>
  void toGui(F&& f);

  QString home_;
  TransferModel model_;
  std::unique_ptr<TransferWorker> worker_;
  // Transfer thread only: why the transfer client could not be opened ("" if it could).
  std::string open_error_;
};

}  // namespace secchats::desktop
