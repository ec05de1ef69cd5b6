// What the evaluators (paths, intrinsics, Choice rules, payload templates) need at run time, and
// how they fail. Evaluation failures are workflow errors (data, matched by Retry/Catch), not
// Status: "States.Runtime", "States.IntrinsicFailure", ...
#ifndef ZFLOW_ASL_EVALUATION_H_
#define ZFLOW_ASL_EVALUATION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "zflow/errors.h"
#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::asl {

// An ASL error as the workflow sees it: a name (States.Runtime, or a user error) and a cause.
struct WorkflowError {
  std::string error;
  std::string cause;
  // A JSONata expression that failed: the 1-based character of the expression where it failed
  // (the end of the token at fault); 0 when not known. Not part of AWS's cause, which has no
  // position: zflow records it in the EvaluationFailed event and `zflow run` shows it.
  std::size_t position = 0;
  friend bool operator==(const WorkflowError&, const WorkflowError&) = default;
};

// A value of type T, or the workflow error that evaluating it raised.
template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Outcome(WorkflowError error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  const WorkflowError& error() const { return std::get<1>(data_); }
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, WorkflowError> data_;
};

// Predefined error names: zflow/errors.h.
namespace errors = zflow::errors;

// Looks up a workflow variable ($name) by name; returns null when it is not defined.
using VariableLookup = std::function<const json::value*(std::string_view name)>;

// Source of randomness for States.UUID and States.MathRandom; injectable for tests.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual std::uint64_t Next() = 0;
};

// The inputs of one evaluation. Non-owning; everything must outlive the call.
struct EvaluationContext {
  const json::value* input = nullptr;    // "$"
  const json::value* context = nullptr;  // "$$" (the context object); null reads as {}
  VariableLookup variables;              // "$name"; empty = no variables defined
  RandomSource* random = nullptr;        // null = a process-wide generator
  // Where the objects and arrays an evaluation builds are allocated (parts of the input it
  // selects are copied with the input's own storage).
  json::storage_ptr storage;
};

}  // namespace zflow::asl

// Like ZFLOW_ASSIGN_OR_RETURN, for Outcome<T> inside functions that return an Outcome:
// a workflow error is returned as is.
#define ZFLOW_ASSIGN_OUTCOME_OR_RETURN(lhs, expr) \
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN_IMPL_(ZFLOW_CONCAT_(zflow_outcome_, __LINE__), lhs, expr)
// `lhs` may be a declaration, so it cannot be parenthesized.
#define ZFLOW_ASSIGN_OUTCOME_OR_RETURN_IMPL_(outcome, lhs, expr)         \
  auto outcome = (expr); /* NOLINT(bugprone-macro-parentheses) */        \
  if (!outcome.ok()) return outcome.error(); /* NOLINT(bugprone-macro-parentheses) */ \
  lhs = std::move(outcome).value() /* NOLINT(bugprone-macro-parentheses) */

#endif  // ZFLOW_ASL_EVALUATION_H_
