#include "chat_view.hpp"

#include <QAudioOutput>
#include <QDesktopServices>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QListView>
#include <QMediaPlayer>
#include <QMenu>
#include <QMimeData>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QShortcut>
#include <QStandardPaths>
#include <QUrl>
#include <QVBoxLayout>

#include "composer.hpp"
#include "core/chat_list_model.hpp"
#include "core/friends_model.hpp"
#include "core/session.hpp"
#include "core/timeline_model.hpp"
#include "core/transfer_model.hpp"
#include "message_delegate.hpp"
#include "photo_opener.hpp"
#include "transfer_panel.hpp"
#include "ui_text.hpp"
#include "voice_recorder.hpp"
#include "widgets/inline_message.hpp"

namespace secchats::desktop::ui {

ChatView::ChatView(Session* session, QWidget* parent) : QWidget(parent), session_(session) {
  setObjectName(QStringLiteral("chatView"));
  setAcceptDrops(true);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);

  // Header.
  auto* header = new QHBoxLayout;
  title_ = new QLabel(this);
  title_->setObjectName(QStringLiteral("chatTitle"));
  title_->setTextFormat(Qt::PlainText);
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont title_font = title_->font();
  title_font.setBold(true);
  title_font.setPointSizeF(title_font.pointSizeF() * 1.2);
  title_->setFont(title_font);
  badge_ = new QLabel(this);
  badge_->setObjectName(QStringLiteral("protocolBadge"));
  badge_->setTextFormat(Qt::PlainText);
  badge_->setFrameShape(QFrame::StyledPanel);
  protocol_note_ = new QLabel(this);
  protocol_note_->setObjectName(QStringLiteral("protocolNote"));
  protocol_note_->setTextFormat(Qt::PlainText);
  protocol_note_->setWordWrap(true);
  safety_ = new QPushButton(tr("Safety &number"), this);
  safety_->setObjectName(QStringLiteral("safetyNumberButton"));
  safety_->setAccessibleName(tr("Safety number"));
  invite_ = new QPushButton(tr("&Invite…"), this);
  invite_->setObjectName(QStringLiteral("inviteButton"));
  invite_->setAccessibleName(tr("Invite friends to this group"));
  header->addWidget(title_);
  header->addWidget(badge_);
  header->addWidget(protocol_note_, 1);
  header->addWidget(safety_);
  header->addWidget(invite_);
  layout->addLayout(header);

  // The identity-changed banner: red, impossible to overlook, with the way out next to it.
  banner_ = new QFrame(this);
  banner_->setObjectName(QStringLiteral("identityBanner"));
  banner_->setAutoFillBackground(true);
  QPalette bp = banner_->palette();
  bp.setColor(QPalette::Window, QColor(0xb0, 0x1c, 0x1c));
  bp.setColor(QPalette::WindowText, Qt::white);
  banner_->setPalette(bp);
  auto* banner_layout = new QHBoxLayout(banner_);
  banner_text_ = new QLabel(banner_);
  banner_text_->setObjectName(QStringLiteral("identityBannerText"));
  banner_text_->setTextFormat(Qt::PlainText);
  banner_text_->setWordWrap(true);
  banner_text_->setAccessibleName(tr("Security warning"));
  verify_ = new QPushButton(tr("&Verify"), banner_);
  verify_->setObjectName(QStringLiteral("verifyButton"));
  verify_->setAccessibleName(tr("Verify safety number"));
  banner_layout->addWidget(banner_text_, 1);
  banner_layout->addWidget(verify_);
  banner_->hide();
  layout->addWidget(banner_);

  closed_note_ =
      new QLabel(tr("You were removed from this group: you can read it, not write."), this);
  closed_note_->setObjectName(QStringLiteral("closedNote"));
  closed_note_->setTextFormat(Qt::PlainText);
  closed_note_->hide();
  layout->addWidget(closed_note_);

  // Timeline.
  timeline_ = new QListView(this);
  timeline_->setObjectName(QStringLiteral("timeline"));
  timeline_->setAccessibleName(tr("Messages"));
  timeline_->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  timeline_->setResizeMode(QListView::Adjust);
  timeline_->setUniformItemSizes(false);
  timeline_->setWordWrap(true);
  timeline_->setSelectionMode(QAbstractItemView::SingleSelection);
  timeline_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  timeline_->setContextMenuPolicy(Qt::CustomContextMenu);
  timeline_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  proxy_ = new TimelineProxy(this);
  proxy_->setSourceModel(session_->timeline());
  timeline_->setModel(proxy_);
  delegate_ = new MessageDelegate(timeline_);
  timeline_->setItemDelegate(delegate_);
  layout->addWidget(timeline_, 1);

  // Attachment actions for the selected message, and the transfers in progress.
  auto* actions = new QHBoxLayout;
  open_ = new QPushButton(tr("&Open"), this);
  open_->setObjectName(QStringLiteral("openAttachmentButton"));
  open_->setAccessibleName(tr("Open the selected attachment"));
  save_ = new QPushButton(tr("Save &as…"), this);
  save_->setObjectName(QStringLiteral("saveAttachmentButton"));
  save_->setAccessibleName(tr("Save the selected attachment as"));
  play_ = new QPushButton(tr("&Play"), this);
  play_->setObjectName(QStringLiteral("playVoiceButton"));
  play_->setAccessibleName(tr("Play the selected voice message"));
  actions->addWidget(open_);
  actions->addWidget(save_);
  actions->addWidget(play_);
  actions->addStretch(1);
  layout->addLayout(actions);
  transfers_ = new TransferPanel(session_, this);
  layout->addWidget(transfers_);
  download_dir_ = QStandardPaths::writableLocation(QStandardPaths::DownloadLocation);
  if (download_dir_.isEmpty()) download_dir_ = QDir::homePath();

  // Composer row.
  auto* row = new QHBoxLayout;
  attach_ = new QPushButton(tr("&Attach…"), this);
  attach_->setObjectName(QStringLiteral("attachButton"));
  attach_->setAccessibleName(tr("Attach files"));
  attach_->setToolTip(tr("Send files or photos (you can also drop them here)"));
  voice_ = new VoiceRecorder(this);
  composer_ = new Composer(this);
  react_ = new QPushButton(tr("&React"), this);
  react_->setObjectName(QStringLiteral("reactButton"));
  react_->setAccessibleName(tr("React to the selected message"));
  react_->setToolTip(tr("React to the selected message (Ctrl+E)"));
  react_->setEnabled(false);
  send_ = new QPushButton(tr("&Send"), this);
  send_->setObjectName(QStringLiteral("sendButton"));
  send_->setAccessibleName(tr("Send message"));
  // The composer grows upwards with its text; the buttons stay on its last line, where the
  // cursor usually is.
  row->addWidget(attach_, 0, Qt::AlignBottom);
  row->addWidget(voice_, 0, Qt::AlignBottom);
  row->addWidget(composer_, 1);
  row->addWidget(react_, 0, Qt::AlignBottom);
  row->addWidget(send_, 0, Qt::AlignBottom);
  layout->addLayout(row);
  error_ = new InlineMessage(this);
  error_->setObjectName(QStringLiteral("composerError"));
  error_->setAccessibleName(tr("Error"));
  layout->addWidget(error_);

  setTabOrder(timeline_, open_);
  setTabOrder(open_, save_);
  setTabOrder(save_, play_);
  setTabOrder(play_, attach_);
  setTabOrder(attach_, voice_->recordButton());
  setTabOrder(voice_->recordButton(), voice_->cancelButton());
  setTabOrder(voice_->cancelButton(), composer_);
  setTabOrder(composer_, react_);
  setTabOrder(react_, send_);

  connect(send_, &QPushButton::clicked, this, &ChatView::send);
  connect(composer_, &Composer::sendRequested, this, &ChatView::send);
  connect(composer_, &Composer::imageFilesPasted, this, &ChatView::sendImageFiles);
  connect(composer_, &Composer::imageDataPasted, this, &ChatView::sendImageData);
  connect(attach_, &QPushButton::clicked, this, &ChatView::attachPhoto);
  // A text the library refused (a blocked friend, no visible character) was never stored:
  // give it back rather than lose what the user typed — unless they already typed on.
  connect(session_, &Session::textRefused, this, [this](const QString& chat, const QString& text) {
    if (chat == chat_id_ && composer_->toPlainText().isEmpty()) composer_->setPlainText(text);
  });
  connect(react_, &QPushButton::clicked, this, &ChatView::showReactionMenu);
  connect(safety_, &QPushButton::clicked, this, [this] { emit safetyNumberRequested(chat_id_); });
  connect(verify_, &QPushButton::clicked, this, [this] { emit safetyNumberRequested(chat_id_); });
  connect(invite_, &QPushButton::clicked, this, [this] { emit inviteRequested(chat_id_); });
  auto* react_key = new QShortcut(QKeySequence(tr("Ctrl+E")), this);
  react_key->setContext(Qt::WidgetWithChildrenShortcut);
  connect(react_key, &QShortcut::activated, this, &ChatView::showReactionMenu);
  connect(timeline_, &QListView::customContextMenuRequested, this, [this](const QPoint& pos) {
    const QModelIndex index = timeline_->indexAt(pos);
    if (!index.isValid()) return;
    timeline_->setCurrentIndex(index);
    showReactionMenu();
  });
  connect(timeline_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) { react_->setEnabled(current.isValid()); });
  // Enter (activated) or a click on the thumbnail opens the photo; on an attachment's
  // thumbnail or icon it opens (or plays) the attachment.
  connect(timeline_, &QListView::activated, this, &ChatView::activate);
  connect(timeline_, &QListView::clicked, this, [this](const QModelIndex& index) {
    const QPoint pos = timeline_->viewport()->mapFromGlobal(QCursor::pos());
    const QRect item = timeline_->visualRect(index);
    if (delegate_->imageRect(index, item).contains(pos) ||
        delegate_->attachmentRect(index, item).contains(pos)) {
      activate(index);
    }
  });
  connect(timeline_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &ChatView::updateActions);
  connect(proxy_, &QAbstractItemModel::dataChanged, this, &ChatView::updateActions);
  connect(proxy_, &QAbstractItemModel::modelReset, this, &ChatView::updateActions);
  connect(open_, &QPushButton::clicked, this,
          [this] { openAttachment(timeline_->currentIndex()); });
  connect(save_, &QPushButton::clicked, this, &ChatView::saveSelectedAttachmentAs);
  connect(play_, &QPushButton::clicked, this, [this] { playVoice(timeline_->currentIndex()); });
  connect(session_, &Session::attachmentDownloaded, this, &ChatView::onDownloaded);
  connect(voice_, &VoiceRecorder::failed, this, &ChatView::showError);
  connect(voice_, &VoiceRecorder::recorded, this, [this](const QString& path, qint64) {
    if (chat_id_.isEmpty()) return;
    error_->clearMessage();
    session_->sendFile(chat_id_, path, QStringLiteral("voice"));
    at_bottom_ = true;
  });
  updateActions();

  // Scroll anchoring: remember where the user is, restore after the layout changed.
  QScrollBar* bar = timeline_->verticalScrollBar();
  connect(bar, &QScrollBar::rangeChanged, this, &ChatView::onRangeChanged);
  connect(bar, &QScrollBar::valueChanged, this, &ChatView::onScrolled);
  connect(proxy_, &QAbstractItemModel::rowsAboutToBeInserted, this,
          [this](const QModelIndex&, int first, int) {
            QScrollBar* b = timeline_->verticalScrollBar();
            if (first == 0 && proxy_->rowCount() > 0) {
              prepending_ = true;
              distance_from_bottom_ = b->maximum() - b->value();
            }
          });
  connect(proxy_, &QAbstractItemModel::modelReset, this, [this] {
    at_bottom_ = true;
    prepending_ = false;
    delegate_->clearCache();
    QMetaObject::invokeMethod(
        this,
        [this] {
          timeline_->scrollToBottom();
          maybeFetchOlder();
        },
        Qt::QueuedConnection);
  });
  // A delivery mark or a reaction can change a row's height: have the view measure it again.
  connect(proxy_, &QAbstractItemModel::dataChanged, this,
          [this](const QModelIndex& top_left) { emit delegate_->sizeHintChanged(top_left); });
  connect(proxy_, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int first) {
    QScrollBar* b = timeline_->verticalScrollBar();
    if (prepending_ && first == 0) {
      // Older messages went in above: lay out now and keep the same messages in view.
      timeline_->doItemsLayout();
      b->setValue(b->maximum() - distance_from_bottom_);
      prepending_ = false;
    } else if (at_bottom_) {
      timeline_->doItemsLayout();
      b->setValue(b->maximum());
    }
    QMetaObject::invokeMethod(this, &ChatView::maybeFetchOlder, Qt::QueuedConnection);
  });

  // Header state follows the chat list (title, protocol, closed) and friends (key changes).
  auto refresh = [this] { refreshHeader(); };
  for (QAbstractItemModel* m : {static_cast<QAbstractItemModel*>(session_->chats()),
                                static_cast<QAbstractItemModel*>(session_->friends())}) {
    connect(m, &QAbstractItemModel::dataChanged, this, refresh);
    connect(m, &QAbstractItemModel::rowsInserted, this, refresh);
    connect(m, &QAbstractItemModel::rowsRemoved, this, refresh);
    connect(m, &QAbstractItemModel::modelReset, this, refresh);
  }
  refreshHeader();
}

void ChatView::openChat(const QString& chat_id) {
  if (chat_id == chat_id_ && session_->timeline()->chatId() == chat_id) return;
  chat_id_ = chat_id;
  error_->clearMessage();
  composer_->clear();
  refreshHeader();
  session_->openChat(chat_id);
}

void ChatView::refreshHeader() {
  const ChatListModel* chats = session_->chats();
  const int row = chat_id_.isEmpty() ? -1 : chats->rowOf(chat_id_);
  const QModelIndex index = row >= 0 ? chats->index(row, 0) : QModelIndex();
  is_group_ = index.isValid() && index.data(ChatListModel::kIsGroupRole).toBool();
  delegate_->setShowSenders(is_group_);
  QString title = index.isValid() ? index.data(ChatListModel::kTitleRole).toString() : chat_id_;
  title_->setText(displaySafe(title));
  title_->setAccessibleName(tr("Chat with %1").arg(displaySafe(title)));
  const QString protocol = index.data(ChatListModel::kProtocolRole).toString();
  badge_->setText(protocolBadge(protocol));
  badge_->setToolTip(protocolExplanation(protocol));
  badge_->setAccessibleName(tr("Protocol %1").arg(protocolBadge(protocol)));
  protocol_note_->setText(protocolExplanation(protocol));
  const bool has_chat = !chat_id_.isEmpty();
  badge_->setVisible(has_chat);
  protocol_note_->setVisible(has_chat);
  safety_->setVisible(has_chat && !is_group_);
  const bool closed = index.data(ChatListModel::kClosedRole).toBool();
  invite_->setVisible(has_chat && is_group_ && !closed);
  closed_note_->setVisible(closed);

  const FriendInfo* f = (!has_chat || is_group_) ? nullptr : session_->friends()->find(chat_id_);
  const bool blocked = f && f->sending_blocked;
  const bool changed = f && (f->identity_changed || f->sending_blocked);
  if (changed) {
    banner_text_->setText(
        blocked ? tr("%1's security key changed after you had verified it. Sending is blocked "
                     "until you compare safety numbers again.")
                      .arg(displaySafe(title))
                : tr("%1's security key changed. Compare safety numbers to make sure nobody "
                     "is in between.")
                      .arg(displaySafe(title)));
  }
  banner_->setVisible(changed);
  composer_->setEnabled(has_chat && !closed && !blocked);
  send_->setEnabled(has_chat && !closed && !blocked);
  attach_->setEnabled(has_chat && !closed && !blocked);
  voice_->setEnabled(has_chat && !closed && !blocked);
}

bool ChatView::isV1() const {
  const ChatListModel* chats = session_->chats();
  const int row = chats->rowOf(chat_id_);
  return row < 0 ||
         chats->index(row, 0).data(ChatListModel::kProtocolRole).toString() != QLatin1String("v2");
}

void ChatView::showError(const QString& text) {
  error_->showError(text);
}

void ChatView::send() {
  if (chat_id_.isEmpty()) return;
  const QString text = composer_->toPlainText();
  if (text.trimmed().isEmpty()) {
    showError(tr("Type a message first."));
    return;
  }
  error_->clearMessage();
  session_->sendText(chat_id_, text);
  composer_->clear();  // given back by Session::textRefused if the library refuses it
  at_bottom_ = true;   // our own new message: follow it
}

void ChatView::attachPhoto() {
  QStringList filters;
  for (const QByteArray& f : QImageReader::supportedImageFormats()) {
    filters << QStringLiteral("*.") + QString::fromLatin1(f);
  }
  const QString images = tr("Images (%1)").arg(filters.join(QLatin1Char(' ')));
  const QString all = tr("All files (*)");
  // A v1 chat takes photos only: offer those first there.
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Send files"), QString(), isV1() ? images + ";;" + all : all + ";;" + images);
  sendFiles(files);
}

void ChatView::sendFiles(const QStringList& paths) {
  if (chat_id_.isEmpty() || paths.isEmpty()) return;
  error_->clearMessage();
  const bool v1 = isV1();
  for (const QString& p : paths) {
    if (v1 && QImageReader(p).canRead()) {
      session_->sendImageFile(chat_id_, p);  // inline photo: what a v1 friend can receive
    } else {
      session_->sendFile(chat_id_, p);  // a v1 chat: the library's refusal is shown inline
    }
  }
  at_bottom_ = true;
}

void ChatView::activate(const QModelIndex& index) {
  switch (MessageDelegate::kindOf(index)) {
    case MessageDelegate::Kind::kImage:
      return openPhoto(index);
    case MessageDelegate::Kind::kVoice:
      return playVoice(index);
    case MessageDelegate::Kind::kFile:
    case MessageDelegate::Kind::kMedia:
      return openAttachment(index);
    default:
      return;
  }
}

void ChatView::updateActions() {
  const QModelIndex current = timeline_->currentIndex();
  const MessageDelegate::Kind kind =
      current.isValid() ? MessageDelegate::kindOf(current) : MessageDelegate::Kind::kText;
  const bool attachment = kind == MessageDelegate::Kind::kFile ||
                          kind == MessageDelegate::Kind::kMedia ||
                          kind == MessageDelegate::Kind::kVoice;
  open_->setEnabled(attachment);
  save_->setEnabled(attachment);
  play_->setEnabled(kind == MessageDelegate::Kind::kVoice);
  const bool playing_this =
      current.isValid() && playing_message_ != 0 && player_ &&
      current.data(TimelineModel::kMessageIdRole).toLongLong() == playing_message_ &&
      player_->playbackState() == QMediaPlayer::PlayingState;
  play_->setText(playing_this ? tr("Sto&p") : tr("&Play"));
  play_->setAccessibleName(playing_this ? tr("Stop the voice message")
                                        : tr("Play the selected voice message"));
}

void ChatView::openAttachment(const QModelIndex& index) {
  if (!index.isValid() || chat_id_.isEmpty()) return;
  const QString saved = index.data(TimelineModel::kSavedPathRole).toString();
  if (!saved.isEmpty() && QFileInfo(saved).isFile()) {
    QDesktopServices::openUrl(QUrl::fromLocalFile(saved));
    return;
  }
  const qint64 id = index.data(TimelineModel::kMessageIdRole).toLongLong();
  if (session_->transfers()->downloadActive(chat_id_, id)) return;  // already on its way
  error_->clearMessage();
  QDir().mkpath(download_dir_);
  session_->downloadAttachment(chat_id_, id, download_dir_, true);
}

void ChatView::saveAttachmentTo(const QModelIndex& index, const QString& path) {
  if (!index.isValid() || chat_id_.isEmpty() || path.isEmpty()) return;
  error_->clearMessage();
  session_->downloadAttachment(chat_id_, index.data(TimelineModel::kMessageIdRole).toLongLong(),
                               path, false);
}

void ChatView::saveSelectedAttachmentAs() {
  const QModelIndex index = timeline_->currentIndex();
  if (!index.isValid()) return;
  // The sender's name, made harmless: no directory part, no control characters.
  QString name = QFileInfo(index.data(TimelineModel::kFileNameRole).toString()).fileName();
  name.remove(QRegularExpression(QStringLiteral("[\\x00-\\x1f/\\\\]")));
  if (name.isEmpty() || name.startsWith(QLatin1Char('.'))) name.prepend(tr("attachment"));
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Save attachment"), QDir(download_dir_).filePath(name));
  saveAttachmentTo(index, path);
}

void ChatView::playVoice(const QModelIndex& index) {
  if (!index.isValid() || MessageDelegate::kindOf(index) != MessageDelegate::Kind::kVoice) return;
  const qint64 id = index.data(TimelineModel::kMessageIdRole).toLongLong();
  if (player_ && playing_message_ == id && player_->playbackState() == QMediaPlayer::PlayingState) {
    player_->stop();
    return;
  }
  const QString saved = index.data(TimelineModel::kSavedPathRole).toString();
  if (!saved.isEmpty() && QFileInfo(saved).isFile()) return play(saved, id);
  play_when_downloaded_ = id;
  if (session_->transfers()->downloadActive(chat_id_, id)) return;
  error_->clearMessage();
  QDir().mkpath(download_dir_);
  session_->downloadAttachment(chat_id_, id, download_dir_, false);
}

void ChatView::play(const QString& path, qint64 message_id) {
  if (!player_) {
    // Made on first use: the multimedia backend (a GStreamer pipeline) costs start-up time,
    // and on a machine without audio it is better not touched until the user asks to play.
    player_ = new QMediaPlayer(this);
    audio_out_ = new QAudioOutput(this);
    player_->setAudioOutput(audio_out_);
    connect(player_, &QMediaPlayer::playbackStateChanged, this, [this] {
      if (player_->playbackState() == QMediaPlayer::StoppedState) playing_message_ = 0;
      updateActions();
    });
    connect(player_, &QMediaPlayer::errorOccurred, this,
            [this](QMediaPlayer::Error, const QString& why) {
              showError(tr("Cannot play the voice message: %1").arg(why));
            });
  }
  playing_message_ = message_id;
  player_->setSource(QUrl::fromLocalFile(path));
  player_->play();
  updateActions();
}

void ChatView::onDownloaded(const QString& chat_id, qint64 message_id, const QString& path,
                            bool open) {
  if (chat_id == chat_id_ && message_id == play_when_downloaded_) {
    play_when_downloaded_ = 0;
    play(path, message_id);
    return;
  }
  if (open) QDesktopServices::openUrl(QUrl::fromLocalFile(path));
}

void ChatView::sendImageFiles(const QStringList& paths) {
  if (chat_id_.isEmpty() || paths.isEmpty()) return;
  error_->clearMessage();
  for (const QString& p : paths)
    session_->sendImageFile(chat_id_, p);
  at_bottom_ = true;
}

void ChatView::sendImageData(const QByteArray& encoded) {
  if (chat_id_.isEmpty() || encoded.isEmpty()) return;
  error_->clearMessage();
  session_->sendImageData(chat_id_, encoded);
  at_bottom_ = true;
}

void ChatView::showReactionMenu() {
  const QModelIndex current = timeline_->currentIndex();
  if (!current.isValid() || chat_id_.isEmpty()) return;
  if (reaction_menu_) reaction_menu_->deleteLater();
  auto* menu = new QMenu(this);
  menu->setObjectName(QStringLiteral("reactionMenu"));
  menu->setAccessibleName(tr("Reactions"));
  menu->setAttribute(Qt::WA_DeleteOnClose);
  const QString own = current.data(TimelineModel::kOwnReactionRole).toString();
  for (const QString& name : reactionNames()) {
    const QString symbol = reactionSymbol(name);
    const bool remove = symbol.isEmpty();
    if (remove && own.isEmpty()) continue;  // nothing to remove
    QAction* a = menu->addAction(remove ? tr("Remove reaction") : symbol);
    a->setObjectName(QStringLiteral("react_") + name);
    a->setData(name);
    if (!remove) {
      a->setCheckable(true);
      a->setChecked(name == own);
    }
    connect(a, &QAction::triggered, this, [this, name] { react(name); });
  }
  reaction_menu_ = menu;
  const QRect r = timeline_->visualRect(current);
  menu->popup(timeline_->viewport()->mapToGlobal(r.center()));
}

void ChatView::react(const QString& reaction_name) {
  const QModelIndex current = timeline_->currentIndex();
  if (!current.isValid() || chat_id_.isEmpty()) return;
  error_->clearMessage();
  session_->react(chat_id_, current.data(TimelineModel::kMessageIdRole).toLongLong(),
                  reaction_name);
}

void ChatView::openSelectedPhoto() {
  openPhoto(timeline_->currentIndex());
}

void ChatView::openPhoto(const QModelIndex& index) {
  if (!index.isValid()) return;
  if (MessageDelegate::kindOf(index.data(TimelineModel::kTypeRole).toString()) !=
      MessageDelegate::Kind::kImage) {
    return;
  }
  const QImage image = index.data(TimelineModel::kImageRole).value<QImage>();
  if (image.isNull()) return;
  openPhotoViewer(this, image, index.data(TimelineModel::kLocalIdRole).toLongLong());
}

void ChatView::onScrolled(int value) {
  QScrollBar* bar = timeline_->verticalScrollBar();
  if (!prepending_) at_bottom_ = value >= bar->maximum() - 2;
  if (value == bar->minimum()) maybeFetchOlder();
}

void ChatView::onRangeChanged(int, int max) {
  // Rows grew (a thumbnail, a reaction, a resize): whoever was at the bottom stays there.
  if (at_bottom_ && !prepending_) timeline_->verticalScrollBar()->setValue(max);
}

void ChatView::maybeFetchOlder() {
  TimelineModel* model = session_->timeline();
  if (chat_id_.isEmpty() || model->chatId() != chat_id_) return;
  QScrollBar* bar = timeline_->verticalScrollBar();
  // At the top, or the page does not even fill the view.
  if ((bar->value() == bar->minimum() || bar->maximum() == 0) && model->canFetchMore({})) {
    model->fetchMore({});
  }
}

namespace {
// Local regular files among dropped URLs (folders and remote URLs are not sent).
QStringList localFiles(const QList<QUrl>& urls) {
  QStringList out;
  for (const QUrl& url : urls) {
    if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isFile()) out << url.toLocalFile();
  }
  return out;
}
}  // namespace

void ChatView::dragEnterEvent(QDragEnterEvent* event) {
  if (!chat_id_.isEmpty() && attach_->isEnabled() && event->mimeData()->hasUrls() &&
      !localFiles(event->mimeData()->urls()).isEmpty()) {
    event->acceptProposedAction();
  }
}

void ChatView::dropEvent(QDropEvent* event) {
  const QStringList files = localFiles(event->mimeData()->urls());
  if (files.isEmpty() || !attach_->isEnabled()) return;
  sendFiles(files);
  event->acceptProposedAction();
}

}  // namespace secchats::desktop::ui
