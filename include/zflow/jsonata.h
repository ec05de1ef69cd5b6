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
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

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

struct EvaluateOptions {
  // Variables bound before evaluation, by name without the "$" ({"x": 1} binds $x).
  const json::object* bindings = nullptr;
  // Evaluation nested deeper than this (function calls and sub-expressions) fails with U1001;
  // 0 means the default below, which also keeps the C++ stack safe.
  std::size_t max_depth = 0;
  // Evaluation running longer than this fails with U1001; zero means no limit.
  std::chrono::milliseconds time_limit{0};
};

inline constexpr std::size_t kDefaultMaxDepth = 1000;

namespace internal {
struct Program;
}

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
  // The compiled program, for zflow's own modules (see src/jsonata/).
  const internal::Program& program() const { return *program_; }

 private:
  explicit Expression(std::shared_ptr<const internal::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const internal::Program> program_;
};

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_H_
