// When an EventBridge Scheduler schedule fires: a parsed schedule expression evaluated in an IANA
// time zone.
//
//   Result<ScheduleExpression> e =
//       ScheduleExpression::Parse("cron(0 9 ? * MON-FRI *)", "America/New_York");
//   std::optional<TimePoint> next = e->NextAfter(clock.Now(), schedule_created_at);
//
// Expressions (the rules of EventBridge Scheduler; ValidateScheduleExpression in
// zflow/pipeline.h accepts the same set):
// - cron(Minutes Hours Day-of-month Month Day-of-week Year): values, names (JAN-DEC, SUN-SAT),
//   , - * / and, in Day-of-month, ? L W (L = last day, 15W = the weekday nearest the 15th within
//   the month), in Day-of-week, ? L # (L alone = 7 = SAT, 6L = the last Friday, 3#2 = the second
//   Tuesday). Days of the week are 1-7 = SUN-SAT; exactly one of the two day fields is '?';
//   years are 1970-2199. A range may wrap (22-2 hours, FRI-MON, NOV-FEB) except in Year.
//   "a/n" counts from a up to the field's maximum; nW past the month's last day, and d#5 in a
//   month with four such days, do not match.
// - rate(N minute|minutes|hour|hours|day|days): every N units of elapsed time (a day is 24 hours,
//   also across daylight saving time changes), from the schedule's anchor.
// - at(yyyy-mm-ddThh:mm:ss): once, at that local time.
//
// Daylight saving time, as EventBridge Scheduler documents it: a cron or at() local time that
// clocks jump over (02:30 on the spring-forward night in New York) does not fire at all; a local
// time that happens twice when clocks go back fires once, at its first occurrence.
#ifndef ZFLOW_PIPELINE_SCHEDULE_EXPRESSION_H_
#define ZFLOW_PIPELINE_SCHEDULE_EXPRESSION_H_

#include <array>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/time_zone.h"
#include "zflow/clock.h"
#include "zflow/status.h"

namespace zflow::pipeline {

enum class ScheduleKind : std::uint8_t { kCron, kRate, kAt };

// One field of a cron() expression, as the values it matches.
struct CronField {
  // Bit (value - the field's minimum) is set for each plain value: 1-7 for Day-of-week, 1970-2199
  // for Year, ... ("L" alone in Day-of-week sets SAT).
  std::bitset<230> values;
  bool any = false;                  // '?'
  bool last_day = false;             // Day-of-month: L
  std::bitset<32> nearest_weekdays;  // Day-of-month: bit n for nW
  std::bitset<8> last_weekdays;      // Day-of-week: bit d for dL
  int nth_weekday = 0;               // Day-of-week d#n: d (1-7), 0 if none
  int nth = 0;                       // and n (1-5)
};

// The six fields of a cron() expression, in order: Minutes, Hours, Day-of-month, Month,
// Day-of-week, Year.
using CronFields = std::array<CronField, 6>;

// A parsed schedule expression with its time zone. Immutable; thread-safe for concurrent reads.
class ScheduleExpression {
 public:
  // Parses `expression` (cron(...), rate(...) or at(...)) to be evaluated in `time_zone` (an
  // IANA name such as "America/New_York"; "UTC" and "" mean UTC). Errors: kInvalidArgument,
  // naming the field or part at fault and what is expected, or the unknown time zone.
  static Result<ScheduleExpression> Parse(std::string_view expression,
                                          std::string_view time_zone = "UTC");

  // The first fire time strictly after `after`, or nullopt when it never fires again (an at()
  // at or before `after`, a cron() whose years have ended, or that matches no date at all).
  // rate() fires at anchor + k * period for k >= 1 (`anchor`: the schedule's start date or
  // creation time); cron() and at() ignore `anchor`. cron() fires on whole local minutes.
  std::optional<TimePoint> NextAfter(TimePoint after, TimePoint anchor) const;

  ScheduleKind kind() const { return kind_; }
  const std::string& expression() const { return expression_; }
  // The time zone's name: "UTC" when none was given.
  const std::string& time_zone() const { return zone_.name(); }
  // rate(): the period. Precondition: kind() == kRate.
  std::chrono::seconds rate_period() const { return rate_period_; }

 private:
  ScheduleExpression() = default;
  std::optional<TimePoint> NextCronAfter(TimePoint after) const;

  ScheduleKind kind_ = ScheduleKind::kCron;
  std::string expression_;
  TimeZone zone_ = TimeZone::Utc();
  CronFields cron_{};                    // kCron
  std::chrono::seconds rate_period_{0};  // kRate
  std::chrono::local_seconds at_{};      // kAt
};

}  // namespace zflow::pipeline

#endif  // ZFLOW_PIPELINE_SCHEDULE_EXPRESSION_H_
