// zflow/clock.h: where zflow reads the time from.
//
// Everything that needs "now" or a timer takes a Clock&, so tests and `--virtual-clock` runs
// are deterministic:
//
//   zflow::SystemClock clock;             // wall time
//   zflow::ManualClock test_clock(t0);    // advanced by the test (or by the engine's
//   test_clock.Advance(std::chrono::hours(1));  // virtual-time loop)
#ifndef ZFLOW_CLOCK_H_
#define ZFLOW_CLOCK_H_

#include <atomic>
#include <chrono>
#include <string>

namespace zflow {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time. Thread-safe in every implementation.
  virtual TimePoint Now() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// Time that only moves when told to; used by tests and by the virtual-time engine loop.
// Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_ns_(start.time_since_epoch().count()) {}
  TimePoint Now() const override;
  // Moves time forward by `delta` (a negative delta is ignored: time never goes back).
  void Advance(std::chrono::nanoseconds delta);
  // Sets the time to `t` if it is later than now.
  void AdvanceTo(TimePoint t);

 private:
  std::atomic<long long> now_ns_;
};

// RFC 3339 text in UTC with millisecond precision, as AWS prints timestamps in the context
// object: "2026-11-22T00:37:03.123Z".
std::string FormatTimestamp(TimePoint t);

}  // namespace zflow

#endif  // ZFLOW_CLOCK_H_
