// secchats-server: parses flags and wires storage -> service -> api -> net. Nothing else.
#include <CLI/CLI.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/router.hpp"
#include "net/http_server.hpp"
#include "secchats/common/log.hpp"
#include "service/notification_hub.hpp"
#include "service/relay_service.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace {
namespace asio = boost::asio;
using namespace secchats;
using namespace secchats::server;

struct Flags {
  std::vector<std::string> listen;
  std::string data_dir = "./data";
  int longpoll_timeout_ms = 20000;
  std::size_t max_body_bytes = 1 << 20;
  int threads = 0;
  int shutdown_grace_ms = 10000;
  std::string log_level = "info";
};

// Waits until every connection has finished (or the grace period ran out), then stops.
asio::awaitable<void> drain(asio::io_context& ioc, HttpServer& server,
                            std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(ioc);
  while (server.active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (server.active_connections() > 0) {
    log::warn("shutdown grace period over; closing remaining connections");
  }
  ioc.stop();
}

int run(const Flags& flags) {
  if (flags.log_level == "debug")
    log::set_level(log::Level::kDebug);
  else if (flags.log_level == "warn")
    log::set_level(log::Level::kWarn);
  else if (flags.log_level == "error")
    log::set_level(log::Level::kError);

  auto storage = open_sqlite_storage({flags.data_dir});
  if (!storage.ok()) {
    std::cerr << "secchats-server: " << storage.error().message() << "\n";
    return 1;
  }
  NotificationHub hub;
  RelayLimits limits;
  limits.longpoll_timeout = std::chrono::milliseconds(flags.longpoll_timeout_ms);
  RelayService service(**storage, hub, limits);
  ApiRouter router(service);

  const int threads = flags.threads > 0
                          ? flags.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  asio::io_context ioc(threads);
  HttpServerOptions net_options;
  net_options.listen =
      flags.listen.empty() ? std::vector<std::string>{"127.0.0.1:8080"} : flags.listen;
  net_options.max_body_bytes = flags.max_body_bytes;
  auto server = HttpServer::create(ioc, net_options, router);
  if (!server.ok()) {
    std::cerr << "secchats-server: " << server.error().message() << "\n";
    return 1;
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::info("shutting down: finishing requests in flight");
    (*server)->begin_shutdown();
    hub.shutdown();  // answers waiting long-polls now
    asio::co_spawn(ioc, drain(ioc, **server, std::chrono::milliseconds(flags.shutdown_grace_ms)),
                   asio::detached);
  });

  (*server)->start();
  for (const auto& endpoint : (*server)->local_endpoints()) {
    std::ostringstream line;
    line << "secchats-server listening on " << endpoint << " (http), data dir " << flags.data_dir;
    log::info(line.str());
  }

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i)
    pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool)
    t.join();
  (*storage)->close();  // commits anything still queued
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "secchats-server: the Secure Chats relay (open API v1). It stores and forwards "
      "ciphertext only."};
  Flags flags;
  app.add_option("--listen", flags.listen,
                 "Plain-HTTP listen address HOST:PORT (repeatable; port 0 = any free port)")
      ->default_str("127.0.0.1:8080");
  app.add_option("--data-dir", flags.data_dir, "Directory for the database")->capture_default_str();
  app.add_option("--longpoll-timeout-ms", flags.longpoll_timeout_ms,
                 "How long /longpoll holds a request without traffic (must stay under the "
                 "reference client's 25 s)")
      ->capture_default_str()
      ->check(CLI::Range(1, 24000));
  app.add_option("--max-body-bytes", flags.max_body_bytes,
                 "Largest accepted request body; larger ones get 413")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20));
  app.add_option("--threads", flags.threads, "Worker threads (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  app.add_option("--shutdown-grace-ms", flags.shutdown_grace_ms,
                 "On SIGTERM/SIGINT, how long to wait for requests in flight")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run(flags);
}
