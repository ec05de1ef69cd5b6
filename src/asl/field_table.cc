#include "asl/field_table.h"

#include <algorithm>
#include <vector>

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
using S = FieldShape;

// The two accessors of a model member, from one expression on `s`.
#define ZFLOW_SLOT(member)                                      \
  [](State& s) -> FieldSlot { return FieldSlot(s.member); }, \
      [](const State& s) -> ConstFieldSlot { return ConstFieldSlot(s.member); }

// In the order the serializer writes them (AWS's own order where it has one).
const std::array<FieldSpec, 48> kFields = {{
    {"Type", kAll, L::kBoth, S::kStructure},
    {"Comment", kAll, L::kBoth, S::kText, 0, ZFLOW_SLOT(comment)},
    {"QueryLanguage", kAll, L::kBoth, S::kStructure},
    {"Resource", kTask, L::kBoth, S::kStructure},
    {"Credentials", kTask, L::kBoth, S::kTemplate, 0, ZFLOW_SLOT(task().credentials)},
    {"Choices", kChoice, L::kBoth, S::kStructure},
    {"Default", kChoice, L::kBoth, S::kStructure},
    {"Seconds", kWait, L::kBoth, S::kCount, 0, ZFLOW_SLOT(wait().seconds)},
    {"Timestamp", kWait, L::kBoth, S::kJson, 0, ZFLOW_SLOT(wait().timestamp)},
    {"SecondsPath", kWait, L::kJsonPathOnly, S::kReferencePath, 0, ZFLOW_SLOT(wait().seconds_path)},
    {"TimestampPath", kWait, L::kJsonPathOnly, S::kReferencePath, 0,
     ZFLOW_SLOT(wait().timestamp_path)},
    {"Error", kFail, L::kBoth, S::kJson, 0, ZFLOW_SLOT(fail().error)},
    {"ErrorPath", kFail, L::kJsonPathOnly, S::kPathOrIntrinsic, 0, ZFLOW_SLOT(fail().error_path)},
    {"Cause", kFail, L::kBoth, S::kJson, 0, ZFLOW_SLOT(fail().cause)},
    {"CausePath", kFail, L::kJsonPathOnly, S::kPathOrIntrinsic, 0, ZFLOW_SLOT(fail().cause_path)},
    {"Branches", kParallel, L::kBoth, S::kStructure},
    {"ItemReader", kMap, L::kBoth, S::kConfig, 0, ZFLOW_SLOT(map().item_reader)},
    {"ItemsPath", kMap, L::kJsonPathOnly, S::kReferencePath, 0, ZFLOW_SLOT(map().items_path)},
    {"Items", kMap, L::kJsonataOnly, S::kJson, 0, ZFLOW_SLOT(map().items)},
    {"ItemSelector", kMap, L::kBoth, S::kTemplate, 0, ZFLOW_SLOT(map().item_selector)},
    {"ItemBatcher", kMap, L::kBoth, S::kConfig, 0, ZFLOW_SLOT(map().item_batcher)},
    {"MaxConcurrency", kMap, L::kBoth, S::kCount, 0, ZFLOW_SLOT(map().max_concurrency)},
    {"MaxConcurrencyPath", kMap, L::kJsonPathOnly, S::kReferencePath, 0,
     ZFLOW_SLOT(map().max_concurrency_path)},
    {"ToleratedFailureCount", kMap, L::kBoth, S::kCount, 0,
     ZFLOW_SLOT(map().tolerated_failure_count)},
    {"ToleratedFailureCountPath", kMap, L::kJsonPathOnly, S::kReferencePath, 0,
     ZFLOW_SLOT(map().tolerated_failure_count_path)},
    {"ToleratedFailurePercentage", kMap, L::kBoth, S::kJson, 0,
     ZFLOW_SLOT(map().tolerated_failure_percentage)},
    {"ToleratedFailurePercentagePath", kMap, L::kJsonPathOnly, S::kReferencePath, 0,
     ZFLOW_SLOT(map().tolerated_failure_percentage_path)},
    {"Label", kMap, L::kBoth, S::kText, 0, ZFLOW_SLOT(map().label)},
    {"ItemProcessor", kMap, L::kBoth, S::kStructure},
    {"Iterator", kMap, L::kBoth, S::kStructure},
    {"ResultWriter", kMap, L::kBoth, S::kConfig, 0, ZFLOW_SLOT(map().result_writer)},
    {"TimeoutSeconds", kTask, L::kBoth, S::kCount, 1, ZFLOW_SLOT(task().timeout_seconds)},
    {"TimeoutSecondsPath", kTask, L::kJsonPathOnly, S::kReferencePath, 0,
     ZFLOW_SLOT(task().timeout_seconds_path)},
    {"HeartbeatSeconds", kTask, L::kBoth, S::kCount, 1, ZFLOW_SLOT(task().heartbeat_seconds)},
    {"HeartbeatSecondsPath", kTask, L::kJsonPathOnly, S::kReferencePath, 0,
     ZFLOW_SLOT(task().heartbeat_seconds_path)},
    {"InputPath", kAll & ~kFail, L::kJsonPathOnly, S::kIoPath, 0, ZFLOW_SLOT(input_path)},
    {"Parameters", kPass | kWithResult, L::kJsonPathOnly, S::kTemplate, 0, ZFLOW_SLOT(parameters)},
    {"Arguments", kTask | kParallel, L::kJsonataOnly, S::kJson, 0, ZFLOW_SLOT(arguments)},
    {"Result", kPass, L::kJsonPathOnly, S::kJson, 0, ZFLOW_SLOT(pass().result)},
    {"ResultSelector", kWithResult, L::kJsonPathOnly, S::kTemplate, 0,
     ZFLOW_SLOT(result_selector)},
    {"ResultPath", kPass | kWithResult, L::kJsonPathOnly, S::kIoPath, 0, ZFLOW_SLOT(result_path)},
    {"OutputPath", kAll & ~kFail, L::kJsonPathOnly, S::kIoPath, 0, ZFLOW_SLOT(output_path)},
    {"Output", kAll & ~kFail, L::kJsonataOnly, S::kJson, 0, ZFLOW_SLOT(output)},
    {"Assign", kAll & ~(kSucceed | kFail), L::kBoth, S::kTemplate, 0, ZFLOW_SLOT(assign)},
    {"Retry", kWithResult, L::kBoth, S::kStructure},
    {"Catch", kWithResult, L::kBoth, S::kStructure},
    {"Next", kWithTransition, L::kBoth, S::kStructure},
    {"End", kWithTransition, L::kBoth, S::kStructure},
}};

#undef ZFLOW_SLOT

bool RuleReadsContext(const ChoiceRule& r) {
  if (r.variable.starts_with("$$")) return true;
  if (IsPathOperator(r.op) && MentionsContext(r.operand)) return true;
  for (const ChoiceRule& c : r.children) {
    if (RuleReadsContext(c)) return true;
  }
  return r.assign && MentionsContext(*r.assign);
}

}  // namespace

std::span<const FieldSpec> StateFields() { return kFields; }

const FieldSpec* FindStateField(std::string_view name) {
  // The rows by name, for a binary search (the parser asks once per field of every state).
  static const std::vector<const FieldSpec*> by_name = [] {
    std::vector<const FieldSpec*> out;
    for (const FieldSpec& f : kFields) out.push_back(&f);
    std::sort(out.begin(), out.end(),
              [](const FieldSpec* a, const FieldSpec* b) { return a->name < b->name; });
    return out;
  }();
  auto it = std::lower_bound(by_name.begin(), by_name.end(), name,
                             [](const FieldSpec* f, std::string_view n) { return f->name < n; });
  return it != by_name.end() && (*it)->name == name ? *it : nullptr;
}

std::vector<std::string_view> AllowedFieldNames(StateType type, QueryLanguage language) {
  std::vector<std::string_view> out;
  for (const FieldSpec& f : kFields) {
    if (f.AllowedOn(type) && f.AllowedIn(language)) out.push_back(f.name);
  }
  return out;
}

bool MentionsContext(const json::value& v) {
  if (v.is_string()) return std::string_view(v.get_string()).find("$$") != std::string_view::npos;
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (MentionsContext(kv.value())) return true;
    }
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (MentionsContext(e)) return true;
    }
  }
  return false;
}

namespace {

// For each state type, the rows whose values can name "$$" (asked for every state the engine
// prepares, so the table is filtered once).
const std::vector<const FieldSpec*>& ContextRows(StateType type) {
  static const auto rows = [] {
    std::array<std::vector<const FieldSpec*>, kStateTypeCount> out;
    for (std::size_t t = 0; t < kStateTypeCount; ++t) {
      for (const FieldSpec& f : kFields) {
        if (f.const_slot == nullptr || !f.AllowedOn(static_cast<StateType>(t))) continue;
        switch (f.shape) {
          case FieldShape::kReferencePath:
          case FieldShape::kPathOrIntrinsic:
          case FieldShape::kIoPath:
          case FieldShape::kTemplate:
          case FieldShape::kConfig:
            out[t].push_back(&f);
            break;
          default: break;
        }
      }
    }
    return out;
  }();
  return rows[static_cast<std::size_t>(type)];
}

}  // namespace

bool ReadsContext(const State& s) {
  for (const FieldSpec* row : ContextRows(s.type)) {
    const FieldSpec& f = *row;
    ConstFieldSlot v = f.const_slot(s);
    switch (f.shape) {
      case FieldShape::kReferencePath:
      case FieldShape::kPathOrIntrinsic:
        if (*v.text && v.text->value().find("$$") != std::string::npos) return true;
        break;
      case FieldShape::kIoPath:
        if (v.path->path().starts_with("$$")) return true;
        break;
      case FieldShape::kTemplate:
      case FieldShape::kConfig:
        if (*v.json && MentionsContext(**v.json)) return true;
        break;
      default: break;
    }
  }
  for (const ChoiceRule& r : s.choice().choices) {
    if (RuleReadsContext(r)) return true;
  }
  for (const Catcher& c : s.catch_) {
    if (c.assign && MentionsContext(*c.assign)) return true;
  }
  return false;
}

bool IsRfc3339Timestamp(std::string_view s) { return ParseTimestamp(s).has_value(); }

}  // namespace zflow::asl
