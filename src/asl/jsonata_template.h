// A field of a JSONata state: JSON in which every string written "{% expression %}" is a
// JSONata expression, compiled once and evaluated each time the state runs, with AWS's
// $states variable, the workflow's variables and the Step Functions function library.
//
//   auto output = JsonataTemplate::Compile(state.output, "Output");
//   Outcome<json::value> v = output->Evaluate({.input = &input, .context = ctx});
#ifndef ZFLOW_ASL_JSONATA_TEMPLATE_H_
#define ZFLOW_ASL_JSONATA_TEMPLATE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <string_view>

#include "asl/evaluation.h"
#include "zflow/json.h"
#include "zflow/jsonata.h"
#include "zflow/status.h"

namespace zflow::asl {

// What the expressions of one state see.
struct JsonataScope {
  const json::value* input = nullptr;         // $states.input
  const json::value* result = nullptr;        // $states.result (Task, Parallel, Map)
  const json::value* error_output = nullptr;  // $states.errorOutput (catchers)
  const json::value* context = nullptr;       // $states.context
  VariableLookup variables;                   // $name
  RandomSource* random = nullptr;             // $random, $uuid; null: process-wide
  // $now() and $millis(): the execution's clock (virtual time in tests); unset: the system's.
  std::optional<std::chrono::system_clock::time_point> now;
};

// True for a string AWS evaluates: "{%" first and "%}" last, nothing around them.
bool IsJsonataString(std::string_view s);
// The expression between the delimiters, trimmed.
std::string_view JsonataBody(std::string_view s);

class JsonataTemplate {
 public:
  // `field` names the field in causes ("Output", "Choices[0]/Condition"). Errors
  // (kInvalidArgument): an expression that does not parse, with its position.
  static Result<JsonataTemplate> Compile(const json::value& value, std::string field);

  // The value with each expression replaced by its result. Errors: States.QueryEvaluationError,
  // with AWS's cause (without the "An error occurred while executing the state" prefix), for an
  // expression that fails or returns nothing.
  Outcome<json::value> Evaluate(const JsonataScope& scope) const;

  // Typed fields. An integer field takes a whole number >= `min` (TimeoutSeconds, Seconds,
  // MaxConcurrency, ...); the others their JSON type. Wrong types are States.QueryEvaluationError
  // ("returned an unexpected result type").
  // At most `max` too (Seconds, TimeoutSeconds, HeartbeatSeconds: 99999999): above it,
  // States.QueryEvaluationError.
  Outcome<std::int64_t> EvaluateInteger(const JsonataScope& scope, std::int64_t min,
                                        std::int64_t max = INT64_MAX) const;
  Outcome<double> EvaluateNumber(const JsonataScope& scope) const;
  Outcome<bool> EvaluateBoolean(const JsonataScope& scope) const;
  Outcome<std::string> EvaluateString(const JsonataScope& scope) const;
  Outcome<json::value> EvaluateArray(const JsonataScope& scope) const;

  // True when an expression in it reads $states.context.
  bool ReadsContext() const;

  struct Node;

 private:
  explicit JsonataTemplate(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  // "The JSONata expression '...' specified for the field '...'" (or "The value ..." for a
  // literal): how AWS's causes name what failed.
  std::string SubjectOf(const json::value& got) const;
  WorkflowError TypeError(const JsonataScope& scope, std::string_view expected,
                          const json::value& got) const;
  std::shared_ptr<const Node> root_;
};

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_JSONATA_TEMPLATE_H_
