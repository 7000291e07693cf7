#include "service/blob_service.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/statvfs.h>

#include <cctype>

#include "secchats/common/clock.hpp"
#include "secchats/common/log.hpp"
#include "service/user_auth.hpp"

namespace secchats::server {
namespace asio = boost::asio;

namespace {

// GCC 12 mishandles temporaries inside co_await expressions: named locals only below.

// Runs `fn` on `pool` and resumes the awaiting coroutine on its own executor with the result.
template <typename Fn>
auto on_pool(asio::thread_pool& pool, Fn fn) -> asio::awaitable<decltype(fn())> {
  using R = decltype(fn());
  auto initiate = [&pool](auto handler, Fn work) {
    auto ex = asio::get_associated_executor(handler);
    asio::post(pool, [handler = std::move(handler), ex, work = std::move(work)]() mutable {
      R result = work();
      asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  R result = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      initiate, asio::use_awaitable, std::move(fn));
  co_return result;
}

// A decimal header value: digits only, no sign, no overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

Error not_found() {
  return Error(ErrorCode::kNotFound, "no such blob");
}

// The free-space "error" of a store without a directory: the reserve is not checked.
Error not_checked() {
  return Error(ErrorCode::kUnavailable, "no blob directory to check");
}

}  // namespace

struct BlobService::Purger {
  Purger(asio::any_io_executor ex, std::chrono::milliseconds every)
      : strand(asio::make_strand(ex)), timer(strand), interval(every) {}
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;
  std::chrono::milliseconds interval;
  std::atomic<bool> stopped{false};
};

BlobService::BlobService(BlobStore& store, Storage& storage, BlobLimits limits,
                         std::string blob_directory, FreeSpace free_space)
    : store_(store),
      storage_(storage),
      limits_(limits),
      directory_(std::move(blob_directory)),
      free_space_(std::move(free_space)) {
  if (!free_space_ && !directory_.empty()) {
    free_space_ = [dir = directory_]() -> Result<std::uint64_t> {
      struct statvfs st {};
      if (::statvfs(dir.c_str(), &st) != 0) {
        return Error(ErrorCode::kUnavailable, "statvfs failed on the blob directory");
      }
      return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
    };
  }
}

BlobService::~BlobService() {
  stop();
  io_pool_.join();
}

Result<std::string> BlobService::authenticate(const BlobCredentials& credentials) {
  if (!credentials.user_id || credentials.user_id->empty() || credentials.user_id->size() > 128) {
    return Error(ErrorCode::kUnauthenticated, "missing X-Secchats-User header");
  }
  const std::string header = credentials.authorization.value_or("");
  std::string_view auth = header;
  constexpr std::string_view kBearer = "bearer ";
  bool bearer = auth.size() > kBearer.size();
  for (std::size_t i = 0; bearer && i < kBearer.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(auth[i])) == kBearer[i];
  }
  if (!bearer) {
    return Error(ErrorCode::kUnauthenticated, "missing 'Authorization: Bearer <authToken>' header");
  }
  auth.remove_prefix(kBearer.size());
  while (!auth.empty() && auth.front() == ' ')
    auth.remove_prefix(1);
  while (!auth.empty() && auth.back() == ' ')
    auth.remove_suffix(1);
  if (auth.empty()) {
    return Error(ErrorCode::kUnauthenticated, "missing 'Authorization: Bearer <authToken>' header");
  }
  SC_TRY(authenticate_user(storage_, *credentials.user_id, std::string(auth)));
  return *credentials.user_id;
}

Result<std::string> BlobService::owned(const BlobCredentials& credentials, const std::string& id) {
  SC_ASSIGN_OR_RETURN(std::string user, authenticate(credentials));
  if (!is_blob_id(id)) return not_found();
  SC_ASSIGN_OR_RETURN(BlobState s, store_.state(id));
  // Another user's blob is answered exactly like an unknown one.
  if (s.owner != user) return not_found();
  return user;
}

Result<std::string> BlobService::admit(const std::string& owner, std::uint64_t length) {
  std::lock_guard lock(admit_mutex_);
  const BlobUsage usage = store_.usage(owner);
  if (limits_.max_unfinished_uploads > 0 && usage.unfinished >= limits_.max_unfinished_uploads) {
    return Error(ErrorCode::kRateLimited,
                 "too many unfinished uploads; finish or delete one first");
  }
  if (usage.bytes + length > limits_.quota_bytes) {
    return Error(ErrorCode::kRefused,
                 "this upload would exceed your storage quota on the relay (space frees up as your "
                 "older files expire with the relay's retention)");
  }
  // No reserve to check without a directory (the PostgreSQL store): the database's own
  // disk-full error (SQLSTATE 53100) reaches the client as 507 through kRefused.
  auto available = free_space_ ? free_space_() : Result<std::uint64_t>(not_checked());
  if (available.ok()) {
    // Uploads already announced will take their space too.
    const std::uint64_t promised = store_.totals().unfinished_pending;
    if (*available < limits_.min_free_bytes + promised + length) {
      return Error(ErrorCode::kRefused, "the relay is low on disk space; try again later");
    }
  }
  return store_.create(owner, length);
}

template <typename T>
Result<T> BlobService::counted(Result<T> result) {
  if (!result.ok()) {
    if (result.error().code() == ErrorCode::kTooLarge) too_large_.fetch_add(1);
    if (result.error().code() == ErrorCode::kRefused) insufficient_storage_.fetch_add(1);
  }
  return result;
}

asio::awaitable<Result<std::string>> BlobService::create(BlobCredentials credentials,
                                                         std::optional<std::string> upload_length) {
  auto work = [this, credentials = std::move(credentials),
               upload_length = std::move(upload_length)]() -> Result<std::string> {
    SC_ASSIGN_OR_RETURN(std::string user, authenticate(credentials));
    if (!upload_length) return Error(ErrorCode::kInvalidArgument, "missing Upload-Length header");
    auto length = parse_decimal(*upload_length);
    if (!length) return Error(ErrorCode::kInvalidArgument, "Upload-Length must be decimal bytes");
    if (*length == 0) return Error(ErrorCode::kInvalidArgument, "Upload-Length must be at least 1");
    if (*length > limits_.max_blob_bytes) {
      return Error(ErrorCode::kTooLarge,
                   "the file is larger than this relay takes (" + std::to_string(*length) +
                       " bytes encrypted, at most " + std::to_string(limits_.max_blob_bytes) + ")");
    }
    return admit(user, *length);
  };
  Result<std::string> result = co_await on_pool(io_pool_, std::move(work));
  co_return counted(std::move(result));
}

asio::awaitable<Result<BlobState>> BlobService::state(BlobCredentials credentials, std::string id) {
  auto work = [this, credentials = std::move(credentials),
               id = std::move(id)]() -> Result<BlobState> {
    SC_TRY(owned(credentials, id));
    return store_.state(id);
  };
  Result<BlobState> result = co_await on_pool(io_pool_, std::move(work));
  co_return result;
}

asio::awaitable<Result<AppendOutcome>> BlobService::append(BlobCredentials credentials,
                                                           std::string id,
                                                           std::optional<std::string> upload_offset,
                                                           std::string bytes) {
  auto work = [this, credentials = std::move(credentials), id = std::move(id),
               upload_offset = std::move(upload_offset),
               bytes = std::move(bytes)]() -> Result<AppendOutcome> {
    SC_TRY(owned(credentials, id));
    if (!upload_offset) return Error(ErrorCode::kInvalidArgument, "missing Upload-Offset header");
    auto offset = parse_decimal(*upload_offset);
    if (!offset) return Error(ErrorCode::kInvalidArgument, "Upload-Offset must be decimal bytes");
    SC_ASSIGN_OR_RETURN(AppendOutcome outcome, store_.append(id, *offset, bytes));
    if (outcome.accepted) bytes_uploaded_.fetch_add(bytes.size(), std::memory_order_relaxed);
    return outcome;
  };
  Result<AppendOutcome> result = co_await on_pool(io_pool_, std::move(work));
  co_return counted(std::move(result));
}

asio::awaitable<Result<BlobReader>> BlobService::open(std::string id) {
  auto work = [this, id = std::move(id)]() -> Result<BlobReader> {
    if (!is_blob_id(id)) return not_found();
    return store_.open(id);
  };
  Result<BlobReader> result = co_await on_pool(io_pool_, std::move(work));
  co_return result;
}

asio::awaitable<Result<std::string>> BlobService::read_piece(
    std::shared_ptr<const BlobReader> reader, std::uint64_t offset, std::size_t max_bytes) {
  auto work = [reader = std::move(reader), offset, max_bytes]() -> Result<std::string> {
    return reader->read(offset, max_bytes);
  };
  Result<std::string> result = co_await on_pool(io_pool_, std::move(work));
  co_return result;
}

asio::awaitable<Status> BlobService::remove(BlobCredentials credentials, std::string id) {
  auto work = [this, credentials = std::move(credentials), id = std::move(id)]() -> Status {
    SC_TRY(owned(credentials, id));
    return store_.remove(id);
  };
  Status result = co_await on_pool(io_pool_, std::move(work));
  co_return result;
}

void BlobService::count_downloaded(std::uint64_t bytes) {
  bytes_downloaded_.fetch_add(bytes, std::memory_order_relaxed);
}

BlobStats BlobService::stats() {
  BlobStats s;
  s.totals = store_.totals();
  s.bytes_uploaded = bytes_uploaded_.load(std::memory_order_relaxed);
  s.bytes_downloaded = bytes_downloaded_.load(std::memory_order_relaxed);
  s.too_large = too_large_.load(std::memory_order_relaxed);
  s.insufficient_storage = insufficient_storage_.load(std::memory_order_relaxed);
  s.purged = purged_.load(std::memory_order_relaxed);
  return s;
}

BlobPurgeResult BlobService::purge_now() {
  const std::int64_t now = unix_millis_now();
  const std::int64_t complete_before =
      limits_.max_age.count() > 0 ? now - static_cast<std::int64_t>(limits_.max_age.count()) : 0;
  const std::int64_t unfinished_before =
      now - static_cast<std::int64_t>(limits_.unfinished_idle.count());
  BlobPurgeResult r = store_.purge(complete_before, unfinished_before);
  const std::uint64_t removed = r.complete_removed + r.unfinished_removed;
  purged_.fetch_add(removed, std::memory_order_relaxed);
  if (removed > 0) {
    log::info("blob retention: removed " + std::to_string(r.complete_removed) +
              " expired blobs and " + std::to_string(r.unfinished_removed) + " idle uploads");
  }
  return r;
}

void BlobService::start_purging(asio::any_io_executor executor,
                                std::chrono::milliseconds interval) {
  purger_ = std::make_shared<Purger>(std::move(executor), interval);
  auto loop = [](BlobService* self, std::shared_ptr<Purger> p) -> asio::awaitable<void> {
    while (!p->stopped) {
      auto work = [self] { return self->purge_now(); };
      BlobPurgeResult done = co_await on_pool(self->io_pool_, std::move(work));
      (void)done;
      if (p->stopped) break;
      p->timer.expires_after(p->interval);
      boost::system::error_code ec;
      auto on_timer = asio::redirect_error(asio::use_awaitable, ec);
      co_await p->timer.async_wait(on_timer);
    }
  };
  asio::co_spawn(purger_->strand, loop(this, purger_), asio::detached);
}

void BlobService::stop() {
  if (!purger_ || purger_->stopped.exchange(true)) return;
  asio::post(purger_->strand, [p = purger_] { p->timer.cancel(); });
}

}  // namespace secchats::server
