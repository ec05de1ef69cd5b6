#include "pipeline/schedule_expression.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "asl/timestamp.h"
#include "zflow/pipeline.h"

namespace zflow::pipeline {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(std::string_view rfc3339) {
  std::optional<asl::Instant> i = asl::ParseTimestamp(rfc3339);
  EXPECT_TRUE(i.has_value()) << rfc3339;
  if (!i) return TimePoint();
  return TimePoint(seconds(i->seconds) + std::chrono::nanoseconds(i->nanos));
}

// "2026-01-01T06:00:00Z" (milliseconds only when there are some), or "never".
std::string Text(std::optional<TimePoint> t) {
  if (!t) return "never";
  std::string s = FormatTimestamp(*t);
  if (s.ends_with(".000Z")) s = s.substr(0, s.size() - 5) + "Z";
  return s;
}

std::string Next(std::string_view expression, std::string_view zone, std::string_view after,
                 std::string_view anchor = "2026-01-01T00:00:00Z") {
  Result<ScheduleExpression> e = ScheduleExpression::Parse(expression, zone);
  if (!e.ok()) return "error: " + e.status().message();
  return Text(e->NextAfter(At(after), At(anchor)));
}

struct Case {
  const char* expression;
  const char* zone;
  const char* after;
  const char* want;
};

void ExpectCases(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(Next(c.expression, c.zone, c.after), c.want)
        << c.expression << " in " << c.zone << " after " << c.after;
  }
}

TEST(ScheduleExpression, CronFiresOnMatchingMinutesStrictlyAfter) {
  ExpectCases({
      {"cron(0 6 * * ? *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z"},
      {"cron(0 6 * * ? *)", "UTC", "2026-01-01T05:59:59.999Z", "2026-01-01T06:00:00Z"},
      {"cron(0 6 * * ? *)", "UTC", "2026-01-01T06:00:00Z", "2026-01-02T06:00:00Z"},
      {"cron(0 6 * * ? *)", "UTC", "2026-01-01T06:00:00.000000001Z", "2026-01-02T06:00:00Z"},
      {"cron(* * * * ? *)", "UTC", "2026-01-01T00:00:00.000000001Z", "2026-01-01T00:01:00Z"},
      {"cron(15 12 * * ? *)", "UTC", "2026-01-01T12:15:30Z", "2026-01-02T12:15:00Z"},
      {"cron(0 * * * ? *)", "UTC", "2026-01-01T23:00:00Z", "2026-01-02T00:00:00Z"},
      {"cron(59 23 31 12 ? *)", "UTC", "2026-06-01T00:00:00Z", "2026-12-31T23:59:00Z"},
      {"cron(0 0 1 * ? *)", "UTC", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z"},
      // Expressions before 1970 start at 1970.
      {"cron(0 0 1 1 ? *)", "UTC", "1969-06-01T00:00:00Z", "1970-01-01T00:00:00Z"},
  });
}

TEST(ScheduleExpression, CronListsRangesIncrementsAndNames) {
  ExpectCases({
      // 2026-01-02 is a Friday.
      {"cron(0/15 8-17 ? * MON-FRI *)", "UTC", "2026-01-02T17:45:00Z", "2026-01-05T08:00:00Z"},
      {"cron(0/15 8-17 ? * MON-FRI *)", "UTC", "2026-01-05T08:00:00Z", "2026-01-05T08:15:00Z"},
      {"cron(0 8 ? * mon-fri *)", "UTC", "2026-01-02T09:00:00Z", "2026-01-05T08:00:00Z"},
      {"cron(*/10 * * * ? *)", "UTC", "2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"},
      {"cron(1/10 * * * ? *)", "UTC", "2026-01-01T00:05:00Z", "2026-01-01T00:11:00Z"},
      {"cron(5/20 * * * ? *)", "UTC", "2026-01-01T00:45:00Z", "2026-01-01T01:05:00Z"},
      {"cron(0 10-20/5 * * ? *)", "UTC", "2026-01-01T15:00:00Z", "2026-01-01T20:00:00Z"},
      {"cron(0 10-20/5 * * ? *)", "UTC", "2026-01-01T20:00:00Z", "2026-01-02T10:00:00Z"},
      {"cron(0 0 1/10 * ? *)", "UTC", "2026-01-21T00:00:00Z", "2026-01-31T00:00:00Z"},
      {"cron(0 0 1/10 * ? *)", "UTC", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"},
      {"cron(0 0 1 */4 ? *)", "UTC", "2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z"},
      {"cron(0 0 1 1 ? 2026/5)", "UTC", "2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z"},
      {"cron(0 0 1 JAN,JUL ? *)", "UTC", "2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z"},
      {"cron(0 0 1 jan,Jul ? *)", "UTC", "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"cron(0,30 9,17 * * ? *)", "UTC", "2026-01-01T09:30:00Z", "2026-01-01T17:00:00Z"},
      // Day-of-week increments: 2/2 = MON, WED, FRI. 2026-01-05 is a Monday.
      {"cron(0 12 ? * 2/2 *)", "UTC", "2026-01-05T12:00:00Z", "2026-01-07T12:00:00Z"},
      {"cron(0 12 ? * 2/2 *)", "UTC", "2026-01-09T12:00:00Z", "2026-01-12T12:00:00Z"},
      {"cron(0 12 ? * 1,7 *)", "UTC", "2026-01-05T00:00:00Z", "2026-01-10T12:00:00Z"},
  });
}

TEST(ScheduleExpression, CronRangesWrapPastTheFieldMaximum) {
  ExpectCases({
      {"cron(0 22-2 * * ? *)", "UTC", "2026-01-01T02:00:00Z", "2026-01-01T22:00:00Z"},
      {"cron(0 22-2 * * ? *)", "UTC", "2026-01-01T23:00:00Z", "2026-01-02T00:00:00Z"},
      {"cron(0 22-2 * * ? *)", "UTC", "2026-01-02T01:30:00Z", "2026-01-02T02:00:00Z"},
      {"cron(0 22-2/2 * * ? *)", "UTC", "2026-01-01T22:00:00Z", "2026-01-02T00:00:00Z"},
      {"cron(50-10 0 * * ? *)", "UTC", "2026-01-01T00:10:00Z", "2026-01-01T00:50:00Z"},
      // 2026-01-05 is a Monday, 2026-01-09 a Friday.
      {"cron(0 12 ? * FRI-MON *)", "UTC", "2026-01-05T12:00:00Z", "2026-01-09T12:00:00Z"},
      {"cron(0 12 ? * FRI-MON *)", "UTC", "2026-01-09T12:00:00Z", "2026-01-10T12:00:00Z"},
      {"cron(0 0 1 NOV-FEB ? *)", "UTC", "2026-02-01T00:00:00Z", "2026-11-01T00:00:00Z"},
      {"cron(0 0 28-3 * ? *)", "UTC", "2026-02-03T00:00:00Z", "2026-02-28T00:00:00Z"},
      {"cron(0 0 28-3 * ? *)", "UTC", "2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z"},
      {"cron(0 0 28-3 * ? *)", "UTC", "2026-03-03T00:00:00Z", "2026-03-28T00:00:00Z"},
  });
}

TEST(ScheduleExpression, CronMonthEndsAndLeapYears) {
  ExpectCases({
      {"cron(0 0 31 * ? *)", "UTC", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
      {"cron(0 0 30 * ? *)", "UTC", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z"},
      {"cron(0 0 29 2 ? *)", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
      {"cron(0 0 29 2 ? *)", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
      {"cron(0 0 29 2 ? *)", "UTC", "1997-01-01T00:00:00Z", "2000-02-29T00:00:00Z"},
      {"cron(0 0 L * ? *)", "UTC", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"},
      {"cron(0 0 L * ? *)", "UTC", "2028-02-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"cron(0 0 L * ? *)", "UTC", "2100-02-01T00:00:00Z", "2100-02-28T00:00:00Z"},
      {"cron(0 0 L * ? *)", "UTC", "2026-04-15T00:00:00Z", "2026-04-30T00:00:00Z"},
      {"cron(0 0 L * ? *)", "UTC", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"},
      {"cron(0 0 L 2 ? *)", "UTC", "2027-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"cron(0 0 L,15 * ? *)", "UTC", "2026-02-15T00:00:00Z", "2026-02-28T00:00:00Z"},
      // Matches no date at all.
      {"cron(0 0 31 2 ? *)", "UTC", "2026-01-01T00:00:00Z", "never"},
      {"cron(0 0 30 FEB ? *)", "UTC", "2026-01-01T00:00:00Z", "never"},
  });
}

TEST(ScheduleExpression, CronNearestWeekdayStaysInTheMonth) {
  ExpectCases({
      // 2026-08-15 is a Saturday: the Friday before.
      {"cron(0 9 15W * ? *)", "UTC", "2026-08-01T00:00:00Z", "2026-08-14T09:00:00Z"},
      // 2026-03-15 is a Sunday: the Monday after.
      {"cron(0 9 15W * ? *)", "UTC", "2026-03-01T00:00:00Z", "2026-03-16T09:00:00Z"},
      // 2026-06-10 is a Wednesday: that day.
      {"cron(0 9 10W * ? *)", "UTC", "2026-06-01T00:00:00Z", "2026-06-10T09:00:00Z"},
      // Saturday 2026-08-01: not Friday July 31 but Monday August 3.
      {"cron(0 9 1W * ? *)", "UTC", "2026-07-31T12:00:00Z", "2026-08-03T09:00:00Z"},
      // Sunday 2026-02-01: Monday the 2nd.
      {"cron(0 9 1W * ? *)", "UTC", "2026-01-02T12:00:00Z", "2026-02-02T09:00:00Z"},
      // Sunday 2026-05-31: not Monday June 1 but Friday May 29.
      {"cron(0 9 31W * ? *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-29T09:00:00Z"},
      // Months without a 31st do not match 31W; 2026-07-31 is a Friday.
      {"cron(0 9 31W * ? *)", "UTC", "2026-05-29T09:00:00Z", "2026-07-31T09:00:00Z"},
  });
}

TEST(ScheduleExpression, CronLastAndNthWeekdays) {
  ExpectCases({
      // 6L: the last Friday. January 2026 ends on a Saturday.
      {"cron(0 10 ? * 6L *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-30T10:00:00Z"},
      {"cron(0 10 ? * 6L *)", "UTC", "2026-01-30T10:00:00Z", "2026-02-27T10:00:00Z"},
      {"cron(0 10 ? * FRIL *)", "UTC", "2026-07-01T00:00:00Z", "2026-07-31T10:00:00Z"},
      // 1L: the last Sunday (March 2026 ends on a Tuesday).
      {"cron(0 10 ? * 1L *)", "UTC", "2026-03-01T00:00:00Z", "2026-03-29T10:00:00Z"},
      // L alone: the last day of the week, Saturday. 2026-01-01 is a Thursday.
      {"cron(0 10 ? * L *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-03T10:00:00Z"},
      // 3#2: the second Tuesday (January 2026: the 6th, the 13th).
      {"cron(30 9 ? * 3#2 *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-13T09:30:00Z"},
      {"cron(30 9 ? * TUE#2 *)", "UTC", "2026-01-13T09:30:00Z", "2026-02-10T09:30:00Z"},
      // 2#5: the fifth Monday, only in months that have one.
      {"cron(0 0 ? * 2#5 *)", "UTC", "2026-01-01T00:00:00Z", "2026-03-30T00:00:00Z"},
      {"cron(0 0 ? * 2#5 *)", "UTC", "2026-03-30T00:00:00Z", "2026-06-29T00:00:00Z"},
      // 1#1: the first Sunday (2026-01-04, 2026-02-01).
      {"cron(0 0 ? * 1#1 *)", "UTC", "2026-01-05T00:00:00Z", "2026-02-01T00:00:00Z"},
      // A fifth Monday in February needs a leap year whose February starts on a Monday.
      {"cron(0 0 ? 2 2#5 *)", "UTC", "2026-01-01T00:00:00Z", "2044-02-29T00:00:00Z"},
  });
}

TEST(ScheduleExpression, CronStopsWhenItsYearsEnd) {
  ExpectCases({
      {"cron(0 12 L * ? 2027)", "UTC", "2027-12-31T11:59:00Z", "2027-12-31T12:00:00Z"},
      {"cron(0 12 L * ? 2027)", "UTC", "2027-12-31T12:00:00Z", "never"},
      {"cron(0 12 L * ? 2027)", "UTC", "2020-01-01T00:00:00Z", "2027-01-31T12:00:00Z"},
      {"cron(0 0 1 1 ? 2020-2025)", "UTC", "2026-01-01T00:00:00Z", "never"},
      {"cron(0 0 1 1 ? 2024,2026)", "UTC", "2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"cron(0 0 1 1 ? 2199)", "UTC", "2026-01-01T00:00:00Z", "2199-01-01T00:00:00Z"},
      {"cron(0 0 1 1 ? 2199)", "UTC", "2199-01-01T00:00:00Z", "never"},
      {"cron(59 23 31 12 ? *)", "UTC", "2199-12-31T23:59:00Z", "never"},
  });
}

TEST(ScheduleExpression, CronInNewYorkAcrossDaylightSavingTime) {
  // 2026: clocks go from 02:00 EST to 03:00 EDT on Sunday March 8 (07:00Z) and from 02:00 EDT
  // back to 01:00 EST on Sunday November 1 (06:00Z).
  const char* ny = "America/New_York";
  ExpectCases({
      {"cron(0 9 * * ? *)", ny, "2026-03-07T00:00:00Z", "2026-03-07T14:00:00Z"},
      {"cron(0 9 * * ? *)", ny, "2026-03-07T15:00:00Z", "2026-03-08T13:00:00Z"},
      {"cron(0 9 * * ? *)", ny, "2026-10-31T14:00:00Z", "2026-11-01T14:00:00Z"},
      // 02:30 does not exist on March 8: skipped, as EventBridge Scheduler does.
      {"cron(30 2 * * ? *)", ny, "2026-03-07T08:00:00Z", "2026-03-09T06:30:00Z"},
      {"cron(0 2 ? * SUN *)", ny, "2026-03-01T08:00:00Z", "2026-03-15T06:00:00Z"},
      {"cron(*/30 * * * ? *)", ny, "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"},
      // 01:30 happens twice on November 1: it fires once, at the first (EDT) one.
      {"cron(30 1 * * ? *)", ny, "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z"},
      {"cron(30 1 * * ? *)", ny, "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
      {"cron(*/30 * * * ? *)", ny, "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z"},
      {"cron(*/30 * * * ? *)", ny, "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z"},
      {"cron(*/30 * * * ? *)", ny, "2026-11-01T06:10:00Z", "2026-11-01T07:00:00Z"},
      // Past 2037 the zone's rule still applies (the TZif footer): July 2050 is EDT.
      {"cron(0 12 1 7 ? 2050)", ny, "2026-01-01T00:00:00Z", "2050-07-01T16:00:00Z"},
      {"cron(0 12 1 1 ? 2150)", ny, "2026-01-01T00:00:00Z", "2150-01-01T17:00:00Z"},
  });
}

TEST(ScheduleExpression, CronInLondonAcrossDaylightSavingTime) {
  // 2026: 01:00 GMT -> 02:00 BST on Sunday March 29 (01:00Z); 02:00 BST -> 01:00 GMT on Sunday
  // October 25 (01:00Z).
  const char* london = "Europe/London";
  ExpectCases({
      {"cron(0 12 * * ? *)", london, "2026-07-01T00:00:00Z", "2026-07-01T11:00:00Z"},
      {"cron(0 12 * * ? *)", london, "2026-12-01T00:00:00Z", "2026-12-01T12:00:00Z"},
      {"cron(30 1 * * ? *)", london, "2026-03-28T02:00:00Z", "2026-03-30T00:30:00Z"},
      {"cron(0 1 * * ? *)", london, "2026-03-28T12:00:00Z", "2026-03-30T00:00:00Z"},
      {"cron(30 1 * * ? *)", london, "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
      {"cron(30 1 * * ? *)", london, "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
      {"cron(*/30 * * * ? *)", london, "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"},
      // The last Sunday of March at 00:30 local is still GMT.
      {"cron(30 0 ? 3 1L *)", london, "2026-01-01T00:00:00Z", "2026-03-29T00:30:00Z"},
  });
}

TEST(ScheduleExpression, CronInKolkataUsesTheHalfHourOffset) {
  const char* kolkata = "Asia/Kolkata";  // +05:30, no daylight saving time
  ExpectCases({
      {"cron(0 9 * * ? *)", kolkata, "2026-06-01T00:00:00Z", "2026-06-01T03:30:00Z"},
      {"cron(30 9 * * ? *)", kolkata, "2026-06-01T00:00:00Z", "2026-06-01T04:00:00Z"},
      // 20:00Z is 01:30 on January 2 in Kolkata: the next 01:00 is on January 3.
      {"cron(0 1 * * ? *)", kolkata, "2026-01-01T20:00:00Z", "2026-01-02T19:30:00Z"},
      {"cron(0 0 1 1 ? *)", kolkata, "2026-06-01T00:00:00Z", "2026-12-31T18:30:00Z"},
      // Day-of-week is the local day: Monday 00:15 IST is Sunday 18:45Z.
      {"cron(15 0 ? * MON *)", kolkata, "2026-01-01T00:00:00Z", "2026-01-04T18:45:00Z"},
  });
}

TEST(ScheduleExpression, RateFiresAtWholePeriodsFromTheAnchor) {
  const char* anchor = "2026-01-01T00:00:00Z";
  EXPECT_EQ(Next("rate(5 minutes)", "UTC", "2026-01-01T00:12:00Z", anchor), "2026-01-01T00:15:00Z");
  EXPECT_EQ(Next("rate(5 minutes)", "UTC", "2026-01-01T00:15:00Z", anchor), "2026-01-01T00:20:00Z");
  EXPECT_EQ(Next("rate(5 minutes)", "UTC", anchor, anchor), "2026-01-01T00:05:00Z");
  EXPECT_EQ(Next("rate(5 minutes)", "UTC", "2025-12-31T00:00:00Z", anchor), "2026-01-01T00:05:00Z");
  EXPECT_EQ(Next("rate(1 minute)", "UTC", "2026-01-01T00:00:59.999Z", anchor),
            "2026-01-01T00:01:00Z");
  EXPECT_EQ(Next("rate(2 hours)", "UTC", "2026-01-01T03:00:00Z", anchor), "2026-01-01T04:00:00Z");
  EXPECT_EQ(Next("rate(1 hour)", "UTC", "2026-01-01T05:00:00Z", "2026-01-01T00:00:30.5Z"),
            "2026-01-01T05:00:30.500Z");
  EXPECT_EQ(Next("rate(7 days)", "UTC", "2026-01-20T00:00:00Z", anchor), "2026-01-22T00:00:00Z");
  // A day is 24 hours, also across a daylight saving time change, whatever the time zone.
  EXPECT_EQ(Next("rate(1 day)", "America/New_York", "2026-03-08T12:30:00Z", "2026-03-07T12:00:00Z"),
            "2026-03-09T12:00:00Z");
  // Centuries away: beyond what a TimePoint holds.
  EXPECT_EQ(Next("rate(999999999 days)", "UTC", anchor, anchor), "never");

  Result<ScheduleExpression> e = ScheduleExpression::Parse("rate(3 hours)");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->kind(), ScheduleKind::kRate);
  EXPECT_EQ(e->rate_period(), std::chrono::hours(3));
  EXPECT_EQ(e->expression(), "rate(3 hours)");
  EXPECT_EQ(e->time_zone(), "UTC");
}

TEST(ScheduleExpression, AtFiresOnceAtItsLocalTime) {
  const char* at = "at(2026-06-01T09:00:00)";
  EXPECT_EQ(Next(at, "UTC", "2026-01-01T00:00:00Z"), "2026-06-01T09:00:00Z");
  EXPECT_EQ(Next(at, "UTC", "2026-06-01T08:59:59Z"), "2026-06-01T09:00:00Z");
  EXPECT_EQ(Next(at, "UTC", "2026-06-01T09:00:00Z"), "never");
  EXPECT_EQ(Next(at, "UTC", "2027-01-01T00:00:00Z"), "never");
  EXPECT_EQ(Next(at, "America/New_York", "2026-01-01T00:00:00Z"), "2026-06-01T13:00:00Z");
  EXPECT_EQ(Next("at(2026-12-01T09:00:00)", "America/New_York", "2026-01-01T00:00:00Z"),
            "2026-12-01T14:00:00Z");
  EXPECT_EQ(Next(at, "Asia/Kolkata", "2026-01-01T00:00:00Z"), "2026-06-01T03:30:00Z");
  EXPECT_EQ(Next("at(2026-06-01T09:00:45)", "UTC", "2026-01-01T00:00:00Z"), "2026-06-01T09:00:45Z");
  EXPECT_EQ(Next("at(2028-02-29T00:00:00)", "UTC", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  // A local time skipped by the spring-forward jump never happens; a repeated one fires at its
  // first occurrence.
  EXPECT_EQ(Next("at(2026-03-08T02:30:00)", "America/New_York", "2026-01-01T00:00:00Z"), "never");
  EXPECT_EQ(Next("at(2026-11-01T01:30:00)", "America/New_York", "2026-01-01T00:00:00Z"),
            "2026-11-01T05:30:00Z");
  EXPECT_EQ(Next("at(2026-11-01T01:30:00)", "America/New_York", "2026-11-01T05:30:00Z"), "never");

  Result<ScheduleExpression> e = ScheduleExpression::Parse(at, "Europe/London");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->kind(), ScheduleKind::kAt);
  EXPECT_EQ(e->time_zone(), "Europe/London");
}

TEST(ScheduleExpression, TimeZoneNamesAreCheckedWhenParsed) {
  Result<ScheduleExpression> e = ScheduleExpression::Parse("cron(0 6 * * ? *)", "");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->time_zone(), "UTC");
  EXPECT_EQ(e->kind(), ScheduleKind::kCron);
  for (const char* bad : {"Mars/Olympus", "america/new_york", "America", "../../etc/passwd",
                          "/usr/share/zoneinfo/UTC", "zone.tab", "UTC ", "Europe//London"}) {
    Result<ScheduleExpression> r = ScheduleExpression::Parse("cron(0 6 * * ? *)", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(fmt::format("unknown time zone \"{}\"", bad)),
              std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("America/New_York"), std::string::npos)
        << r.status().message();
  }
  // The expression is checked first.
  Result<ScheduleExpression> both = ScheduleExpression::Parse("cron(0 6 * *)", "Mars/Olympus");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("has 4 fields"), std::string::npos)
      << both.status().message();
}

TEST(ScheduleExpression, BadExpressionsSayWhatAndWhere) {
  struct Bad {
    const char* expression;
    const char* message;
  };
  for (const Bad& b : {
           Bad{"cron(0 6 * * *)", "cron(0 6 * * *) has 5 fields; expected 6"},
           Bad{"cron(60 6 * * ? *)",
               "cron field Minutes \"60\": out of range or not a value; "
               "expected values 0-59, with , - * /"},
           Bad{"cron(0 24 * * ? *)", "cron field Hours \"24\""},
           Bad{"cron(0 6 * * * *)", "exactly one of Day-of-month (\"*\") and Day-of-week (\"*\")"},
           Bad{"cron(0 6 ? * ? *)", "exactly one of Day-of-month"},
           Bad{"cron(0 6 * FOO ? *)",
               "cron field Month \"FOO\": out of range or not a value; "
               "expected values 1-12 or JAN-DEC"},
           Bad{"cron(0 6 ? * 8 *)", "cron field Day-of-week \"8\""},
           Bad{"cron(0 6 ? * 0 *)", "expected values 1-7 or SUN-SAT, with , - * / ?L#"},
           Bad{"cron(0 6 * * ? 1969)", "cron field Year \"1969\""},
           Bad{"cron(0 6 * * ? 2200)", "expected values 1970-2199"},
           Bad{"cron(0 6 * * ? 2030-2020)",
               "cron field Year \"2030-2020\": a range of years goes from the earlier to the "
               "later"},
           Bad{"cron(0 6 32W * ? *)", "cron field Day-of-month \"32W\": W follows a day"},
           Bad{"cron(0 6 LW * ? *)", "cron field Day-of-month \"LW\": W follows a day"},
           Bad{"cron(0 6 ? * 3#6 *)", "'#' is day#n with n from 1 to 5"},
           Bad{"cron(0 6 ? * 3#1,6#3 *)", "'#' allows only one expression"},
           Bad{"cron(0 6 ? * 9L *)", "L follows a day of the week"},
           Bad{"cron(0/0 6 * * ? *)", "the increment after '/' is a positive number"},
           Bad{"cron(0 6 1-X * ? *)", "a range is two values with '-' between them"},
           Bad{"cron(0 6 ? * ? *)", "must be '?'"},
           Bad{"cron(0 L * * ? *)", "cron field Hours \"L\""},
           Bad{"cron(0 6 ? * 2W *)", "cron field Day-of-week \"2W\""},
           Bad{"cron(0 6 1,,2 * ? *)", "empty list item"},
           Bad{"cron(? 6 * * ? *)", "cron field Minutes \"?\": '?' is not allowed here"},
           Bad{"rate(1 days)", "a value of 1 takes a singular unit: rate(1 day)"},
           Bad{"rate(5 hour)", "a value above 1 takes a plural unit: rate(5 hours)"},
           Bad{"rate(0 minutes)", "positive whole value"},
           Bad{"rate(5 weeks)", "unit \"weeks\" is not minute(s), hour(s) or day(s)"},
           Bad{"rate(5)", "expected rate(value unit)"},
           Bad{"at(2026-06-01 09:00:00)",
               "at(2026-06-01 09:00:00): not a date and time in that "
               "form; expected at(yyyy-mm-ddThh:mm:ss)"},
           Bad{"at(2026-06-01T09:00)", "not a date and time in that form"},
           Bad{"at(2026-06-01T09:00:00Z)", "not a date and time in that form"},
           Bad{"at(2026-13-01T09:00:00)", "month 13 is not 1-12"},
           Bad{"at(2026-02-29T09:00:00)", "day 29 is not 1-28 (2026-02 has 28 days)"},
           Bad{"at(2026-04-31T09:00:00)", "day 31 is not 1-30"},
           Bad{"at(2026-06-00T09:00:00)", "day 0 is not 1-30"},
           Bad{"at(2026-06-01T24:00:00)", "hour 24 is not 0-23"},
           Bad{"at(2026-06-01T09:60:00)", "minute 60 is not 0-59"},
           Bad{"at(2026-06-01T09:00:60)", "second 60 is not 0-59"},
           Bad{"at(1969-12-31T23:59:59)", "year 1969 is not 1970-2199"},
           Bad{"every day", "\"every day\" is not a schedule expression; expected cron("},
           Bad{"CRON(0 6 * * ? *)", "is not a schedule expression"},
           Bad{"cron(0 6 * * ? *", "is not a schedule expression"},
           Bad{"", "\"\" is not a schedule expression"},
       }) {
    Result<ScheduleExpression> e = ScheduleExpression::Parse(b.expression);
    ASSERT_FALSE(e.ok()) << b.expression;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << b.expression;
    EXPECT_NE(e.status().message().find(b.message), std::string::npos)
        << b.expression << ": " << e.status().message();
    // The validator is the same parser.
    EXPECT_EQ(ValidateScheduleExpression(b.expression), e.status()) << b.expression;
  }
}

TEST(ScheduleExpression, ValidatorAcceptsWhatParses) {
  for (const char* ok :
       {"cron(0 6 * * ? *)", "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 12 L * ? 2027)",
        "cron(30 9 ? * 3#2 *)", "cron(0 0 15W JAN,JUL ? *)", "cron(0 0 ? * 6L *)",
        "cron(0 0 ? * L *)", "cron(0 22-2 * * ? 2026-2030)", "cron(0  6 *  * ? *)", "rate(1 day)",
        "rate(5 minutes)", "rate(1 minute)", "rate(24 hours)", "at(2026-06-01T09:00:00)",
        "at(2199-12-31T23:59:59)", "at(2028-02-29T00:00:00)"}) {
    EXPECT_TRUE(ValidateScheduleExpression(ok).ok())
        << ok << ": " << ValidateScheduleExpression(ok).message();
    EXPECT_TRUE(ScheduleExpression::Parse(ok, "Europe/London").ok()) << ok;
  }
}

// --- Cross-check against a naive minute-by-minute scan ---------------------------------------

// An independent reading of the cron rules: each list item is tested against a value directly.
class NaiveCron {
 public:
  explicit NaiveCron(std::string_view expression) {
    std::string_view body = expression.substr(5, expression.size() - 6);
    std::size_t start = 0;
    for (int i = 0; i < 6; ++i) {
      while (body[start] == ' ') ++start;
      std::size_t end = body.find(' ', start);
      if (end == std::string_view::npos) end = body.size();
      fields_[i] = std::string(body.substr(start, end - start));
      start = end;
    }
  }

  // A local date; weekday 1-7 = SUN-SAT.
  bool DayMatches(int year, int month, int day, int weekday, int last_day) const {
    if (!Field(3, month) || !Field(5, year)) return false;
    if (fields_[2] == "?") return DayOfWeek(year, month, day, weekday, last_day);
    return DayOfMonth(year, month, day, last_day);
  }
  bool TimeMatches(int hour, int minute) const { return Field(0, minute) && Field(1, hour); }

 private:
  static constexpr int kMin[6] = {0, 0, 1, 1, 1, 1970};
  static constexpr int kMax[6] = {59, 23, 31, 12, 7, 2199};

  static std::vector<std::string> Items(const std::string& field) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (true) {
      std::size_t comma = field.find(',', start);
      items.push_back(field.substr(start, comma - start));
      if (comma == std::string::npos) return items;
      start = comma + 1;
    }
  }

  static int Value(int field, const std::string& s) {
    static const std::map<std::string, int> kNames = {
        {"JAN", 1}, {"FEB", 2}, {"MAR", 3}, {"APR", 4},  {"MAY", 5},  {"JUN", 6},
        {"JUL", 7}, {"AUG", 8}, {"SEP", 9}, {"OCT", 10}, {"NOV", 11}, {"DEC", 12}};
    static const std::map<std::string, int> kDays = {{"SUN", 1}, {"MON", 2}, {"TUE", 3}, {"WED", 4},
                                                     {"THU", 5}, {"FRI", 6}, {"SAT", 7}};
    if (field == 3 && kNames.count(s)) return kNames.at(s);
    if (field == 4 && kDays.count(s)) return kDays.at(s);
    return std::stoi(s);
  }

  // v in "a", "*", "a-b" (wrapping), each with an optional "/step".
  static bool Item(int field, const std::string& item, int v) {
    int step = 1;
    std::string range = item;
    if (std::size_t slash = item.find('/'); slash != std::string::npos) {
      step = std::stoi(item.substr(slash + 1));
      range = item.substr(0, slash);
    }
    int span = kMax[field] - kMin[field] + 1;
    int lo = kMin[field];
    int length = span - 1;  // how far past lo the values go
    if (range != "*") {
      std::size_t dash = range.find('-');
      lo = Value(field, range.substr(0, dash));
      if (dash != std::string::npos) {
        length = (Value(field, range.substr(dash + 1)) - lo + span) % span;
      } else {
        length = item.find('/') == std::string::npos ? 0 : kMax[field] - lo;
      }
    }
    int past = (v - lo + span) % span;
    return past <= length && past % step == 0;
  }

  bool Field(int field, int v) const {
    for (const std::string& item : Items(fields_[field])) {
      if (Item(field, item, v)) return true;
    }
    return false;
  }

  static int WeekdayOf(int year, int month, int day) {
    using namespace std::chrono;
    return static_cast<int>(weekday(sys_days(std::chrono::year(year) / month / day)).c_encoding()) +
           1;
  }

  bool DayOfMonth(int year, int month, int day, int last_day) const {
    for (const std::string& item : Items(fields_[2])) {
      if (item == "L") {
        if (day == last_day) return true;
      } else if (item.back() == 'W') {
        // The Monday-Friday day of this month closest to n.
        int n = std::stoi(item.substr(0, item.size() - 1));
        if (n > last_day) continue;
        int best = 0;
        for (int d = 1; d <= last_day; ++d) {
          int w = WeekdayOf(year, month, d);
          if (w >= 2 && w <= 6 && (best == 0 || std::abs(d - n) < std::abs(best - n))) best = d;
        }
        if (day == best) return true;
      } else if (Item(2, item, day)) {
        return true;
      }
    }
    return false;
  }

  bool DayOfWeek(int year, int month, int day, int weekday, int last_day) const {
    for (const std::string& item : Items(fields_[4])) {
      if (item == "L") {
        if (weekday == 7) return true;
      } else if (std::size_t hash = item.find('#'); hash != std::string::npos) {
        if (weekday == Value(4, item.substr(0, hash)) &&
            (day - 1) / 7 + 1 == std::stoi(item.substr(hash + 1))) {
          return true;
        }
      } else if (item.size() > 1 && item.back() == 'L') {
        if (weekday == Value(4, item.substr(0, item.size() - 1)) && day + 7 > last_day) return true;
      } else if (Item(4, item, weekday)) {
        return true;
      }
    }
    return false;
  }

  std::array<std::string, 6> fields_;
};

std::string RandomCron(std::mt19937& rng) {
  auto pick = [&](std::initializer_list<const char*> options) {
    std::vector<const char*> v(options);
    return std::string(v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)]);
  };
  auto num = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto simple = [&](int lo, int hi) {
    switch (num(0, 5)) {
      case 0:
        return std::to_string(num(lo, hi));
      case 1:
        return fmt::format("{}-{}", num(lo, hi), num(lo, hi));  // may wrap
      case 2:
        return fmt::format("{}/{}", num(lo, hi), num(1, (hi - lo) / 2 + 1));
      case 3:
        return fmt::format("*/{}", num(1, (hi - lo) / 2 + 1));
      case 4:
        return fmt::format("{}-{}/{}", num(lo, hi), num(lo, hi), num(1, 5));
      default:
        return fmt::format("{},{}", num(lo, hi), num(lo, hi));
    }
  };
  std::string minute = num(0, 3) == 0 ? "*" : simple(0, 59);
  std::string hour = num(0, 3) == 0 ? "*" : simple(0, 23);
  std::string month = pick({"*", "*", "*", "JAN-MAR", "NOV-FEB", "2/3", "6", "MAR,OCT", "*/2"});
  std::string year = pick({"*", "*", "*", "*", "2026", "2027", "2026-2027", "2025", "2026/2"});
  std::string dom = "?";
  std::string dow = "?";
  if (num(0, 1) == 0) {
    dom = num(0, 2) == 0 ? pick({"*", "L", "L,15", "1W", "15W", "31W", "30W,2", "29", "28-3"})
                         : simple(1, 31);
  } else {
    dow = num(0, 2) == 0
              ? pick({"*", "MON-FRI", "FRI-MON", "6L", "1L", "2#1", "3#5", "L", "SAT,SUN", "7#2"})
              : simple(1, 7);
  }
  return fmt::format("cron({} {} {} {} {} {})", minute, hour, dom, month, dow, year);
}

// Compares NextAfter with a scan of every minute of the year after `start`: a minute fires when
// its local time matches and is later than every local time seen before (so a local time that
// clocks skip never fires, and one they repeat fires once).
void CrossCheck(const std::string& expression, std::string_view zone_name, TimePoint start) {
  SCOPED_TRACE(fmt::format("{} in {} from {}", expression, zone_name, Text(start)));
  Result<ScheduleExpression> e = ScheduleExpression::Parse(expression, zone_name);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Result<TimeZone> zone = TimeZone::Load(zone_name);
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  NaiveCron naive(expression);

  using std::chrono::sys_seconds;
  auto local_of = [&](sys_seconds t) { return t + zone->OffsetAt(t); };
  sys_seconds first = std::chrono::ceil<minutes>(start);
  if (TimePoint(first) == start) first += minutes(1);
  sys_seconds end = first + std::chrono::days(366);
  sys_seconds latest_local = local_of(first - minutes(1));
  for (sys_seconds t = first - std::chrono::hours(26); t < first; t += minutes(1)) {
    latest_local = std::max(latest_local, local_of(t));
  }
  // The naive answers, computed once per local day and per minute of the day.
  std::map<std::int64_t, bool> day_matches;
  auto day_match = [&](std::chrono::sys_days day) {
    auto [it, inserted] = day_matches.try_emplace(day.time_since_epoch().count(), false);
    if (inserted) {
      std::chrono::year_month_day ymd(day);
      auto last = static_cast<unsigned>((ymd.year() / ymd.month() / std::chrono::last).day());
      it->second = naive.DayMatches(
          static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())),
          static_cast<int>(std::chrono::weekday(day).c_encoding()) + 1, static_cast<int>(last));
    }
    return it->second;
  };
  std::array<bool, 24 * 60> time_matches{};
  for (int m = 0; m < 24 * 60; ++m) time_matches[m] = naive.TimeMatches(m / 60, m % 60);

  std::vector<TimePoint> fires;
  for (sys_seconds t = first; t < end; t += minutes(1)) {
    sys_seconds local = local_of(t);
    if (local <= latest_local) continue;
    latest_local = local;
    auto day = std::chrono::floor<std::chrono::days>(local);
    auto minute_of_day = std::chrono::duration_cast<minutes>(local - day).count();
    if (time_matches[static_cast<std::size_t>(minute_of_day)] && day_match(day)) {
      fires.push_back(TimePoint(t));
    }
  }

  // Every fire of the year in a chain of NextAfter calls (the first 2,000).
  TimePoint anchor = start;
  TimePoint after = start;
  for (std::size_t i = 0; i < std::min<std::size_t>(fires.size(), 2000); ++i) {
    std::optional<TimePoint> next = e->NextAfter(after, anchor);
    ASSERT_EQ(Text(next), Text(fires[i])) << "fire " << i << " after " << Text(after);
    after = *next;
  }
  if (fires.empty()) {
    std::optional<TimePoint> next = e->NextAfter(start, anchor);
    EXPECT_TRUE(!next || *next >= TimePoint(end)) << Text(next);
  }
  // And from random instants, down to the nanosecond.
  std::mt19937_64 rng(fires.size());
  for (int i = 0; i < 50; ++i) {
    auto span =
        (TimePoint(end) - start).count() - std::chrono::nanoseconds(std::chrono::hours(30)).count();
    TimePoint probe =
        start + std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(0, span)(rng));
    auto it = std::upper_bound(fires.begin(), fires.end(), probe);
    std::optional<TimePoint> next = e->NextAfter(probe, anchor);
    if (it != fires.end()) {
      EXPECT_EQ(Text(next), Text(*it)) << "after " << Text(probe);
    } else {
      EXPECT_TRUE(!next || *next >= TimePoint(end)) << Text(next) << " after " << Text(probe);
    }
  }
}

TEST(ScheduleExpression, AgreesWithAMinuteByMinuteScan) {
  std::mt19937 rng(20260308);
  const std::vector<std::string> fixed = {"cron(*/30 * * * ? *)", "cron(0 1-3 * * ? *)",
                                          "cron(30 2 ? * SUN *)", "cron(0 0 L * ? *)",
                                          "cron(0 9 15W * ? *)",  "cron(15 10 ? * 6L 2026-2027)"};
  struct Run {
    const char* zone;
    int count;
  };
  for (const Run& run : {Run{"UTC", 40}, Run{"America/New_York", 25}, Run{"Europe/London", 15},
                         Run{"Asia/Kolkata", 8}}) {
    for (int i = 0; i < run.count; ++i) {
      std::string expression = i < static_cast<int>(fixed.size()) ? fixed[i] : RandomCron(rng);
      // Starts spread over 2026, at odd seconds.
      TimePoint start = At("2026-01-01T00:00:00Z") +
                        seconds(std::uniform_int_distribution<int>(0, 330 * 86400)(rng)) +
                        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 999)(rng));
      CrossCheck(expression, run.zone, start);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace zflow::pipeline
