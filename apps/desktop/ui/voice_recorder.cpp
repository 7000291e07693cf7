#include "voice_recorder.hpp"

#include <QAudioDevice>
#include <QAudioInput>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QMediaCaptureSession>
#include <QMediaDevices>
#include <QMediaFormat>
#include <QMediaRecorder>
#include <QPushButton>
#include <QRandomGenerator>
#include <QUrl>

namespace secchats::desktop::ui {
namespace {

QString elapsedText(qint64 ms) {
  const qint64 s = ms / 1000;
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

VoiceRecorder::VoiceRecorder(QWidget* parent, std::optional<bool> has_microphone)
    : QWidget(parent), dir_(QDir::temp().filePath(QStringLiteral("secchats-voice"))) {
  setObjectName(QStringLiteral("voiceRecorder"));
  auto* h = new QHBoxLayout(this);
  h->setContentsMargins(0, 0, 0, 0);
  record_ = new QPushButton(tr("Re&cord"), this);
  record_->setObjectName(QStringLiteral("recordButton"));
  record_->setAccessibleName(tr("Record a voice message"));
  elapsed_ = new QLabel(this);
  elapsed_->setObjectName(QStringLiteral("recordingElapsed"));
  elapsed_->setAccessibleName(tr("Recording time"));
  elapsed_->hide();
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName(QStringLiteral("cancelRecording"));
  cancel_->setAccessibleName(tr("Cancel the voice message"));
  cancel_->hide();
  h->addWidget(record_);
  h->addWidget(elapsed_);
  h->addWidget(cancel_);
  connect(record_, &QPushButton::clicked, this, [this] {
    if (state_ == State::kIdle) {
      start();
    } else if (state_ == State::kRecording) {
      stopAndSend();
    }
  });
  connect(cancel_, &QPushButton::clicked, this, &VoiceRecorder::cancel);

  const bool mic = has_microphone ? *has_microphone : !QMediaDevices::audioInputs().isEmpty();
  setState(mic ? State::kIdle : State::kUnavailable);
}

VoiceRecorder::~VoiceRecorder() {
  if (state_ == State::kRecording || state_ == State::kFinishing) cancel();
}

void VoiceRecorder::setState(State state) {
  state_ = state;
  switch (state) {
    case State::kUnavailable:
      record_->setEnabled(false);
      record_->setToolTip(tr("No microphone found: connect one to record voice messages."));
      break;
    case State::kIdle:
      record_->setEnabled(true);
      record_->setText(tr("Re&cord"));
      record_->setAccessibleName(tr("Record a voice message"));
      record_->setToolTip(tr("Record a voice message"));
      break;
    case State::kRecording:
      record_->setEnabled(true);
      record_->setText(tr("Stop and se&nd"));
      record_->setAccessibleName(tr("Stop recording and send"));
      record_->setToolTip(tr("Stop recording and send the voice message"));
      break;
    case State::kFinishing:
      record_->setEnabled(false);
      break;
  }
  const bool busy = state == State::kRecording || state == State::kFinishing;
  elapsed_->setVisible(busy);
  cancel_->setVisible(busy);
  if (!busy) elapsed_->clear();
  emit stateChanged(state);
}

void VoiceRecorder::start() {
  if (state_ != State::kIdle) return;
  if (QMediaDevices::audioInputs().isEmpty()) {
    setState(State::kUnavailable);
    emit failed(tr("No microphone found: connect one to record voice messages."));
    return;
  }
  QDir().mkpath(dir_);
  const QString stamp = QString::number(QDateTime::currentMSecsSinceEpoch());
  path_ = QDir(dir_).filePath(
      QStringLiteral("voice-%1-%2.ogg")
          .arg(stamp)
          .arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0')));
  cancelled_ = false;
  duration_ms_ = 0;
  capture_ = new QMediaCaptureSession(this);
  input_ = new QAudioInput(QMediaDevices::defaultAudioInput(), this);
  recorder_ = new QMediaRecorder(this);
  capture_->setAudioInput(input_);
  capture_->setRecorder(recorder_);
  QMediaFormat ogg(QMediaFormat::Ogg);
  ogg.setAudioCodec(QMediaFormat::AudioCodec::Opus);
  if (ogg.isSupported(QMediaFormat::Encode)) {
    recorder_->setMediaFormat(ogg);
  } else {
    // Whatever the backend records; the library converts it to Ogg/Opus ("voice").
    path_.chop(4);
  }
  recorder_->setQuality(QMediaRecorder::NormalQuality);
  recorder_->setOutputLocation(QUrl::fromLocalFile(path_));
  connect(recorder_, &QMediaRecorder::durationChanged, this, [this](qint64 ms) {
    duration_ms_ = ms;
    elapsed_->setText(elapsedText(ms));
  });
  connect(recorder_, &QMediaRecorder::recorderStateChanged, this,
          [this](QMediaRecorder::RecorderState s) { onRecorderState(static_cast<int>(s)); });
  connect(recorder_, &QMediaRecorder::errorOccurred, this,
          [this](QMediaRecorder::Error, const QString& why) { onError(why); });
  setState(State::kRecording);
  elapsed_->setText(elapsedText(0));
  recorder_->record();
}

void VoiceRecorder::stopAndSend() {
  if (state_ != State::kRecording || !recorder_) return;
  setState(State::kFinishing);
  recorder_->stop();  // -> StoppedState once the file is complete
}

void VoiceRecorder::cancel() {
  if (state_ != State::kRecording && state_ != State::kFinishing) return;
  cancelled_ = true;
  if (recorder_) recorder_->stop();
  const QString written = recorder_ ? recorder_->actualLocation().toLocalFile() : QString();
  releaseCapture();
  if (!written.isEmpty()) QFile::remove(written);
  if (!path_.isEmpty()) QFile::remove(path_);
  setState(State::kIdle);
}

void VoiceRecorder::onRecorderState(int state) {
  if (static_cast<QMediaRecorder::RecorderState>(state) != QMediaRecorder::StoppedState) return;
  if (cancelled_ || state_ != State::kFinishing) return;
  QString written = recorder_->actualLocation().toLocalFile();
  if (written.isEmpty()) written = path_;
  const qint64 ms = duration_ms_;
  releaseCapture();
  setState(State::kIdle);
  if (!QFile::exists(written)) {
    emit failed(tr("The recording could not be saved."));
    return;
  }
  emit recorded(written, ms);
}

void VoiceRecorder::onError(const QString& why) {
  const bool was_busy = state_ == State::kRecording || state_ == State::kFinishing;
  cancel();
  if (was_busy) emit failed(tr("Recording failed: %1").arg(why));
}

void VoiceRecorder::releaseCapture() {
  if (recorder_) recorder_->disconnect(this);
  for (QObject* o : {static_cast<QObject*>(recorder_), static_cast<QObject*>(input_),
                     static_cast<QObject*>(capture_)}) {
    if (o) o->deleteLater();
  }
  recorder_ = nullptr;
  input_ = nullptr;
  capture_ = nullptr;
}

}  // namespace secchats::desktop::ui
