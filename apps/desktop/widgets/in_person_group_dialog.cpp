#include "widgets/in_person_group_dialog.hpp"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "widgets/inline_message.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"

namespace secchats::desktop {
namespace {

QString group_name_problem(const QString& name) {
  auto tr_g = [](const char* text) {
    return QCoreApplication::translate("secchats::desktop::InPersonGroupDialog", text);
  };
  bool visible = false;
  for (char32_t c : name.toUcs4()) {
    if (QChar::category(c) == QChar::Other_Control) {
      return tr_g("The group name cannot hold control characters.");
    }
    if (!QChar::isSpace(c) && QChar::category(c) != QChar::Other_Format) visible = true;
  }
  if (!visible) return tr_g("Enter a name for the group.");
  return {};
}

}  // namespace

InPersonGroupDialog::InPersonGroupDialog(Mode mode, QWidget* parent)
    : QDialog(parent), mode_(mode) {
  setWindowTitle(mode == Mode::kShow ? tr("New in-person group") : tr("Join an in-person group"));
  auto* layout = new QVBoxLayout(this);

  title_ = new QLabel(this);
  title_->setTextFormat(Qt::PlainText);
  title_->setWordWrap(true);
  layout->addWidget(title_);

  if (mode == Mode::kShow) {
    title_->setText(
        tr("Everyone in the room scans one code and is in the group. No invitations, "
           "no server involved in the key."));
    name_row_ = new QWidget(this);
    auto* row = new QHBoxLayout(name_row_);
    row->setContentsMargins(0, 0, 0, 0);
    auto* label = new QLabel(tr("Group &name:"), name_row_);
    name_ = new QLineEdit(name_row_);
    name_->setAccessibleName(tr("Group name"));
    label->setBuddy(name_);
    create_ = new QPushButton(tr("&Create group"), name_row_);
    create_->setAccessibleName(tr("Create group"));
    create_->setAutoDefault(false);
    row->addWidget(label);
    row->addWidget(name_, 1);
    row->addWidget(create_);
    layout->addWidget(name_row_);

    qr_ = new QrCodeWidget(this);
    // Large, so phones across a table can read it (about 5 px per module at 96 dpi).
    const int em = fontMetrics().height();
    qr_->setMinimumSize(em * 20, em * 20);
    qr_->hide();
    layout->addWidget(qr_, 1);
    warning_ = new QLabel(
        tr("Anyone who sees this code can join the group and read what is said in it. Show it "
           "only to the people in the room, and close it when they have joined."),
        this);
    warning_->setWordWrap(true);
    warning_->hide();
    layout->addWidget(warning_);
    full_screen_ = new QPushButton(tr("&Full screen"), this);
    full_screen_->setAccessibleName(tr("Show the code full screen"));
    full_screen_->setAutoDefault(false);
    full_screen_->hide();
    layout->addWidget(full_screen_, 0, Qt::AlignLeft);

    connect(create_, &QPushButton::clicked, this, &InPersonGroupDialog::submit_name);
    connect(name_, &QLineEdit::returnPressed, this, &InPersonGroupDialog::submit_name);
    connect(full_screen_, &QPushButton::clicked, this, &InPersonGroupDialog::toggleFullScreen);
  } else {
    title_->setText(tr("Scan the group code on the organiser's screen."));
    scanner_ = new QrScanner(this);
    scanner_->setExpectedPrefix(kGroupPrefix, tr("a group code"));
    layout->addWidget(scanner_, 1);
    connect(scanner_, &QrScanner::scanned, this, [this](const QString& payload) {
      if (busy_) return;
      error_->clearMessage();
      emit joinRequested(payload);
    });
  }

  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);
  progress_->setTextVisible(false);
  progress_->setAccessibleName(mode == Mode::kShow ? tr("Creating group") : tr("Joining group"));
  progress_->hide();
  layout->addWidget(progress_);
  error_ = new InlineMessage(this);
  layout->addWidget(error_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close"));
  buttons->button(QDialogButtonBox::Close)->setAutoDefault(false);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

bool InPersonGroupDialog::isCodeShown() const {
  return qr_ && qr_->hasCode() && !qr_->isHidden();
}

void InPersonGroupDialog::submit_name() {
  if (busy_ || !name_) return;
  const QString problem = group_name_problem(name_->text());
  if (!problem.isEmpty()) {
    error_->showError(problem);
    name_->setFocus();
    return;
  }
  error_->clearMessage();
  emit createRequested(name_->text());
}

void InPersonGroupDialog::showCode(const QString& group_name, const QString& payload) {
  if (!qr_) return;
  setBusy(false);
  if (!qr_->setText(payload)) {
    error_->showError(qr_->errorString());
    return;
  }
  qr_->setDescription(tr("the group %1").arg(group_name));
  title_->setText(tr("Scan to join “%1”").arg(group_name));
  name_row_->hide();
  qr_->show();
  warning_->show();
  full_screen_->show();
  full_screen_->setFocus();
  error_->clearMessage();
  if (!isFullScreen()) adjustSize();
}

void InPersonGroupDialog::showJoined(const QString& group_name) {
  setBusy(false);
  if (scanner_) scanner_->hide();  // stops the camera
  error_->showInfo(tr("You joined “%1”.").arg(group_name));
}

void InPersonGroupDialog::showError(const QString& text) {
  setBusy(false);
  if (scanner_) scanner_->reset();  // the same code may be scanned again
  error_->showError(text);
}

void InPersonGroupDialog::setBusy(bool busy) {
  busy_ = busy;
  if (name_) name_->setEnabled(!busy);
  if (create_) create_->setEnabled(!busy);
  if (scanner_) scanner_->setEnabled(!busy);
  progress_->setVisible(busy);
  if (busy) error_->clearMessage();
}

void InPersonGroupDialog::toggleFullScreen() {
  if (isFullScreen()) {
    showNormal();
    full_screen_->setText(tr("&Full screen"));
    full_screen_->setAccessibleName(tr("Show the code full screen"));
  } else {
    showFullScreen();
    full_screen_->setText(tr("Leave &full screen (Esc)"));
    full_screen_->setAccessibleName(tr("Leave full screen"));
  }
}

void InPersonGroupDialog::keyPressEvent(QKeyEvent* event) {
  // Escape first leaves full screen; only a second Escape closes the dialog.
  if (event->key() == Qt::Key_Escape && isFullScreen()) {
    toggleFullScreen();
    event->accept();
    return;
  }
  QDialog::keyPressEvent(event);
}

}  // namespace secchats::desktop
