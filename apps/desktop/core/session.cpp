#include "session.hpp"

#include <QDir>
#include <QPointer>
#include <algorithm>
#include <atomic>

#include "chat_list_model.hpp"
#include "client_worker.hpp"
#include "friends_model.hpp"
#include "image_prep.hpp"
#include "requests_model.hpp"
#include "timeline_model.hpp"
#include "transfer_model.hpp"
#include "transfers.hpp"

namespace secchats::desktop {
namespace {

constexpr std::size_t kPageSize = 50;

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}
QString why(const Error& e) {
  return qs(e.message());
}

// What a notification may say about a message: one line, a bounded length.
QString preview_of(const MessageInfo& m) {
  if (m.type == "IMG") return Session::tr("Photo");
  if (m.type == "FILE" && m.attachment) {
    const std::string& kind = m.attachment->kind;
    if (kind == "image") return Session::tr("Photo");
    if (kind == "voice") return Session::tr("Voice message");
    if (kind == "video") return Session::tr("Video");
    return Session::tr("File");  // never its name: a notification may be on a shared screen
  }
  if (m.type != "TEXT") return Session::tr("Unsupported message");
  QString text = qs(m.text).simplified();
  if (text.size() > 100) text = text.left(99) + QChar(0x2026);
  return text;
}

}  // namespace

struct Session::Impl {
  Session* q;
  QString home;
  ChatListModel chats;
  RequestsModel requests;
  FriendsModel friends;
  TimelineModel timeline;
  std::unique_ptr<ClientWorker> worker = std::make_unique<ClientWorker>();
  TransferController transfers{home};

  // GUI thread.
  bool open = false;
  QString user_id, nickname, server_url, server_pin, server_ca_file;
  QString open_chat;

  // Shared: read by the worker when events arrive.
  std::atomic<bool> chat_visible{true};
  // Worker thread only.
  std::string w_open_chat;

  explicit Impl(Session* session, QString h) : q(session), home(std::move(h)) {}

  // Runs `f` on the GUI thread later; dropped if the Session is gone by then.
  template <class F>
  void toGui(F&& f) {
    QMetaObject::invokeMethod(q, std::forward<F>(f), Qt::QueuedConnection);
  }
  // A send the library kept in its outbox (client.hpp: kNetwork or kUnauthenticated,
  // "message #ID queued, not sent yet: ...") is no failure to report: the timeline says
  // "Sending…", the status line says why the relay is unreachable, and the outbox posts it
  // when it can. The library's text also names CLI commands, wrong for this app.
  // True when the message was queued (nothing reported); false after reporting a refusal.
  bool failSend(const QString& what, const Error& error) {
    const bool queued =
        (error.code() == ErrorCode::kNetwork || error.code() == ErrorCode::kUnauthenticated) &&
        error.message().find("queued, not sent yet") != std::string::npos;
    if (!queued) fail(what, why(error));
    return queued;
  }
  void fail(const QString& what, const QString& reason) {
    toGui([this, what, reason] { emit q->operationFailed(what, reason); });
  }
  // Posts a library call; `what` names it for the user if no account is open.
  void withClient(const QString& what, std::function<void(Client&)> f) {
    worker->post([this, what, f = std::move(f)](Client* c) {
      if (!c) {
        fail(what, Session::tr("No account is open."));
        return;
      }
      f(*c);
    });
  }

  // ---- Worker thread: store reads pushed into the models ----
  std::vector<ChatSummary> refreshChats(Client& c) {
    auto listed = c.chats();
    if (!listed.ok()) return {};
    auto chats_now = listed.value();
    toGui([this, chats_now] { chats.setChats(chats_now); });
    return std::move(listed).value();
  }
  void refreshFriends(Client& c) {
    auto listed = c.friends();
    if (!listed.ok()) return;
    toGui([this, f = std::move(listed).value()] { friends.setFriends(f); });
  }
  void refreshRequests(Client& c) {
    auto pending = c.requests();
    auto invites = c.group_invites();
    if (!pending.ok() || !invites.ok()) return;
    toGui([this, p = std::move(pending).value(), i = std::move(invites).value()] {
      requests.setContent(p, i);
    });
  }
  // New messages, delivery changes and reactions of the open chat: the newest page (at least
  // `at_least` items) merged into the timeline.
  void refreshOpenChat(Client& c, std::size_t at_least) {
    if (w_open_chat.empty()) return;
    const std::string chat = w_open_chat;
    auto page = c.history(chat, std::max(kPageSize, at_least + 10));
    if (!page.ok()) return;
    toGui([this, id = qs(chat), messages = std::move(page).value()] {
      if (timeline.chatId() != id) return;
      for (const auto& m : messages)
        timeline.appendOrUpdate(m);
    });
    if (chat_visible) (void)c.mark_read(chat);
  }
  // After our own change to a chat (a send, a reaction).
  // The chat list goes first: by the time the timeline shows the message, the list's preview
  // says the same (both are queued to the GUI thread in this order).
  void afterChatChange(Client& c, const std::string& chat_id) {
    refreshChats(c);
    if (chat_id == w_open_chat) refreshOpenChat(c, 1);
  }

  void onBatch(Client& c, const std::vector<Event>& events) {
    bool requests_changed = false;
    std::size_t in_open_chat = 0;
    std::vector<const Event*> notify;
    for (const Event& e : events) {
      switch (e.kind) {
        case Event::Kind::kFriendRequest:
        case Event::Kind::kGroupInvite:
          requests_changed = true;
          notify.push_back(&e);
          break;
        case Event::Kind::kFriendAccepted:
          requests_changed = true;
          break;
        case Event::Kind::kMessage:
          if (e.message.chat_id == w_open_chat) ++in_open_chat;
          // Our own (from another device, or echoed) and reactions do not notify.
          if (!e.message.outgoing && e.message.type != "EMOJI") notify.push_back(&e);
          break;
        case Event::Kind::kSent:
          if (e.message.chat_id == w_open_chat) ++in_open_chat;
          break;
        case Event::Kind::kWarning:
          // Something a peer sent was refused, or the relay refused one of our queued sends
          // for good: counted, never shown or logged (it may name the peer or quote what
          // they sent); the open chat is re-read so a send's mark turns "Failed".
          ++refused;
          ++in_open_chat;
          break;
      }
    }
    if (in_open_chat > 0) refreshOpenChat(c, in_open_chat);  // marks read first, so ...
    const auto summaries = refreshChats(c);                  // ... the unread count is right
    refreshFriends(c);
    if (requests_changed) refreshRequests(c);

    for (const Event* e : notify) {
      if (e->kind == Event::Kind::kMessage) {
        const MessageInfo& m = e->message;
        QString title = qs(m.chat_id);
        for (const auto& s : summaries) {
          if (s.chat_id == m.chat_id && !s.title.empty()) title = qs(s.title);
        }
        QString body = preview_of(m);
        if (m.chat_kind == ChatKind::kGroup) {
          const QString who = m.from_name.empty() ? qs(m.from_user_id).left(8) : qs(m.from_name);
          body = Session::tr("%1: %2").arg(who.simplified(), body);
        }
        toGui([this, id = qs(m.chat_id), title, body] { emit q->incoming(id, title, body); });
      } else if (e->kind == Event::Kind::kFriendRequest) {
        toGui([this, id = qs(e->user_id)] {
          emit q->requestReceived(QStringLiteral("friend"), id, id);
        });
      } else {
        const QString name = e->invite.name.empty() ? qs(e->invite.group_id) : qs(e->invite.name);
        toGui([this, id = qs(e->invite.group_id), name] {
          emit q->requestReceived(QStringLiteral("group"), id, name);
        });
      }
    }
  }
  std::atomic<int> refused{0};

  // Worker thread: a just-opened client becomes the session's; the models are filled before
  // accountOpened is delivered (both queued, in this order).
  void adopt(std::unique_ptr<Client> client, const SecretString& password) {
    transfers.openClient(password);  // the transfer thread's own Client (Argon2id there)
    Client& c = *client;
    refreshChats(c);
    refreshFriends(c);
    refreshRequests(c);
    const ConnectionOptions tls = c.connection();
    toGui([this, id = qs(c.user_id()), nick = qs(c.nickname()), url = qs(c.server_url()),
           pin = qs(tls.pin_sha256), ca = qs(tls.ca_file)] {
      open = true;
      user_id = id;
      nickname = nick;
      server_url = url;
      server_pin = pin;
      server_ca_file = ca;
      timeline.setOwnUserId(id);
      emit q->accountOpened();
    });
    worker->adoptClient(std::move(client));
  }

  std::optional<bool> knownIsGroup(const QString& chat_id) const {
    if (const ChatSummary* s = chats.at(chats.rowOf(chat_id))) return s->kind == ChatKind::kGroup;
    return std::nullopt;
  }
  // Worker thread: a chat's kind, from the list when the GUI knew it, else from the store.
  void sendPrepared(Client& c, std::optional<bool> known, const std::string& id,
                    const PreparedImage& image) {
    if (!image.ok()) return fail(Session::tr("Send image"), image.error);
    auto group = isGroup(c, known, id);
    if (!group.ok()) return fail(Session::tr("Send image"), why(group.error()));
    std::vector<std::uint8_t> png(image.png.begin(), image.png.end());
    auto sent = *group ? c.send_group_image(id, std::move(png)) : c.send_image(id, std::move(png));
    if (!sent.ok()) (void)failSend(Session::tr("Send image"), sent.error());
    afterChatChange(c, id);
  }
  static Result<bool> isGroup(Client& c, std::optional<bool> known, const std::string& chat_id) {
    if (known) return *known;
    auto found = c.find_chat(chat_id);
    if (!found.ok()) return std::move(found).error();
    return found->first == ChatKind::kGroup;
  }
};

Session::Session(QString home, QObject* parent)
    : QObject(parent), impl_(std::make_unique<Impl>(this, std::move(home))) {
  qRegisterMetaType<secchats::desktop::ServerSettings>();
  qRegisterMetaType<secchats::SafetyNumberInfo>();
  qRegisterMetaType<secchats::desktop::Connectivity>();
  Impl* d = impl_.get();
  d->worker->setBatchHandler(
      [d](Client& c, const std::vector<Event>& events) { d->onBatch(c, events); });
  connect(d->worker.get(), &ClientWorker::connectivityChanged, this, &Session::connectivityChanged);
  connect(d->worker.get(), &ClientWorker::syncStopped, this, &Session::syncStopped);
  connect(&d->timeline, &TimelineModel::olderPageWanted, this,
          [d](const QString& chat_id, qint64 before) {
            d->worker->post([d, chat_id, before](Client* c) {
              if (!c) return;
              auto page = c->history(chat_id.toStdString(), kPageSize, before);
              if (!page.ok()) {
                d->toGui([d, chat_id] { d->timeline.olderPageFailed(chat_id); });
                d->fail(tr("Load older messages"), why(page.error()));
                return;
              }
              const bool more = page->size() == kPageSize;
              d->toGui([d, chat_id, more, p = std::move(page).value()] {
                d->timeline.prependPage(chat_id, p, more);
              });
            });
          });
  connect(&d->transfers, &TransferController::failed, this, &Session::operationFailed);
  connect(&d->transfers, &TransferController::downloaded, this,
          [this](qint64, const QString& chat, qint64 message_id, const QString& path, bool open) {
            emit attachmentDownloaded(chat, message_id, path, open);
          });
  connect(&d->transfers, &TransferController::progressChanged, this,
          [d](const QString& chat, qint64 message_id, const QString& name, int percent) {
            if (d->timeline.chatId() == chat)
              d->timeline.setTransferPercent(message_id, name, percent);
          });
  connect(&d->transfers, &TransferController::chatChanged, this, [d](const QString& chat) {
    d->worker->post([d, id = chat.toStdString()](Client* c) {
      if (c) d->afterChatChange(*c, id);
    });
  });
  d->worker->start();
}

Session::~Session() {
  impl_->transfers.stop();
  impl_->worker->stop();
}

QString Session::defaultHome() {
  const QByteArray h = qgetenv("HOME");
  return h.isEmpty() ? QStringLiteral(".secchats") : QString::fromLocal8Bit(h) + "/.secchats";
}

QString Session::home() const {
  return impl_->home;
}
bool Session::accountExists() const {
  return Client::exists(std::filesystem::path(impl_->home.toStdString()));
}
bool Session::isOpen() const {
  return impl_->open;
}
QString Session::userId() const {
  return impl_->user_id;
}
QString Session::nickname() const {
  return impl_->nickname;
}
QString Session::serverUrl() const {
  return impl_->server_url;
}
ChatListModel* Session::chats() const {
  return &impl_->chats;
}
RequestsModel* Session::requests() const {
  return &impl_->requests;
}
FriendsModel* Session::friends() const {
  return &impl_->friends;
}
TimelineModel* Session::timeline() const {
  return &impl_->timeline;
}
TransferModel* Session::transfers() const {
  return impl_->transfers.model();
}

void Session::createAccount(const ServerSettings& server, const QString& nickname,
                            const QString& password) {
  Impl* d = impl_.get();
  SecretString pw(password.toStdString());
  ConnectionOptions options;
  options.ca_file = server.ca_file.toStdString();
  options.pin_sha256 = server.pin_sha256.toStdString();
  d->worker->post(
      [d, pw, options, url = server.url.toStdString(), nick = nickname.toStdString()](Client* c) {
        if (c) {
          d->toGui([d] { emit d->q->accountFailed(tr("An account is already open.")); });
          return;
        }
        d->worker->setConnectivity(Connectivity::kConnecting, {});
        auto created = Client::create_account(d->home.toStdString(), pw, url, nick, options);
        if (!created.ok()) {
          d->worker->setConnectivity(Connectivity::kOffline, why(created.error()));
          d->toGui([d, reason = why(created.error())] { emit d->q->accountFailed(reason); });
          return;
        }
        d->adopt(std::move(created).value(), pw);
      });
}

void Session::unlock(const QString& password) {
  Impl* d = impl_.get();
  SecretString pw(password.toStdString());
  d->worker->post([d, pw](Client* c) {
    if (c) {
      d->toGui([d] { emit d->q->accountOpened(); });  // already open: nothing to do
      return;
    }
    auto opened = Client::open(d->home.toStdString(), pw);  // Argon2id: a second or so
    if (!opened.ok()) {
      d->toGui([d, reason = why(opened.error())] { emit d->q->accountFailed(reason); });
      return;
    }
    d->worker->setConnectivity(Connectivity::kConnecting, {});
    d->adopt(std::move(opened).value(), pw);
  });
}

void Session::changePassword(const QString& old_password, const QString& new_password) {
  Impl* d = impl_.get();
  SecretString old_pw(old_password.toStdString());
  SecretString new_pw(new_password.toStdString());
  d->worker->post([d, old_pw, new_pw](Client*) {
    auto changed = Client::change_password(d->home.toStdString(), old_pw, new_pw);
    if (!changed.ok()) {
      d->fail(tr("Change password"), why(changed.error()));
      return;
    }
    d->toGui([d] { emit d->q->passwordChanged(); });
  });
}

ServerSettings Session::serverSettings() const {
  ServerSettings settings;
  settings.url = impl_->server_url;
  settings.pin_sha256 = impl_->server_pin;
  settings.ca_file = impl_->server_ca_file;
  return settings;
}

void Session::setConnection(const QString& pin_sha256, const QString& ca_file) {
  Impl* d = impl_.get();
  d->withClient(tr("Save TLS settings"), [d, pin_sha256, ca_file](Client& c) {
    ConnectionOptions connection = c.connection();
    connection.pin_sha256 = pin_sha256.trimmed().toStdString();
    connection.ca_file = ca_file.trimmed().toStdString();
    auto changed = c.set_connection(connection);  // tried on the relay before it is kept
    if (!changed.ok()) return d->fail(tr("Save TLS settings"), why(changed.error()));
    d->toGui([d, pin = pin_sha256.trimmed(), ca = ca_file.trimmed()] {
      d->server_pin = pin;
      d->server_ca_file = ca;
      emit d->q->connectionChanged();
    });
  });
}

void Session::openChat(const QString& chat_id) {
  Impl* d = impl_.get();
  d->open_chat = chat_id;
  // Empty at once, so the previous chat's messages never show under this chat's title.
  d->timeline.reset(chat_id, {}, false);
  d->worker->post([d, chat_id](Client* c) {
    d->w_open_chat = chat_id.toStdString();
    if (!c || chat_id.isEmpty()) return;
    auto page = c->history(d->w_open_chat, kPageSize);
    if (!page.ok()) {
      d->fail(tr("Open chat"), why(page.error()));
      return;
    }
    const bool more = page->size() == kPageSize;
    d->toGui([d, chat_id, more, p = std::move(page).value()] {
      if (d->timeline.chatId() == chat_id) d->timeline.reset(chat_id, p, more);
    });
    if (d->chat_visible) (void)c->mark_read(d->w_open_chat);
    d->refreshChats(*c);
  });
}

void Session::setChatVisible(bool visible) {
  Impl* d = impl_.get();
  const bool was = d->chat_visible.exchange(visible);
  if (!visible || was || d->open_chat.isEmpty() || !d->open) return;
  // Back in view: what arrived meanwhile has now been seen.
  d->worker->post([d](Client* c) {
    if (!c || d->w_open_chat.empty()) return;
    (void)c->mark_read(d->w_open_chat);
    d->refreshChats(*c);
  });
}

void Session::sendText(const QString& chat_id, const QString& text) {
  Impl* d = impl_.get();
  const auto known = d->knownIsGroup(chat_id);
  d->withClient(tr("Send message"), [d, known, id = chat_id.toStdString(),
                                     body = text.toStdString()](Client& c) {
    auto group = Impl::isGroup(c, known, id);
    if (!group.ok()) return d->fail(tr("Send message"), why(group.error()));
    auto sent = *group ? c.send_group_text(id, body) : c.send_text(id, body);
    // A send that failed may still have queued the message (delivery "pending"): the
    // timeline shows what the store has either way.
    if (!sent.ok() && !d->failSend(tr("Send message"), sent.error())) {
      // Refused before it was stored: the composer gets the text back.
      d->toGui([d, chat = qs(id), text = qs(body)] { emit d->q->textRefused(chat, text); });
    }
    d->afterChatChange(c, id);
  });
}

void Session::sendImageFile(const QString& chat_id, const QString& path) {
  Impl* d = impl_.get();
  const auto known = d->knownIsGroup(chat_id);
  d->withClient(tr("Send image"), [d, known, id = chat_id.toStdString(), path](Client& c) {
    d->sendPrepared(c, known, id, prepareImageFile(path));  // decoding and scaling: here
  });
}

void Session::sendImageData(const QString& chat_id, const QByteArray& encoded_image) {
  Impl* d = impl_.get();
  const auto known = d->knownIsGroup(chat_id);
  d->withClient(tr("Send image"), [d, known, id = chat_id.toStdString(), encoded_image](Client& c) {
    d->sendPrepared(c, known, id, prepareImageData(encoded_image));
  });
}

void Session::react(const QString& chat_id, qint64 message_id, const QString& reaction_name) {
  Impl* d = impl_.get();
  const auto known = d->knownIsGroup(chat_id);
  d->withClient(tr("React"), [d, known, id = chat_id.toStdString(), message_id,
                              name = reaction_name.toStdString()](Client& c) {
    auto group = Impl::isGroup(c, known, id);
    if (!group.ok()) return d->fail(tr("React"), why(group.error()));
    auto sent = *group ? c.react_in_group(id, message_id, name) : c.react(id, message_id, name);
    if (!sent.ok()) (void)d->failSend(tr("React"), sent.error());
    d->afterChatChange(c, id);
  });
}

qint64 Session::sendFile(const QString& chat_id, const QString& path, const QString& kind) {
  return impl_->transfers.sendFile(chat_id, path, kind);
}

qint64 Session::downloadAttachment(const QString& chat_id, qint64 message_id, const QString& target,
                                   bool open_when_done) {
  QString name = tr("Attachment");
  const TimelineModel& t = impl_->timeline;
  if (t.chatId() == chat_id) {
    for (int r = t.rowCount() - 1; r >= 0; --r) {
      const QModelIndex i = t.index(r);
      if (i.data(TimelineModel::kMessageIdRole).toLongLong() == message_id) {
        name = i.data(TimelineModel::kFileNameRole).toString();
        break;
      }
    }
  }
  return impl_->transfers.download(chat_id, message_id, name, target, open_when_done);
}

void Session::cancelTransfer(qint64 transfer_id) {
  impl_->transfers.cancel(transfer_id);
}
void Session::retryTransfer(qint64 transfer_id) {
  impl_->transfers.retry(transfer_id);
}
void Session::dismissTransfer(qint64 transfer_id) {
  impl_->transfers.dismiss(transfer_id);
}

void Session::addFriend(const QString& user_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Add friend"), [d, user_id](Client& c) {
    auto added = c.add_friend(user_id.trimmed().toStdString());
    if (!added.ok()) return d->fail(tr("Add friend"), why(added.error()));
    d->toGui([d, user_id] { emit d->q->friendRequestSent(user_id.trimmed()); });
  });
}

void Session::acceptFriend(const QString& user_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Accept friend request"), [d, user_id](Client& c) {
    auto accepted = c.accept(user_id.toStdString());
    if (!accepted.ok()) {
      d->refreshRequests(c);  // the panel dropped the row when clicked: bring it back
      return d->fail(tr("Accept friend request"), why(accepted.error()));
    }
    d->refreshRequests(c);
    d->refreshFriends(c);
    d->refreshChats(c);
    d->toGui([d, user_id] { emit d->q->chatCreated(user_id); });
  });
}

void Session::declineFriend(const QString& user_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Decline friend request"), [d, user_id](Client& c) {
    auto declined = c.decline(user_id.toStdString());
    if (!declined.ok()) {
      d->refreshRequests(c);  // the panel dropped the row when clicked: bring it back
      return d->fail(tr("Decline friend request"), why(declined.error()));
    }
    d->refreshRequests(c);
  });
}

void Session::requestSafetyNumber(const QString& friend_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Safety number"), [d, friend_id](Client& c) {
    auto number = c.safety_number(friend_id.toStdString());
    if (!number.ok()) return d->fail(tr("Safety number"), why(number.error()));
    d->toGui([d, info = std::move(number).value()] { emit d->q->safetyNumberReady(info); });
  });
}

void Session::verifySafetyNumber(const QString& friend_id, const QString& typed_or_scanned) {
  Impl* d = impl_.get();
  d->withClient(tr("Verify safety number"), [d, friend_id, typed_or_scanned](Client& c) {
    auto verified = c.mark_verified(friend_id.toStdString(), typed_or_scanned.toStdString());
    if (!verified.ok()) return d->fail(tr("Verify safety number"), why(verified.error()));
    d->refreshFriends(c);
    d->toGui([d, friend_id] { emit d->q->safetyNumberVerified(friend_id); });
  });
}

void Session::createGroup(const QString& name) {
  Impl* d = impl_.get();
  d->withClient(tr("Create group"), [d, name](Client& c) {
    auto group = c.create_group(name.toStdString());
    if (!group.ok()) return d->fail(tr("Create group"), why(group.error()));
    d->refreshChats(c);
    d->toGui([d, id = qs(group->group_id)] { emit d->q->chatCreated(id); });
  });
}

void Session::inviteToGroup(const QString& group_id, const QString& friend_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Invite to group"), [d, group_id, friend_id](Client& c) {
    auto invited = c.invite_to_group(group_id.toStdString(), friend_id.toStdString());
    if (!invited.ok()) d->fail(tr("Invite to group"), why(invited.error()));
  });
}

void Session::declineGroupInvite(const QString& group_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Decline group invite"), [d, group_id](Client& c) {
    auto declined = c.decline_group_invite(group_id.toStdString());
    if (!declined.ok()) {
      d->refreshRequests(c);  // the panel dropped the row when clicked: bring it back
      return d->fail(tr("Decline group invite"), why(declined.error()));
    }
    d->refreshRequests(c);
  });
}

void Session::joinGroup(const QString& group_id) {
  Impl* d = impl_.get();
  d->withClient(tr("Join group"), [d, group_id](Client& c) {
    auto joined = c.join_group(group_id.toStdString());
    if (!joined.ok()) {
      d->refreshRequests(c);  // the panel dropped the row when clicked: bring it back
      return d->fail(tr("Join group"), why(joined.error()));
    }
    d->refreshRequests(c);
    d->refreshChats(c);
    d->toGui([d, group_id] { emit d->q->chatCreated(group_id); });
  });
}

void Session::createInPersonGroup(const QString& name) {
  Impl* d = impl_.get();
  d->withClient(tr("Create in-person group"), [d, name](Client& c) {
    auto created = c.create_in_person_group(name.toStdString());
    if (!created.ok()) return d->fail(tr("Create in-person group"), why(created.error()));
    d->refreshChats(c);
    d->toGui([d, id = qs(created->first.group_id), payload = qs(created->second.str())] {
      emit d->q->inPersonGroupCreated(id, payload);
    });
  });
}

void Session::joinInPersonGroup(const QString& payload) {
  Impl* d = impl_.get();
  d->withClient(tr("Join in-person group"), [d, payload](Client& c) {
    auto joined = c.join_in_person_group(payload.trimmed().toStdString());
    if (!joined.ok()) return d->fail(tr("Join in-person group"), why(joined.error()));
    d->refreshChats(c);
    d->toGui([d, id = qs(joined->group_id)] { emit d->q->chatCreated(id); });
  });
}

}  // namespace secchats::desktop
