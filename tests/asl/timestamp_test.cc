#include "asl/timestamp.h"

#include <gtest/gtest.h>

namespace zflow::asl {
namespace {

TEST(Timestamp, ParsesUtcAndOffsets) {
  auto utc = ParseTimestamp("2026-01-01T00:00:00Z");
  ASSERT_TRUE(utc.has_value());
  EXPECT_EQ(utc->seconds, 1767225600);
  EXPECT_EQ(ParseTimestamp("2026-01-01T01:00:00+01:00"), utc);
  EXPECT_EQ(ParseTimestamp("2025-12-31T19:30:00-04:30"), utc);
  auto frac = ParseTimestamp("2026-01-01T00:00:00.123456789123Z");
  ASSERT_TRUE(frac.has_value());
  EXPECT_EQ(frac->nanos, 123456789);
  EXPECT_LT(*utc, *frac);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z")->seconds, -1);
}

TEST(Timestamp, ChecksTheCalendar) {
  EXPECT_TRUE(ParseTimestamp("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2100-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseTimestamp("2000-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-04-31T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-13-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-01-01T24:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-01-01T00:60:00Z").has_value());
}

TEST(Timestamp, RejectsWhatAwsRejects) {
  for (const char* bad : {"2026-01-01t00:00:00Z", "2026-01-01T00:00:00z", "2026-01-01 00:00:00Z",
                          "2026-01-01T00:00:00", "2026-01-01", "2026-01-01T00:00:00.Z",
                          "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00Z ", "yesterday",
                          ""}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace zflow::asl
