#include "asl/suggestion.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace zflow::asl {

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// adjacent characters ("Frist" -> "First") each cost one.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    prev2.swap(prev);
    prev.swap(cur);
  }
  return prev[m];
}

std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates) {
  // Suggestions are for typos in names people type; bound the work on adversarial input.
  constexpr std::size_t kMaxNameLength = 128;
  constexpr std::size_t kMaxCandidates = 4096;
  if (name.size() > kMaxNameLength) return "";
  // Allow more edits for longer names, but never more than a third of the name.
  std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, name.size() / 3));
  std::string_view best;
  std::size_t best_distance = limit + 1;
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  std::string lname = lower(name);
  std::size_t considered = 0;
  for (std::string_view c : candidates) {
    if (c == name) continue;
    std::size_t diff = c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    if (diff > limit || c.size() > kMaxNameLength) continue;
    if (++considered > kMaxCandidates) break;
    std::size_t d = lower(c) == lname ? 1 : EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (best.empty()) return "";
  return fmt::format(" (did you mean \"{}\"?)", best);
}

}  // namespace zflow::asl
