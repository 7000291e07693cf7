// SettingsDialog, SafetyNumberDialog, InPersonGroupDialog, ImageViewer and the theme, driven like
// a user: typing, Enter, Escape, clicks.
#include <QAbstractScrollArea>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "testing/qt_test_main.hpp"
#include "widgets/image_viewer.hpp"
#include "widgets/in_person_group_dialog.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"
#include "widgets/safety_number_dialog.hpp"
#include "widgets/settings_dialog.hpp"
#include "widgets/theme.hpp"
#include "widgets_test_util.hpp"

using namespace secchats::desktop;
using test::byName;
using test::shownMessages;

namespace {

const QString kDigits =
    QStringLiteral("000218362526627440689029527967507791120464240441251247247233");
const QString kGroupCode = QStringLiteral(
    "SECCHATS-GROUP:1:0123456789abcdef0123456789abcdef:"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:RnJpZW5kcw");

QImage code_image(const QString& text) {
  QrCodeWidget w;
  w.setText(text);
  return w.toImage(4);
}

}  // namespace

class DialogsTest : public QObject {
  Q_OBJECT
 private slots:
  void settingsTlsPinIsValidatedThenRequested() {
    SettingsDialog dialog;
    dialog.setServer(QStringLiteral("https://relay.example:8443"), QStringLiteral("old"));
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto* tabs = dialog.findChild<QTabWidget*>(QStringLiteral("settingsTabs"));
    QVERIFY(tabs);
    tabs->setCurrentIndex(1);  // Relay
    QSignalSpy spy(&dialog, &SettingsDialog::connectionChangeRequested);
    auto* pin = byName<QLineEdit>(&dialog, QStringLiteral("Certificate pin (SHA-256)"));
    auto* save = byName<QPushButton>(&dialog, QStringLiteral("Save TLS settings"));
    QVERIFY(pin && save);
    QVERIFY(pin->isEnabled());

    pin->setText(QStringLiteral("not a pin"));
    save->click();
    QCOMPARE(spy.count(), 0);
    QCOMPARE(shownMessages(&dialog).size(), 1);

    const QString good(64, QLatin1Char('a'));
    pin->setText(QStringLiteral("  ") + good + QStringLiteral(" "));
    save->click();
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), good);
    QVERIFY(!save->isEnabled());  // until the relay answered
    dialog.showConnectionError(QStringLiteral("certificate pin mismatch"));
    QVERIFY(save->isEnabled());
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("certificate pin mismatch")));
    dialog.showConnectionSaved();
    QVERIFY(shownMessages(&dialog).isEmpty());
    const QStringList info = shownMessages(&dialog, InlineMessage::Kind::kInfo);
    QCOMPARE(info.size(), 1);
    QVERIFY(info.front().contains(QStringLiteral("saved")));

    // Plain http:// (a loopback relay) has no TLS to configure.
    dialog.setServer(QStringLiteral("http://127.0.0.1:8080"), QString());
    QVERIFY(!pin->isEnabled());
    QVERIFY(!save->isEnabled());
  }

  void settingsPasswordChange() {
    SettingsDialog dialog;
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy spy(&dialog, &SettingsDialog::passwordChangeRequested);
    auto* old_pw = byName<QLineEdit>(&dialog, QStringLiteral("Current password"));
    auto* new_pw = byName<QLineEdit>(&dialog, QStringLiteral("New password"));
    auto* confirm = byName<QLineEdit>(&dialog, QStringLiteral("Confirm new password"));
    QVERIFY(old_pw && new_pw && confirm);

    QTest::keyClicks(new_pw, QStringLiteral("newpassword"));
    QTest::keyClicks(confirm, QStringLiteral("newpassword"));
    QTest::keyClick(confirm, Qt::Key_Return);
    QCOMPARE(spy.count(), 0);
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("Enter your current password.")));

    QTest::keyClicks(old_pw, QStringLiteral("oldpassword"));
    confirm->setText(QStringLiteral("different1"));
    QTest::keyClick(confirm, Qt::Key_Return);
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("The passwords do not match.")));

    confirm->setText(QStringLiteral("newpassword"));
    QTest::keyClick(confirm, Qt::Key_Return);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("oldpassword"));
    QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral("newpassword"));
    QVERIFY(dialog.isVisible());  // Enter changed the password; it did not close the dialog

    dialog.setBusy(true);
    QVERIFY(!old_pw->isEnabled());
    dialog.setBusy(false);
    dialog.showError(QStringLiteral("Wrong password"));
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("Wrong password")));
    dialog.showPasswordChanged();
    QVERIFY(shownMessages(&dialog).isEmpty());
    QCOMPARE(shownMessages(&dialog, InlineMessage::Kind::kInfo),
             QStringList(QStringLiteral("Password changed.")));
    QVERIFY(old_pw->text().isEmpty() && new_pw->text().isEmpty());

    QTest::keyClick(&dialog, Qt::Key_Escape);
    QVERIFY(!dialog.isVisible());
  }

  void settingsValuesAndSignals() {
    SettingsDialog dialog;
    dialog.setServer(QStringLiteral("https://chat.example.org"), QStringLiteral("ab12"));
    auto* url = byName<QLineEdit>(&dialog, QStringLiteral("Server address"));
    QVERIFY(url && url->isReadOnly());
    QCOMPARE(url->text(), QStringLiteral("https://chat.example.org"));
    QVERIFY(dialog.findChild<QLabel*>() != nullptr);

    QSignalSpy notify(&dialog, &SettingsDialog::notificationsChanged);
    QSignalSpy theme(&dialog, &SettingsDialog::themeChanged);
    dialog.setNotificationsEnabled(true);
    dialog.setShowMessageContent(false);
    dialog.setTheme(ThemeChoice::kDark);
    QCOMPARE(notify.count(), 0);  // setters do not echo back as user changes
    QCOMPARE(theme.count(), 0);
    QCOMPARE(dialog.theme(), ThemeChoice::kDark);

    auto* content =
        byName<QCheckBox>(&dialog, QStringLiteral("Show message text in notifications"));
    QVERIFY(content);
    QTest::mouseClick(content, Qt::LeftButton);
    QCOMPARE(notify.count(), 1);
    QCOMPARE(notify.at(0).at(0).toBool(), true);
    QCOMPARE(notify.at(0).at(1).toBool(), true);
    QVERIFY(dialog.showMessageContent());
    auto* enabled =
        byName<QCheckBox>(&dialog, QStringLiteral("Show notifications for new messages"));
    QTest::mouseClick(enabled, Qt::LeftButton);
    QCOMPARE(notify.count(), 2);
    QCOMPARE(notify.at(1).at(0).toBool(), false);
    QVERIFY(!content->isEnabled());

    auto* combo = byName<QComboBox>(&dialog, QStringLiteral("Theme"));
    combo->setCurrentIndex(combo->findData(int(ThemeChoice::kLight)));
    QCOMPARE(theme.count(), 1);
    QCOMPARE(theme.at(0).at(0).value<ThemeChoice>(), ThemeChoice::kLight);
  }

  void safetyNumberShowsGroupsAndCode() {
    SafetyNumberDialog dialog;
    dialog.setSafetyNumber(QStringLiteral("friend-1"), QStringLiteral("<b>Bob</b>"), kDigits,
                           QStringLiteral("SECCHATS-VERIFY:1:") + kDigits, false, false);
    const QString shown = dialog.formattedDigits();
    QCOMPARE(shown.split(QRegularExpression(QStringLiteral("\\s+"))).size(), 12);
    QCOMPARE(shown.split(QLatin1Char('\n')).size(), 3);
    QCOMPARE(QString(shown).remove(QRegularExpression(QStringLiteral("\\s"))), kDigits);
    auto* digits = byName<QLabel>(&dialog, QStringLiteral("Safety number digits"));
    QVERIFY(digits);
    QCOMPARE(digits->text(), shown);
    QVERIFY(digits->textInteractionFlags() & Qt::TextSelectableByMouse);
    QVERIFY(digits->font().fixedPitch() || QFontInfo(digits->font()).fixedPitch());
    auto* qr = dialog.findChild<QrCodeWidget*>();
    QVERIFY(qr);
    QCOMPARE(*decodeQrImage(qr->toImage(4)).text, QStringLiteral("SECCHATS-VERIFY:1:") + kDigits);
    // The name is shown as plain text, not HTML.
    bool plain_title = false;
    for (QLabel* l : dialog.findChildren<QLabel*>()) {
      if (l->text().contains(QStringLiteral("<b>Bob</b>"))) {
        plain_title = l->textFormat() == Qt::PlainText;
      }
    }
    QVERIFY(plain_title);
    QVERIFY(shownMessages(&dialog).isEmpty());  // no key-change banner
  }

  void safetyNumberConfirmByTypingOrByEye() {
    SafetyNumberDialog dialog;
    dialog.setSafetyNumber(QStringLiteral("friend-1"), QStringLiteral("Bob"), kDigits,
                           QStringLiteral("SECCHATS-VERIFY:1:") + kDigits, false, false);
    QSignalSpy spy(&dialog, &SafetyNumberDialog::verifyRequested);
    auto* match = byName<QPushButton>(&dialog, QStringLiteral("Digits match, mark verified"));
    QVERIFY(match && match->isEnabled());
    QTest::mouseClick(match, Qt::LeftButton);
    auto* typed = byName<QLineEdit>(&dialog, QStringLiteral("Their safety number digits"));
    QVERIFY(typed && typed->isVisibleTo(&dialog));

    QTest::keyClicks(typed, QStringLiteral("12345 678"));
    QTest::keyClick(typed, Qt::Key_Return);
    QCOMPARE(spy.count(), 0);
    QVERIFY2(shownMessages(&dialog).value(0).contains(QStringLiteral("Digits typed: 8.")),
             qPrintable(shownMessages(&dialog).join(QLatin1Char('|'))));

    typed->setText(dialog.formattedDigits().replace(QLatin1Char('\n'), QLatin1Char(' ')));
    QTest::keyClick(typed, Qt::Key_Return);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("friend-1"));
    QCOMPARE(spy.at(0).at(1).toString(), kDigits);
    QVERIFY(shownMessages(&dialog).isEmpty());

    // Confirming without typing vouches for our own digits.
    typed->clear();
    QTest::mouseClick(byName<QPushButton>(&dialog, QStringLiteral("Confirm verified")),
                      Qt::LeftButton);
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(1).toString(), kDigits);

    dialog.showError(QStringLiteral("safety numbers do not match"));
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("safety numbers do not match")));
    QVERIFY(!dialog.isVerified());
    dialog.showVerified();
    QVERIFY(dialog.isVerified());
    QVERIFY(shownMessages(&dialog).isEmpty());
    QVERIFY(!match->isEnabled());
    QCOMPARE(shownMessages(&dialog, InlineMessage::Kind::kInfo),
             QStringList(QStringLiteral("Bob is now verified.")));
  }

  void safetyNumberScanAndKeyChangeBanner() {
    SafetyNumberDialog dialog;
    dialog.setSafetyNumber(QStringLiteral("friend-2"), QStringLiteral("Carol"), kDigits,
                           QStringLiteral("SECCHATS-VERIFY:1:") + kDigits, false, true);
    const QStringList banner = shownMessages(&dialog);
    QCOMPARE(banner.size(), 1);
    QVERIFY(banner.first().contains(QStringLiteral("Carol's safety number has changed")));

    QSignalSpy spy(&dialog, &SafetyNumberDialog::verifyRequested);
    QTest::mouseClick(byName<QPushButton>(&dialog, QStringLiteral("Scan their code")),
                      Qt::LeftButton);
    QVERIFY(dialog.scanner()->isVisibleTo(&dialog));
    QCOMPARE(dialog.scanner()->expectedPrefix(), QStringLiteral("SECCHATS-VERIFY:1:"));
    dialog.scanner()->scanImage(code_image(kGroupCode));  // wrong kind
    QTRY_VERIFY(shownMessages(dialog.scanner()).value(0).contains(QStringLiteral("group code")));
    QCOMPARE(spy.count(), 0);
    dialog.scanner()->scanImage(code_image(QStringLiteral("SECCHATS-VERIFY:1:") + kDigits));
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral("SECCHATS-VERIFY:1:") + kDigits);
    dialog.showVerified();
    QVERIFY(shownMessages(&dialog).isEmpty());  // banner gone once verified
    QVERIFY(!dialog.scanner()->isVisibleTo(&dialog));
  }

  void inPersonShowMode() {
    InPersonGroupDialog dialog(InPersonGroupDialog::Mode::kShow);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy spy(&dialog, &InPersonGroupDialog::createRequested);
    auto* name = byName<QLineEdit>(&dialog, QStringLiteral("Group name"));
    QVERIFY(name);
    QTest::keyClicks(name, QStringLiteral("   "));
    QTest::keyClick(name, Qt::Key_Return);
    QCOMPARE(spy.count(), 0);
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("Enter a name for the group.")));
    name->setText(QStringLiteral("Friday climbing"));
    QTest::keyClick(name, Qt::Key_Return);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("Friday climbing"));
    QVERIFY(dialog.isVisible());
    QVERIFY(!dialog.isCodeShown());

    dialog.setBusy(true);
    QVERIFY(!name->isEnabled());
    dialog.showCode(QStringLiteral("Friday climbing"), kGroupCode);
    QVERIFY(dialog.isCodeShown());
    QVERIFY(!name->isVisible());
    QCOMPARE(*decodeQrImage(dialog.qrCode()->toImage(3)).text, kGroupCode);
    QCOMPARE(dialog.qrCode()->accessibleName(),
             QStringLiteral("QR code of the group Friday climbing"));
    bool warned = false;
    for (QLabel* l : dialog.findChildren<QLabel*>()) {
      warned =
          warned || (l->isVisible() && l->text().startsWith(QStringLiteral("Anyone who sees")));
    }
    QVERIFY(warned);

    auto* full = byName<QPushButton>(&dialog, QStringLiteral("Show the code full screen"));
    QVERIFY(full);
    QTest::mouseClick(full, Qt::LeftButton);
    QTRY_VERIFY(dialog.isFullScreen());
    QTest::keyClick(&dialog, Qt::Key_Escape);  // leaves full screen, keeps the dialog
    QTRY_VERIFY(!dialog.isFullScreen());
    QVERIFY(dialog.isVisible());
    QTest::keyClick(&dialog, Qt::Key_Escape);  // now closes
    QVERIFY(!dialog.isVisible());
  }

  void inPersonJoinMode() {
    InPersonGroupDialog dialog(InPersonGroupDialog::Mode::kJoin);
    QVERIFY(dialog.scanner());
    QCOMPARE(dialog.scanner()->expectedPrefix(), QStringLiteral("SECCHATS-GROUP:1:"));
    QSignalSpy spy(&dialog, &InPersonGroupDialog::joinRequested);
    dialog.scanner()->scanImage(code_image(QStringLiteral("0123456789abcdef0123456789abcdef")));
    QTRY_COMPARE(shownMessages(&dialog).value(0),
                 QStringLiteral("This QR code is not a group code."));
    QCOMPARE(spy.count(), 0);
    dialog.scanner()->scanImage(code_image(kGroupCode));
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), kGroupCode);
    dialog.showError(QStringLiteral("group key must be 32 bytes"));
    QCOMPARE(shownMessages(&dialog), QStringList(QStringLiteral("group key must be 32 bytes")));
    // After an error the same code can be scanned again.
    dialog.scanner()->scanImage(code_image(kGroupCode));
    QTRY_COMPARE(spy.count(), 2);
    dialog.showJoined(QStringLiteral("Friends"));
    QCOMPARE(shownMessages(&dialog, InlineMessage::Kind::kInfo),
             QStringList(QStringLiteral("You joined “Friends”.")));
  }

  void imageViewerZoomAndSave() {
    QImage image(800, 600, QImage::Format_RGB32);
    image.fill(Qt::darkCyan);
    ImageViewer viewer;
    viewer.resize(500, 400);
    viewer.setImage(image, QStringLiteral("photo.png"));
    viewer.show();
    QVERIFY(QTest::qWaitForWindowExposed(&viewer));
    QVERIFY(viewer.isFitToWindow());
    QVERIFY(viewer.zoom() < 1.0);  // fitted down into the window
    const double fitted = viewer.zoom();
    QTest::keyClick(&viewer, Qt::Key_Plus);
    QVERIFY(viewer.zoom() > fitted);
    QVERIFY(!viewer.isFitToWindow());
    QTest::keyClick(&viewer, Qt::Key_Minus);
    QTest::keyClick(&viewer, Qt::Key_Minus);
    QVERIFY(viewer.zoom() < fitted);
    QTest::keyClick(&viewer, Qt::Key_0, Qt::ControlModifier);
    QVERIFY(viewer.isFitToWindow());
    QCOMPARE(viewer.zoom(), fitted);

    QTemporaryDir dir;
    QSignalSpy saved(&viewer, &ImageViewer::saved);
    const QString png = dir.filePath(QStringLiteral("out.png"));
    QVERIFY(viewer.saveTo(png));
    QCOMPARE(QImageReader(png).format(), QByteArray("png"));
    QCOMPARE(QImage(png).size(), image.size());
    const QString jpg = dir.filePath(QStringLiteral("out.jpg"));
    QVERIFY(viewer.saveTo(jpg));
    QCOMPARE(QImageReader(jpg).format(), QByteArray("jpeg"));
    QCOMPARE(saved.count(), 2);
    QCOMPARE(shownMessages(&viewer, InlineMessage::Kind::kInfo),
             QStringList(QStringLiteral("Saved.")));

    // A folder that does not exist: an inline error, no "saved".
    QVERIFY(!viewer.saveTo(dir.filePath(QStringLiteral("missing/out.png"))));
    QCOMPARE(saved.count(), 2);
    QCOMPARE(shownMessages(&viewer).size(), 1);
    QVERIFY(
        shownMessages(&viewer).first().startsWith(QStringLiteral("The image could not be saved")));
  }

  void imageViewerCtrlWheelZooms() {
    QImage image(300, 200, QImage::Format_RGB32);
    image.fill(Qt::red);
    ImageViewer viewer;
    viewer.setImage(image);
    viewer.show();
    QVERIFY(QTest::qWaitForWindowExposed(&viewer));
    const double before = viewer.zoom();
    auto* area = viewer.findChild<QAbstractScrollArea*>();
    QVERIFY(area);
    QWheelEvent wheel(QPointF(10, 10), area->viewport()->mapToGlobal(QPointF(10, 10)), QPoint(),
                      QPoint(0, 120), Qt::NoButton, Qt::ControlModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(area->viewport(), &wheel);
    QVERIFY(viewer.zoom() > before);
  }

  void themePalettes() {
    QVERIFY(isDarkPalette(darkPalette()));
    QVERIFY(!isDarkPalette(lightPalette()));
    QCOMPARE(themeChoiceFromName(themeChoiceName(ThemeChoice::kDark)), ThemeChoice::kDark);
    QCOMPARE(themeChoiceFromName(QStringLiteral("bogus")), ThemeChoice::kSystem);
    auto* app = qobject_cast<QApplication*>(QCoreApplication::instance());
    const QColor system_window = app->palette().color(QPalette::Window);
    applyTheme(*app, ThemeChoice::kDark);
    QVERIFY(isDarkPalette(app->palette()));
    QCOMPARE(app->style()->name().toLower(), QStringLiteral("fusion"));
    applyTheme(*app, ThemeChoice::kLight);
    QVERIFY(!isDarkPalette(app->palette()));
    applyTheme(*app, ThemeChoice::kSystem);
    QCOMPARE(app->palette().color(QPalette::Window), system_window);
  }
};

SECCHATS_DESKTOP_QTEST_MAIN(DialogsTest)
#include "widgets_dialogs_test.moc"
