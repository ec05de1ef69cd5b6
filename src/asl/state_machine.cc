#include "zflow/state_machine.h"

#include <array>
#include <utility>

#include "zflow/diagnostic.h"

namespace zflow {

bool HasErrors(const std::vector<Diagnostic>& diagnostics) {
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::kError) return true;
  }
  return false;
}

}  // namespace zflow

namespace zflow::asl {

std::string_view QueryLanguageName(QueryLanguage q) {
  return q == QueryLanguage::kJsonata ? "JSONata" : "JSONPath";
}

namespace {
constexpr std::array<std::pair<StateType, std::string_view>, 8> kStateTypes = {{
    {StateType::kPass, "Pass"},
    {StateType::kTask, "Task"},
    {StateType::kChoice, "Choice"},
    {StateType::kWait, "Wait"},
    {StateType::kSucceed, "Succeed"},
    {StateType::kFail, "Fail"},
    {StateType::kParallel, "Parallel"},
    {StateType::kMap, "Map"},
}};

using Op = ComparisonOperator;
constexpr std::array<std::pair<Op, std::string_view>, 39> kOperators = {{
    {Op::kStringEquals, "StringEquals"},
    {Op::kStringEqualsPath, "StringEqualsPath"},
    {Op::kStringLessThan, "StringLessThan"},
    {Op::kStringLessThanPath, "StringLessThanPath"},
    {Op::kStringGreaterThan, "StringGreaterThan"},
    {Op::kStringGreaterThanPath, "StringGreaterThanPath"},
    {Op::kStringLessThanEquals, "StringLessThanEquals"},
    {Op::kStringLessThanEqualsPath, "StringLessThanEqualsPath"},
    {Op::kStringGreaterThanEquals, "StringGreaterThanEquals"},
    {Op::kStringGreaterThanEqualsPath, "StringGreaterThanEqualsPath"},
    {Op::kStringMatches, "StringMatches"},
    {Op::kNumericEquals, "NumericEquals"},
    {Op::kNumericEqualsPath, "NumericEqualsPath"},
    {Op::kNumericLessThan, "NumericLessThan"},
    {Op::kNumericLessThanPath, "NumericLessThanPath"},
    {Op::kNumericGreaterThan, "NumericGreaterThan"},
    {Op::kNumericGreaterThanPath, "NumericGreaterThanPath"},
    {Op::kNumericLessThanEquals, "NumericLessThanEquals"},
    {Op::kNumericLessThanEqualsPath, "NumericLessThanEqualsPath"},
    {Op::kNumericGreaterThanEquals, "NumericGreaterThanEquals"},
    {Op::kNumericGreaterThanEqualsPath, "NumericGreaterThanEqualsPath"},
    {Op::kBooleanEquals, "BooleanEquals"},
    {Op::kBooleanEqualsPath, "BooleanEqualsPath"},
    {Op::kTimestampEquals, "TimestampEquals"},
    {Op::kTimestampEqualsPath, "TimestampEqualsPath"},
    {Op::kTimestampLessThan, "TimestampLessThan"},
    {Op::kTimestampLessThanPath, "TimestampLessThanPath"},
    {Op::kTimestampGreaterThan, "TimestampGreaterThan"},
    {Op::kTimestampGreaterThanPath, "TimestampGreaterThanPath"},
    {Op::kTimestampLessThanEquals, "TimestampLessThanEquals"},
    {Op::kTimestampLessThanEqualsPath, "TimestampLessThanEqualsPath"},
    {Op::kTimestampGreaterThanEquals, "TimestampGreaterThanEquals"},
    {Op::kTimestampGreaterThanEqualsPath, "TimestampGreaterThanEqualsPath"},
    {Op::kIsNull, "IsNull"},
    {Op::kIsPresent, "IsPresent"},
    {Op::kIsNumeric, "IsNumeric"},
    {Op::kIsString, "IsString"},
    {Op::kIsBoolean, "IsBoolean"},
    {Op::kIsTimestamp, "IsTimestamp"},
}};
}  // namespace

std::string_view StateTypeName(StateType t) {
  for (const auto& [type, name] : kStateTypes) {
    if (type == t) return name;
  }
  return "?";
}

std::optional<StateType> StateTypeFromName(std::string_view name) {
  for (const auto& [type, n] : kStateTypes) {
    if (n == name) return type;
  }
  return std::nullopt;
}

std::string_view ComparisonOperatorName(ComparisonOperator op) {
  for (const auto& [o, name] : kOperators) {
    if (o == op) return name;
  }
  return "?";
}

std::optional<ComparisonOperator> ComparisonOperatorFromName(std::string_view name) {
  for (const auto& [o, n] : kOperators) {
    if (n == name) return o;
  }
  return std::nullopt;
}

bool IsPathOperator(ComparisonOperator op) {
  std::string_view name = ComparisonOperatorName(op);
  return name.size() > 4 && name.substr(name.size() - 4) == "Path";
}

const std::string& PathField::path() const {
  static const std::string kNone;
  return text ? *text : kNone;
}

const State* Branch::Find(std::string_view name) const {
  for (const State& s : states) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool operator==(const Branch& a, const Branch& b) {
  return a.start_at == b.start_at && a.states == b.states && a.comment == b.comment &&
         a.mode == b.mode && a.execution_type == b.execution_type && a.pointer == b.pointer;
}

}  // namespace zflow::asl
