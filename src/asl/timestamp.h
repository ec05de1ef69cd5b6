// RFC 3339 timestamps as AWS Step Functions reads them (Wait.Timestamp, Timestamp* Choice
// comparisons, IsTimestamp).
#ifndef ZFLOW_ASL_TIMESTAMP_H_
#define ZFLOW_ASL_TIMESTAMP_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

namespace zflow::asl {

// An instant: seconds since the Unix epoch (UTC) plus nanoseconds.
struct Instant {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  friend auto operator<=>(const Instant&, const Instant&) = default;
};

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)". The 'T' and 'Z' must be upper
// case, as AWS requires; calendar fields are range-checked (Feb 29 only in leap years).
// Fractions beyond nanoseconds are truncated. Returns nullopt when `s` is not such a timestamp.
std::optional<Instant> ParseTimestamp(std::string_view s);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_TIMESTAMP_H_
