#include "pipeline/time_zone.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "asl/timestamp.h"

namespace zflow::pipeline {
namespace {

using std::chrono::local_seconds;
using std::chrono::seconds;
using std::chrono::sys_seconds;

sys_seconds Utc(std::string_view rfc3339) {
  std::optional<asl::Instant> i = asl::ParseTimestamp(rfc3339);
  EXPECT_TRUE(i.has_value()) << rfc3339;
  return sys_seconds(seconds(i ? i->seconds : 0));
}

// A local time written as if it were UTC.
local_seconds Local(std::string_view text) { return local_seconds(Utc(text).time_since_epoch()); }

std::int64_t Offset(const TimeZone& zone, std::string_view utc) {
  return zone.OffsetAt(Utc(utc)).count();
}

TimeZone MustLoad(std::string_view name) {
  Result<TimeZone> zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? *zone : TimeZone::Utc();
}

TEST(TimeZone, OffsetsOfRealZones) {
  TimeZone ny = MustLoad("America/New_York");
  EXPECT_EQ(ny.name(), "America/New_York");
  EXPECT_EQ(Offset(ny, "2026-01-15T00:00:00Z"), -5 * 3600);
  EXPECT_EQ(Offset(ny, "2026-07-15T00:00:00Z"), -4 * 3600);
  // The switches of 2026, to the second.
  EXPECT_EQ(Offset(ny, "2026-03-08T06:59:59Z"), -5 * 3600);
  EXPECT_EQ(Offset(ny, "2026-03-08T07:00:00Z"), -4 * 3600);
  EXPECT_EQ(Offset(ny, "2026-11-01T05:59:59Z"), -4 * 3600);
  EXPECT_EQ(Offset(ny, "2026-11-01T06:00:00Z"), -5 * 3600);
  // After the transitions the file lists (2037), from its footer rule.
  EXPECT_EQ(Offset(ny, "2050-07-01T00:00:00Z"), -4 * 3600);
  EXPECT_EQ(Offset(ny, "2199-07-01T00:00:00Z"), -4 * 3600);
  EXPECT_EQ(Offset(ny, "2199-12-01T00:00:00Z"), -5 * 3600);

  TimeZone kolkata = MustLoad("Asia/Kolkata");
  EXPECT_EQ(Offset(kolkata, "2026-01-15T00:00:00Z"), 19800);
  EXPECT_EQ(Offset(kolkata, "2026-07-15T00:00:00Z"), 19800);
  EXPECT_EQ(Offset(kolkata, "1943-01-01T00:00:00Z"), 23400);  // war time, +06:30

  TimeZone london = MustLoad("Europe/London");
  EXPECT_EQ(Offset(london, "2026-07-01T00:00:00Z"), 3600);
  EXPECT_EQ(Offset(london, "2150-07-01T00:00:00Z"), 3600);
  EXPECT_EQ(Offset(london, "2150-12-01T00:00:00Z"), 0);

  // Southern hemisphere; half-hour daylight saving time.
  TimeZone sydney = MustLoad("Australia/Sydney");
  EXPECT_EQ(Offset(sydney, "2026-01-15T00:00:00Z"), 11 * 3600);
  EXPECT_EQ(Offset(sydney, "2026-07-15T00:00:00Z"), 10 * 3600);
  TimeZone lord_howe = MustLoad("Australia/Lord_Howe");
  EXPECT_EQ(Offset(lord_howe, "2026-01-15T00:00:00Z"), 11 * 3600);
  EXPECT_EQ(Offset(lord_howe, "2026-07-15T00:00:00Z"), 10 * 3600 + 1800);
  // Negative daylight saving time: Irish Standard Time is the summer time.
  TimeZone dublin = MustLoad("Europe/Dublin");
  EXPECT_EQ(Offset(dublin, "2026-01-15T00:00:00Z"), 0);
  EXPECT_EQ(Offset(dublin, "2026-07-15T00:00:00Z"), 3600);
  // Switch times before local midnight ("M3.5.0/-1").
  TimeZone nuuk = MustLoad("America/Nuuk");
  EXPECT_EQ(Offset(nuuk, "2030-03-31T00:59:59Z"), -7200);
  EXPECT_EQ(Offset(nuuk, "2030-03-31T01:00:00Z"), -3600);
  EXPECT_EQ(Offset(nuuk, "2030-10-27T00:59:59Z"), -3600);
  EXPECT_EQ(Offset(nuuk, "2030-10-27T01:00:00Z"), -7200);

  EXPECT_EQ(Offset(TimeZone::Utc(), "2026-07-15T00:00:00Z"), 0);
  EXPECT_EQ(Offset(MustLoad("UTC"), "2026-07-15T00:00:00Z"), 0);
  EXPECT_EQ(Offset(MustLoad("Etc/GMT+5"), "2026-07-15T00:00:00Z"), -5 * 3600);
}

TEST(TimeZone, FirstInstantOfALocalTime) {
  TimeZone ny = MustLoad("America/New_York");
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-07-01T12:00:00Z")), Utc("2026-07-01T16:00:00Z"));
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-01-01T12:00:00Z")), Utc("2026-01-01T17:00:00Z"));
  // Clocks jump from 02:00 to 03:00.
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-03-08T01:59:59Z")), Utc("2026-03-08T06:59:59Z"));
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-03-08T02:00:00Z")), std::nullopt);
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-03-08T02:59:59Z")), std::nullopt);
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-03-08T03:00:00Z")), Utc("2026-03-08T07:00:00Z"));
  // Clocks go back from 02:00 to 01:00: 01:xx happens twice, EDT first.
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-11-01T00:59:00Z")), Utc("2026-11-01T04:59:00Z"));
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-11-01T01:30:00Z")), Utc("2026-11-01T05:30:00Z"));
  EXPECT_EQ(ny.FirstInstantAt(Local("2026-11-01T02:00:00Z")), Utc("2026-11-01T07:00:00Z"));
  EXPECT_EQ(ny.ToLocal(Utc("2026-11-01T06:30:00Z")), Local("2026-11-01T01:30:00Z"));
  EXPECT_EQ(ny.ToLocal(Utc("2026-11-01T05:30:00Z")), Local("2026-11-01T01:30:00Z"));
}

TEST(TimeZone, UnknownNamesAreInvalidArguments) {
  for (const char* name : {"Mars/Olympus", "", "America", "zone.tab", "../../../etc/passwd",
                           "/etc/localtime", "Europe/./London", "Europe/London/", "New York"}) {
    Result<TimeZone> zone = TimeZone::Load(name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_EQ(zone.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(zone.status().message().find("unknown time zone"), std::string::npos)
        << zone.status().message();
  }
  Result<TimeZone> elsewhere = TimeZone::Load("America/New_York", "/nonexistent/zoneinfo");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_NE(elsewhere.status().message().find("/nonexistent/zoneinfo"), std::string::npos)
      << elsewhere.status().message();
}

TEST(TimeZone, PosixRules) {
  using Kind = TimeZone::PosixRule::Date::Kind;
  std::optional<TimeZone::PosixRule> us = TimeZone::PosixRule::Parse("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(us.has_value());
  EXPECT_EQ(us->std_offset, -5 * 3600);
  EXPECT_EQ(us->dst_offset, -4 * 3600);
  EXPECT_EQ(us->dst_start.kind, Kind::kMonthWeekDay);
  EXPECT_EQ(us->dst_start.month, 3);
  EXPECT_EQ(us->dst_start.week, 2);
  EXPECT_EQ(us->dst_start.time, 7200);
  EXPECT_EQ(us->OffsetAt(Utc("2026-03-08T06:59:59Z").time_since_epoch().count()), -5 * 3600);
  EXPECT_EQ(us->OffsetAt(Utc("2026-03-08T07:00:00Z").time_since_epoch().count()), -4 * 3600);

  std::optional<TimeZone::PosixRule> india = TimeZone::PosixRule::Parse("<+0530>-5:30");
  ASSERT_TRUE(india.has_value());
  EXPECT_FALSE(india->has_dst);
  EXPECT_EQ(india->OffsetAt(0), 19800);

  std::optional<TimeZone::PosixRule> chatham =
      TimeZone::PosixRule::Parse("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
  ASSERT_TRUE(chatham.has_value());
  EXPECT_EQ(chatham->dst_offset, 13 * 3600 + 45 * 60);
  EXPECT_EQ(chatham->dst_start.time, 2 * 3600 + 45 * 60);
  EXPECT_EQ(chatham->OffsetAt(Utc("2026-01-15T00:00:00Z").time_since_epoch().count()),
            13 * 3600 + 45 * 60);

  // Julian days: J60 is March 1 in every year; 59 (zero-based) is February 29 in leap years.
  std::optional<TimeZone::PosixRule> julian = TimeZone::PosixRule::Parse("AAA0BBB,J60/0,59/0");
  ASSERT_TRUE(julian.has_value());
  EXPECT_EQ(julian->dst_start.kind, Kind::kJulian1);
  EXPECT_EQ(julian->dst_end.kind, Kind::kJulian0);
  // In leap year 2028, DST ends on February 29 (day 59) and starts again on March 1 (J60).
  EXPECT_EQ(julian->OffsetAt(Utc("2028-02-29T12:00:00Z").time_since_epoch().count()), 0);
  EXPECT_EQ(julian->OffsetAt(Utc("2028-03-01T00:00:00Z").time_since_epoch().count()), 3600);

  // DST all year (the end at 25:00 of the last day meets the next start).
  std::optional<TimeZone::PosixRule> always = TimeZone::PosixRule::Parse("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(always.has_value());
  for (const char* t : {"2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z", "2026-07-01T00:00:00Z",
                        "2026-12-31T23:59:59Z"}) {
    EXPECT_EQ(always->OffsetAt(Utc(t).time_since_epoch().count()), -4 * 3600) << t;
  }

  for (const char* bad : {"EST5EDT", "EST", "E5", "<>5", "EST5EDT,M13.1.0,M11.1.0",
                          "EST5EDT,M3.2.0", "EST5EDT,M3.2.0,M11.1.0,", "EST5EDT,M3.6.0,M11.1.0",
                          "EST5EDT,J0,J365", "EST5EDT,366,M11.1.0", "EST25"}) {
    EXPECT_FALSE(TimeZone::PosixRule::Parse(bad).has_value()) << bad;
  }
}

// TZif data for tests: version 1 ('\0') or 2 ('2') with one data block's content.
std::string Be(std::int64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

struct TzifData {
  std::vector<std::pair<std::int64_t, int>> transitions;  // time, type index
  std::vector<std::int32_t> type_offsets;
  std::string footer;
};

std::string Block(const TzifData& d, int time_size) {
  std::string out = Be(0, 4) + Be(0, 4) + Be(0, 4) +
                    Be(static_cast<std::int64_t>(d.transitions.size()), 4) +
                    Be(static_cast<std::int64_t>(d.type_offsets.size()), 4) + Be(2, 4);
  for (const auto& [t, type] : d.transitions) out += Be(t, time_size);
  for (const auto& [t, type] : d.transitions) out.push_back(static_cast<char>(type));
  for (std::int32_t offset : d.type_offsets) out += Be(offset, 4) + std::string("\0\0", 2);
  out += std::string("X\0", 2);
  return out;
}

std::string Tzif(char version, const TzifData& d) {
  std::string header = std::string("TZif") + version + std::string(15, '\0');
  if (version == '\0') return header + Block(d, 4);
  TzifData minimal{.type_offsets = {0}};
  return header + Block(minimal, 4) + header + Block(d, 8) + "\n" + d.footer + "\n";
}

TEST(TimeZone, ReadsTzifVersionsOneAndTwo) {
  TzifData data{.transitions = {{1000, 1}, {2000, 0}}, .type_offsets = {-3600, 7200}};
  for (char version : {'\0', '2', '3'}) {
    Result<TimeZone> zone = TimeZone::FromTzif("Test/Zone", Tzif(version, data));
    ASSERT_TRUE(zone.ok()) << zone.status().ToString();
    EXPECT_EQ(zone->name(), "Test/Zone");
    EXPECT_EQ(zone->OffsetAt(sys_seconds(seconds(-1000000))).count(), -3600);
    EXPECT_EQ(zone->OffsetAt(sys_seconds(seconds(999))).count(), -3600);
    EXPECT_EQ(zone->OffsetAt(sys_seconds(seconds(1000))).count(), 7200);
    EXPECT_EQ(zone->OffsetAt(sys_seconds(seconds(1999))).count(), 7200);
    EXPECT_EQ(zone->OffsetAt(sys_seconds(seconds(2000))).count(), -3600);
  }
  // A footer rule governs everything after the last transition, or everything if there is none.
  Result<TimeZone> ruled = TimeZone::FromTzif(
      "Test/Rule", Tzif('2', {.type_offsets = {-5 * 3600}, .footer = "EST5EDT,M3.2.0,M11.1.0"}));
  ASSERT_TRUE(ruled.ok()) << ruled.status().ToString();
  EXPECT_EQ(Offset(*ruled, "2026-07-01T00:00:00Z"), -4 * 3600);
  EXPECT_EQ(Offset(*ruled, "2026-12-01T00:00:00Z"), -5 * 3600);
  EXPECT_EQ(ruled->FirstInstantAt(Local("2026-03-08T02:30:00Z")), std::nullopt);
}

TEST(TimeZone, RejectsInvalidTzifData) {
  TzifData good{.transitions = {{1000, 1}}, .type_offsets = {0, 3600}};
  std::string v2 = Tzif('2', good);
  struct Bad {
    std::string data;
    const char* message;
  };
  for (const Bad& b : {
           Bad{"", "no TZif header"},
           Bad{"TZix" + v2.substr(4), "no TZif header"},
           Bad{v2.substr(0, v2.size() - 12), "truncated data block"},
           Bad{v2.substr(0, 60), "no second TZif header"},
           Bad{Tzif('2', {.transitions = {{1000, 5}}, .type_offsets = {0, 3600}}),
               "undefined local time type"},
           Bad{Tzif('2', {.transitions = {{2000, 1}, {1000, 0}}, .type_offsets = {0, 3600}}),
               "transition times out of order"},
           Bad{Tzif('2', {.type_offsets = {}}), "no local time types"},
           Bad{Tzif('2', {.type_offsets = {0}, .footer = "EST5EDT"}),
               "unsupported footer TZ string \"EST5EDT\""},
           Bad{v2.substr(0, v2.size() - 1), "no footer"},
       }) {
    Result<TimeZone> zone = TimeZone::FromTzif("Test/Bad", b.data);
    ASSERT_FALSE(zone.ok()) << b.message;
    EXPECT_EQ(zone.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(zone.status().message().find(b.message), std::string::npos)
        << zone.status().message();
    EXPECT_NE(zone.status().message().find("time zone \"Test/Bad\": invalid TZif data"),
              std::string::npos)
        << zone.status().message();
  }
}

}  // namespace
}  // namespace zflow::pipeline
