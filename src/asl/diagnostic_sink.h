// Collects diagnostics during parsing/validation; locations are filled in at the end from the
// document's SourceMap so the checks themselves only deal in JSON pointers.
#ifndef ZFLOW_ASL_DIAGNOSTIC_SINK_H_
#define ZFLOW_ASL_DIAGNOSTIC_SINK_H_

#include <string>
#include <string_view>
#include <vector>

#include "zflow/diagnostic.h"

namespace zflow::asl {

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
