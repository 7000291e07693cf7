#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenuBar>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

#include "add_friend_dialog.hpp"
#include "chat_list_delegate.hpp"
#include "chat_view.hpp"
#include "core/app_settings.hpp"
#include "core/chat_list_model.hpp"
#include "core/friends_model.hpp"
#include "core/session.hpp"
#include "group_dialogs.hpp"
#include "notifier.hpp"
#include "requests_panel.hpp"
#include "ui_text.hpp"
#include "widgets/identity_card.hpp"
#include "widgets/in_person_group_dialog.hpp"
#include "widgets/inline_message.hpp"
#include "widgets/onboarding_page.hpp"
#include "widgets/safety_number_dialog.hpp"
#include "widgets/settings_dialog.hpp"
#include "widgets/theme.hpp"
#include "widgets/unlock_page.hpp"

namespace secchats::desktop::ui {

MainWindow::MainWindow(Session* session, AppSettings* settings, QWidget* parent)
    : QMainWindow(parent), session_(session), settings_(settings) {
  setObjectName(QStringLiteral("mainWindow"));
  setWindowTitle(tr("Secure Chats"));
  const QFontMetrics fm(font());
  setMinimumSize(fm.averageCharWidth() * 80, fm.height() * 28);

  pages_ = new QStackedWidget(this);
  pages_->setObjectName(QStringLiteral("pages"));
  onboarding_ = new OnboardingPage(pages_);
  onboarding_->setObjectName(QStringLiteral("onboardingPage"));
  identity_ = new IdentityCard(pages_);
  identity_->setObjectName(QStringLiteral("identityCard"));
  unlock_ = new UnlockPage(pages_);
  unlock_->setObjectName(QStringLiteral("unlockPage"));
  unlock_->setAccountFolder(session_->home());
  main_ = buildMainPage();
  pages_->addWidget(onboarding_);
  pages_->addWidget(identity_);
  pages_->addWidget(unlock_);
  pages_->addWidget(main_);
  setCentralWidget(pages_);

  connectivity_ = new QLabel(tr("Offline"), this);
  connectivity_->setObjectName(QStringLiteral("connectivityLabel"));
  connectivity_->setTextFormat(Qt::PlainText);
  connectivity_->setAccessibleName(tr("Connection"));
  status_error_ = new InlineMessage(this);
  status_error_->setObjectName(QStringLiteral("statusError"));
  statusBar()->addWidget(connectivity_);
  statusBar()->addWidget(status_error_, 1);

  notifier_ = new Notifier(settings_, this);
  buildActions();

  connect(onboarding_, &OnboardingPage::createRequested, this,
          [this](const QString& url, const QString& pin, const QString& ca, const QString& nick,
                 const QString& password) {
            creating_ = true;
            onboarding_->setBusy(true);
            ServerSettings server;
            server.url = url;
            server.pin_sha256 = pin;
            server.ca_file = ca;
            session_->createAccount(server, nick, password);
            onboarding_->clearPasswords();
          });
  connect(unlock_, &UnlockPage::unlockRequested, this, [this](const QString& password) {
    creating_ = false;
    unlock_->setBusy(true);
    session_->unlock(password);
  });
  connect(identity_, &IdentityCard::continueRequested, this, [this] { showPage(Page::kMain); });
  connect(session_, &Session::accountOpened, this, &MainWindow::onAccountOpened);
  connect(session_, &Session::accountFailed, this, &MainWindow::onAccountFailed);
  connect(session_, &Session::operationFailed, this, &MainWindow::onOperationFailed);
  connect(session_, &Session::connectivityChanged, this, &MainWindow::onConnectivity);
  connect(session_, &Session::incoming, this, &MainWindow::onIncoming);
  connect(session_, &Session::requestReceived, this,
          [this](const QString& kind, const QString&, const QString& title) {
            notifier_->notifyRequest(kind, title);
          });
  connect(session_, &Session::syncStopped, this, [this](const QString& why) {
    connectivity_->setText(tr("Offline"));
    status_error_->showError(tr("Syncing stopped: %1").arg(why));
  });
  connect(notifier_, &Notifier::chatRequested, this, &MainWindow::openChat);
  connect(notifier_, &Notifier::requestsRequested, this, [this] {
    if (page() == Page::kMain && !requests_panel_->isVisible()) toggleRequests();
  });
  connect(notifier_, &Notifier::showWindowRequested, this, [this] {
    showNormal();
    raise();
    activateWindow();
  });
  connect(notifier_, &Notifier::quitRequested, this, &MainWindow::quit);
  // With a tray, closing the window keeps the app (and its notifications) running; Quit ends it.
  if (notifier_->trayAvailable()) QApplication::setQuitOnLastWindowClosed(false);

  // Safety numbers.
  connect(session_, &Session::safetyNumberReady, this, [this](const SafetyNumberInfo& info) {
    if (!safety_) {
      safety_ = new SafetyNumberDialog(this);
      safety_->setObjectName(QStringLiteral("safetyNumberDialog"));
      safety_->setAttribute(Qt::WA_DeleteOnClose);
      connect(safety_, &SafetyNumberDialog::verifyRequested, this,
              [this](const QString& friend_id, const QString& text) {
                safety_waiting_ = true;
                session_->verifySafetyNumber(friend_id, text);
              });
    }
    safety_waiting_ = false;
    const QString id = QString::fromStdString(info.user_id);
    const FriendInfo* f = session_->friends()->find(id);
    const QString name = f && !f->nickname.empty() ? QString::fromStdString(f->nickname) : id;
    safety_->setSafetyNumber(id, displaySafe(name), QString::fromStdString(info.digits),
                             QString::fromStdString(info.qr_payload), info.verified,
                             info.identity_changed);
    safety_->show();
    safety_->raise();
  });
  connect(session_, &Session::safetyNumberVerified, this, [this](const QString& friend_id) {
    safety_waiting_ = false;
    if (safety_ && safety_->friendId() == friend_id) safety_->showVerified();
  });
  connect(session_, &Session::connectionChanged, this, [this] {
    connection_waiting_ = false;
    if (settings_dialog_) settings_dialog_->showConnectionSaved();
  });
  connect(session_, &Session::passwordChanged, this, [this] {
    password_waiting_ = false;
    if (settings_dialog_) {
      settings_dialog_->setBusy(false);
      settings_dialog_->showPasswordChanged();
    }
  });
  connect(session_, &Session::inPersonGroupCreated, this,
          [this](const QString& group_id, const QString& payload) {
            if (!in_person_ || !in_person_waiting_) return;
            in_person_waiting_ = false;
            in_person_->setBusy(false);
            const int row = session_->chats()->rowOf(group_id);
            const QString name =
                row >= 0
                    ? session_->chats()->index(row, 0).data(ChatListModel::kTitleRole).toString()
                    : QString();
            in_person_->showCode(displaySafe(name), payload);
          });
  connect(session_, &Session::chatCreated, this, [this](const QString& chat_id) {
    if (in_person_ && in_person_waiting_ &&
        in_person_->mode() == InPersonGroupDialog::Mode::kJoin) {
      in_person_waiting_ = false;
      in_person_->setBusy(false);
      const int row = session_->chats()->rowOf(chat_id);
      in_person_->showJoined(
          row >= 0
              ? displaySafe(
                    session_->chats()->index(row, 0).data(ChatListModel::kTitleRole).toString())
              : chat_id);
      openChat(chat_id);
    }
  });

  if (!settings_->windowGeometry().isEmpty()) restoreGeometry(settings_->windowGeometry());
  showPage(session_->accountExists() ? Page::kUnlock : Page::kOnboarding);
}

MainWindow::~MainWindow() = default;

AddFriendDialog* MainWindow::addFriendDialog() const {
  return add_friend_;
}
NewGroupDialog* MainWindow::newGroupDialog() const {
  return new_group_;
}
InPersonGroupDialog* MainWindow::inPersonDialog() const {
  return in_person_;
}
SafetyNumberDialog* MainWindow::safetyNumberDialog() const {
  return safety_;
}
SettingsDialog* MainWindow::settingsDialog() const {
  return settings_dialog_;
}

QWidget* MainWindow::buildMainPage() {
  auto* page = new QWidget(this);
  page->setObjectName(QStringLiteral("mainPage"));
  auto* split = new QSplitter(page);
  split->setObjectName(QStringLiteral("mainSplitter"));
  split->setChildrenCollapsible(false);

  auto* left = new QWidget(split);
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  search_ = new QLineEdit(left);
  search_->setObjectName(QStringLiteral("chatSearch"));
  search_->setAccessibleName(tr("Search chats"));
  search_->setPlaceholderText(tr("Search chats"));
  search_->setClearButtonEnabled(true);
  left_layout->addWidget(search_);
  requests_button_ = new QPushButton(left);
  requests_button_->setObjectName(QStringLiteral("requestsButton"));
  requests_button_->setCheckable(true);
  left_layout->addWidget(requests_button_);
  requests_panel_ = new RequestsPanel(session_, left);
  requests_panel_->hide();
  // When open, it takes the height of its requests (up to a cap, then it scrolls); the list
  // keeps the rest.
  left_layout->addWidget(requests_panel_);
  chat_list_ = new QListView(left);
  chat_list_->setObjectName(QStringLiteral("chatList"));
  chat_list_->setAccessibleName(tr("Chats"));
  chat_list_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  chat_list_->setSelectionMode(QAbstractItemView::SingleSelection);
  chat_filter_ = new ChatFilterProxy(this);
  chat_filter_->setSourceModel(session_->chats());
  chat_list_->setModel(chat_filter_);
  chat_list_->setItemDelegate(new ChatListDelegate(chat_list_));
  left_layout->addWidget(chat_list_, 1);
  left->setMinimumWidth(fontMetrics().averageCharWidth() * 28);

  chat_area_ = new QStackedWidget(split);
  auto* placeholder = new QLabel(tr("Choose a chat, or add a friend with Ctrl+N."), chat_area_);
  placeholder->setObjectName(QStringLiteral("noChatLabel"));
  placeholder->setAlignment(Qt::AlignCenter);
  placeholder->setWordWrap(true);
  chat_view_ = new ChatView(session_, chat_area_);
  chat_view_->setDownloadDirectory(settings_->downloadDirectory());
  chat_area_->addWidget(placeholder);
  chat_area_->addWidget(chat_view_);
  split->addWidget(left);
  split->addWidget(chat_area_);
  split->setStretchFactor(1, 1);
  if (!settings_->windowState().isEmpty()) split->restoreState(settings_->windowState());

  auto* layout = new QHBoxLayout(page);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  connect(search_, &QLineEdit::textChanged, chat_filter_, &ChatFilterProxy::setSearchText);
  // Enter in the search box opens the first match; the keyboard then continues in the list.
  connect(search_, &QLineEdit::returnPressed, this, [this] {
    if (chat_filter_->rowCount() == 0) return;
    chat_list_->setCurrentIndex(chat_filter_->index(0, 0));
    chat_list_->setFocus();
  });
  connect(requests_button_, &QPushButton::clicked, this, &MainWindow::toggleRequests);
  connect(requests_panel_, &RequestsPanel::countChanged, this, &MainWindow::updateRequestsButton);
  connect(chat_list_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            if (!current.isValid()) return;
            const QString id = current.data(ChatListModel::kChatIdRole).toString();
            chat_area_->setCurrentWidget(chat_view_);
            chat_view_->openChat(id);
          });
  connect(chat_view_, &ChatView::safetyNumberRequested, this, [this](const QString& friend_id) {
    safety_waiting_ = true;
    session_->requestSafetyNumber(friend_id);
  });
  connect(chat_view_, &ChatView::inviteRequested, this, &MainWindow::showInvite);
  QAbstractItemModel* chats = session_->chats();
  for (auto sig : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved}) {
    connect(chats, sig, this, &MainWindow::updateUnread);
  }
  connect(chats, &QAbstractItemModel::dataChanged, this, &MainWindow::updateUnread);
  connect(chats, &QAbstractItemModel::modelReset, this, &MainWindow::updateUnread);
  updateRequestsButton(requests_panel_->count());
  return page;
}

void MainWindow::buildActions() {
  QMenu* chats = menuBar()->addMenu(tr("&Chats"));
  QToolBar* bar = addToolBar(tr("Actions"));
  bar->setObjectName(QStringLiteral("mainToolBar"));
  bar->setMovable(false);
  // The menu says what each action does in full; the toolbar shows the short label
  // (`toolbar_text`, empty: not on the toolbar) and the full sentence as its tooltip.
  auto add = [&](const QString& name, const QString& text, const QString& toolbar_text,
                 const QKeySequence& key, auto slot) {
    auto* a = new QAction(text, this);
    a->setObjectName(name);
    if (!key.isEmpty()) a->setShortcut(key);
    connect(a, &QAction::triggered, this, slot);
    chats->addAction(a);
    if (!toolbar_text.isEmpty()) {
      a->setIconText(toolbar_text);
      QString tip = text;
      tip.remove(QLatin1Char('&'));
      if (!key.isEmpty())
        tip += QStringLiteral(" (%1)").arg(key.toString(QKeySequence::NativeText));
      a->setToolTip(tip);
      bar->addAction(a);
    }
    account_actions_ << a;
    return a;
  };
  add(QStringLiteral("addFriendAction"), tr("&Add friend…"), tr("Add friend…"),
      QKeySequence(tr("Ctrl+N")), &MainWindow::showAddFriend);
  add(QStringLiteral("newGroupAction"), tr("New &group…"), tr("New group…"),
      QKeySequence(tr("Ctrl+G")), &MainWindow::showNewGroup);
  chats->addSeparator();
  bar->addSeparator();
  add(QStringLiteral("inPersonGroupAction"), tr("&In-person group (show QR)…"),
      tr("Show group QR…"), QKeySequence(), &MainWindow::showInPersonGroup)
      ->setToolTip(tr("Start a group for the people in the room and show its QR code"));
  add(QStringLiteral("joinInPersonGroupAction"), tr("&Join in-person group (scan QR)…"),
      tr("Join by QR…"), QKeySequence(), &MainWindow::joinInPersonGroup)
      ->setToolTip(tr("Join a group by scanning the QR code on the organiser's screen"));
  chats->addSeparator();
  bar->addSeparator();
  add(QStringLiteral("myIdAction"), tr("My &ID…"), tr("My ID…"), QKeySequence(tr("Ctrl+I")),
      &MainWindow::showMyId);
  add(QStringLiteral("settingsAction"), tr("&Settings…"), tr("Settings…"),
      QKeySequence(tr("Ctrl+,")), &MainWindow::showSettings);
  chats->addSeparator();
  auto* quit = new QAction(tr("&Quit"), this);
  quit->setObjectName(QStringLiteral("quitAction"));
  quit->setShortcut(QKeySequence(tr("Ctrl+Q")));
  connect(quit, &QAction::triggered, this, &MainWindow::quit);
  chats->addAction(quit);
  // Actions on the toolbar become buttons: the accessible name is the label the user sees (so
  // voice control finds it), the tooltip's full sentence is the description.
  for (QAction* a : bar->actions()) {
    if (a->isSeparator()) continue;
    if (QWidget* w = bar->widgetForAction(a)) {
      w->setAccessibleName(a->iconText().remove(QStringLiteral("…")));
      w->setAccessibleDescription(a->toolTip());
      w->setFocusPolicy(Qt::TabFocus);  // tool buttons take no focus by default
    }
  }
  // A window narrower than the toolbar (large fonts) folds the last actions into Qt's
  // extension button: it must be named and reachable too.
  if (auto* more = bar->findChild<QToolButton*>(QStringLiteral("qt_toolbar_ext_button"))) {
    more->setAccessibleName(tr("More actions"));
    more->setToolTip(tr("More actions"));
    more->setFocusPolicy(Qt::TabFocus);
  }
  // At the usual font the whole toolbar fits the smallest window.
  setMinimumWidth(std::max(minimumWidth(), bar->sizeHint().width()));
}

MainWindow::Page MainWindow::page() const {
  QWidget* w = pages_->currentWidget();
  if (w == onboarding_) return Page::kOnboarding;
  if (w == identity_) return Page::kIdentity;
  if (w == unlock_) return Page::kUnlock;
  return Page::kMain;
}

void MainWindow::showPage(Page page) {
  switch (page) {
    case Page::kOnboarding:
      pages_->setCurrentWidget(onboarding_);
      break;
    case Page::kIdentity:
      pages_->setCurrentWidget(identity_);
      break;
    case Page::kUnlock:
      pages_->setCurrentWidget(unlock_);
      break;
    case Page::kMain:
      pages_->setCurrentWidget(main_);
      chat_list_->setFocus();
      break;
  }
  const bool open = page == Page::kMain;
  for (QAction* a : account_actions_)
    a->setEnabled(open);
}

void MainWindow::onAccountOpened() {
  onboarding_->setBusy(false);
  unlock_->setBusy(false);
  identity_->setUserId(session_->userId());
  updateUnread();
  showPage(creating_ ? Page::kIdentity : Page::kMain);
}

void MainWindow::onAccountFailed(const QString& why) {
  if (page() == Page::kOnboarding) {
    onboarding_->setBusy(false);
    onboarding_->showError(why);
  } else {
    unlock_->setBusy(false);
    unlock_->showError(why);
  }
}

void MainWindow::onOperationFailed(const QString& what, const QString& why) {
  // Shown where the user acted: the dialog that waits for this operation's answer (matched by
  // the operation's name, so a background send failing meanwhile never lands in, say, the
  // password form), else the open chat, else the status line.
  const auto is = [&what](const char* operation) { return what == Session::tr(operation); };
  if (is("Add friend") && add_friend_ && add_friend_->takeFailure(why)) return;
  if (is("Create group") && new_group_ && new_group_->takeFailure(why)) return;
  if ((is("Create in-person group") || is("Join in-person group")) && in_person_ &&
      in_person_waiting_) {
    in_person_waiting_ = false;
    in_person_->setBusy(false);
    in_person_->showError(why);
    return;
  }
  if (is("Safety number") || is("Verify safety number")) {
    const bool shown = safety_ && safety_waiting_;
    safety_waiting_ = false;
    if (shown) {
      safety_->showError(why);
      return;
    }
  }
  if (is("Save TLS settings") && settings_dialog_ && connection_waiting_) {
    connection_waiting_ = false;
    settings_dialog_->showConnectionError(why);
    return;
  }
  if (is("Change password") && settings_dialog_ && password_waiting_) {
    password_waiting_ = false;
    settings_dialog_->setBusy(false);
    settings_dialog_->showError(why);
    return;
  }
  const QString text = tr("%1 failed: %2").arg(what, why);
  if (page() == Page::kMain && !chat_view_->chatId().isEmpty() && chat_view_->isVisible()) {
    chat_view_->showError(text);
  } else {
    status_error_->showError(text);
  }
}

void MainWindow::onConnectivity(Connectivity state, const QString& detail) {
  QString text;
  switch (state) {
    case Connectivity::kOnline:
      text = tr("Online");
      break;
    case Connectivity::kConnecting:
      text = tr("Connecting…");
      break;
    case Connectivity::kOffline:
      text = detail.isEmpty() ? tr("Offline") : tr("Offline: %1").arg(detail);
      break;
  }
  connectivity_->setText(text);
  connectivity_->setToolTip(detail);
}

void MainWindow::onIncoming(const QString& chat_id, const QString& title, const QString& preview) {
  const bool looking = isActiveWindow() && page() == Page::kMain &&
                       chat_view_->chatId() == chat_id && chat_view_->isVisible();
  notifier_->notify(chat_id, title, preview, looking);
}

void MainWindow::updateUnread() {
  int unread = 0;
  const ChatListModel* chats = session_->chats();
  for (int row = 0; row < chats->rowCount(); ++row) {
    unread += chats->index(row, 0).data(ChatListModel::kUnreadRole).toInt();
  }
  setWindowTitle(unread > 0 ? tr("Secure Chats (%1)").arg(unread) : tr("Secure Chats"));
  notifier_->setUnreadCount(unread);
}

void MainWindow::updateRequestsButton(int count) {
  requests_button_->setText(tr("Requests (%1)").arg(count));
  requests_button_->setAccessibleName(tr("Requests: %n pending", nullptr, count));
}

void MainWindow::toggleRequests() {
  const bool show = !requests_panel_->isVisible();
  requests_panel_->setVisible(show);
  requests_button_->setChecked(show);
  if (show) {
    // Put the keyboard on the first Accept button, if any.
    if (auto* first = requests_panel_->findChild<QPushButton*>()) first->setFocus();
  }
}

void MainWindow::openChat(const QString& chat_id) {
  if (page() != Page::kMain) return;
  search_->clear();
  const int row = session_->chats()->rowOf(chat_id);
  if (row >= 0) {
    const QModelIndex index = chat_filter_->mapFromSource(session_->chats()->index(row, 0));
    chat_list_->setCurrentIndex(index);  // -> currentChanged -> ChatView::openChat
  }
  chat_area_->setCurrentWidget(chat_view_);
  chat_view_->openChat(chat_id);
}

void MainWindow::showAddFriend() {
  if (!add_friend_) {
    add_friend_ = new AddFriendDialog(session_, this);
    add_friend_->setAttribute(Qt::WA_DeleteOnClose);
  }
  add_friend_->show();
  add_friend_->raise();
  add_friend_->activateWindow();
}

void MainWindow::showNewGroup() {
  if (!new_group_) {
    new_group_ = new NewGroupDialog(session_, this);
    new_group_->setAttribute(Qt::WA_DeleteOnClose);
    connect(new_group_, &NewGroupDialog::groupCreated, this, [this](const QString& id) {
      openChat(id);
      if (session_->friends()->rowCount() > 0) showInvite(id);
    });
  }
  new_group_->show();
  new_group_->raise();
}

void MainWindow::showInvite(const QString& group_id) {
  auto* dialog = new InviteDialog(session_, group_id, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
}

void MainWindow::showInPersonGroup() {
  if (in_person_) in_person_->close();
  in_person_ = new InPersonGroupDialog(InPersonGroupDialog::Mode::kShow, this);
  in_person_->setObjectName(QStringLiteral("inPersonGroupDialog"));
  in_person_->setAttribute(Qt::WA_DeleteOnClose);
  connect(in_person_, &InPersonGroupDialog::createRequested, this, [this](const QString& name) {
    in_person_waiting_ = true;
    in_person_->setBusy(true);
    session_->createInPersonGroup(name);
  });
  in_person_->show();
}

void MainWindow::joinInPersonGroup() {
  if (in_person_) in_person_->close();
  in_person_ = new InPersonGroupDialog(InPersonGroupDialog::Mode::kJoin, this);
  in_person_->setObjectName(QStringLiteral("inPersonJoinDialog"));
  in_person_->setAttribute(Qt::WA_DeleteOnClose);
  connect(in_person_, &InPersonGroupDialog::joinRequested, this, [this](const QString& payload) {
    in_person_waiting_ = true;
    in_person_->setBusy(true);
    session_->joinInPersonGroup(payload);
  });
  in_person_->show();
}

void MainWindow::showMyId() {
  auto* dialog = new QDialog(this);
  dialog->setObjectName(QStringLiteral("myIdDialog"));
  dialog->setWindowTitle(tr("My ID"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  auto* layout = new QVBoxLayout(dialog);
  auto* card = new IdentityCard(dialog);
  card->setObjectName(QStringLiteral("myIdCard"));
  card->setUserId(session_->userId());
  card->setContinueVisible(false);
  layout->addWidget(card);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
  buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close"));
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
  layout->addWidget(buttons);
  dialog->show();
}

void MainWindow::showSettings() {
  if (!settings_dialog_) {
    settings_dialog_ = new SettingsDialog(this);
    settings_dialog_->setObjectName(QStringLiteral("settingsDialog"));
    settings_dialog_->setAttribute(Qt::WA_DeleteOnClose);
    const ServerSettings server = session_->serverSettings();
    settings_dialog_->setServer(server.url, server.pin_sha256, server.ca_file);
    connect(settings_dialog_, &SettingsDialog::connectionChangeRequested, this,
            [this](const QString& pin, const QString& ca_file) {
              connection_waiting_ = true;
              session_->setConnection(pin, ca_file);
            });
    settings_dialog_->setNotificationsEnabled(settings_->notificationsEnabled());
    settings_dialog_->setShowMessageContent(settings_->notificationContentShown());
    settings_dialog_->setTheme(themeChoiceFromName(settings_->theme()));
    connect(settings_dialog_, &SettingsDialog::notificationsChanged, this,
            [this](bool enabled, bool content) {
              settings_->setNotificationsEnabled(enabled);
              settings_->setNotificationContentShown(content);
            });
    connect(settings_dialog_, &SettingsDialog::themeChanged, this, [this](ThemeChoice choice) {
      settings_->setTheme(themeChoiceName(choice));
      applyTheme(*qApp, choice);
    });
    connect(settings_dialog_, &SettingsDialog::passwordChangeRequested, this,
            [this](const QString& old_password, const QString& new_password) {
              password_waiting_ = true;
              settings_dialog_->setBusy(true);
              session_->changePassword(old_password, new_password);
            });
  }
  settings_dialog_->show();
  settings_dialog_->raise();
}

void MainWindow::changeEvent(QEvent* event) {
  QMainWindow::changeEvent(event);
  if (event->type() == QEvent::ActivationChange || event->type() == QEvent::WindowStateChange) {
    updateChatVisible();
  }
}

void MainWindow::updateChatVisible() {
  // Messages arriving in the open chat count as read only while the user can see them.
  session_->setChatVisible(isActiveWindow() && !isMinimized() && page() == Page::kMain);
}

void MainWindow::quit() {
  quitting_ = true;
  close();
  QApplication::quit();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  settings_->setWindowGeometry(saveGeometry());
  if (auto* split = main_->findChild<QSplitter*>(QStringLiteral("mainSplitter"))) {
    settings_->setWindowState(split->saveState());
  }
  settings_->sync();
  if (!quitting_ && notifier_->trayAvailable() && session_->isOpen()) {
    // Messages keep arriving and notifying; say once where the app went.
    event->ignore();
    hide();
    if (!told_about_tray_) {
      told_about_tray_ = true;
      notifier_->tray()->showMessage(
          tr("Secure Chats is still running"),
          tr("New messages still arrive. Quit from the tray icon's menu or with Ctrl+Q."),
          QSystemTrayIcon::Information);
    }
    return;
  }
  QMainWindow::closeEvent(event);
}

}  // namespace secchats::desktop::ui
