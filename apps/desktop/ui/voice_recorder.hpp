// The voice note control next to the composer: Record starts recording from the default
// microphone (Qt Multimedia: QMediaCaptureSession + QAudioInput + QMediaRecorder; Ogg/Opus when
// the backend can encode it, else the backend's default audio format — the library converts
// to Ogg/Opus when sending, SendFileOptions kind "voice"), the elapsed time counts up, "Stop
// and send" hands the file over (recorded()), Cancel throws it away. Without a microphone the
// button is disabled and its tooltip says why.
#pragma once

#include <QString>
#include <QWidget>
#include <optional>

class QLabel;
class QPushButton;
class QMediaCaptureSession;
class QAudioInput;
class QMediaRecorder;

namespace secchats::desktop::ui {

class VoiceRecorder : public QWidget {
  Q_OBJECT
 public:
  enum class State {
    kUnavailable,  // no audio input on this machine
    kIdle,
    kRecording,
    kFinishing,  // stop asked; waiting for the backend to finish the file
  };
  // `has_microphone`: for tests; by default QMediaDevices is asked.
  explicit VoiceRecorder(QWidget* parent = nullptr, std::optional<bool> has_microphone = {});
  ~VoiceRecorder() override;

  State state() const { return state_; }
  QPushButton* recordButton() const { return record_; }
  QPushButton* cancelButton() const { return cancel_; }
  QLabel* elapsedLabel() const { return elapsed_; }
  // The directory recordings go to (default: the system temp directory's secchats-voice).
  void setDirectory(const QString& dir) { dir_ = dir; }

 public slots:
  void start();        // kIdle -> kRecording (or failed() and stays kIdle)
  void stopAndSend();  // kRecording -> kFinishing -> recorded(path) -> kIdle
  void cancel();       // kRecording/kFinishing -> kIdle, the file deleted

 signals:
  void recorded(const QString& path, qint64 duration_ms);
  void failed(const QString& why);  // shown inline by the chat
  void stateChanged(secchats::desktop::ui::VoiceRecorder::State state);

 private:
  void setState(State state);
  void onRecorderState(int state);
  void onError(const QString& why);
  void releaseCapture();

  State state_ = State::kIdle;
  QPushButton* record_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QLabel* elapsed_ = nullptr;
  QString dir_;
  QString path_;
  qint64 duration_ms_ = 0;
  bool cancelled_ = false;
  QMediaCaptureSession* capture_ = nullptr;
  QAudioInput* input_ = nullptr;
  QMediaRecorder* recorder_ = nullptr;
};

}  // namespace secchats::desktop::ui
