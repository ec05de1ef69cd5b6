#include "asl/field_table.h"

#include <array>

#include "asl/timestamp.h"

namespace zflow::asl {
namespace {

constexpr std::uint8_t Bit(StateType t) {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(t));
}
constexpr std::uint8_t kPass = Bit(StateType::kPass);
constexpr std::uint8_t kTask = Bit(StateType::kTask);
constexpr std::uint8_t kChoice = Bit(StateType::kChoice);
constexpr std::uint8_t kWait = Bit(StateType::kWait);
constexpr std::uint8_t kSucceed = Bit(StateType::kSucceed);
constexpr std::uint8_t kFail = Bit(StateType::kFail);
constexpr std::uint8_t kParallel = Bit(StateType::kParallel);
constexpr std::uint8_t kMap = Bit(StateType::kMap);
constexpr std::uint8_t kAll = 0xFF;
constexpr std::uint8_t kWithTransition = kPass | kTask | kWait | kParallel | kMap;
constexpr std::uint8_t kWithResult = kTask | kParallel | kMap;

using L = FieldLanguage;

constexpr std::array<FieldSpec, 45> kFields = {{
    {"Type", kAll, L::kBoth},
    {"Comment", kAll, L::kBoth},
    {"QueryLanguage", kAll, L::kBoth},
    {"Next", kWithTransition, L::kBoth},
    {"End", kWithTransition, L::kBoth},
    {"InputPath", kAll & ~kFail, L::kJsonPathOnly},
    {"OutputPath", kAll & ~kFail, L::kJsonPathOnly},
    {"ResultPath", kPass | kWithResult, L::kJsonPathOnly},
    {"Parameters", kPass | kWithResult, L::kJsonPathOnly},
    {"ResultSelector", kWithResult, L::kJsonPathOnly},
    {"Arguments", kTask | kParallel, L::kJsonataOnly},
    {"Output", kAll & ~kFail, L::kJsonataOnly},
    {"Assign", kAll & ~(kSucceed | kFail), L::kBoth},
    {"Result", kPass, L::kJsonPathOnly},
    {"Resource", kTask, L::kBoth},
    {"TimeoutSeconds", kTask, L::kBoth},
    {"TimeoutSecondsPath", kTask, L::kJsonPathOnly},
    {"HeartbeatSeconds", kTask, L::kBoth},
    {"HeartbeatSecondsPath", kTask, L::kJsonPathOnly},
    {"Credentials", kTask, L::kBoth},
    {"Retry", kWithResult, L::kBoth},
    {"Catch", kWithResult, L::kBoth},
    {"Choices", kChoice, L::kBoth},
    {"Default", kChoice, L::kBoth},
    {"Seconds", kWait, L::kBoth},
    {"Timestamp", kWait, L::kBoth},
    {"SecondsPath", kWait, L::kJsonPathOnly},
    {"TimestampPath", kWait, L::kJsonPathOnly},
    {"Error", kFail, L::kBoth},
    {"Cause", kFail, L::kBoth},
    {"ErrorPath", kFail, L::kJsonPathOnly},
    {"CausePath", kFail, L::kJsonPathOnly},
    {"Branches", kParallel, L::kBoth},
    {"ItemProcessor", kMap, L::kBoth},
    {"Iterator", kMap, L::kBoth},
    {"ItemsPath", kMap, L::kJsonPathOnly},
    {"Items", kMap, L::kJsonataOnly},
    {"ItemSelector", kMap, L::kBoth},
    {"ItemReader", kMap, L::kBoth},
    {"ItemBatcher", kMap, L::kBoth},
    {"ResultWriter", kMap, L::kBoth},
    {"MaxConcurrency", kMap, L::kBoth},
    {"MaxConcurrencyPath", kMap, L::kJsonPathOnly},
    {"ToleratedFailureCount", kMap, L::kBoth},
    {"Label", kMap, L::kBoth},
}};

constexpr std::array<FieldSpec, 3> kMoreFields = {{
    {"ToleratedFailureCountPath", kMap, L::kJsonPathOnly},
    {"ToleratedFailurePercentage", kMap, L::kBoth},
    {"ToleratedFailurePercentagePath", kMap, L::kJsonPathOnly},
}};

}  // namespace

const FieldSpec* FindStateField(std::string_view name) {
  for (const FieldSpec& f : kFields) {
    if (f.name == name) return &f;
  }
  for (const FieldSpec& f : kMoreFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string_view> AllowedFieldNames(StateType type, QueryLanguage language) {
  std::vector<std::string_view> out;
  auto add = [&](const FieldSpec& f) {
    if (f.AllowedOn(type) && f.AllowedIn(language)) out.push_back(f.name);
  };
  for (const FieldSpec& f : kFields) add(f);
  for (const FieldSpec& f : kMoreFields) add(f);
  return out;
}

bool IsRfc3339Timestamp(std::string_view s) { return ParseTimestamp(s).has_value(); }

}  // namespace zflow::asl
