// One open chat: a header (title, v1/v2 badge with its one-line explanation, Safety number
// for a friend, Invite for a group, a red banner when the friend's identity key changed), the
// timeline (lazy: older pages load as the user scrolls to the top, the view keeps its place
// when they arrive and stays at the bottom for new messages if it was there), and the composer
// (Enter sends, photos by button, drag-and-drop or paste, an inline error under it).
#pragma once

#include <QIdentityProxyModel>
#include <QPointer>
#include <QWidget>

class QLabel;
class QListView;
class QMenu;
class QPushButton;
class QFrame;
class QMediaPlayer;
class QAudioOutput;

namespace secchats::desktop {
class Session;
class InlineMessage;
namespace ui {

class Composer;
class MessageDelegate;
class TransferPanel;
class VoiceRecorder;

// The timeline as the view sees it: the same rows, but the view never calls fetchMore itself
// (QAbstractItemView fetches when its LAST row is visible — the newest message here, so it
// would pull the whole history); ChatView fetches when the user reaches the top.
class TimelineProxy : public QIdentityProxyModel {
  Q_OBJECT
 public:
  using QIdentityProxyModel::QIdentityProxyModel;
  bool canFetchMore(const QModelIndex&) const override { return false; }
  void fetchMore(const QModelIndex&) override {}
};

class ChatView : public QWidget {
  Q_OBJECT
 public:
  explicit ChatView(Session* session, QWidget* parent = nullptr);

  // Shows `chat_id` and asks the Session for its newest page (marks it read).
  void openChat(const QString& chat_id);
  QString chatId() const { return chat_id_; }
  bool isGroup() const { return is_group_; }

  QListView* timelineView() const { return timeline_; }
  Composer* composer() const { return composer_; }
  MessageDelegate* delegate() const { return delegate_; }
  InlineMessage* errorLabel() const { return error_; }
  TransferPanel* transferPanel() const { return transfers_; }
  VoiceRecorder* voiceRecorder() const { return voice_; }
  QMediaPlayer* player() const { return player_; }  // nullptr until something played
  // Where "Open" and playing a voice message download attachments (AppSettings).
  void setDownloadDirectory(const QString& dir) { download_dir_ = dir; }
  QString downloadDirectory() const { return download_dir_; }

 signals:
  void safetyNumberRequested(const QString& friend_id);
  void inviteRequested(const QString& group_id);

 public slots:
  void showError(const QString& text);
  void send();         // the composer's text
  void attachPhoto();  // file dialog (any files; kept under its old name)
  // Inline photos (v1 messages, fit to 384 KiB): what a pasted image file becomes.
  void sendImageFiles(const QStringList& paths);
  // Picked or dropped files: in a v2 chat attachments (photos too, full size); in a v1 chat a
  // photo goes inline and anything else meets the library's refusal, shown inline.
  void sendFiles(const QStringList& paths);
  // Attachments of the selected row or `index`: open (downloading first if needed), save to
  // a chosen path, play/stop a voice message.
  void openAttachment(const QModelIndex& index);
  void saveAttachmentTo(const QModelIndex& index, const QString& path);
  void saveSelectedAttachmentAs();  // file dialog
  void playVoice(const QModelIndex& index);
  void sendImageData(const QByteArray& encoded);
  // The reaction menu for the selected message (button, Ctrl+E, context menu). Non-blocking.
  void showReactionMenu();
  void react(const QString& reaction_name);  // to the selected message
  void openSelectedPhoto();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void refreshHeader();
  void onRangeChanged(int min, int max);
  void onScrolled(int value);
  void maybeFetchOlder();
  void openPhoto(const QModelIndex& index);
  void activate(const QModelIndex& index);
  void updateActions();
  void onDownloaded(const QString& chat_id, qint64 message_id, const QString& path, bool open);
  void play(const QString& path, qint64 message_id);
  bool isV1() const;

  Session* session_;
  QString chat_id_;
  bool is_group_ = false;

  QLabel* title_ = nullptr;
  QLabel* badge_ = nullptr;
  QLabel* protocol_note_ = nullptr;
  QPushButton* safety_ = nullptr;
  QPushButton* invite_ = nullptr;
  QFrame* banner_ = nullptr;
  QLabel* banner_text_ = nullptr;
  QPushButton* verify_ = nullptr;
  QLabel* closed_note_ = nullptr;
  QListView* timeline_ = nullptr;
  TimelineProxy* proxy_ = nullptr;
  MessageDelegate* delegate_ = nullptr;
  Composer* composer_ = nullptr;
  QPushButton* attach_ = nullptr;
  QPushButton* react_ = nullptr;
  QPushButton* send_ = nullptr;
  InlineMessage* error_ = nullptr;
  QPointer<QMenu> reaction_menu_;
  QPushButton* open_ = nullptr;
  QPushButton* save_ = nullptr;
  QPushButton* play_ = nullptr;
  TransferPanel* transfers_ = nullptr;
  VoiceRecorder* voice_ = nullptr;
  QMediaPlayer* player_ = nullptr;
  QAudioOutput* audio_out_ = nullptr;
  qint64 playing_message_ = 0;
  qint64 play_when_downloaded_ = 0;  // message id of a voice message to play once downloaded
  QString download_dir_;

  // Scroll anchoring (see onRangeChanged).
  bool at_bottom_ = true;
  bool prepending_ = false;
  int distance_from_bottom_ = 0;
};

}  // namespace ui
}  // namespace secchats::desktop
