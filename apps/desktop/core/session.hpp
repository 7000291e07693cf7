// The desktop app's one door to libsecchats. Session lives on the GUI thread; every call on it
// returns at once and the work runs on a worker thread that owns the secchats::Client (and its
// live sync loop). Results come back as signals, delivered on the GUI thread. The GUI never
// waits on the network, the store or Argon2id.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "secchats/client.hpp"

namespace secchats::desktop {

class ChatListModel;
class TimelineModel;
class RequestsModel;
class FriendsModel;
class ClientWorker;
class TransferModel;

// What the onboarding screen collects about the relay (ConnectionOptions of libsecchats).
struct ServerSettings {
  QString url = QStringLiteral("http://127.0.0.1:8080");  // `make run`'s relay
  QString pin_sha256;  // optional TLS certificate pin (https:// only)
  QString ca_file;     // optional PEM file of trusted certificates (https:// only)
};

// Whether the live sync loop currently reaches the relay.
enum class Connectivity { kOffline, kConnecting, kOnline };

class Session : public QObject {
  Q_OBJECT
 public:
  // `home`: the account directory (the CLI's --home; defaultHome() is the CLI's default, so
  // the app and the CLI share an account).
  explicit Session(QString home, QObject* parent = nullptr);
  ~Session() override;  // stops the sync loop and joins the worker thread

  static QString defaultHome();  // $HOME/.secchats, as the CLI

  QString home() const;
  bool accountExists() const;  // a store exists in home: show the unlock screen, else onboarding
  bool isOpen() const;         // created or unlocked
  QString userId() const;      // "" until open
  QString nickname() const;
  QString serverUrl() const;
  ServerSettings serverSettings() const;  // the relay URL and the TLS settings in use

  // Live models, owned by the Session, filled once open and kept current by the sync loop.
  ChatListModel* chats() const;
  RequestsModel* requests() const;  // incoming friend requests and group invites
  FriendsModel* friends() const;
  // The timeline of one chat; the Session keeps it current. Opening another chat reuses it.
  TimelineModel* timeline() const;
  // Attachment uploads and downloads in progress or stopped (resumable).
  TransferModel* transfers() const;

 public slots:
  // Account. Passwords are wiped from our copies once handed to the worker.
  void createAccount(const secchats::desktop::ServerSettings& server, const QString& nickname,
                     const QString& password);
  void unlock(const QString& password);
  void changePassword(const QString& old_password, const QString& new_password);
  // New TLS settings for the same relay (a renewed certificate's pin, a private CA): tried
  // on the relay first; -> connectionChanged, or operationFailed and nothing changes.
  void setConnection(const QString& pin_sha256, const QString& ca_file);

  // Chats. chat_id is a friend's user id or a group id.
  void openChat(const QString& chat_id);  // loads the newest page into timeline(), marks read
  // Whether the user can see the open chat (the window is active and not minimized). While
  // true, messages arriving in the open chat are marked read at once; default true.
  void setChatVisible(bool visible);
  void sendText(const QString& chat_id, const QString& text);
  // Any image Qt can read (PNG, JPEG, GIF, WebP, BMP...), from a file or the clipboard:
  // scaled down and re-encoded as PNG so it fits a v1 message (384 KiB).
  void sendImageFile(const QString& chat_id, const QString& path);
  void sendImageData(const QString& chat_id, const QByteArray& encoded_image);
  void react(const QString& chat_id, qint64 message_id, const QString& reaction_name);

  // Attachments (protocol v2 chats only; docs/protocol-v2.md §15). They run on their own thread
  // with their own Client (docs/desktop.md, "Attachments"), so a long transfer never holds up
  // texts or the live sync; progress in transfers(), failures as operationFailed ("Send file",
  // "Download"; a v1 chat gets the library's "files need protocol v2: ..."). Each returns the
  // transfer id (TransferModel::kIdRole).
  // `kind`: SendFileOptions::kind — "auto" (photos and videos recognised, anything else a
  // file), "file" (bytes untouched) or "voice" (converted to Ogg/Opus by the library).
  qint64 sendFile(const QString& chat_id, const QString& path,
                  const QString& kind = QStringLiteral("auto"));
  // Downloads message `message_id`'s attachment to `target`: a directory (the sender's file
  // name, made safe, inside it) or a file path (replaced only once the download is verified).
  // -> attachmentDownloaded, or operationFailed.
  qint64 downloadAttachment(const QString& chat_id, qint64 message_id, const QString& target,
                            bool open_when_done = false);
  void cancelTransfer(qint64 transfer_id);   // stops it; it stays resumable (Retry)
  void retryTransfer(qint64 transfer_id);    // a stopped one, from where it stopped
  void dismissTransfer(qint64 transfer_id);  // forgets a stopped one

  // Friends.
  void addFriend(const QString& user_id);
  void acceptFriend(const QString& user_id);
  void declineFriend(const QString& user_id);
  void requestSafetyNumber(const QString& friend_id);  // -> safetyNumberReady / operationFailed
  void verifySafetyNumber(const QString& friend_id, const QString& typed_or_scanned);

  // Groups.
  void createGroup(const QString& name);
  void inviteToGroup(const QString& group_id, const QString& friend_id);
  void declineGroupInvite(const QString& group_id);  // forgets it; the inviter is not told
  void joinGroup(const QString& group_id);           // accept an invite
  void createInPersonGroup(const QString& name);     // -> inPersonGroupCreated
  void joinInPersonGroup(const QString& payload);    // scanned QR text

 signals:
  void accountOpened();                    // create or unlock succeeded; models are filled
  void accountFailed(const QString& why);  // create/unlock failed (wrong password, relay down...)
  void passwordChanged();
  void connectionChanged();  // setConnection succeeded; serverSettings() has the new values
  // Any other operation failed; `what` names it for the user ("Send message"), `why` is the
  // library's reason. Shown inline near where the user acted.
  void operationFailed(const QString& what, const QString& why);
  // sendText refused the text before storing it (after operationFailed): nothing was queued,
  // so the composer may give it back to the user.
  void textRefused(const QString& chat_id, const QString& text);
  void friendRequestSent(const QString& user_id);
  void chatCreated(const QString& chat_id);  // a group was created or joined, a friend accepted
  void inPersonGroupCreated(const QString& group_id, const QString& payload);
  // A download finished: `path` is the verified plaintext file.
  void attachmentDownloaded(const QString& chat_id, qint64 message_id, const QString& path,
                            bool open_when_done);
  void safetyNumberReady(const secchats::SafetyNumberInfo& info);
  void safetyNumberVerified(const QString& friend_id);
  // Something new arrived for the user (for the tray notification). `chat_id` to open.
  void incoming(const QString& chat_id, const QString& title, const QString& preview);
  void connectivityChanged(secchats::desktop::Connectivity state, const QString& detail);
  // A friend request or group invite arrived (for the tray notification); it is in requests().
  // kind "friend" / "group"; title as RequestsModel::kTitleRole.
  void requestReceived(const QString& kind, const QString& id, const QString& title);
  // The live sync loop stopped for good (the relay no longer accepts this account's token).
  void syncStopped(const QString& why);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::desktop

Q_DECLARE_METATYPE(secchats::desktop::ServerSettings)
Q_DECLARE_METATYPE(secchats::SafetyNumberInfo)
Q_DECLARE_METATYPE(secchats::desktop::Connectivity)
