#include "asl/diagnostic_sink.h"

#include <algorithm>
#include <array>

namespace zflow::asl {
namespace {

// Diagnostics about a value point at the value; the rest point at the member name.
bool PointsAtValue(std::string_view code) {
  static constexpr std::array<std::string_view, 9> kValueCodes = {
      diag::kUnknownState,      diag::kInvalidReferencePath, diag::kInvalidJsonPath,
      diag::kInvalidIntrinsic,  diag::kInvalidTimestamp,     diag::kInvalidJsonata,
      diag::kType,              diag::kInvalidValue,         diag::kInvalidErrorName};
  return std::find(kValueCodes.begin(), kValueCodes.end(), code) != kValueCodes.end();
}

}  // namespace

std::vector<Diagnostic> DiagnosticSink::Take(const SourceMap* locations) {
  if (locations != nullptr && !locations->empty()) {
    for (Diagnostic& d : items_) {
      if (d.location.known()) continue;
      SourceLocation at = PointsAtValue(d.code) ? locations->ValueLocation(d.pointer)
                                                : locations->KeyLocation(d.pointer);
      d.location = at.known() ? at : locations->Nearest(d.pointer);
    }
  }
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.location.line != b.location.line) return a.location.line < b.location.line;
    return a.location.column < b.location.column;
  });
  return std::move(items_);
}

}  // namespace zflow::asl
