#include "zflow/clock.h"

#include <ctime>

#include <fmt/format.h>

namespace zflow {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::nanoseconds(now_ns_.load(std::memory_order_acquire)));
}

void ManualClock::Advance(std::chrono::nanoseconds delta) {
  if (delta.count() > 0) now_ns_.fetch_add(delta.count(), std::memory_order_acq_rel);
}

void ManualClock::AdvanceTo(TimePoint t) {
  long long target = t.time_since_epoch().count();
  long long current = now_ns_.load(std::memory_order_acquire);
  while (current < target &&
         !now_ns_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) {
  }
}

std::string FormatTimestamp(TimePoint t) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int millis = static_cast<int>(ms - static_cast<long long>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace zflow
