// Collects diagnostics during parsing/validation; locations are filled in at the end from the
// document's SourceMap so the checks themselves only deal in JSON pointers.
#ifndef ZFLOW_ASL_DIAGNOSTIC_SINK_H_
#define ZFLOW_ASL_DIAGNOSTIC_SINK_H_

#include <string>
#include <string_view>
#include <vector>

#include "zflow/diagnostic.h"

namespace zflow::asl {

// Appends a reference token to a JSON pointer being built during a recursive walk and removes it
// again at the end of the scope, so a walk costs memory linear in the depth, not quadratic.
class ScopedPointerToken {
 public:
  ScopedPointerToken(std::string& pointer, std::string_view token)
      : pointer_(pointer), size_(pointer.size()) {
    AppendJsonPointerToken(pointer_, token);
  }
  ScopedPointerToken(std::string& pointer, std::size_t index)
      : ScopedPointerToken(pointer, std::string_view(std::to_string(index))) {}
  ~ScopedPointerToken() { pointer_.resize(size_); }
  ScopedPointerToken(const ScopedPointerToken&) = delete;
  ScopedPointerToken& operator=(const ScopedPointerToken&) = delete;

 private:
  std::string& pointer_;
  std::size_t size_;
};

class DiagnosticSink {
 public:
  void Error(std::string_view code, std::string pointer, std::string message) {
    items_.push_back(Diagnostic{Severity::kError, std::string(code), std::move(message),
                                std::move(pointer), {}});
  }
  void Warning(std::string_view code, std::string pointer, std::string message) {
    items_.push_back(Diagnostic{Severity::kWarning, std::string(code), std::move(message),
                                std::move(pointer), {}});
  }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }

  // Returns the diagnostics with locations resolved against `locations` (may be null), sorted by
  // position in the document.
  std::vector<Diagnostic> Take(const SourceMap* locations);

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_DIAGNOSTIC_SINK_H_
