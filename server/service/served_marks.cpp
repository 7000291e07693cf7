#include "service/served_marks.hpp"

namespace secchats::server {

ServedMarks::ServedMarks(ServedMarksOptions options, Clock clock)
    : idle_expiry_(options.idle_expiry),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      marks_(options.max_users, options.shards) {}

void ServedMarks::expire(Marks::Shard& shard, std::chrono::steady_clock::time_point now) const {
  const auto cutoff = now - idle_expiry_;
  shard.forget_oldest_while(
      [&](const Marks::Entry& entry) { return entry.value.last_used < cutoff; });
}

void ServedMarks::record(std::string_view user_id, std::int64_t served_up_to) {
  const auto now = clock_();
  marks_.with_shard(user_id, [&](Marks::Shard& shard) {
    expire(shard, now);
    Mark& mark = shard.find_or_insert(user_id, Mark{});
    mark.served_up_to = served_up_to;
    mark.last_used = now;
  });
}

std::optional<std::int64_t> ServedMarks::served_up_to(std::string_view user_id) {
  const auto now = clock_();
  return marks_.with_shard(user_id, [&](Marks::Shard& shard) -> std::optional<std::int64_t> {
    expire(shard, now);
    Mark* mark = shard.find(user_id);
    if (mark == nullptr) return std::nullopt;
    mark->last_used = now;
    return mark->served_up_to;
  });
}

std::size_t ServedMarks::tracked_users() const {
  return marks_.size();
}

}  // namespace secchats::server
