// zflow/jsonata.h: JSONata 2.x expressions (the query language of JSONata-mode state machines),
// compiled once and evaluated against JSON.
//
//   zflow::jsonata::Outcome<zflow::jsonata::Expression> expr =
//       zflow::jsonata::Expression::Compile("$sum(Account.Order.Product.(Price * Quantity))");
//   if (!expr.ok()) { std::cerr << expr.error().ToString(); return 1; }
//   auto total = expr->Evaluate(&input);   // Outcome<std::optional<json::value>>
//   if (total.ok() && total->has_value()) Use(**total);
//
// Semantics, function library and error codes follow the reference implementation (jsonata-js);
// where its versions differ, 2.0.6 (the version AWS Step Functions runs).
#ifndef ZFLOW_JSONATA_H_
#define ZFLOW_JSONATA_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::jsonata {

// A compile or evaluation failure, as the reference implementation reports it.
struct Error {
  std::string code;     // "S0202", "T2001", "D3001", "U1001", ...
  std::string message;  // the reference's text for the code, with the details filled in
  // Character offset (0-based, in code points) just after the token the error is about; unset
  // when the error is not about one place in the expression.
  std::optional<std::size_t> position;
  std::string token;  // the token the error is about, when there is one

  // "T2001 at 5: The left side of the "+" operator must evaluate to a number".
  std::string ToString() const;
  // InvalidArgument with ToString() as the message.
  Status ToStatus() const;
};

// A value, or the Error that says why there is none.
template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Outcome(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  bool ok() const { return data_.index() == 0; }
  // Preconditions: ok() for value(), !ok() for error().
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const Error& error() const { return std::get<1>(data_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return ok() ? Status() : error().ToStatus(); }

 private:
  std::variant<T, Error> data_;
};

// A function the embedding program adds to the library (AWS Step Functions adds $partition,
// $uuid, ...). It receives the arguments after its signature's checks (nullopt: undefined) and
// EvaluateOptions::native_context, and returns the result (nullopt: undefined) or an Error.
struct NativeFunction {
  std::string name;       // without "$"
  std::string signature;  // as JSONata writes them: "<an:a>"
  std::function<Outcome<std::optional<json::value>>(std::span<const std::optional<json::value>>,
                                                    const void* context)>
      call;
};

namespace internal {
struct Library;
}

// The functions an evaluation sees beyond JSONata's: native functions (which take precedence
// over built-ins of the same name) and built-ins to withhold. Immutable; share it freely.
class FunctionLibrary {
 public:
  // Errors: S0401/S0402 for a malformed signature.
  static Outcome<FunctionLibrary> Create(std::vector<NativeFunction> functions,
                                         std::vector<std::string> withheld_builtins = {});
  const internal::Library& library() const { return *library_; }

 private:
  explicit FunctionLibrary(std::shared_ptr<const internal::Library> library)
      : library_(std::move(library)) {}
  std::shared_ptr<const internal::Library> library_;
};

// A variable whose value the caller keeps alive during the call, read in place (not copied):
// either `value`, or an object made of `members` (each read in place; nullptr members are
// left out).
struct BorrowedVariable {
  std::string_view name;  // without "$"
  const json::value* value = nullptr;
  std::span<const std::pair<std::string_view, const json::value*>> members;
};

struct EvaluateOptions {
  // Variables bound before evaluation, by name without the "$" ({"x": 1} binds $x).
  const json::object* bindings = nullptr;
  // More variables, read in place.
  std::span<const BorrowedVariable> borrowed;
  // Variables looked up by name when nothing above or in the expression binds them (the
  // returned value must outlive the call); empty: none.
  std::function<const json::value*(std::string_view name)> lookup;
  // Extra and withheld functions; nullptr: JSONata's library as it is.
  const FunctionLibrary* functions = nullptr;
  // Passed to native functions as it is.
  const void* native_context = nullptr;
  // What $now() and $millis() report (the same throughout the evaluation, as in the
  // reference); unset: the system clock when the evaluation starts.
  std::optional<std::chrono::system_clock::time_point> now;
  // Evaluation nested deeper than this (function calls and sub-expressions) fails with U1001;
  // 0 means no limit beyond the one that keeps the C++ stack safe.
  std::size_t max_depth = 0;
  // Evaluation running longer than this fails with U1001; zero means no limit.
  std::chrono::milliseconds time_limit{0};
};

namespace internal {
struct Program;
}

// What an expression reads, for checks made before it runs (AWS Step Functions refuses some).
struct ExpressionFacts {
  bool reads_root = false;  // "$$" anywhere
  // "$" or a bare field name where the context is the evaluation's input (not inside a step,
  // predicate, sort, group or transform, where the context is an item).
  bool reads_input = false;
  std::vector<std::string> variables;       // variables read, without "$", once each
  std::vector<std::string> states_members;  // $states.<member> read: "input", "result", ...
};

// A compiled expression. Immutable: Evaluate may be called from several threads at once.
// Cheap to copy (copies share the compiled program).
class Expression {
 public:
  // Parses `text`. Errors: the reference's S0xxx codes (syntax), with the position.
  static Outcome<Expression> Compile(std::string_view text);

  // Evaluates against `input` (nullptr: no input, JSONata's undefined). Returns the result, or
  // nullopt when it is undefined. Functions and other values JSON cannot hold become null in
  // objects and arrays, and an undefined result at the top level.
  Outcome<std::optional<json::value>> Evaluate(const json::value* input,
                                               const EvaluateOptions& options = {}) const;

  const std::string& text() const;
  ExpressionFacts Facts() const;
  // The compiled program, for zflow's own modules (see src/jsonata/).
  const internal::Program& program() const { return *program_; }

 private:
  explicit Expression(std::shared_ptr<const internal::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const internal::Program> program_;
};

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_H_
