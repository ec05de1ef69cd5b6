// Evaluates JSONPath-mode Choice rules as AWS Step Functions does.
//
//   Outcome<bool> m = EvaluateChoiceRule(rule, ctx);   // one rule (And/Or/Not recursively)
//   Outcome<const ChoiceRule*> next = SelectChoice(state, ctx);  // first match, or null
#ifndef ZFLOW_ASL_CHOICE_EVALUATOR_H_
#define ZFLOW_ASL_CHOICE_EVALUATOR_H_

#include <boost/unordered/unordered_flat_map.hpp>

#include "asl/evaluation.h"
#include "asl/json_path.h"
#include "zflow/state_machine.h"

namespace zflow::asl {

// The paths of Choice rules (Variable and the ...Path operands), compiled once when a machine is
// prepared, so that evaluating a rule looks nothing up by its text. Keyed by the address of the
// path's text in the model, which must outlive this.
class ChoicePaths {
 public:
  // Adds `rule`'s paths and its children's. A path that does not compile is left out: evaluation
  // then reports it as it would without this.
  void Add(const ChoiceRule& rule, JsonPathCache* cache);
  // The compiled path whose text is `*text`, or null.
  const JsonPath* Find(const void* text) const {
    auto it = paths_.find(text);
    return it == paths_.end() ? nullptr : &it->second;
  }

 private:
  boost::unordered_flat_map<const void*, JsonPath> paths_;
};

// True when `rule` matches, as AWS Step Functions evaluates JSONPath Choice rules:
// - Variable and ...Path operands are paths with any root ($, $$, $var), compiled once when the
//   machine is prepared (ChoicePaths) or, without those, at each call;
// - when the Variable names nothing, IsPresent is false (so "IsPresent": false matches) and every
//   other operator fails with States.Runtime ("Invalid path '$.x': ..."), as AWS does; guard with
//   {"And": [{"Variable": "$.x", "IsPresent": true}, ...]}: And/Or stop at the first child that
//   decides the result, so a guarded comparison is never reached;
// - a ...Path operand that names nothing is also States.Runtime;
// - type mismatches (StringEquals on a number, ...) are false, not errors; Is* are type tests:
//   IsNull only for JSON null, IsNumeric only for JSON numbers (not numeric strings), IsTimestamp
//   only for strings that ParseTimestamp accepts;
// - Numeric* compare exactly across integers and doubles (1 == 1.0; 2^53 + 1 != 2^53 as double);
// - String* compare as Java's String.compareTo, which AWS documents: by UTF-16 code unit, i.e.
//   code point order except that U+E000..U+FFFF sort after supplementary characters; no
//   normalization or case folding;
// - Timestamp* parse both sides with ParseTimestamp and compare instants (offsets and fractions
//   honored); false unless both parse;
// - StringMatches: '*' matches any run of characters, \* (backslash, star) a literal '*' and \\ a
//   literal backslash; any other backslash is States.Runtime (the spec's "open escape"). Linear
//   in the input, whatever the pattern;
// - a JSONata Condition (Kind::kCondition) is not evaluated here: a literal true/false is
//   returned as is, an expression fails with States.Runtime.
// Error causes do not name the state; the engine adds that. Thread-safe; `rule` and `ctx` are
// only borrowed for the call. `paths`, when given, holds the rule's compiled paths (else they
// are compiled for the call).
Outcome<bool> EvaluateChoiceRule(const ChoiceRule& rule, const EvaluationContext& ctx,
                                 const ChoicePaths* paths = nullptr);

// The first top-level rule of a Choice state that matches, or null when none does (the caller
// then uses Default or fails with States.NoChoiceMatched). Errors: the first one a rule raises.
Outcome<const ChoiceRule*> SelectChoice(const State& choice_state, const EvaluationContext& ctx);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_CHOICE_EVALUATOR_H_
