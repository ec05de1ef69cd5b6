// IANA time zones ("America/New_York", "Asia/Kolkata") read from the system's tz database: the
// TZif files (RFC 8536) under /usr/share/zoneinfo, Debian's `tzdata` package. Used to evaluate
// schedule expressions in local time.
//
//   Result<TimeZone> ny = TimeZone::Load("America/New_York");
//   std::chrono::seconds offset = ny->OffsetAt(instant);             // -4h in summer
//   std::optional<std::chrono::sys_seconds> t = ny->FirstInstantAt(local);  // nullopt in a gap
//
// GCC 12's <chrono> has no time zone database, and Debian's build of Howard Hinnant's date
// library reads only the transitions a TZif file lists (up to 2037): it ignores the footer rule,
// so it loses daylight saving time after 2037. This reader applies the footer rule (a POSIX TZ
// string such as "EST5EDT,M3.2.0,M11.1.0") to every instant after the last listed transition.
#ifndef ZFLOW_PIPELINE_TIME_ZONE_H_
#define ZFLOW_PIPELINE_TIME_ZONE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zflow/status.h"

namespace zflow::pipeline {

inline constexpr std::string_view kZoneInfoDir = "/usr/share/zoneinfo";

// An immutable time zone: UTC offsets by instant. Cheap enough to copy (a few hundred bytes to a
// few KB); thread-safe for concurrent reads.
class TimeZone {
 public:
  // UTC (offset 0 at every instant), without reading any file.
  static TimeZone Utc();

  // Loads the zone `name` from `zoneinfo_dir`. "UTC" needs no file. Errors: kInvalidArgument
  // when `name` is not a zone there (the message names it and gives examples), kDataLoss when
  // its file is not valid TZif data.
  static Result<TimeZone> Load(std::string_view name, std::string_view zoneinfo_dir = kZoneInfoDir);

  // Parses TZif data (versions 1 to 4) for the zone `name`. Leap-second records are ignored.
  // Error: kDataLoss, saying what is wrong.
  static Result<TimeZone> FromTzif(std::string_view name, std::string_view data);

  const std::string& name() const { return name_; }

  // The UTC offset (local time minus UTC) at instant `t`.
  std::chrono::seconds OffsetAt(std::chrono::sys_seconds t) const;

  // The first instant whose local time is `local`: the earlier of two when clocks go back and
  // `local` happens twice; nullopt when clocks jump forward over `local`.
  std::optional<std::chrono::sys_seconds> FirstInstantAt(std::chrono::local_seconds local) const;

  // The local time at instant `t`.
  std::chrono::local_seconds ToLocal(std::chrono::sys_seconds t) const {
    return std::chrono::local_seconds((t + OffsetAt(t)).time_since_epoch());
  }

  // The daylight saving time rule of a POSIX TZ string (the TZif footer), e.g.
  // "CET-1CEST,M3.5.0,M10.5.0/3"; public for the parser's tests.
  struct PosixRule {
    // A day of the year: Jn (1-365, February 29 never counted), n (0-365), Mm.w.d (month m,
    // week w 1-5 where 5 is the last, weekday d 0-6 from Sunday).
    struct Date {
      enum class Kind : std::uint8_t { kJulian1, kJulian0, kMonthWeekDay };
      Kind kind = Kind::kMonthWeekDay;
      int day = 0;                           // kJulian1, kJulian0
      int month = 0, week = 0, weekday = 0;  // kMonthWeekDay
      std::int32_t time = 7200;  // seconds after local midnight; may be negative or past 24h
    };
    std::int32_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    Date dst_start;  // in local standard time
    Date dst_end;    // in local daylight time

    static std::optional<PosixRule> Parse(std::string_view tz);
    std::int32_t OffsetAt(std::int64_t t) const;
  };

 private:
  struct Transition {
    std::int64_t at = 0;      // UTC seconds since the epoch; `offset` applies from here on
    std::int32_t offset = 0;  // seconds east of UTC
  };

  std::string name_;
  std::int32_t initial_offset_ = 0;      // before the first transition
  std::vector<Transition> transitions_;  // sorted by `at`
  std::optional<PosixRule> rule_;        // after the last transition (all times if none)
  std::vector<std::int32_t> offsets_;    // every offset the zone uses, without duplicates
};

}  // namespace zflow::pipeline

#endif  // ZFLOW_PIPELINE_TIME_ZONE_H_
