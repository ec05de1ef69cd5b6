#include "zflow/clock.h"

#include <gtest/gtest.h>

namespace zflow {
namespace {

TEST(ManualClock, OnlyMovesForward) {
  ManualClock clock(TimePoint(std::chrono::seconds(1000)));
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(clock.Now(), TimePoint(std::chrono::seconds(1000 + 3600)));
  clock.Advance(std::chrono::seconds(-5));
  clock.AdvanceTo(TimePoint(std::chrono::seconds(10)));
  EXPECT_EQ(clock.Now(), TimePoint(std::chrono::seconds(4600)));
  clock.AdvanceTo(TimePoint(std::chrono::seconds(5000)));
  EXPECT_EQ(clock.Now(), TimePoint(std::chrono::seconds(5000)));
}

TEST(FormatTimestamp, PrintsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(TimePoint(std::chrono::milliseconds(1767225600123))),
            "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(TimePoint(std::chrono::milliseconds(-1))),
            "1969-12-31T23:59:59.999Z");
}

TEST(SystemClock, IsRecent) {
  SystemClock clock;
  EXPECT_GT(clock.Now(), TimePoint(std::chrono::seconds(1767225600 - 86400 * 365)));
}

}  // namespace
}  // namespace zflow
