// Evaluates JSONPath-mode Choice rules as AWS Step Functions does.
//
//   Outcome<bool> m = EvaluateChoiceRule(rule, ctx);   // one rule (And/Or/Not recursively)
//   Outcome<const ChoiceRule*> next = SelectChoice(state, ctx);  // first match, or null
#ifndef ZFLOW_ASL_CHOICE_EVALUATOR_H_
#define ZFLOW_ASL_CHOICE_EVALUATOR_H_

#include "asl/evaluation.h"
#include "zflow/state_machine.h"

namespace zflow::asl {

// True when `rule` matches. Comparison semantics:
// - a comparison whose Variable names nothing is false (no error), except IsPresent which
//   tests exactly that; Is* tests are type tests; IsNull is true only for JSON null;
// - type mismatches (StringEquals on a number, ...) are false, not errors;
// - Numeric* compare as numbers (1 == 1.0); String* compare by Unicode code point;
// - Timestamp* parse both sides as RFC 3339 and compare instants; unparsable is false;
// - StringMatches: '*' matches any run of characters, "\\*" a literal '*', "\\\\" a '\';
// - ...Path operands: the operand path must name a value, else States.Runtime.
Outcome<bool> EvaluateChoiceRule(const ChoiceRule& rule, const EvaluationContext& ctx);

// The first top-level rule of a Choice state that matches, or null when none does (the caller
// then uses Default or fails with States.NoChoiceMatched).
Outcome<const ChoiceRule*> SelectChoice(const State& choice_state, const EvaluationContext& ctx);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_CHOICE_EVALUATOR_H_
