// Regular expressions of JSONata (JavaScript syntax and semantics), on PCRE2: the closest
// engine to JavaScript's among Debian's, with JavaScript-compatible options for \u escapes,
// "$" and empty classes.
#ifndef ZFLOW_JSONATA_REGEX_H_
#define ZFLOW_JSONATA_REGEX_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zflow::jsonata {

class Regex {
 public:
  struct Match {
    std::size_t start = 0;  // byte offsets into the subject
    std::size_t end = 0;
    // Capture groups 1..n; nullopt for a group that did not take part.
    std::vector<std::optional<std::pair<std::size_t, std::size_t>>> groups;
  };

  // Throws Failure S0303 (at `position`) when PCRE2 cannot compile the pattern.
  static std::shared_ptr<const Regex> Compile(std::string_view pattern, std::string_view flags,
                                              std::size_t position);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // The first match at or after byte offset `from`. Thread-safe.
  std::optional<Match> Find(std::string_view subject, std::size_t from) const;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8
};

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_REGEX_H_
