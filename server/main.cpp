// secchats-server: parses flags and wires storage -> service -> api -> net. Nothing else.
#include <CLI/CLI.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/router.hpp"
#include "backend/relay_backend.hpp"
#include "migrate/migrate.hpp"
#include "net/http_server.hpp"
#include "net/io_context_pool.hpp"
#include "net/tls_context.hpp"
#include "secchats/common/log.hpp"
#include "service/blob_service.hpp"
#include "service/notification_hub.hpp"
#include "service/relay_service.hpp"
#include "service/retention.hpp"
#include "storage/postgres/pg_listener.hpp"

namespace {
namespace asio = boost::asio;
using namespace secchats;
using namespace secchats::server;

struct Flags {
  std::vector<std::string> listen;
  std::vector<std::string> tls_listen;
  std::string tls_cert;
  std::string tls_key;
  bool tls_self_signed = false;
  std::string tls_hostname;
  bool allow_plain_http = false;
  std::string data_dir = "./data";
  std::string storage_uri;  // "" = SQLite in data_dir
  int pg_pool_size = 8;
  int longpoll_timeout_ms = 20000;
  std::size_t max_body_bytes = 1 << 20;
  int threads = 0;
  int shutdown_grace_ms = 10000;
  std::string log_level = "info";
  int retention_days = 30;
  std::int64_t retention_ms = 0;  // hidden, for tests: overrides --retention-days when > 0
  int purge_interval_ms = 300000;
  // Limits (see README): 0 disables a rate; a burst of 0 means twice the rate.
  std::size_t max_connections = 10000;
  int request_timeout_ms = 30000;
  int idle_timeout_ms = 60000;
  std::size_t max_longpolls_per_user = 4;
  double register_rate_per_min = 10;
  double register_burst = 0;
  double ip_rate_per_sec = 200;
  double ip_burst = 0;
  double user_rate_per_sec = 50;
  double user_burst = 0;
  bool trust_forwarded_for = false;
  // Blobs (protocol-v2 §15.3).
  std::uint64_t max_blob_bytes = std::uint64_t{100} << 20;
  std::uint64_t blob_quota_bytes = std::uint64_t{1} << 30;
  std::uint64_t blob_min_free_bytes = std::uint64_t{256} << 20;
  std::size_t max_unfinished_uploads = 8;
  std::int64_t blob_upload_idle_ms = 24 * 3600 * 1000;  // hidden, for tests
};

double burst_or_twice(double burst, double rate) {
  return burst > 0 ? burst : 2 * rate;
}

// Every connection is a file descriptor: raise the soft limit to the hard one, and warn when
// even that leaves no room for --max-connections.
void check_descriptor_limit(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  constexpr rlim_t kReserve = 64;  // database, listeners, logs
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + kReserve) {
    log::warn("the open-file limit (" + std::to_string(limit.rlim_cur) +
              ") is below --max-connections " + std::to_string(max_connections) +
              " plus a reserve: accepts will fail before the limit is reached (raise ulimit -n)");
  }
}

// Waits until every connection has finished (or the grace period ran out), then stops.
asio::awaitable<void> drain(IoContextPool& pool, HttpServer& server,
                            std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(pool.main());
  while (server.active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (server.active_connections() > 0) {
    log::warn("shutdown grace period over; closing remaining connections");
  }
  pool.stop();
}

void log_fingerprint(const std::string& what, const CertificateFingerprint& fp) {
  log::info(what + " SHA-256 fingerprint " + fp.hex);
  log::info("clients pin it with: --pin-sha256 " + fp.base64);
}

// The TLS context the flags ask for (null without --tls-listen), with the certificate's
// fingerprint printed.
Result<std::shared_ptr<TlsContext>> setup_tls(const Flags& flags) {
  const bool files = !flags.tls_cert.empty() || !flags.tls_key.empty();
  if (flags.tls_listen.empty()) {
    if (files || flags.tls_self_signed || !flags.tls_hostname.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "--tls-cert, --tls-key, --tls-self-signed and --tls-hostname need "
                   "--tls-listen HOST:PORT");
    }
    return std::shared_ptr<TlsContext>();
  }
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return Error(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
  }
  if (!files && !flags.tls_self_signed) {
    return Error(ErrorCode::kInvalidArgument,
                 "--tls-listen needs --tls-cert FILE --tls-key FILE, or --tls-self-signed for "
                 "a development certificate");
  }
  if (!flags.tls_hostname.empty() && (files || !flags.tls_self_signed)) {
    return Error(ErrorCode::kInvalidArgument,
                 "--tls-hostname only applies to the --tls-self-signed certificate");
  }
  std::filesystem::path cert = flags.tls_cert;
  std::filesystem::path key = flags.tls_key;
  if (!files) {
    SC_ASSIGN_OR_RETURN(SelfSignedFiles self_signed,
                        ensure_self_signed_certificate(flags.data_dir, flags.tls_hostname));
    cert = self_signed.cert_file;
    key = self_signed.key_file;
    log::info(std::string(self_signed.created ? "created" : "using") +
              " the self-signed development certificate " + cert.string());
  }
  SC_ASSIGN_OR_RETURN(auto tls, TlsContext::create(cert, key));
  log_fingerprint("TLS certificate " + cert.string(), tls->fingerprint());
  return tls;
}

// SIGHUP: new TLS connections get the certificate and key as they are on disk now.
asio::awaitable<void> reload_on_sighup(asio::signal_set& hangups, std::shared_ptr<TlsContext> tls) {
  for (;;) {
    boost::system::error_code ec;
    co_await hangups.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (!tls) {
      log::info("SIGHUP: no TLS certificate to reload");
      continue;
    }
    Status reloaded = tls->reload();
    if (!reloaded.ok()) {
      log::error("SIGHUP: TLS reload failed, still serving the previous certificate: " +
                 reloaded.error().message());
      continue;
    }
    log_fingerprint("SIGHUP: reloaded TLS certificate;", tls->fingerprint());
  }
}

int run(const Flags& flags) {
  if (flags.log_level == "debug")
    log::set_level(log::Level::kDebug);
  else if (flags.log_level == "warn")
    log::set_level(log::Level::kWarn);
  else if (flags.log_level == "error")
    log::set_level(log::Level::kError);

  auto backend = open_relay_backend({flags.data_dir, flags.storage_uri, flags.pg_pool_size});
  if (!backend.ok()) {
    std::cerr << "secchats-server: " << backend.error().message() << "\n";
    return 1;
  }
  auto& storage = backend->storage;
  log::info("storage " + backend->description);
  NotificationHub hub;
  // Other relays' commits, through PostgreSQL LISTEN/NOTIFY; after a break every long-poll
  // re-checks storage, since notifications sent meanwhile are lost.
  std::unique_ptr<PgListener> wake_listener;
  if (backend->postgres) {
    PgListenerOptions listen_options;
    listen_options.uri = flags.storage_uri;
    auto started = PgListener::start(
        listen_options, [&hub](const std::string& key) { hub.notify(key); },
        [&hub] { hub.wake_all(); });
    if (!started.ok()) {
      std::cerr << "secchats-server: LISTEN connection: " << started.error().message() << "\n";
      return 1;
    }
    wake_listener = std::move(started).value();
  }
  RelayLimits limits;
  limits.longpoll_timeout = std::chrono::milliseconds(flags.longpoll_timeout_ms);
  limits.max_longpolls_per_user = flags.max_longpolls_per_user;
  limits.user_writes_per_second = flags.user_rate_per_sec;
  limits.user_write_burst = burst_or_twice(flags.user_burst, flags.user_rate_per_sec);
  RelayService service(*storage, hub, limits);
  RouterLimits router_limits;
  router_limits.requests_per_second = flags.ip_rate_per_sec;
  router_limits.request_burst = burst_or_twice(flags.ip_burst, flags.ip_rate_per_sec);
  router_limits.registrations_per_minute = flags.register_rate_per_min;
  router_limits.registration_burst =
      burst_or_twice(flags.register_burst, flags.register_rate_per_min);
  router_limits.trust_forwarded_for = flags.trust_forwarded_for;
  // The pool first: everything below that holds a timer on its io_contexts (the blob and
  // retention purgers) must be destroyed before the io_contexts are.
  const int threads = flags.threads > 0
                          ? flags.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  IoContextPool pool(static_cast<std::size_t>(threads));
  asio::io_context& ioc = pool.main();
  BlobLimits blob_limits;
  blob_limits.max_blob_bytes = flags.max_blob_bytes;
  blob_limits.quota_bytes = flags.blob_quota_bytes;
  blob_limits.min_free_bytes = flags.blob_min_free_bytes;
  blob_limits.max_unfinished_uploads = flags.max_unfinished_uploads;
  blob_limits.unfinished_idle = std::chrono::milliseconds(flags.blob_upload_idle_ms);
  blob_limits.max_age = flags.retention_ms > 0 ? std::chrono::milliseconds(flags.retention_ms)
                                               : std::chrono::hours(24) * flags.retention_days;
  // No directory on PostgreSQL: the database answers "disk full" itself (507).
  BlobService blobs(*backend->blobs, *storage, blob_limits, backend->blob_directory.string());
  ApiRouter router(service, router_limits, &blobs);
  if (wake_listener) {
    router.add_varz_source([l = wake_listener.get()] {
      const PgListenerStats s = l->stats();
      return std::vector<std::pair<std::string, std::int64_t>>{
          {"listen_connected", s.listening ? 1 : 0},
          {"listen_reconnects", static_cast<std::int64_t>(s.reconnects)},
          {"listen_notifications", static_cast<std::int64_t>(s.notifications)}};
    });
  }

  RetentionOptions retention;
  retention.max_age = flags.retention_ms > 0 ? std::chrono::milliseconds(flags.retention_ms)
                                             : std::chrono::hours(24) * flags.retention_days;
  retention.interval = std::chrono::milliseconds(flags.purge_interval_ms);
  RetentionPurger purger(ioc.get_executor(), *storage, retention);
  service.attach_retention(&purger);
  auto tls = setup_tls(flags);
  if (!tls.ok()) {
    std::cerr << "secchats-server: " << tls.error().message() << "\n";
    return 1;
  }
  HttpServerOptions net_options;
  // Without any listener flag: plain HTTP on loopback port 8080.
  net_options.listen = flags.listen.empty() && flags.tls_listen.empty()
                           ? std::vector<std::string>{"127.0.0.1:8080"}
                           : flags.listen;
  net_options.tls_listen = flags.tls_listen;
  net_options.tls = *tls;
  net_options.allow_plain_http = flags.allow_plain_http;
  net_options.max_body_bytes = flags.max_body_bytes;
  net_options.max_connections = flags.max_connections;
  net_options.request_timeout = std::chrono::milliseconds(flags.request_timeout_ms);
  net_options.idle_timeout = std::chrono::milliseconds(flags.idle_timeout_ms);
  check_descriptor_limit(flags.max_connections);
  auto server = HttpServer::create(pool, net_options, router);
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
    if (wake_listener) wake_listener->stop();
    purger.stop();
    blobs.stop();
    asio::co_spawn(ioc, drain(pool, **server, std::chrono::milliseconds(flags.shutdown_grace_ms)),
                   asio::detached);
  });

  asio::signal_set hangups(ioc, SIGHUP);
  asio::co_spawn(ioc, reload_on_sighup(hangups, *tls), asio::detached);

  (*server)->start();
  purger.start();  // first purge now, then every --purge-interval-ms
  blobs.start_purging(ioc.get_executor(), std::chrono::milliseconds(flags.purge_interval_ms));
  for (const auto& listener : (*server)->listeners()) {
    std::ostringstream line;
    line << "secchats-server listening on " << listener.endpoint
         << (listener.tls ? " (https)" : " (http)") << ", data dir " << flags.data_dir;
    log::info(line.str());
  }

  pool.run();
  if (wake_listener) wake_listener->stop();
  storage->close();  // commits anything still queued
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && std::string_view(argv[1]) == "migrate")
    return secchats::server::run_migrate_command(argc - 1, argv + 1);
  CLI::App app{
      "secchats-server: the Secure Chats relay (open API v1). It stores and forwards "
      "ciphertext only.\n"
      "  secchats-server migrate --from DATA_DIR --to postgresql://USER@HOST:PORT/DB\n"
      "  copies a stopped SQLite relay into PostgreSQL (see `secchats-server migrate --help`)."};
  Flags flags;
  app.add_option("--listen", flags.listen,
                 "Plain-HTTP listen address HOST:PORT (repeatable; port 0 = any free port; "
                 "loopback only unless --allow-plain-http)")
      ->default_str("127.0.0.1:8080 (none if --tls-listen is given)");
  app.add_option("--tls-listen", flags.tls_listen,
                 "HTTPS listen address HOST:PORT (repeatable; port 0 = any free port)");
  app.add_option("--tls-cert", flags.tls_cert,
                 "PEM certificate chain for --tls-listen (leaf first); reloaded on SIGHUP");
  app.add_option("--tls-key", flags.tls_key,
                 "PEM private key (not encrypted) for --tls-cert; reloaded on SIGHUP");
  app.add_flag("--tls-self-signed", flags.tls_self_signed,
               "Without --tls-cert/--tls-key: create once and keep a self-signed development "
               "certificate in DATA_DIR/tls and print its fingerprint");
  app.add_option("--tls-hostname", flags.tls_hostname,
                 "Extra DNS name or IP address for the --tls-self-signed certificate");
  app.add_flag("--allow-plain-http", flags.allow_plain_http,
               "Allow --listen on non-loopback addresses (only behind a TLS-terminating "
               "reverse proxy)");
  app.add_option("--data-dir", flags.data_dir,
                 "Directory for the SQLite database and blobs/ for attachment blobs (without "
                 "--storage), and the --tls-self-signed certificate")
      ->capture_default_str();
  app.add_option("--storage", flags.storage_uri,
                 "PostgreSQL for messages and blobs instead of --data-dir: a libpq connection "
                 "URI postgresql://USER@HOST:PORT/DB; several relays may share one database "
                 "(docs/operations.md)")
      ->check([](const std::string& uri) { return check_storage_uri(uri); });
  app.add_option("--pg-pool-size", flags.pg_pool_size,
                 "PostgreSQL read connections per relay (with --storage)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--longpoll-timeout-ms", flags.longpoll_timeout_ms,
                 "How long /longpoll holds a request without traffic (must stay under the "
                 "reference client's 25 s)")
      ->capture_default_str()
      ->check(CLI::Range(1, 24000));
  app.add_option("--max-body-bytes", flags.max_body_bytes,
                 "Largest accepted request body; larger ones get 413")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20));
  app.add_option("--max-connections", flags.max_connections,
                 "Connections served at once; further ones are answered 503 and closed")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  app.add_option("--request-timeout-ms", flags.request_timeout_ms,
                 "A request (headers and body) must arrive within this time of its first byte; "
                 "slower connections are closed")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  app.add_option("--idle-timeout-ms", flags.idle_timeout_ms,
                 "How long a kept-alive connection may wait for its next request")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600000));
  app.add_option("--max-longpolls-per-user", flags.max_longpolls_per_user,
                 "Concurrent /longpoll requests per user; more get 429 (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{10000}));
  app.add_option("--register-rate-per-min", flags.register_rate_per_min,
                 "/register calls per minute per client address; more get 429 (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--register-burst", flags.register_burst,
                 "/register calls a quiet address may make at once (0 = twice the rate)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--ip-rate-per-sec", flags.ip_rate_per_sec,
                 "Requests per second per client address; more get 429 (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--ip-burst", flags.ip_burst,
                 "Requests a quiet address may make at once (0 = twice the rate)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--user-rate-per-sec", flags.user_rate_per_sec,
                 "Writes (/postmsg, /postgroup, /connect, /connect2, /groupinv, /register2) per "
                 "second per user; more get 429 (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--user-burst", flags.user_burst,
                 "Writes a quiet user may make at once (0 = twice the rate)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_flag("--trust-forwarded-for", flags.trust_forwarded_for,
               "Count the per-address limits by the last X-Forwarded-For address (only behind a "
               "reverse proxy that sets it)");
  app.add_option("--max-blob-bytes", flags.max_blob_bytes,
                 "Largest attachment blob (its Upload-Length, ciphertext bytes); larger uploads "
                 "get 413")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  app.add_option("--blob-quota-bytes", flags.blob_quota_bytes,
                 "Blob bytes a user may keep on the relay, unfinished uploads counted at their "
                 "full length; more get 507")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 50));
  app.add_option("--blob-min-free-bytes", flags.blob_min_free_bytes,
                 "Disk space kept free under DATA_DIR/blobs; uploads that would eat into it "
                 "get 507")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 50));
  app.add_option("--max-unfinished-uploads", flags.max_unfinished_uploads,
                 "Blob uploads a user may have in progress at once; more get 429 (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000}));
  app.add_option("--blob-upload-idle-ms", flags.blob_upload_idle_ms,
                 "Unfinished blob uploads without progress for this long are deleted")
      ->group("")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{36500} * 86400000));
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
  app.add_option("--retention-days", flags.retention_days,
                 "Delete queued items, group messages and attachment blobs older than this "
                 "many days (0 = keep forever)")
      ->capture_default_str()
      ->check(CLI::Range(0, 36500));
  // Hidden: for tests and operators tuning the purge.
  app.add_option("--retention-ms", flags.retention_ms,
                 "Retention period in milliseconds; overrides --retention-days when > 0")
      ->group("")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{36500} * 86400000));
  app.add_option("--purge-interval-ms", flags.purge_interval_ms,
                 "Time between background retention purges")
      ->group("")
      ->capture_default_str()
      ->check(CLI::Range(10, 86400000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run(flags);
}
