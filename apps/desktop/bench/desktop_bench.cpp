// Desktop app benchmark (make bench): cold start to the unlocked chat list, time to open a
// 10 000-message chat, memory with it open, and scrolling through all of it.
//
//   desktop_bench --server URL --work DIR [--messages N] [--runs R]
//
// The parent prepares DIR once (two accounts, friends, N messages in one chat, through the real
// relay at URL), measures the Argon2id unlock apart (Client::open, R times), then starts itself
// R times as a fresh process (`--child`) that runs the real app objects offscreen: Session,
// MainWindow, unlock, chat list shown, open the big chat, scroll to its first message. Every
// milestone is CLOCK_MONOTONIC, shared by parent and children, so "start" includes exec and
// loading Qt. Prints one JSON line per figure family (bench/run_all.py reads them); nothing is
// asserted: these machines are noisy.
#include <sys/wait.h>
#include <unistd.h>
#include <QAbstractItemModel>
#include <QApplication>
#include <QElapsedTimer>
#include <QListView>
#include <QScrollBar>
#include <QStackedWidget>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/app_settings.hpp"
#include "core/session.hpp"
#include "core/timeline_model.hpp"
#include "secchats/client.hpp"
#include "ui/main_window.hpp"

namespace {

namespace fs = std::filesystem;
using secchats::Client;
using secchats::SecretString;

constexpr const char* kPassword = "desktop bench password";

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0) return std::strtol(line.c_str() + n + 1, nullptr, 10);
  }
  return -1;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "desktop_bench: %s\n", why.c_str());
  std::exit(1);
}

template <typename T>
T must(secchats::Result<T> r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.error().message());
  return std::move(r).value();
}
void must(const secchats::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.error().message());
}

// Two friends and one chat of `messages` messages (a tenth from the peer), in work/app.
void prepare(const fs::path& work, const std::string& server, int messages) {
  if (fs::exists(work / "prepared")) return;
  fs::remove_all(work / "app");
  fs::remove_all(work / "peer");
  std::fprintf(stderr, "desktop_bench: preparing a %d-message chat (once)...\n", messages);
  auto app = must(Client::create_account(work / "app", SecretString(kPassword), server, "Bench"),
                  "create app account");
  auto peer = must(Client::create_account(work / "peer", SecretString(kPassword), server, "Peer"),
                   "create peer account");
  must(app->add_friend(peer->user_id()), "add friend");
  must(peer->sync(), "peer sync");
  must(peer->accept(app->user_id()), "accept");
  for (int i = 0; i < 3; ++i) {
    must(app->sync(), "sync");
    must(peer->sync(), "sync");
  }
  for (int i = 0; i < messages; ++i) {
    const std::string text = "message " + std::to_string(i) +
                             (i % 7 == 0 ? " — a longer one that wraps over more than one line "
                                           "in the chat view, as real chats have them"
                                         : "");
    if (i % 10 == 9) {
      must(peer->send_text(app->user_id(), text), "peer send");
    } else {
      must(app->send_text(peer->user_id(), text), "send");
    }
    if (i % 1000 == 999) {
      must(app->sync(), "sync");
      std::fprintf(stderr, "  %d/%d\n", i + 1, messages);
    }
  }
  must(app->sync(), "sync");
  std::ofstream(work / "prepared") << messages << "\n";
}

// One cold start in this (fresh) process; prints its milestones as JSON.
int child(const fs::path& work, double spawned_ms) {
  qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen")
                                                                  : qgetenv("QT_QPA_PLATFORM"));
  int argc = 1;
  char name[] = "desktop_bench";
  char* argv[] = {name, nullptr};
  QApplication app(argc, argv);
  const double main_ms = now_ms();
  secchats::desktop::AppSettings settings(QString::fromStdString((work / "settings.ini").string()));
  secchats::desktop::Session session(QString::fromStdString((work / "app").string()));
  secchats::desktop::ui::MainWindow window(&session, &settings);
  window.resize(1000, 700);
  window.show();
  QApplication::processEvents();

  auto wait_until = [](const auto& done, double timeout_ms) {
    const double until = now_ms() + timeout_ms;
    while (!done()) {
      if (now_ms() > until) return false;
      QApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return true;
  };

  // The unlock screen is up: enter the password as the page would.
  const double unlock_asked = now_ms();
  bool opened = false;
  QObject::connect(&session, &secchats::desktop::Session::accountOpened, [&] { opened = true; });
  session.unlock(QString::fromUtf8(kPassword));
  auto* chat_list = window.findChild<QListView*>(QStringLiteral("chatList"));
  if (chat_list == nullptr) die("no chatList in the main window");
  if (!wait_until(
          [&] { return opened && chat_list->model()->rowCount() > 0 && chat_list->isVisible(); },
          60000)) {
    die("the chat list did not appear");
  }
  window.repaint();
  const double chat_list_ms = now_ms();

  // Open the big chat and wait for its newest page to be painted.
  const QModelIndex first = chat_list->model()->index(0, 0);
  const QString chat_id = first.data(Qt::UserRole + 1).toString();
  auto* timeline = window.findChild<QListView*>(QStringLiteral("timeline"));
  if (timeline == nullptr) die("no timeline in the main window");
  const double open_asked = now_ms();
  window.openChat(chat_id);
  if (!wait_until(
          [&] {
            return timeline->isVisible() && timeline->model() != nullptr &&
                   timeline->model()->rowCount() > 0;
          },
          30000)) {
    die("the chat did not open");
  }
  timeline->viewport()->repaint();
  const double opened_ms = now_ms();
  const long rss_open = status_kib("VmRSS:");

  // Scroll to the very first message a page at a time, as a user dragging up would; each step
  // is one scroll plus one synchronous repaint ("frame"), older pages loading as needed.
  std::vector<double> frames;
  QScrollBar* bar = timeline->verticalScrollBar();
  const double scroll_started = now_ms();
  int stalled = 0;
  while (now_ms() - scroll_started < 120000) {
    const double t = now_ms();
    bar->setValue(std::max(bar->minimum(), bar->value() - bar->pageStep()));
    QApplication::processEvents();
    timeline->viewport()->repaint();
    frames.push_back(now_ms() - t);
    if (bar->value() == bar->minimum() && !timeline->model()->canFetchMore({})) {
      if (++stalled > 3) break;
    } else {
      stalled = 0;
    }
  }
  const double scrolled_ms = now_ms() - scroll_started;
  const int rows = timeline->model()->rowCount();
  std::sort(frames.begin(), frames.end());
  auto pct = [&](double p) {
    return frames.empty()
               ? 0.0
               : frames[std::min(frames.size() - 1, static_cast<std::size_t>(p * frames.size()))];
  };
  std::printf(
      "{\"spawn_to_main_ms\":%.1f,\"spawn_to_chat_list_ms\":%.1f,\"unlock_to_chat_list_ms\":%.1f,"
      "\"open_chat_ms\":%.1f,\"rss_chat_open_kib\":%ld,\"scroll_all_ms\":%.1f,\"rows\":%d,"
      "\"frames\":%zu,\"frame_p50_ms\":%.2f,\"frame_p99_ms\":%.2f,\"frame_max_ms\":%.2f,"
      "\"rss_scrolled_kib\":%ld,\"hwm_kib\":%ld}\n",
      main_ms - spawned_ms, chat_list_ms - spawned_ms, chat_list_ms - unlock_asked,
      opened_ms - open_asked, rss_open, scrolled_ms, rows, frames.size(), pct(0.5), pct(0.99),
      frames.empty() ? 0.0 : frames.back(), status_kib("VmRSS:"), status_kib("VmHWM:"));
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, work;
  int messages = 10000, runs = 3;
  double spawned = -1;
  bool is_child = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--server")
      server = next();
    else if (a == "--work")
      work = next();
    else if (a == "--messages")
      messages = std::stoi(next());
    else if (a == "--runs")
      runs = std::stoi(next());
    else if (a == "--child") {
      is_child = true;
      spawned = std::stod(next());
    } else
      die("unknown option " + a);
  }
  if (work.empty()) die("usage: desktop_bench --server URL --work DIR [--messages N] [--runs R]");
  if (is_child) return child(work, spawned);
  if (server.empty()) die("--server is required");
  fs::create_directories(work);
  prepare(work, server, messages);

  // The Argon2id unlock (with the SQLCipher open), measured apart.
  std::vector<double> unlocks;
  for (int i = 0; i < runs; ++i) {
    const double t = now_ms();
    auto c = must(Client::open(fs::path(work) / "app", SecretString(kPassword)), "open");
    unlocks.push_back(now_ms() - t);
  }
  std::sort(unlocks.begin(), unlocks.end());
  std::printf("{\"unlock_ms\":%.1f,\"messages\":%d}\n", unlocks[unlocks.size() / 2], messages);
  std::fflush(stdout);

  for (int i = 0; i < runs; ++i) {
    char spawned_text[64];
    std::snprintf(spawned_text, sizeof spawned_text, "%.3f", now_ms());
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/proc/self/exe", argv[0], "--work", work.c_str(), "--child", spawned_text,
            static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a measuring run failed");
  }
  return 0;
}
