// EventBridge schedule expressions and time zone names: parse, then compute fire times.
#include <chrono>
#include <cstdint>
#include <string>

#include "pipeline/schedule_expression.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  std::string_view expression = input.substr(0, newline);
  std::string_view zone = newline == std::string_view::npos ? "UTC" : input.substr(newline + 1);
  auto parsed = zflow::pipeline::ScheduleExpression::Parse(expression, zone);
  if (!parsed.ok()) return 0;
  zflow::TimePoint t(std::chrono::seconds(1767225600));  // 2026-01-01
  for (int i = 0; i < 5; ++i) {
    auto next = parsed->NextAfter(t, zflow::TimePoint(std::chrono::seconds(1767225600)));
    if (!next) break;
    if (*next <= t) __builtin_trap();  // fire times move forward
    t = *next;
  }
  return 0;
}
