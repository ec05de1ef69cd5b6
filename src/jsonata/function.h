// Function values: lambdas (closures over a frame), the built-in library, partial applications,
// regular expressions (matchers), transforms and "~>" compositions; and the frames that hold
// variables.
#ifndef ZFLOW_JSONATA_FUNCTION_H_
#define ZFLOW_JSONATA_FUNCTION_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>

#include "jsonata/ast.h"
#include "jsonata/signature.h"
#include "jsonata/value.h"

namespace zflow::jsonata {

class Evaluator;
class Regex;

class Frame;

// Every frame of one evaluation. A closure bound in the frame it captures (`$f := function()
// {...}`) makes a reference cycle; when the evaluation ends, the list empties the frames still
// alive, which breaks such cycles.
class FrameList {
 public:
  FrameList() = default;
  FrameList(const FrameList&) = delete;
  FrameList& operator=(const FrameList&) = delete;
  ~FrameList();

 private:
  friend class Frame;
  Frame* head_ = nullptr;
};

// A scope: variables bound in it and the scope it is nested in. Frames belong to one
// evaluation (a single thread), so their counts need no atomics.
class Frame : public boost::intrusive_ref_counter<Frame, boost::thread_unsafe_counter> {
 public:
  Frame(boost::intrusive_ptr<Frame> parent, FrameList* list)
      : parent_(std::move(parent)), list_(list) {
    if (list_ != nullptr) {
      next_ = list_->head_;
      if (next_ != nullptr) next_->prev_ = this;
      list_->head_ = this;
    }
  }
  explicit Frame(const boost::intrusive_ptr<Frame>& parent) : Frame(parent, parent->list_) {}
  ~Frame() {
    if (list_ == nullptr) return;
    if (prev_ != nullptr) prev_->next_ = next_;
    if (next_ != nullptr) next_->prev_ = prev_;
    if (list_->head_ == this) list_->head_ = next_;
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  void Bind(std::string_view name, Value value) {
    for (auto& [n, v] : bindings_) {
      if (n == name) {
        v = std::move(value);
        return;
      }
    }
    bindings_.emplace_back(std::string(name), std::move(value));
  }
  // The innermost binding of `name`, or nullptr.
  const Value* Lookup(std::string_view name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent_.get()) {
      for (const auto& [n, v] : f->bindings_) {
        if (n == name) return &v;
      }
    }
    return nullptr;
  }
  const boost::intrusive_ptr<Frame>& parent() const { return parent_; }

 private:
  friend class FrameList;
  boost::intrusive_ptr<Frame> parent_;
  std::vector<std::pair<std::string, Value>> bindings_;
  FrameList* list_ = nullptr;
  Frame* prev_ = nullptr;
  Frame* next_ = nullptr;
};
using FramePtr = boost::intrusive_ptr<Frame>;

inline FrameList::~FrameList() {
  // Hold every frame, then empty them all: what they release may free other frames, which
  // then leave the list while it is not being walked.
  std::vector<FramePtr> alive;
  for (Frame* f = head_; f != nullptr; f = f->next_) alive.emplace_back(f);
  std::vector<std::pair<std::string, Value>> released;
  std::vector<FramePtr> parents;
  for (const FramePtr& f : alive) {
    for (auto& b : f->bindings_) released.push_back(std::move(b));
    f->bindings_.clear();
    parents.push_back(std::move(f->parent_));
  }
  released.clear();
  parents.clear();
  for (const FramePtr& f : alive) f->list_ = nullptr;
  head_ = nullptr;
  alive.clear();
}

// What a built-in receives: the arguments after signature checks, the context value and scope.
struct CallContext {
  Evaluator& evaluator;
  std::vector<Value>& args;
  const Value& input;
  const FramePtr& env;
  const Value& arg(std::size_t i) const {
    static const Value kUndefined;
    return i < args.size() ? args[i] : kUndefined;
  }
};

struct Builtin {
  std::string_view name;
  std::string_view signature_text;
  // The declared parameter count of the reference's implementation: higher-order functions
  // pass a callback only as many arguments (value, index, array) as it declares.
  int arity;
  Value (*call)(CallContext& ctx);
  Signature signature;
};

// The built-in function named `name` (without "$"), or nullptr.
const Builtin* FindBuiltin(std::string_view name);

struct FunctionNode final : Node {
  enum class Type : std::uint8_t {
    kLambda,
    kBuiltin,
    kPartialBuiltin,
    kRegex,
    kTransform,
    kComposition,
    kExternal,
  };
  Type type = Type::kLambda;

  // kLambda: the definition, its scope and context. A partially applied lambda has its own
  // scope (the bound arguments) and the remaining parameters in `params`.
  const Expr* lambda = nullptr;
  FramePtr env;
  Value input;
  std::vector<std::string> params;
  bool thunk = false;

  // kBuiltin, kPartialBuiltin (arguments with nullopt placeholders).
  const Builtin* builtin = nullptr;
  std::vector<std::optional<Value>> bound;

  // kRegex
  std::shared_ptr<const Regex> regex;

  // kTransform: the transform expression (uses env).
  const Expr* transform = nullptr;

  // kComposition: first, then second.
  Value first, second;

  // kExternal: a native function of the evaluation's FunctionLibrary (which outlives it).
  const void* native = nullptr;  // an internal::Library::Native
  std::shared_ptr<const Signature> signature;

  // Keeps the syntax tree that `lambda`/`transform` point into alive ($eval's programs).
  std::shared_ptr<const void> keep_alive;

  // The number of parameters, as higher-order functions count them.
  int Arity() const;
};

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_FUNCTION_H_
