// Shared by the desktop tests that drive the app next to CLI users against a real relay
// (ui_e2e_test, screens_test): the CLI's --json lines, commands that must succeed, syncing
// until an event arrives, and timeline rows by text.
#pragma once

#include <gtest/gtest.h>

#include <QAbstractItemModel>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/timeline_model.hpp"
#include "support/cli_process.hpp"

namespace secchats::desktop::testing {

inline constexpr int kNetworkMs = 30000;  // Argon2id, a relay round trip and a long-poll wake-up

inline std::vector<QJsonObject> jsonLines(const secchats::testing::CliResult& r) {
  std::vector<QJsonObject> out;
  for (const auto& line : r.lines()) {
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(line));
    if (doc.isObject()) out.push_back(doc.object());
  }
  return out;
}

// Runs a CLI command that must succeed; its --json lines.
inline std::vector<QJsonObject> ok(const secchats::testing::CliUser& user,
                                   const std::vector<std::string>& args) {
  const secchats::testing::CliResult r = user.run(args);
  EXPECT_EQ(r.exit_code, 0) << args.front() << ": " << r.err;
  return jsonLines(r);
}

// A CLI user `nick` in dir/nick, registered with `init` on the relay at `url`; `id` gets the new
// user id ("" if init failed, which the test has then already reported).
inline secchats::testing::CliUser initCliUser(const std::filesystem::path& dir,
                                              const std::string& url, const std::string& nick,
                                              QString* id) {
  secchats::testing::CliUser user(dir / nick, "correct horse " + nick);
  const auto lines = ok(user, {"init", "--server", url, "--nick", nick});
  EXPECT_EQ(lines.size(), 1u);
  *id = lines.empty() ? QString() : lines.front().value(QStringLiteral("userId")).toString();
  return user;
}

// Syncs `user` until an event matches (returned), or gives up after `ms` (empty object).
inline QJsonObject syncUntil(const secchats::testing::CliUser& user,
                             const std::function<bool(const QJsonObject&)>& match,
                             int ms = kNetworkMs) {
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < ms) {
    for (const QJsonObject& e : ok(user, {"sync"})) {
      if (match(e)) return e;
    }
    QTest::qWait(200);
  }
  return {};
}

// The first row of `m` for which `match` holds; invalid if none.
inline QModelIndex findRow(QAbstractItemModel* m,
                           const std::function<bool(const QModelIndex&)>& match) {
  for (int r = 0; r < m->rowCount(); ++r) {
    const QModelIndex i = m->index(r, 0);
    if (match(i)) return i;
  }
  return {};
}

// The timeline row whose text is `text`; invalid if none.
inline QModelIndex rowWithText(QAbstractItemModel* m, const QString& text) {
  return findRow(
      m, [&](const QModelIndex& i) { return i.data(TimelineModel::kTextRole).toString() == text; });
}

}  // namespace secchats::desktop::testing
