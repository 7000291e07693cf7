// libFuzzer target: the server's request handling in-process, from raw HTTP/1.1 bytes.
//
// The input is parsed with the same Beast parser and limits as net/http_server.cpp (several
// pipelined requests while the connection stays alive); each complete request runs through
// ApiRouter::handle on a real RelayService over SQLite in a temp dir made once per process.
// The reference vectors' accounts (user 8e1f..., its peer 0a1b..., group 5be0...) exist from
// the start, so the seed requests authenticate and reach the relay logic, not just the 401.
// The /blobs routes (protocol-v2 §15.3) run on an FsBlobStore in the same temp dir with two
// seed blobs of that user (blob_fixture.hpp), put back after every input that changed them.
//
// Findings (abort): a status the protocol does not document (500 = an internal error reached
// from input), an error without a plain-text reason, a JSON reply that does not parse or that
// the reference client (UnknownFields::kReject) would refuse (not for /blobs, whose replies are
// not protocol objects), a /blobs reply whose headers and file body disagree (blob_checks.hpp),
// and anything ASan/UBSan report.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "api/router.hpp"
#include "http_blob_fixture.hpp"
#include "net/blob_headers.hpp"
#include "net/http_server.hpp"
#include "secchats/common/log.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "service/notification_hub.hpp"
#include "service/relay_service.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace proto = secchats::protocol;
using namespace secchats;
using namespace secchats::server;

// The accounts of /work/shared/protocol/vectors/reference-json.json (the seed requests).
constexpr std::string_view kUserId = "8e1f0c2d3b4a59687766554433221100";
constexpr std::string_view kUserToken =
    "f3c1d2e4a5b60718293a4b5c6d7e8f90f3c1d2e4a5b60718293a4b5c6d7e8f90";
constexpr std::string_view kPeerId = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
constexpr std::string_view kPeerToken =
    "0000000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kGroupId = "5be0c1d2e3f4a5b697887766554433aa";

// Pipelined requests handled per input; more only makes inputs slower, not deeper.
constexpr int kMaxRequestsPerInput = 4;

[[noreturn]] void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_http_handler: %.*s\n  %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()),
               detail.data());
  std::abort();
}

struct Server {
  std::filesystem::path dir;
  std::unique_ptr<Storage> storage;
  NotificationHub hub;
  std::unique_ptr<RelayService> service;
  std::unique_ptr<fuzz::BlobFixture> blobs;
  std::unique_ptr<ApiRouter> router;
  HttpServerOptions http;                                          // the server's default limits
  bool verbose = std::getenv("SECCHATS_FUZZ_VERBOSE") != nullptr;  // print each reply
};

Server* g_server = nullptr;

void write_or_die(Storage& storage, WriteOp op) {
  std::promise<WriteOutcome> done;
  auto outcome = done.get_future();
  storage.submit(std::move(op), [&done](WriteOutcome o) { done.set_value(std::move(o)); });
  WriteOutcome o = outcome.get();
  if (!o.ok) fail("setup write failed", o.message);
}

void cleanup() {
  if (g_server == nullptr) return;
  g_server->storage->close();
  std::error_code ignored;
  std::filesystem::remove_all(g_server->dir, ignored);
}

// Made once per process and never destroyed (the writer thread outlives LLVMFuzzerTestOneInput).
Server& fixture() {
  if (g_server != nullptr) return *g_server;
  log::set_level(log::Level::kError);
  auto* s = new Server;
  std::error_code ec;
  const auto shm = std::filesystem::path("/dev/shm");
  const auto base =
      std::filesystem::is_directory(shm, ec) ? shm : std::filesystem::temp_directory_path();
  std::string pattern = (base / "secchats-fuzz-http-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp failed", pattern);
  s->dir = pattern;

  SqliteOptions options;
  options.data_dir = s->dir;
  options.synchronous_full = false;  // a tmpfs database: fsync buys nothing here
  auto storage = open_sqlite_storage(options);
  if (!storage.ok()) fail("cannot open storage", storage.error().message());
  s->storage = std::move(*storage);

  write_or_die(*s->storage, CreateUser{std::string(kUserId), crypto::sha256(kUserToken)});
  write_or_die(*s->storage, CreateUser{std::string(kPeerId), crypto::sha256(kPeerToken)});
  write_or_die(*s->storage, CreateGroup{std::string(kGroupId)});

  RelayLimits limits;
  limits.longpoll_timeout = std::chrono::milliseconds(1);  // /longpoll must not hold an input
  limits.max_items_per_poll = 20;  // queues grow over a run; keep each reply small
  s->service = std::make_unique<RelayService>(*s->storage, s->hub, limits);
  s->blobs =
      std::make_unique<fuzz::BlobFixture>(s->dir / "blobs", *s->storage, std::string(kUserId));
  s->router = std::make_unique<ApiRouter>(*s->service, RouterLimits{}, &s->blobs->service());
  g_server = s;
  std::atexit(cleanup);
  return *s;
}

bool is_blob_path(std::string_view path) {
  return path == "/blobs" || path.starts_with("/blobs/");
}

bool documented_status(int status) {
  switch (status) {
    case 200:  // success
    case 400:  // malformed body or HTTP
    case 401:  // wrong token
    case 403:  // not allowed
    case 404:  // unknown target or endpoint
    case 405:  // not POST
    case 413:  // body too large
    case 429:  // rate limited
    case 431:  // header too large
    case 503:  // overloaded
      return true;
    default:
      return false;
  }
}

// What a 200 JSON body of each endpoint must be, as the reference client parses it.
void check_json_body(std::string_view path, const std::string& body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(boost::json::string_view(body.data(), body.size()), ec);
  if (ec) fail("JSON reply does not parse", body);
  Status decoded = ok_status();
  const auto strict = proto::UnknownFields::kReject;
  if (path == "/register") {
    auto v = proto::decode_user(body, strict);
    if (!v.ok()) decoded = v.error();
  } else if (path == "/register2") {
    auto v = proto::decode_group(body, strict);
    if (!v.ok()) decoded = v.error();
  } else if (path == "/receive") {
    auto v = proto::decode_notifications(body, strict);
    if (!v.ok()) decoded = v.error();
  } else if (path == "/pollgroup" || path == "/pollgroups") {
    auto v = proto::decode_group_notifications(body, strict);
    if (!v.ok()) decoded = v.error();
  } else if (!value.is_object()) {
    fail("JSON reply is not an object", body);
  }
  if (!decoded.ok()) fail("reply refused by the reference client's rules", body);
}

// `path` is "" for the transport's own replies.
void check_reply(std::string_view method, std::string_view path, const HttpReply& reply) {
  const bool blob = is_blob_path(path);
  if (!blob && !documented_status(reply.status)) {
    fail("undocumented status " + std::to_string(reply.status), reply.body);
  }
  if (reply.status >= 300) {
    if (reply.body.empty() || reply.body.size() > 4096) fail("error without a short reason");
    if (reply.content_type.rfind("text/plain", 0) != 0) fail("error reason is not plain text");
  }
  if (blob) {
    // Not protocol JSON objects: {"blobId":...} and binary file bodies (protocol-v2 §15.3).
    const std::string problem = fuzz::check_blob_reply(method, path, reply);
    if (!problem.empty()) fail(problem, reply.body);
    return;
  }
  if (reply.file || reply.omit_body || !reply.headers.empty()) {
    fail("a reply outside /blobs with a file body, omitted body or extra headers");
  }
  if (reply.status != 200) return;
  if (reply.content_type == "application/json") check_json_body(path, reply.body);
}

HttpReply run_handler(ApiRouter& router, std::string_view method, std::string_view target,
                      std::string body, RequestContext context) {
  asio::io_context ioc(1);
  auto work = asio::make_work_guard(ioc);
  std::optional<HttpReply> reply;
  asio::co_spawn(ioc, router.handle(method, target, std::move(body), std::move(context)),
                 [&](std::exception_ptr e, HttpReply r) {
                   work.reset();
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& failure) {
                       fail("handler threw", failure.what());
                     }
                   }
                   reply = std::move(r);
                 });
  ioc.run();
  if (!reply) fail("handler did not complete");
  return std::move(*reply);
}

}  // namespace

namespace {

// Up to kMaxRequestsPerInput pipelined requests, as one keep-alive connection would carry them.
void run_requests(Server& s, asio::const_buffer input) {
  for (int n = 0; n < kMaxRequestsPerInput && input.size() > 0; ++n) {
    // Like the server: the parser starts with the largest limit any route takes and narrows
    // it to the request's route once the header is in, refusing an announced oversize body
    // before any of it is read. Not eager until then, so put() stops after the header.
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(s.http.max_header_bytes));
    parser.body_limit(std::max(s.http.max_body_bytes, s.router->max_body_limit()));
    bool narrowed = false;

    boost::system::error_code ec;
    while (!ec && !parser.is_done() && input.size() > 0) {
      const std::size_t used = parser.put(input, ec);
      input += used;
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;  // the rest of the input is an incomplete line
      }
      if (!ec && !narrowed && parser.is_header_done()) {
        narrowed = true;
        const std::size_t limit = s.router->body_limit(
            parser.get().method_string(), parser.get().target(), s.http.max_body_bytes);
        parser.body_limit(limit);
        if (parser.content_length() && *parser.content_length() > limit) {
          ec = http::error::body_limit;
        }
        parser.eager(true);
      }
    }
    if (ec) {
      // The transport's replies for a request it cannot hand to the router.
      HttpReply reply;
      if (ec == http::error::body_limit) {
        reply = s.router->transport_error(413, "request body too large");
      } else if (ec == http::error::header_limit) {
        reply = s.router->transport_error(431, "request header too large");
      } else {
        reply = s.router->transport_error(400, "malformed HTTP request");
      }
      check_reply("", "", reply);
      return;  // the server closes the connection after these
    }
    if (!parser.is_done()) return;  // the server would wait for more bytes, then time out

    auto request = parser.release();
    const std::string_view method = request.method_string();
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    RequestContext context;
    read_blob_headers(request, context);
    HttpReply reply =
        run_handler(*s.router, method, target, std::move(request.body()), std::move(context));
    s.blobs->note_reply(method, path, reply);
    check_reply(method, path, reply);
    if (s.verbose) {
      std::fprintf(stderr, "%.*s %.*s -> %d %s\n", static_cast<int>(method.size()), method.data(),
                   static_cast<int>(target.size()), target.data(), reply.status,
                   reply.body.substr(0, 120).c_str());
    }
    if (!request.keep_alive()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Server& s = fixture();
  run_requests(s, asio::const_buffer(data, size));
  s.blobs->restore();  // the next input starts from the same blobs
  return 0;
}
