// The JSONata function library (the built-ins bound in every evaluation's outermost scope),
// and the casts and matchers the evaluator shares with it.
#ifndef ZFLOW_JSONATA_FUNCTIONS_H_
#define ZFLOW_JSONATA_FUNCTIONS_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jsonata/evaluator.h"
#include "jsonata/function.h"
#include "jsonata/value.h"

namespace zflow::jsonata {

// $string's cast: strings as they are, functions as "", other values as JSON with numbers
// rounded to 15 significant digits. Throws D3001 for infinite numbers.
std::string CastString(const Value& v);

// The result of calling a regex (or the `next` of a match object): {match, start, end, groups,
// next} or undefined.
Value RegexMatchObject(Evaluator& evaluator, const Value& matcher, const Value& subject,
                       double from);

// A match found by a matcher function (a regex or a user function returning match objects).
struct MatchResult {
  std::string match;
  std::size_t start = 0;  // byte offsets into the subject
  std::size_t end = 0;
  std::size_t index = 0;  // start, counted in characters
  std::vector<Value> groups;
};

// Iterates the matches of `matcher` over `subject`; throws D1004 for a repeated empty match.
class Matcher {
 public:
  Matcher(Evaluator& evaluator, const Value& matcher, std::string_view subject,
          const FramePtr& env);
  std::optional<MatchResult> Next();

 private:
  Evaluator& evaluator_;
  Value matcher_;
  std::string_view subject_;
  FramePtr env_;
  bool started_ = false;
  bool done_ = false;
  std::size_t last_index_ = 0;
  Value next_fn_;  // user matchers: the previous result's `next`
};

// The functions in each part of the library (functions.cc: strings, numbers, dates;
// functions_collections.cc: arrays, objects, higher-order functions).
std::span<Builtin> StringAndNumberBuiltins();
std::span<Builtin> CollectionBuiltins();

// Milliseconds since the epoch at the start of the evaluation ($now, $millis).
double EvaluationNow(Evaluator& evaluator);

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_FUNCTIONS_H_
