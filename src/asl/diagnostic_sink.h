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

// A JSON pointer written out only when a diagnostic needs it: a complete pointer, or a parent
// and one more token. Checks that pass (nearly all of them) then cost no string. A LazyPointer
// refers to its parent and root: keep it no longer than they live (an argument, a local built
// from named locals).
class LazyPointer {
 public:
  LazyPointer(const std::string& root) : root_(root) {}  // NOLINT: a pointer is a place
  LazyPointer(const LazyPointer& parent, std::string_view token)
      : parent_(&parent), token_(token) {}
  LazyPointer(const LazyPointer& parent, std::size_t index)
      : parent_(&parent), index_(index), is_index_(true) {}

  std::string str() const {
    std::string out;
    AppendTo(out);
    return out;
  }
  operator std::string() const { return str(); }  // NOLINT: where the sink takes a pointer

 private:
  void AppendTo(std::string& out) const {
    if (parent_ == nullptr) {
      out.append(root_);
    } else {
      parent_->AppendTo(out);
      if (is_index_) {
        out.push_back('/');
        out.append(std::to_string(index_));
      } else {
        AppendJsonPointerToken(out, token_);
      }
    }
  }

  const LazyPointer* parent_ = nullptr;
  std::string_view root_;
  std::string_view token_;
  std::size_t index_ = 0;
  bool is_index_ = false;
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
