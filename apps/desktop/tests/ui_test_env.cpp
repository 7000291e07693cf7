#include <gtest/gtest.h>

#include <QApplication>
#include <memory>

namespace {

class QtEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    // No desktop settings or notifications from the developer's session leak into a test.
    qputenv("XDG_CONFIG_HOME", QByteArray("/nonexistent-secchats-ui-test"));
    static int argc = 1;
    static char name[] = "secchats-ui-test";
    static char* argv[] = {name, nullptr};
    app_ = std::make_unique<QApplication>(argc, argv);
  }
  void TearDown() override { app_.reset(); }

 private:
  std::unique_ptr<QApplication> app_;
};

// Registered before main() runs; gtest_main then runs SetUp before the first test.
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new QtEnvironment);

}  // namespace
