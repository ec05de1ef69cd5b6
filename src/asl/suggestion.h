// "Did you mean ...?" suggestions for misspelt field and state names.
#ifndef ZFLOW_ASL_SUGGESTION_H_
#define ZFLOW_ASL_SUGGESTION_H_

#include <string>
#include <string_view>
#include <vector>

namespace zflow::asl {

// Edit distance between `a` and `b`, counting an adjacent transposition as one edit.
std::size_t EditDistance(std::string_view a, std::string_view b);

// " (did you mean \"X\"?)" for the closest candidate within a small edit distance (case
// differences count as one edit), or "" when nothing is close.
std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_SUGGESTION_H_
