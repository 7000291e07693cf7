// OnboardingPage, IdentityCard and UnlockPage driven like a user: typing, Enter, clicks.
#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryFile>
#include <QToolButton>
#include <QtTest/QtTest>

#include "testing/qt_test_main.hpp"
#include "widgets/identity_card.hpp"
#include "widgets/onboarding_page.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"
#include "widgets/unlock_page.hpp"
#include "widgets/validation.hpp"
#include "widgets_test_util.hpp"

using namespace secchats::desktop;
using test::byName;
using test::shownMessages;

namespace {

struct Onboarding {
  OnboardingPage page;
  QLineEdit* url = byName<QLineEdit>(&page, QStringLiteral("Server address"));
  QLineEdit* pin = byName<QLineEdit>(&page, QStringLiteral("Certificate pin, SHA-256"));
  QLineEdit* ca = byName<QLineEdit>(&page, QStringLiteral("CA certificate file"));
  QLineEdit* nickname = byName<QLineEdit>(&page, QStringLiteral("Nickname"));
  QLineEdit* password = byName<QLineEdit>(&page, QStringLiteral("Password"));
  QLineEdit* confirm = byName<QLineEdit>(&page, QStringLiteral("Confirm password"));
  QPushButton* create = byName<QPushButton>(&page, QStringLiteral("Create account"));
  bool complete() const { return url && pin && ca && nickname && password && confirm && create; }
};

}  // namespace

class AccountTest : public QObject {
  Q_OBJECT
 private slots:
  void onboardingEmitsWhenValid() {
    Onboarding o;
    QVERIFY(o.complete());
    QCOMPARE(o.url->text(), QStringLiteral("http://127.0.0.1:8080"));
    QSignalSpy spy(&o.page, &OnboardingPage::createRequested);
    // QTest types Latin-1 only: the rest is inserted as an input method would.
    QTest::keyClicks(o.nickname, QStringLiteral("Zo"));
    o.nickname->insert(QStringLiteral("ë 🚀"));
    QTest::keyClicks(o.password, QStringLiteral("correct horse"));
    QTest::keyClicks(o.confirm, QStringLiteral("correct horse"));
    QTest::keyClick(o.confirm, Qt::Key_Return);  // Enter submits
    QCOMPARE(spy.count(), 1);
    const QList<QVariant> args = spy.takeFirst();
    QCOMPARE(args.at(0).toString(), QStringLiteral("http://127.0.0.1:8080"));
    QCOMPARE(args.at(1).toString(), QString());
    QCOMPARE(args.at(2).toString(), QString());
    QCOMPARE(args.at(3).toString(), QStringLiteral("Zoë 🚀"));
    QCOMPARE(args.at(4).toString(), QStringLiteral("correct horse"));
    QVERIFY(shownMessages(&o.page).isEmpty());
  }

  void onboardingShowsEachProblemInline() {
    Onboarding o;
    QSignalSpy spy(&o.page, &OnboardingPage::createRequested);
    o.url->setText(QStringLiteral("ftp://example.org"));
    QTest::keyClicks(o.password, QStringLiteral("short"));
    QTest::keyClicks(o.confirm, QStringLiteral("short"));
    QTest::mouseClick(o.create, Qt::LeftButton);
    QCOMPARE(spy.count(), 0);
    QStringList errors = shownMessages(&o.page);
    QCOMPARE(errors.size(), 3);  // server, nickname, password
    QVERIFY(errors.at(0).contains(QStringLiteral("relay's address")));
    QCOMPARE(errors.at(1), QStringLiteral("Enter a nickname."));
    QCOMPARE(errors.at(2), QStringLiteral("The password must have at least 8 characters."));

    o.url->setText(QStringLiteral("http://127.0.0.1:8080"));
    o.nickname->setText(QStringLiteral("bad\x01name"));
    o.password->setText(QStringLiteral("12345678"));
    o.confirm->setText(QStringLiteral("12345679"));
    QTest::mouseClick(o.create, Qt::LeftButton);
    errors = shownMessages(&o.page);
    QCOMPARE(errors, QStringList({QStringLiteral("The nickname cannot hold control characters."),
                                  QStringLiteral("The passwords do not match.")}));
    QCOMPARE(spy.count(), 0);
  }

  void nicknameRules() {
    QVERIFY(validateNickname(QString(64, QLatin1Char('a'))).isEmpty());
    QVERIFY(!validateNickname(QString(65, QLatin1Char('a'))).isEmpty());
    // 32 two-byte letters = 64 bytes fit, 33 do not: the limit is in UTF-8 bytes.
    QVERIFY(validateNickname(QString(32, QChar(0xe9))).isEmpty());
    QVERIFY(!validateNickname(QString(33, QChar(0xe9))).isEmpty());
    QVERIFY(!validateNickname(QStringLiteral("   ")).isEmpty());
    QVERIFY(!validateNickname(QStringLiteral("tab\there")).isEmpty());
    QVERIFY(validateNickname(QStringLiteral("Ünïcødé")).isEmpty());
  }

  void pinAndCaOnlyForHttpsAndWellFormed() {
    Onboarding o;
    QSignalSpy spy(&o.page, &OnboardingPage::createRequested);
    o.nickname->setText(QStringLiteral("ann"));
    o.password->setText(QStringLiteral("password1"));
    o.confirm->setText(QStringLiteral("password1"));
    o.pin->setText(QString(64, QLatin1Char('a')));
    QTest::mouseClick(o.create, Qt::LeftButton);
    QCOMPARE(shownMessages(&o.page),
             QStringList(QStringLiteral("A certificate pin only applies to an https:// address.")));
    // The Advanced section opened so the user sees the field at fault.
    QVERIFY(o.pin->isVisibleTo(&o.page));

    o.url->setText(QStringLiteral("https://chat.example.org"));
    o.pin->setText(QStringLiteral("not a pin"));
    QTest::mouseClick(o.create, Qt::LeftButton);
    QVERIFY(shownMessages(&o.page).value(0).startsWith(QStringLiteral("The pin must be")));
    QCOMPARE(spy.count(), 0);

    QVERIFY(validatePin(QString(64, QLatin1Char('A')), QStringLiteral("https://x")).isEmpty());
    QVERIFY(validatePin(QStringLiteral("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
                        QStringLiteral("https://x"))
                .isEmpty());
    o.pin->setText(QStringLiteral("ab:") + QString(62, QLatin1Char('0')));
    o.ca->setText(QStringLiteral("/nonexistent/ca.pem"));
    QTest::mouseClick(o.create, Qt::LeftButton);
    QCOMPARE(shownMessages(&o.page), QStringList(QStringLiteral("The CA file cannot be read.")));

    QTemporaryFile ca;
    QVERIFY(ca.open());
    o.ca->setText(ca.fileName());
    QTest::mouseClick(o.create, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral("ab:") + QString(62, QLatin1Char('0')));
    QCOMPARE(spy.at(0).at(2).toString(), ca.fileName());
  }

  void onboardingBusyAndServerError() {
    Onboarding o;
    QSignalSpy spy(&o.page, &OnboardingPage::createRequested);
    o.page.setBusy(true);
    QVERIFY(!o.create->isEnabled());
    QVERIFY(!o.nickname->isEnabled());
    auto* bar = o.page.findChild<QProgressBar*>();
    QVERIFY(bar && bar->isVisibleTo(&o.page));
    o.page.submit();
    QCOMPARE(spy.count(), 0);  // nothing while busy
    o.page.setBusy(false);
    QVERIFY(o.create->isEnabled());
    QVERIFY(!bar->isVisibleTo(&o.page));
    o.page.showError(QStringLiteral("Could not reach the relay"));
    QCOMPARE(shownMessages(&o.page), QStringList(QStringLiteral("Could not reach the relay")));
  }

  void identityCardCopiesAndShowsCode() {
    IdentityCard card;
    const QString id = QStringLiteral("3f2a9c0d1e4b5a6978695a4b3c2d1e0f");
    card.setUserId(id);
    auto* field = byName<QLineEdit>(&card, QStringLiteral("Your user ID"));
    QVERIFY(field);
    QCOMPARE(field->text(), id);
    QVERIFY(field->isReadOnly());
    auto* qr = card.findChild<QrCodeWidget*>();
    QVERIFY(qr && qr->hasCode());
    QCOMPARE(qr->accessibleName(), QStringLiteral("QR code of your user ID"));
    const QrDecodeResult decoded = decodeQrImage(qr->toImage(4));
    QVERIFY(decoded);
    QCOMPARE(*decoded.text, id);

    QApplication::clipboard()->clear();
    QSignalSpy copied(&card, &IdentityCard::copied);
    auto* copy = byName<QPushButton>(&card, QStringLiteral("Copy your user ID"));
    QVERIFY(copy);
    QTest::mouseClick(copy, Qt::LeftButton);
    QCOMPARE(copied.count(), 1);
    QCOMPARE(QApplication::clipboard()->text(), id);
    QCOMPARE(copy->text(), QStringLiteral("Copied"));

    QSignalSpy next(&card, &IdentityCard::continueRequested);
    QTest::mouseClick(byName<QPushButton>(&card, QStringLiteral("Continue")), Qt::LeftButton);
    QCOMPARE(next.count(), 1);
  }

  void unlockWithEnterAndWrongPassword() {
    UnlockPage page;
    QSignalSpy spy(&page, &UnlockPage::unlockRequested);
    auto* password = byName<QLineEdit>(&page, QStringLiteral("Password"));
    auto* unlock = byName<QPushButton>(&page, QStringLiteral("Unlock"));
    QVERIFY(password && unlock);
    QCOMPARE(password->echoMode(), QLineEdit::Password);

    QTest::keyClick(password, Qt::Key_Return);  // empty: refused inline
    QCOMPARE(spy.count(), 0);
    QCOMPARE(shownMessages(&page), QStringList(QStringLiteral("Enter your password.")));

    QTest::keyClicks(password, QStringLiteral("hunter22"));
    QTest::keyClick(password, Qt::Key_Return);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("hunter22"));
    QVERIFY(shownMessages(&page).isEmpty());

    page.setBusy(true);
    QVERIFY(!password->isEnabled());
    QVERIFY(!unlock->isEnabled());
    QTest::mouseClick(unlock, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
    page.setBusy(false);
    page.showWrongPassword();
    QCOMPARE(shownMessages(&page), QStringList(QStringLiteral("Wrong password. Try again.")));
    QVERIFY(password->text().isEmpty());  // cleared for the next try
    QVERIFY(password->isEnabled());
  }

  void unlockOtherFolderLink() {
    UnlockPage page;
    auto* other = byName<QPushButton>(&page, QStringLiteral("Use another account folder"));
    QVERIFY(other);
    QVERIFY(!other->isVisibleTo(&page));
    page.setOtherFolderVisible(true);
    QVERIFY(other->isVisibleTo(&page));
    QSignalSpy spy(&page, &UnlockPage::otherFolderRequested);
    QTest::mouseClick(other, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
  }

  void unlockElidesALongFolderInTheMiddle() {
    UnlockPage page;
    const QString folder = QStringLiteral("/home/someone/") +
                           QStringLiteral("a-very-long-folder-name/").repeated(20) +
                           QStringLiteral("secchats");
    page.setAccountFolder(folder);
    auto* label = page.findChild<QLabel*>(QStringLiteral("accountFolderLabel"));
    QVERIFY(label);
    const int narrow = page.fontMetrics().averageCharWidth() * 60;
    QVERIFY(page.minimumSizeHint().width() < narrow);  // the path asks for no width
    page.resize(narrow, page.sizeHint().height());
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QCOMPARE(page.width(), narrow);
    QVERIFY(label->fontMetrics().horizontalAdvance(label->text()) <= label->width());
    QVERIFY2(label->text().startsWith(QStringLiteral("Account in /home/someone/")),
             qPrintable(label->text()));
    QVERIFY(label->text().endsWith(QStringLiteral("/secchats")));  // both ends stay readable
    QVERIFY(label->text().contains(QStringLiteral("…")));
    QCOMPARE(label->toolTip(), folder);
    QCOMPARE(page.accountFolder(), folder);
    // A short folder shows whole.
    page.setAccountFolder(QStringLiteral("/home/someone/secchats"));
    QCOMPARE(label->text(), QStringLiteral("Account in /home/someone/secchats"));
    // On a wide window the page keeps a readable, centred column.
    page.resize(page.fontMetrics().averageCharWidth() * 200, page.height());
    QApplication::processEvents();
    auto* password = byName<QLineEdit>(&page, QStringLiteral("Password"));
    QVERIFY(password);
    QVERIFY(password->width() < page.fontMetrics().averageCharWidth() * 80);
    const QPoint left = password->mapTo(&page, QPoint(0, 0));
    QVERIFY(left.x() > page.width() / 4);
  }
};

SECCHATS_DESKTOP_QTEST_MAIN(AccountTest)
#include "widgets_account_test.moc"
