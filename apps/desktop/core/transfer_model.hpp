// The attachment transfers of this session (uploads by Session::sendFile, downloads by
// Session::download), newest last, as the transfer bar under a chat shows them: what, how far
// (percent of the current phase), and what the user can do next (Cancel while queued or running,
// Retry or Dismiss once stopped). A finished transfer leaves the list: its message in the
// timeline shows the result; one refused for good leaves it too, its reason shown inline
// (Session::operationFailed). GUI thread only; the Session feeds it from queued signals.
#pragma once

#include <QAbstractListModel>
#include <QString>
#include <atomic>
#include <memory>
#include <vector>

#include "secchats/client.hpp"

namespace secchats::desktop {

class TransferModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum class Direction { kUpload, kDownload };
  enum class State {
    kQueued,   // waits for the transfer thread (one transfer runs at a time)
    kRunning,  // progress reports arriving
    kStopped,  // cancelled, or cut short by the network: resumable with Retry
  };
  enum Role {
    kIdRole = Qt::UserRole + 1,  // qint64 transfer id
    kDirectionRole,              // int (Direction)
    kStateRole,                  // int (State)
    kChatIdRole,                 // QString
    kMessageIdRole,              // qint64: downloads; 0 for an upload
    kNameRole,                   // QString: the file name (plain text, peer-controlled)
    kPercentRole,                // int 0..100 of the current phase; -1 unknown
    kPhaseRole,                  // QString: "Preparing", "Uploading", ... (translated)
    kErrorRole,                  // QString: why it stopped or failed ("" otherwise)
  };

  // What the transfer thread needs to run (or run again) one transfer.
  struct Transfer {
    qint64 id = 0;
    Direction direction = Direction::kUpload;
    State state = State::kQueued;
    QString chat_id;
    QString name;
    QString path;           // upload: the source file; download: the target (directory or file)
    QString kind;           // upload: SendFileOptions::kind
    qint64 message_id = 0;  // download
    bool open_when_done = false;  // download: open with the desktop's application after
    int percent = -1;
    QString phase;
    QString error;
    // Set from the GUI thread (Cancel), read by the transfer's progress callback.
    std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  };

  explicit TransferModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  qint64 add(Transfer t);  // assigns the id; returns it
  const Transfer* find(qint64 id) const;
  Transfer* findMutable(qint64 id);
  int rowOf(qint64 id) const;
  void setProgress(qint64 id, const TransferProgress& progress);
  void setState(qint64 id, State state, const QString& error = {});
  void remove(qint64 id);
  // A download of (chat, message) that is queued or running: its percent, else -1.
  int downloadPercent(const QString& chat_id, qint64 message_id) const;
  bool downloadActive(const QString& chat_id, qint64 message_id) const;

  static QString phaseName(TransferProgress::Phase phase);

 private:
  void changed(int row);
  std::vector<Transfer> rows_;
  qint64 next_id_ = 1;
};

}  // namespace secchats::desktop
