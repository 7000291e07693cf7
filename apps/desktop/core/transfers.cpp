#include "transfers.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <algorithm>

#include "transfer_worker.hpp"

namespace secchats::desktop {
namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

// A cut short transfer the user can resume with Retry (rather than a refusal for good).
bool resumable(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kNetwork:
    case ErrorCode::kUnavailable:
    case ErrorCode::kRateLimited:
    case ErrorCode::kUnauthenticated:
      return true;
    default:
      return false;
  }
}

// send_file stored and uploaded the file but the relay has not taken the FILE message yet: the
// outbox posts it, the timeline says "Sending…" (as for a text, Session::failSend).
bool queued(const Error& e) {
  return (e.code() == ErrorCode::kNetwork || e.code() == ErrorCode::kUnauthenticated) &&
         e.message().find("queued, not sent yet") != std::string::npos;
}

std::filesystem::path fsPath(const QString& p) {
  return std::filesystem::path(QFile::encodeName(p).toStdString());
}

}  // namespace

TransferController::TransferController(QString home, QObject* parent)
    : QObject(parent), home_(std::move(home)), worker_(std::make_unique<TransferWorker>()) {
  worker_->start();
}

TransferController::~TransferController() {
  stop();
}

template <class F>
void TransferController::toGui(F&& f) {
  QMetaObject::invokeMethod(this, std::forward<F>(f), Qt::QueuedConnection);
}

void TransferController::openClient(const SecretString& password) {
  worker_->post([this, pw = password](Client* c) {
    if (c) return;
    auto opened = Client::open(fsPath(home_), pw);
    if (!opened.ok()) {
      open_error_ = opened.error().message();
      return;
    }
    open_error_.clear();
    worker_->adoptClient(std::move(opened).value());
  });
}

void TransferController::stop() {
  // Whatever runs sees stopping() in its progress callback and returns false.
  worker_->stop();
}

qint64 TransferController::sendFile(const QString& chat_id, const QString& path,
                                    const QString& kind) {
  TransferModel::Transfer t;
  t.direction = TransferModel::Direction::kUpload;
  t.chat_id = chat_id;
  t.path = path;
  t.kind = kind.isEmpty() ? QStringLiteral("auto") : kind;
  t.name = QFileInfo(path).fileName();
  const qint64 id = model_.add(std::move(t));
  run(id);
  return id;
}

qint64 TransferController::download(const QString& chat_id, qint64 message_id, const QString& name,
                                    const QString& target, bool open_when_done) {
  TransferModel::Transfer t;
  t.direction = TransferModel::Direction::kDownload;
  t.chat_id = chat_id;
  t.message_id = message_id;
  t.name = name;
  t.path = target;
  t.open_when_done = open_when_done;
  const qint64 id = model_.add(std::move(t));
  run(id);
  return id;
}

void TransferController::cancel(qint64 id) {
  TransferModel::Transfer* t = model_.findMutable(id);
  if (!t || t->state == TransferModel::State::kStopped) return;
  t->cancel->store(true);
  // A queued one never starts (its job sees the flag); a running one stops at its next
  // progress report and reports back.
  model_.setState(id, TransferModel::State::kStopped, tr("Cancelled"));
}

void TransferController::retry(qint64 id) {
  const TransferModel::Transfer* t = model_.find(id);
  if (!t || t->state != TransferModel::State::kStopped) return;
  model_.setState(id, TransferModel::State::kQueued);
  run(id);
}

void TransferController::dismiss(qint64 id) {
  cancel(id);
  model_.remove(id);
}

// Whether a report from the transfer thread is about the run the model shows (a Retry after a
// Cancel starts a new run with a new cancel flag; the old run's last report is stale).
bool TransferController::current(const TransferModel::Transfer& run) const {
  const TransferModel::Transfer* now = model_.find(run.id);
  return now && now->cancel == run.cancel;
}

void TransferController::run(qint64 id) {
  const TransferModel::Transfer* found = model_.find(id);
  if (!found) return;
  const TransferModel::Transfer t = *found;  // a copy for the transfer thread (cancel is shared)
  worker_->post([this, t](Client* c) {
    const auto cancel = t.cancel;
    if (cancel->load()) return;  // cancelled while queued
    const bool upload = t.direction == TransferModel::Direction::kUpload;
    const QString what = upload ? tr("Send file") : tr("Download");
    if (!c) {
      const QString why =
          tr("Transfers are not available: %1")
              .arg(open_error_.empty() ? tr("no account is open") : qs(open_error_));
      toGui([this, id = t.id, what, why] {
        model_.remove(id);
        emit failed(what, why);
      });
      return;
    }
    bool told_stored = false;
    const ProgressCallback progress = [&](const TransferProgress& p) {
      if (cancel->load() || worker_->stopping()) return false;
      toGui([this, t, p] {
        if (!current(t)) return;
        model_.setProgress(t.id, p);
        if (const TransferModel::Transfer* now = model_.find(t.id)) {
          emit progressChanged(t.chat_id, t.message_id, t.name, std::max(now->percent, 0));
        }
      });
      // The message is stored once the upload starts: show it ("Uploading…") right away.
      if (upload && !told_stored && p.phase == TransferProgress::Phase::kUploading) {
        told_stored = true;
        toGui([this, chat = t.chat_id] { emit chatChanged(chat); });
      }
      return true;
    };

    const std::string chat = t.chat_id.toStdString();
    std::optional<Error> error;
    QString written;
    if (upload) {
      auto kind = c->find_chat(chat);
      if (!kind.ok()) {
        error = kind.error();
      } else {
        SendFileOptions options;
        options.kind = t.kind.toStdString();
        const auto path = fsPath(t.path);
        auto sent = kind->first == ChatKind::kGroup
                        ? c->send_group_file(chat, path, options, progress)
                        : c->send_file(chat, path, options, progress);
        if (!sent.ok() && !queued(sent.error())) error = sent.error();
      }
    } else {
      // A file path that exists is replaced only once the new copy is complete and verified.
      const QFileInfo target(t.path);
      const bool replace = !target.isDir() && target.exists();
      const QString out = replace ? t.path + QStringLiteral(".secchats-new") : t.path;
      if (replace) QFile::remove(out);
      auto got = c->download(chat, t.message_id, fsPath(out), progress);
      if (!got.ok()) {
        error = got.error();
      } else {
        written = QFile::decodeName(QByteArray::fromStdString(got->string()));
        if (replace) {
          QFile::remove(t.path);
          if (QFile::rename(written, t.path)) written = t.path;
        }
      }
    }

    if (!error) {
      toGui([this, t, written] {
        if (!current(t)) return;
        model_.remove(t.id);
        emit progressChanged(t.chat_id, t.message_id, t.name, -1);
        emit chatChanged(t.chat_id);
        if (t.direction == TransferModel::Direction::kDownload) {
          emit downloaded(t.id, t.chat_id, t.message_id, written, t.open_when_done);
        }
      });
      return;
    }
    const bool by_user = cancel->load() || worker_->stopping();
    const QString why = qs(error->message());
    if (by_user || resumable(*error)) {
      toGui([this, t, what, why, by_user] {
        if (!current(t)) return;
        model_.setState(t.id, TransferModel::State::kStopped, by_user ? tr("Cancelled") : why);
        emit progressChanged(t.chat_id, t.message_id, t.name, -1);
        emit chatChanged(t.chat_id);
        if (!by_user) emit failed(what, why);
      });
      return;
    }
    toGui([this, t, what, why] {
      if (!current(t)) return;
      model_.remove(t.id);
      emit progressChanged(t.chat_id, t.message_id, t.name, -1);
      emit chatChanged(t.chat_id);
      emit failed(what, why);
    });
  });
}

}  // namespace secchats::desktop
