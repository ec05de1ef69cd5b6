// EventBridge schedule expressions: cron(Minutes Hours Day-of-month Month Day-of-week Year),
// rate(value unit) and at(yyyy-mm-ddThh:mm:ss), with the rules of EventBridge rules and Scheduler.
// One parser serves ValidateScheduleExpression and ScheduleExpression, so what validates is what
// runs.
#include "pipeline/schedule_expression.h"

#include <array>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "zflow/pipeline.h"

namespace zflow::pipeline {
namespace {

using std::chrono::local_days;
using std::chrono::local_seconds;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

struct Field {
  const char* name;
  int min;
  int max;
  const char* wildcards;  // besides , - * /
  std::array<const char*, 12> names;  // JAN..DEC / SUN..SAT, mapped to min, min+1, ...
};

enum FieldIndex { kMinutes, kHours, kDayOfMonth, kMonth, kDayOfWeek, kYear };

constexpr Field kFields[] = {
    {"Minutes", 0, 59, "", {}},
    {"Hours", 0, 23, "", {}},
    {"Day-of-month", 1, 31, "?LW", {}},
    {"Month", 1, 12, "",
     {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    {"Day-of-week", 1, 7, "?L#", {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
    {"Year", 1970, 2199, "", {}},
};
static_assert(kFields[kYear].max - kFields[kYear].min + 1 == CronField().values.size());

// One value of a field: a number in range or a name (MON, JAN).
bool FieldValue(const Field& f, std::string_view s, int* out) {
  if (ParseInt(s, out)) return *out >= f.min && *out <= f.max;
  for (std::size_t i = 0; i < f.names.size() && f.names[i] != nullptr; ++i) {
    std::string_view n = f.names[i];
    if (s.size() == n.size()) {
      bool eq = true;
      for (std::size_t k = 0; k < n.size(); ++k) {
        char c = s[k];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        eq = eq && c == n[k];
      }
      if (eq) {
        *out = f.min + static_cast<int>(i);
        return true;
      }
    }
  }
  return false;
}

Status FieldError(const Field& f, std::string_view value, std::string_view why) {
  std::string expected = fmt::format("{}-{}", f.min, f.max);
  if (f.names[0] != nullptr) {
    expected += fmt::format(" or {}-{}", f.names[0],
                            f.names[f.max - f.min] != nullptr ? f.names[f.max - f.min] : "");
  }
  return InvalidArgumentError(fmt::format(
      "cron field {} \"{}\": {}; expected values {}, with , - * /{}", f.name, value, why, expected,
      std::string_view(f.wildcards).empty() ? "" : fmt::format(" {}", f.wildcards)));
}

bool Allows(const Field& f, char c) {
  return std::string_view(f.wildcards).find(c) != std::string_view::npos;
}

// Sets lo, lo+step, ... up to hi; a range with hi < lo wraps past the field's maximum
// (22-2 in Hours: 22, 23, 0, 1, 2).
void AddValues(const Field& f, int lo, int hi, int step, CronField& out) {
  int span = f.max - f.min + 1;
  int end = hi >= lo ? hi : hi + span;
  for (int i = lo; i <= end; i += step) {
    out.values.set(static_cast<std::size_t>((i - f.min) % span));
  }
}

Result<CronField> ParseField(int index, std::string_view value) {
  const Field& f = kFields[index];
  CronField out;
  if (value == "*") {
    AddValues(f, f.min, f.max, 1, out);
    return out;
  }
  if (value == "?") {
    if (!Allows(f, '?')) return FieldError(f, value, "'?' is not allowed here");
    out.any = true;
    return out;
  }
  for (std::string_view item : Split(value, ',')) {
    if (item.empty()) return FieldError(f, value, "empty list item");
    int v = 0;
    if (index == kDayOfMonth) {
      if (item == "L") {
        out.last_day = true;
        continue;
      }
      if (item.size() > 1 && item.back() == 'W') {
        if (!FieldValue(f, item.substr(0, item.size() - 1), &v)) {
          return FieldError(f, value, "W follows a day of the month");
        }
        out.nearest_weekdays.set(static_cast<std::size_t>(v));
        continue;
      }
    }
    if (index == kDayOfWeek) {
      if (item == "L") {  // the last day of the week
        out.values.set(static_cast<std::size_t>(f.max - f.min));
        continue;
      }
      if (std::size_t hash = item.find('#'); hash != std::string_view::npos) {
        int n = 0;
        if (!FieldValue(f, item.substr(0, hash), &v) || !ParseInt(item.substr(hash + 1), &n) ||
            n < 1 || n > 5) {
          return FieldError(f, value, "'#' is day#n with n from 1 to 5");
        }
        if (value.find(',') != std::string_view::npos) {
          return FieldError(f, value, "'#' allows only one expression");
        }
        out.nth_weekday = v;
        out.nth = n;
        continue;
      }
      if (item.size() > 1 && item.back() == 'L') {
        if (!FieldValue(f, item.substr(0, item.size() - 1), &v)) {
          return FieldError(f, value, "L follows a day of the week");
        }
        out.last_weekdays.set(static_cast<std::size_t>(v));
        continue;
      }
    }
    std::string_view range = item;
    int step = 0;
    if (std::size_t slash = item.find('/'); slash != std::string_view::npos) {
      if (!ParseInt(item.substr(slash + 1), &step) || step < 1) {
        return FieldError(f, value, "the increment after '/' is a positive number");
      }
      range = item.substr(0, slash);
      if (range == "*") {
        AddValues(f, f.min, f.max, step, out);
        continue;
      }
    }
    if (std::size_t dash = range.find('-'); dash != std::string_view::npos) {
      int lo = 0;
      int hi = 0;
      if (!FieldValue(f, range.substr(0, dash), &lo) ||
          !FieldValue(f, range.substr(dash + 1), &hi)) {
        return FieldError(f, value, "a range is two values with '-' between them");
      }
      if (index == kYear && hi < lo) {
        return FieldError(f, value, "a range of years goes from the earlier to the later year");
      }
      AddValues(f, lo, hi, step == 0 ? 1 : step, out);
      continue;
    }
    if (!FieldValue(f, range, &v)) return FieldError(f, value, "out of range or not a value");
    // "a/n": from a up to the field's maximum.
    AddValues(f, v, step == 0 ? v : f.max, step == 0 ? 1 : step, out);
  }
  return out;
}

Result<CronFields> ParseCron(std::string_view body) {
  std::vector<std::string_view> fields;
  for (std::string_view part : Split(body, ' ')) {
    if (!part.empty()) fields.push_back(part);
  }
  if (fields.size() != 6) {
    return InvalidArgumentError(fmt::format(
        "cron({}) has {} fields; expected 6: Minutes Hours Day-of-month Month Day-of-week Year",
        body, fields.size()));
  }
  CronFields cron;
  for (int i = 0; i < 6; ++i) {
    ZFLOW_ASSIGN_OR_RETURN(cron[i], ParseField(i, fields[i]));
  }
  if (cron[kDayOfMonth].any == cron[kDayOfWeek].any) {
    return InvalidArgumentError(fmt::format(
        "cron({}): exactly one of Day-of-month (\"{}\") and Day-of-week (\"{}\") must be '?'", body,
        fields[2], fields[4]));
  }
  return cron;
}

Result<std::chrono::seconds> ParseRate(std::string_view body) {
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(body, ' ')) {
    if (!part.empty()) parts.push_back(part);
  }
  int value = 0;
  if (parts.size() != 2 || !ParseInt(parts[0], &value) || value < 1) {
    return InvalidArgumentError(fmt::format(
        "rate({}): expected rate(value unit) with a positive whole value, e.g. rate(5 minutes)",
        body));
  }
  std::string_view unit = parts[1];
  bool singular = unit == "minute" || unit == "hour" || unit == "day";
  bool plural = unit == "minutes" || unit == "hours" || unit == "days";
  if (!singular && !plural) {
    return InvalidArgumentError(
        fmt::format("rate({}): unit \"{}\" is not minute(s), hour(s) or day(s)", body, unit));
  }
  if (value == 1 && plural) {
    return InvalidArgumentError(
        fmt::format("rate({}): a value of 1 takes a singular unit: "
                    "rate(1 {})",
                    body, unit.substr(0, unit.size() - 1)));
  }
  if (value > 1 && singular) {
    return InvalidArgumentError(
        fmt::format("rate({}): a value above 1 takes a plural unit: "
                    "rate({} {}s)",
                    body, value, unit));
  }
  // A day is 24 hours of elapsed time, also across daylight saving time changes.
  std::int64_t unit_seconds = unit.starts_with("minute") ? 60
                              : unit.starts_with("hour") ? 3600
                                                         : 86400;
  return std::chrono::seconds(value * unit_seconds);
}

// at(yyyy-mm-ddThh:mm:ss): a local date and time.
Result<local_seconds> ParseAt(std::string_view body) {
  auto error = [&](std::string_view why) {
    return InvalidArgumentError(
        fmt::format("at({}): {}; expected at(yyyy-mm-ddThh:mm:ss), a local time such as "
                    "at(2026-06-01T09:00:00)",
                    body, why));
  };
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  bool shaped = body.size() == kShape.size();
  for (std::size_t i = 0; shaped && i < kShape.size(); ++i) {
    shaped = kShape[i] == 'd' ? body[i] >= '0' && body[i] <= '9' : body[i] == kShape[i];
  }
  if (!shaped) return error("not a date and time in that form");
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  (void)ParseInt(body.substr(0, 4), &year);
  (void)ParseInt(body.substr(5, 2), &month);
  (void)ParseInt(body.substr(8, 2), &day);
  (void)ParseInt(body.substr(11, 2), &hour);
  (void)ParseInt(body.substr(14, 2), &minute);
  (void)ParseInt(body.substr(17, 2), &second);
  const Field& years = kFields[kYear];
  if (year < years.min || year > years.max) {
    return error(fmt::format("year {} is not {}-{}", year, years.min, years.max));
  }
  if (month < 1 || month > 12) return error(fmt::format("month {} is not 1-12", month));
  const std::chrono::year_month ym{std::chrono::year(year), std::chrono::month(month)};
  unsigned last = static_cast<unsigned>((ym / std::chrono::last).day());
  if (day < 1 || static_cast<unsigned>(day) > last) {
    return error(
        fmt::format("day {} is not 1-{} ({:04}-{:02} has {} days)", day, last, year, month, last));
  }
  if (hour > 23) return error(fmt::format("hour {} is not 0-23", hour));
  if (minute > 59) return error(fmt::format("minute {} is not 0-59", minute));
  if (second > 59) return error(fmt::format("second {} is not 0-59", second));
  return local_days(ym / std::chrono::day(static_cast<unsigned>(day))) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second);
}

struct ParsedExpression {
  ScheduleKind kind = ScheduleKind::kCron;
  CronFields cron{};
  std::chrono::seconds rate_period{0};
  local_seconds at{};
};

Result<ParsedExpression> ParseExpression(std::string_view e) {
  auto body_of = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (e.starts_with(prefix) && e.ends_with(")")) {
      return e.substr(prefix.size(), e.size() - prefix.size() - 1);
    }
    return std::nullopt;
  };
  ParsedExpression out;
  if (auto body = body_of("cron(")) {
    out.kind = ScheduleKind::kCron;
    ZFLOW_ASSIGN_OR_RETURN(out.cron, ParseCron(*body));
  } else if (auto body = body_of("rate(")) {
    out.kind = ScheduleKind::kRate;
    ZFLOW_ASSIGN_OR_RETURN(out.rate_period, ParseRate(*body));
  } else if (auto body = body_of("at(")) {
    out.kind = ScheduleKind::kAt;
    ZFLOW_ASSIGN_OR_RETURN(out.at, ParseAt(*body));
  } else {
    return InvalidArgumentError(fmt::format(
        "\"{}\" is not a schedule expression; expected cron(Minutes Hours Day-of-month Month "
        "Day-of-week Year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)",
        e));
  }
  return out;
}

// --- Evaluation ---------------------------------------------------------------------------

// A local date and time to the minute. Fields may run past their range (day 32, hour 24) while
// searching: the next search step then finds nothing there and moves on.
struct Civil {
  int year, month, day, hour, minute;
};

// The smallest value >= from that the field matches, or nullopt.
std::optional<int> NextValue(const CronFields& cron, int index, int from) {
  const Field& f = kFields[index];
  for (int v = std::max(from, f.min); v <= f.max; ++v) {
    if (cron[index].values.test(static_cast<std::size_t>(v - f.min))) return v;
  }
  return std::nullopt;
}

// The days of (year, month) that the day fields match, bit d for day d.
std::bitset<32> MatchingDays(const CronFields& cron, int year, int month) {
  using namespace std::chrono;
  const year_month ym{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month))};
  const int last = static_cast<int>(static_cast<unsigned>((ym / std::chrono::last).day()));
  // Weekday of day d, 0 = Sunday: (first + d - 1) % 7.
  const int first = static_cast<int>(weekday(sys_days(ym / 1)).c_encoding());
  auto weekday_of = [&](int d) { return (first + d - 1) % 7; };
  std::bitset<32> days;
  if (!cron[kDayOfMonth].any) {
    const CronField& dom = cron[kDayOfMonth];
    for (int d = 1; d <= last; ++d) {
      if (dom.values.test(static_cast<std::size_t>(d - 1))) days.set(static_cast<std::size_t>(d));
    }
    if (dom.last_day) days.set(static_cast<std::size_t>(last));
    for (int n = 1; n <= last; ++n) {
      if (!dom.nearest_weekdays.test(static_cast<std::size_t>(n))) continue;
      // The weekday nearest day n without leaving the month: Saturday the 1st moves to Monday
      // the 3rd, Sunday the last to Friday.
      int d = n;
      if (weekday_of(n) == 6) d = n == 1 ? 3 : n - 1;
      if (weekday_of(n) == 0) d = n == last ? n - 2 : n + 1;
      days.set(static_cast<std::size_t>(d));
    }
    return days;
  }
  const CronField& dow = cron[kDayOfWeek];  // bit w - 1 for w = 1-7 = SUN-SAT
  for (int d = 1; d <= last; ++d) {
    if (dow.values.test(static_cast<std::size_t>(weekday_of(d)))) {
      days.set(static_cast<std::size_t>(d));
    }
  }
  for (int w = 1; w <= 7; ++w) {
    if (dow.last_weekdays.test(static_cast<std::size_t>(w))) {
      days.set(static_cast<std::size_t>(last - (weekday_of(last) - (w - 1) + 7) % 7));
    }
  }
  if (dow.nth_weekday != 0) {
    int d = 1 + (dow.nth_weekday - 1 - first + 7) % 7 + 7 * (dow.nth - 1);
    if (d <= last) days.set(static_cast<std::size_t>(d));
  }
  return days;
}

// The first local minute at or after `c` that the cron fields match; nullopt past the last year.
std::optional<Civil> NextMatch(const CronFields& cron, Civil c) {
  while (true) {
    std::optional<int> year = NextValue(cron, kYear, c.year);
    if (!year) return std::nullopt;
    if (*year != c.year) c = {*year, 1, 1, 0, 0};
    std::optional<int> month = NextValue(cron, kMonth, c.month);
    if (!month) {
      c = {c.year + 1, 1, 1, 0, 0};
      continue;
    }
    if (*month != c.month) c = {c.year, *month, 1, 0, 0};
    std::bitset<32> days = MatchingDays(cron, c.year, c.month);
    int day = c.day;
    while (day <= 31 && !days.test(static_cast<std::size_t>(day))) ++day;
    if (day > 31) {
      c = c.month == 12 ? Civil{c.year + 1, 1, 1, 0, 0} : Civil{c.year, c.month + 1, 1, 0, 0};
      continue;
    }
    if (day != c.day) c = {c.year, c.month, day, 0, 0};
    std::optional<int> hour = NextValue(cron, kHours, c.hour);
    if (!hour) {
      c = {c.year, c.month, c.day + 1, 0, 0};
      continue;
    }
    if (*hour != c.hour) c = {c.year, c.month, c.day, *hour, 0};
    std::optional<int> minute = NextValue(cron, kMinutes, c.minute);
    if (!minute) {
      c = {c.year, c.month, c.day, c.hour + 1, 0};
      continue;
    }
    c.minute = *minute;
    return c;
  }
}

Civil ToCivil(local_seconds t) {
  using namespace std::chrono;
  local_days day = floor<days>(t);
  year_month_day ymd(day);
  auto minutes_of_day = duration_cast<minutes>(t - day).count();
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(minutes_of_day / 60),
          static_cast<int>(minutes_of_day % 60)};
}

local_seconds ToLocalSeconds(const Civil& c) {
  using namespace std::chrono;
  return local_days(std::chrono::year(c.year) / c.month / c.day) + hours(c.hour) +
         minutes(c.minute);
}

}  // namespace

Result<ScheduleExpression> ScheduleExpression::Parse(std::string_view expression,
                                                     std::string_view time_zone) {
  ZFLOW_ASSIGN_OR_RETURN(ParsedExpression parsed, ParseExpression(expression));
  ScheduleExpression out;
  if (!time_zone.empty()) {
    ZFLOW_ASSIGN_OR_RETURN(out.zone_, TimeZone::Load(time_zone));
  }
  out.kind_ = parsed.kind;
  out.expression_ = std::string(expression);
  out.cron_ = parsed.cron;
  out.rate_period_ = parsed.rate_period;
  out.at_ = parsed.at;
  return out;
}

std::optional<TimePoint> ScheduleExpression::NextAfter(TimePoint after, TimePoint anchor) const {
  switch (kind_) {
    case ScheduleKind::kAt: {
      std::optional<std::chrono::sys_seconds> at = zone_.FirstInstantAt(at_);
      if (!at || TimePoint(*at) <= after) return std::nullopt;
      return TimePoint(*at);
    }
    case ScheduleKind::kRate: {
      // anchor + k * period with k >= 1 the smallest such time after `after`; nullopt when it
      // does not fit in a TimePoint (centuries away).
      std::int64_t period = 0;
      std::int64_t since = 0;
      if (__builtin_mul_overflow(rate_period_.count(), std::int64_t{1'000'000'000}, &period) ||
          __builtin_sub_overflow(after.time_since_epoch().count(),
                                 anchor.time_since_epoch().count(), &since)) {
        return std::nullopt;
      }
      std::int64_t k = since < 0 ? 1 : since / period + 1;
      std::int64_t offset = 0;
      std::int64_t next = 0;
      if (__builtin_mul_overflow(k, period, &offset) ||
          __builtin_add_overflow(anchor.time_since_epoch().count(), offset, &next)) {
        return std::nullopt;
      }
      return TimePoint(std::chrono::nanoseconds(next));
    }
    case ScheduleKind::kCron:
      return NextCronAfter(after);
  }
  return std::nullopt;
}

std::optional<TimePoint> ScheduleExpression::NextCronAfter(TimePoint after) const {
  // Local time, resolved with FirstInstantAt, only grows with the instant (a skipped local time
  // has no instant; a repeated one maps to its first occurrence). So the answer is the first
  // matching local minute from the local time of `after` on whose instant is after `after`;
  // the minutes skipped are those of a repeated hour that `after` is already past.
  using namespace std::chrono;
  local_seconds local = zone_.ToLocal(floor<seconds>(after));
  Civil c = ToCivil(floor<minutes>(local));
  while (true) {
    std::optional<Civil> match = NextMatch(cron_, c);
    if (!match) return std::nullopt;
    local_seconds fire_local = ToLocalSeconds(*match);
    std::optional<sys_seconds> fire = zone_.FirstInstantAt(fire_local);
    if (fire && TimePoint(*fire) > after) return TimePoint(*fire);
    c = ToCivil(fire_local + minutes(1));
  }
}

}  // namespace zflow::pipeline

namespace zflow {

Status ValidateScheduleExpression(std::string_view e) {
  return pipeline::ParseExpression(e).status();
}

}  // namespace zflow
