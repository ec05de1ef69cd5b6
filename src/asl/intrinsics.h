// The 18 States.* intrinsic functions of JSONPath-mode ASL, parsed once and evaluated many
// times.
//
//   auto call = IntrinsicCall::Parse("States.Format('Hello, {}', $.name)");
//   Outcome<json::value> v = call->Evaluate(ctx);
//
// Arguments are string literals in single quotes (escape ' { } \ with '\'), numbers, true/false,
// null, paths ($.x, $$.Execution.Id, $var) and nested calls (at most 10 calls in one field).
#ifndef ZFLOW_ASL_INTRINSICS_H_
#define ZFLOW_ASL_INTRINSICS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asl/evaluation.h"
#include "zflow/status.h"

namespace zflow::asl {

// True when `text` is meant as an intrinsic call (starts with "States." after optional spaces).
bool LooksLikeIntrinsic(std::string_view text);

class IntrinsicCall {
 public:
  // kInvalidArgument with a message that says what is wrong and at which character, for: bad
  // syntax, an unknown function, a wrong argument count for the function, literal arguments of
  // the wrong type where that is known statically, more than 10 nested calls.
  static Result<IntrinsicCall> Parse(std::string_view text);

  IntrinsicCall(IntrinsicCall&&) noexcept;
  IntrinsicCall& operator=(IntrinsicCall&&) noexcept;
  IntrinsicCall(const IntrinsicCall&);
  IntrinsicCall& operator=(const IntrinsicCall&);
  ~IntrinsicCall();

  // Evaluates with AWS's semantics and limits. Errors: States.IntrinsicFailure (wrong argument
  // types or values, limits such as ArrayRange > 1000 items or Base64/Hash input > 10,000
  // characters), States.Runtime (a path argument names nothing).
  Outcome<json::value> Evaluate(const EvaluationContext& ctx) const;

  const std::string& text() const;

  // The JSONata expression that computes the same value, `input` standing for "$" (see
  // JsonPath::ToJsonata). States.Format needs a literal format string. Known differences:
  // JSONata's array constructor splices items that are arrays, and States.Format writes
  // objects as JSON.
  Result<std::string> ToJsonata(std::string_view input) const;
  // True for a States.Array call, whose arguments a JSON template can hold one by one.
  bool is_array() const;
  // Each argument of the call as a JSONata expression.
  Result<std::vector<std::string>> ArgumentsToJsonata(std::string_view input) const;

  struct Node;

 private:
  explicit IntrinsicCall(std::unique_ptr<Node> root, std::string text);
  std::unique_ptr<Node> root_;
  std::string text_;
};

// Building blocks the JSONata functions of Step Functions share with the intrinsics.
// The lowercase hex digest of `data` (MD5, SHA-1, SHA-256, SHA-384, SHA-512); nullopt for
// another algorithm name.
std::optional<std::string> HashHex(std::string_view data, std::string_view algorithm);
// java.util.Random(seed).nextDouble(): the same number for the same seed.
double SeededRandomDouble(std::int64_t seed);
// The context's random source, or the process-wide one.
RandomSource& RandomFor(const EvaluationContext& ctx);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_INTRINSICS_H_
