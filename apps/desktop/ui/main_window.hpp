// The application window: a stack of onboarding -> identity card -> main, or unlock -> main
// (Session::accountExists decides). The main page: chat list with search and requests on the
// left, the open chat on the right, a status line with the connection state. Menu and toolbar
// actions: Add friend (Ctrl+N), New group (Ctrl+G), In-person group (show / scan), My ID,
// Settings (Ctrl+,), Quit (Ctrl+Q). Tray notifications for new messages.
#pragma once

#include <QMainWindow>
#include <QPointer>

class QAction;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QStackedWidget;

namespace secchats::desktop {
class AppSettings;
class IdentityCard;
class InlineMessage;
class InPersonGroupDialog;
class OnboardingPage;
class SafetyNumberDialog;
class Session;
class SettingsDialog;
class UnlockPage;
enum class Connectivity;
namespace ui {

class AddFriendDialog;
class ChatFilterProxy;
class ChatView;
class NewGroupDialog;
class Notifier;
class RequestsPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum class Page { kOnboarding, kIdentity, kUnlock, kMain };

  // `session` and `settings` outlive the window.
  MainWindow(Session* session, AppSettings* settings, QWidget* parent = nullptr);
  ~MainWindow() override;

  Page page() const;
  OnboardingPage* onboardingPage() const { return onboarding_; }
  UnlockPage* unlockPage() const { return unlock_; }
  IdentityCard* identityCard() const { return identity_; }
  ChatView* chatView() const { return chat_view_; }
  QListView* chatList() const { return chat_list_; }
  RequestsPanel* requestsPanel() const { return requests_panel_; }
  Notifier* notifier() const { return notifier_; }
  // The dialogs currently open (null when not).
  AddFriendDialog* addFriendDialog() const;
  NewGroupDialog* newGroupDialog() const;
  InPersonGroupDialog* inPersonDialog() const;
  SafetyNumberDialog* safetyNumberDialog() const;
  SettingsDialog* settingsDialog() const;

 public slots:
  // Ends the app (Ctrl+Q, the tray's Quit). Closing the window only hides it when a tray
  // icon exists, so notifications keep coming.
  void quit();
  void openChat(const QString& chat_id);
  void showAddFriend();
  void showNewGroup();
  void showInvite(const QString& group_id);
  void showInPersonGroup();  // create one and show its QR
  void joinInPersonGroup();  // scan someone's QR
  void showMyId();
  void showSettings();
  void toggleRequests();

 protected:
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  QWidget* buildMainPage();
  void buildActions();
  void showPage(Page page);
  void onAccountOpened();
  void onAccountFailed(const QString& why);
  void onOperationFailed(const QString& what, const QString& why);
  void onConnectivity(Connectivity state, const QString& detail);
  void onIncoming(const QString& chat_id, const QString& title, const QString& preview);
  void updateUnread();
  void updateChatVisible();
  void updateRequestsButton(int count);

  Session* session_;
  AppSettings* settings_;
  QStackedWidget* pages_ = nullptr;
  OnboardingPage* onboarding_ = nullptr;
  IdentityCard* identity_ = nullptr;
  UnlockPage* unlock_ = nullptr;
  QWidget* main_ = nullptr;
  bool creating_ = false;  // the account being opened is a new one: show the identity card

  QLineEdit* search_ = nullptr;
  QPushButton* requests_button_ = nullptr;
  RequestsPanel* requests_panel_ = nullptr;
  QListView* chat_list_ = nullptr;
  ChatFilterProxy* chat_filter_ = nullptr;
  QStackedWidget* chat_area_ = nullptr;
  ChatView* chat_view_ = nullptr;
  QLabel* connectivity_ = nullptr;
  InlineMessage* status_error_ = nullptr;
  Notifier* notifier_ = nullptr;
  QList<QAction*> account_actions_;  // enabled once an account is open

  QPointer<AddFriendDialog> add_friend_;
  QPointer<NewGroupDialog> new_group_;
  QPointer<InPersonGroupDialog> in_person_;
  bool in_person_waiting_ = false;
  QPointer<SafetyNumberDialog> safety_;
  bool safety_waiting_ = false;
  QPointer<SettingsDialog> settings_dialog_;
  bool password_waiting_ = false;
  bool connection_waiting_ = false;
  bool quitting_ = false;         // Quit asked: closing ends the app even with a tray
  bool told_about_tray_ = false;  // the "still running in the tray" message was shown  // Settings'
                                  // "Save TLS settings" awaits the Session
};

}  // namespace ui
}  // namespace secchats::desktop
