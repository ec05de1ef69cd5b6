// The JSONata evaluator: walks the syntax tree over Values. One Evaluator serves one
// evaluation (it holds the depth and time guards); it throws Failure on errors.
#ifndef ZFLOW_JSONATA_EVALUATOR_H_
#define ZFLOW_JSONATA_EVALUATOR_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jsonata/ast.h"
#include "jsonata/function.h"
#include "jsonata/value.h"
#include "zflow/jsonata.h"

namespace zflow::jsonata {

class Evaluator {
 public:
  // `options` must outlive the evaluator.
  explicit Evaluator(const EvaluateOptions& options);

  // Evaluates `expr` with `input` as the context. `input` is the value as given: an array is
  // wrapped as the reference does before calling this.
  Value Evaluate(const Expr& expr, const Value& input, const FramePtr& env);

  // Calls a function value (lambdas, built-ins, partials, regexes, transforms).
  Value Apply(const Value& fn, std::vector<Value> args, const Value& input, const FramePtr& env);

  // The result as JSON: moved out when it is a whole document this evaluation made (a
  // transform's result), else converted.
  std::optional<json::value> ResultJson(const Value& result);

  // Runs `expression` from $eval.
  Value EvaluateText(const std::string& text, const Value& input, const FramePtr& env);

  // Milliseconds since the epoch when the evaluation started ($now() and $millis() return it
  // throughout, as the reference does).
  double now_millis() const { return now_millis_; }

  // The current environment's lookup of $name, including built-ins.
  Value LookupVariable(std::string_view name, const FramePtr& env) const;

 private:
  Value EvaluatePath(const Expr& expr, const Value& input, const FramePtr& env);
  bool TrySimplePath(const Expr& expr, const Value& input, const FramePtr& env, Value& result);
  Value EvaluateStep(const Expr& step, const Value& input, const FramePtr& env, bool last);
  Value EvaluateTupleStep(const Expr& step, const Value& input, const Value& tuples,
                          const FramePtr& env);
  Value EvaluateStages(const std::vector<Stage>& stages, Value input, const FramePtr& env);
  Value EvaluateFilter(const Expr& predicate, const Value& input, const FramePtr& env);
  Value EvaluateSort(const Expr& sort, const Value& input, const FramePtr& env);
  Value EvaluateGroup(const std::vector<std::pair<ExprPtr, ExprPtr>>& pairs, std::size_t position,
                      const Value& input, const FramePtr& env);
  Value EvaluateBinary(const Expr& expr, const Value& input, const FramePtr& env);
  Value EvaluateArray(const Expr& expr, const Value& input, const FramePtr& env);
  Value EvaluateCall(const Expr& expr, const Value& input, const FramePtr& env,
                     const Value* apply_to);
  Value EvaluatePartial(const Expr& expr, const Value& input, const FramePtr& env);
  Value EvaluateApply(const Expr& expr, const Value& input, const FramePtr& env);
  Value EvaluateBlock(const Expr& expr, const Value& input, const FramePtr& env);
  Value EvaluateVariable(const Expr& expr, const Value& input, const FramePtr& env);
  Value ApplyInner(const Value& fn, std::vector<Value> args, const Value& input,
                   const FramePtr& env);
  Value ApplyTransform(const FunctionNode& fn, const Value& target);
  Value TransformBorrowed(const FunctionNode& fn, const Value& target);
  // TransformBorrowed for a target read in place whose matches are distinct objects of it: the
  // result is one copy of the target's JSON with the changes made while copying.
  Value TransformJson(const FunctionNode& fn, const Value& target, const std::vector<Value>& list);
  FramePtr FrameFromTuple(const FramePtr& env, const Value& tuple);

  void Enter();
  void CheckDeadline();
  void Leave() { --depth_; }

  const EvaluateOptions& options_;
  std::size_t depth_ = 0;
  double now_millis_ = 0;
  double range_items_ = 0;  // items all ranges of this evaluation made
  std::size_t max_depth_;
  std::size_t checks_ = 0;
  bool has_deadline_ = false;
  std::chrono::steady_clock::time_point deadline_;
  const char* stack_base_;
  std::vector<std::shared_ptr<const Expr>> eval_programs_;
  // JSON documents this evaluation made (transform results), read in place by its values.
  std::deque<json::value> documents_;
};

// The value "$" refers to at the top: an array input is wrapped in a one-item sequence.
Value WrapInput(const Value& input);

// Cast to boolean as JSONata's $boolean does; undefined stays undefined.
Value ToBoolean(const Value& v);
bool Truthy(const Value& v);  // ToBoolean, with undefined as false

// Concatenates two values into a sequence as $append does.
Value Append(const Value& a, const Value& b);

// Flattens nested arrays into `out`.
void Flatten(const Value& v, std::vector<Value>& out);

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_EVALUATOR_H_
