// The accessibility audit and the screenshot checks: they pass on every screen of widgets/ and
// they catch what they are meant to catch (an unnamed icon-only button, a control Tab cannot
// reach, a blank widget, a cut-off label).
#include <QAccessible>
#include <QApplication>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QTemporaryDir>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtTest/QtTest>
#include <functional>
#include <memory>

#include "testing/a11y_audit.hpp"
#include "testing/qt_test_main.hpp"
#include "testing/screenshot.hpp"
#include "widgets/identity_card.hpp"
#include "widgets/image_viewer.hpp"
#include "widgets/in_person_group_dialog.hpp"
#include "widgets/inline_message.hpp"
#include "widgets/onboarding_page.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"
#include "widgets/safety_number_dialog.hpp"
#include "widgets/settings_dialog.hpp"
#include "widgets/theme.hpp"
#include "widgets/unlock_page.hpp"

using namespace secchats::desktop;
using secchats::desktop::testing::auditAccessibility;
using secchats::desktop::testing::auditFocusChain;
using secchats::desktop::testing::checkNotBlank;
using secchats::desktop::testing::checkNotBlankNorClipped;
using secchats::desktop::testing::checkNotClipped;
using secchats::desktop::testing::renderImage;
using secchats::desktop::testing::renderScreenshot;

namespace {

const QString kDigits =
    QStringLiteral("000218362526627440689029527967507791120464240441251247247233");

// Every screen of widgets/, in the states a user sees (errors shown, optional parts open).
std::vector<std::pair<QString, std::function<std::unique_ptr<QWidget>()>>> screens() {
  return {
      {QStringLiteral("onboarding"),
       [] {
         auto w = std::make_unique<OnboardingPage>();
         w->findChild<QToolButton*>()->setChecked(true);  // Advanced open
         w->submit();                                     // inline errors shown
         w->showError(QStringLiteral("Could not reach the relay."));
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("identity"),
       [] {
         auto w = std::make_unique<IdentityCard>();
         w->setUserId(QStringLiteral("3f2a9c0d1e4b5a6978695a4b3c2d1e0f"));
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("unlock"),
       [] {
         auto w = std::make_unique<UnlockPage>();
         w->setOtherFolderVisible(true);
         w->setAccountFolder(QStringLiteral("~/.local/share/secchats"));
         w->showWrongPassword();
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("settings"),
       [] {
         auto w = std::make_unique<SettingsDialog>();
         w->setServer(QStringLiteral("http://127.0.0.1:8080"), QString());
         w->showError(QStringLiteral("Wrong password."));
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("safety-number"),
       [] {
         auto w = std::make_unique<SafetyNumberDialog>();
         w->setSafetyNumber(QStringLiteral("f1"), QStringLiteral("Bob"), kDigits,
                            QStringLiteral("SECCHATS-VERIFY:1:") + kDigits, false, true);
         w->showConfirmation();
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("safety-number-scan"),
       [] {
         auto w = std::make_unique<SafetyNumberDialog>();
         w->setSafetyNumber(QStringLiteral("f1"), QStringLiteral("Bob"), kDigits,
                            QStringLiteral("SECCHATS-VERIFY:1:") + kDigits, false, false);
         w->showScanner();
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("in-person-create"),
       [] {
         return std::unique_ptr<QWidget>(
             std::make_unique<InPersonGroupDialog>(InPersonGroupDialog::Mode::kShow));
       }},
      {QStringLiteral("in-person-code"),
       [] {
         auto w = std::make_unique<InPersonGroupDialog>(InPersonGroupDialog::Mode::kShow);
         w->showCode(QStringLiteral("Friday"),
                     QStringLiteral("SECCHATS-GROUP:1:0123456789abcdef0123456789abcdef:"
                                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:RnJpZGF5"));
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("in-person-join"),
       [] {
         return std::unique_ptr<QWidget>(
             std::make_unique<InPersonGroupDialog>(InPersonGroupDialog::Mode::kJoin));
       }},
      {QStringLiteral("image-viewer"),
       [] {
         auto w = std::make_unique<ImageViewer>();
         QImage image(640, 480, QImage::Format_RGB32);
         image.fill(Qt::darkGreen);
         w->setImage(image);
         return std::unique_ptr<QWidget>(std::move(w));
       }},
      {QStringLiteral("scanner"),
       [] { return std::unique_ptr<QWidget>(std::make_unique<QrScanner>()); }},
  };
}

}  // namespace

class A11yTest : public QObject {
  Q_OBJECT
 private slots:
  void everyScreenPassesTheAudit_data() {
    QTest::addColumn<int>("index");
    const auto all = screens();
    for (int i = 0; i < int(all.size()); ++i) {
      QTest::newRow(qPrintable(all[std::size_t(i)].first)) << i;
    }
  }
  void everyScreenPassesTheAudit() {
    QFETCH(int, index);
    auto widget = screens()[std::size_t(index)].second();
    widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(widget.get()));
    const QStringList problems = auditAccessibility(widget.get());
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
  }

  void everyScreenRendersUnclipped_data() { everyScreenPassesTheAudit_data(); }
  void everyScreenRendersUnclipped() {
    QFETCH(int, index);
    const auto entry = screens()[std::size_t(index)];
    auto widget = entry.second();
    widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(widget.get()));
    const QString problem = checkNotBlankNorClipped(widget.get());
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    // For a person to look at: SECCHATS_SCREENSHOT_DIR=/tmp/shots ctest -R a11y_widgets
    const QString shots = qEnvironmentVariable("SECCHATS_SCREENSHOT_DIR");
    if (!shots.isEmpty()) {
      QDir().mkpath(shots);
      const QString error = renderScreenshot(
          widget.get(), QDir(shots).filePath(entry.first + QStringLiteral(".png")));
      QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    // Dark theme too: the same screen must still render something.
    widget->setPalette(darkPalette());
    QVERIFY2(checkNotBlank(renderImage(widget.get(), 2.0)).isEmpty(), qPrintable(entry.first));
  }

  void auditFailsOnUnnamedIconButton() {
    QWidget root;
    auto* layout = new QVBoxLayout(&root);
    auto* named = new QPushButton(QStringLiteral("Send"), &root);
    layout->addWidget(named);
    auto* icon_only = new QPushButton(&root);
    icon_only->setObjectName(QStringLiteral("attach"));
    icon_only->setIcon(root.style()->standardIcon(QStyle::SP_DialogOpenButton));
    layout->addWidget(icon_only);
    root.show();
    QVERIFY(QTest::qWaitForWindowExposed(&root));
    QStringList problems = auditAccessibility(&root);
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.first().contains(QStringLiteral("QPushButton#attach")) &&
                 problems.first().contains(QStringLiteral("no accessible name")),
             qPrintable(problems.first()));
    icon_only->setAccessibleName(QStringLiteral("Attach a file"));
    QVERIFY(auditAccessibility(&root).isEmpty());
    // A hidden control is not audited; showing it again brings the check back.
    icon_only->setAccessibleName(QString());
    icon_only->hide();
    QVERIFY(auditAccessibility(&root).isEmpty());
  }

  void auditReachesNestedControls() {
    OnboardingPage page;
    page.findChild<QToolButton*>()->setChecked(true);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QVERIFY(auditAccessibility(&page).isEmpty());
    // A button deep inside the collapsible "Advanced" section.
    QWidget* advanced = page.findChild<QLineEdit*>(QString(), Qt::FindChildrenRecursively);
    for (QLineEdit* e : page.findChildren<QLineEdit*>()) {
      if (e->accessibleName() == QStringLiteral("CA certificate file"))
        advanced = e->parentWidget();
    }
    QVERIFY(advanced && advanced != &page);
    auto* hidden_gem = new QPushButton(advanced);
    hidden_gem->setObjectName(QStringLiteral("deep"));
    hidden_gem->show();
    const QStringList problems = auditAccessibility(&page);
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.first().contains(QStringLiteral(
                 "OnboardingPage > QWidget#readableColumn > QWidget > QPushButton#deep")),
             qPrintable(problems.first()));
  }

  void inlineErrorsAreAlerts() {
    UnlockPage page;
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    page.showWrongPassword();
    auto* message = page.findChild<InlineMessage*>();
    QVERIFY(message && message->isVisible());
    QAccessibleInterface* iface = QAccessible::queryAccessibleInterface(message);
    QVERIFY(iface);
    QCOMPARE(iface->role(), QAccessible::AlertMessage);
    QCOMPARE(iface->text(QAccessible::Name), QStringLiteral("Wrong password. Try again."));
  }

  void auditFailsOnUnnamedLineEdit() {
    QWidget root;
    auto* layout = new QVBoxLayout(&root);
    auto* edit = new QLineEdit(&root);
    edit->setObjectName(QStringLiteral("search"));
    layout->addWidget(edit);
    root.show();
    QVERIFY(QTest::qWaitForWindowExposed(&root));
    const QStringList problems = auditAccessibility(&root);
    QCOMPARE(problems.size(), 1);
    QVERIFY(problems.first().contains(QStringLiteral("QLineEdit#search")));
  }

  void focusChainCatchesUnreachableControl() {
    QWidget root;
    auto* layout = new QHBoxLayout(&root);
    auto* ok = new QPushButton(QStringLiteral("OK"), &root);
    auto* mouse_only = new QPushButton(QStringLiteral("Mouse only"), &root);
    mouse_only->setObjectName(QStringLiteral("mouseOnly"));
    mouse_only->setFocusPolicy(Qt::ClickFocus);
    layout->addWidget(ok);
    layout->addWidget(mouse_only);
    root.show();
    QVERIFY(QTest::qWaitForWindowExposed(&root));
    const QStringList problems = auditFocusChain(&root);
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.first().contains(QStringLiteral("mouseOnly")) &&
                 problems.first().contains(QStringLiteral("Tab")),
             qPrintable(problems.first()));
    mouse_only->setFocusPolicy(Qt::StrongFocus);
    QVERIFY(auditFocusChain(&root).isEmpty());
  }

  void tabReallyMovesThroughTheUnlockPage() {
    UnlockPage page;
    page.setOtherFolderVisible(true);
    page.show();
    QApplication::setActiveWindow(&page);
    QVERIFY(QTest::qWaitForWindowActive(&page));
    auto* password = page.findChild<QLineEdit*>();
    password->setFocus();
    QSet<QWidget*> visited;
    for (int i = 0; i < 6; ++i) {
      visited.insert(QApplication::focusWidget());
      QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
    }
    for (QPushButton* b : page.findChildren<QPushButton*>()) {
      QVERIFY2(visited.contains(b), qPrintable(b->accessibleName()));
    }
    QVERIFY(visited.contains(password));
  }

  void screenshotCatchesBlankWidget() {
    QWidget blank;
    blank.resize(200, 150);
    blank.setAutoFillBackground(true);
    QVERIFY(!checkNotBlank(renderImage(&blank, 1.0)).isEmpty());
    QVERIFY(!checkNotBlankNorClipped(&blank).isEmpty());
    QVERIFY(!checkNotBlank(QImage()).isEmpty());
    auto* label = new QLabel(QStringLiteral("Something to see"), &blank);
    label->move(10, 10);
    label->adjustSize();
    QVERIFY2(checkNotBlankNorClipped(&blank).isEmpty(),
             qPrintable(checkNotBlankNorClipped(&blank)));
  }

  void screenshotCatchesClippedLabel() {
    QWidget window;
    window.resize(300, 100);
    auto* label = new QLabel(QStringLiteral("A rather long sentence that cannot fit"), &window);
    label->setObjectName(QStringLiteral("longLabel"));
    label->setGeometry(10, 10, 60, label->sizeHint().height());
    const QString cut = checkNotClipped(&window);
    QVERIFY2(cut.contains(QStringLiteral("longLabel")) && cut.contains(QStringLiteral("cut")),
             qPrintable(cut));
    label->resize(label->sizeHint());
    QVERIFY2(checkNotClipped(&window).isEmpty(), qPrintable(checkNotClipped(&window)));
    // A child that sticks out of the window.
    auto* button = new QPushButton(QStringLiteral("Off the edge"), &window);
    button->setObjectName(QStringLiteral("offEdge"));
    button->setGeometry(250, 50, 120, 30);
    QVERIFY(checkNotClipped(&window).contains(QStringLiteral("offEdge")));
  }

  void screenshotWritesOneAndTwoX() {
    QTemporaryDir dir;
    UnlockPage page;
    page.resize(400, 300);
    const QString path = dir.filePath(QStringLiteral("unlock.png"));
    QCOMPARE(renderScreenshot(&page, path), QString());
    const QImage one(path);
    const QImage two(dir.filePath(QStringLiteral("unlock@2x.png")));
    QCOMPARE(one.size(), QSize(400, 300));
    QCOMPARE(two.size(), QSize(800, 600));
    QVERIFY(checkNotBlank(one).isEmpty());
    QVERIFY(checkNotBlank(two).isEmpty());
    QVERIFY(!renderScreenshot(&page, dir.filePath(QStringLiteral("missing/x.png"))).isEmpty());
  }
};

SECCHATS_DESKTOP_QTEST_MAIN(A11yTest)
#include "a11y_widgets_test.moc"
