// libFuzzer target for the JSONata compiler and evaluator.
//
// The input is an expression, optionally followed by a NUL byte and a JSON document to evaluate
// it against ("$sum(items.price)\0{\"items\": [{\"price\": 2}]}"); without one, or when that
// document does not parse, the expression is evaluated without input (JSONata's undefined).
// $states is bound as Step Functions binds it ({"input": ..., "context": ...}). Evaluation runs
// with a depth limit of 200 and a time limit of 200 ms, so runaway recursion and endless loops
// must end in U1001, not in a stack overflow or a fuzzer timeout. Beyond crashes and sanitizer
// reports, the target traps when
//   - compiling the same text twice gives different outcomes (compilation must be a pure
//     function of the text),
//   - an error's code is not a letter of S, D, T, U followed by four digits, its message is
//     empty, or its position lies beyond the end of the expression, or
//   - a successful result holds a number that is not finite, or (for an expression and input of
//     valid UTF-8) does not survive a round trip through zflow's strict JSON parser.
// Evaluating twice is not compared: $now(), $millis() and $random() (reachable through $eval
// from any text) and the time limit make evaluation legitimately nondeterministic.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zflow/json.h"
#include "zflow/jsonata.h"

namespace {

constexpr char kSeparator = '\0';

bool WellFormedCode(std::string_view code) {
  if (code.size() != 5) return false;
  if (code[0] != 'S' && code[0] != 'D' && code[0] != 'T' && code[0] != 'U') return false;
  for (std::size_t i = 1; i < code.size(); ++i) {
    if (code[i] < '0' || code[i] > '9') return false;
  }
  return true;
}

void CheckError(const zflow::jsonata::Error& error, std::string_view expression) {
  if (!WellFormedCode(error.code) || error.message.empty()) __builtin_trap();
  // Positions count code points, so they are at most the byte length; one past it leaves room
  // for "expected ... before the end" errors.
  if (error.position.has_value() && *error.position > expression.size() + 1) __builtin_trap();
}

bool SameError(const zflow::jsonata::Error& a, const zflow::jsonata::Error& b) {
  return a.code == b.code && a.message == b.message && a.position == b.position &&
         a.token == b.token;
}

bool AllNumbersFinite(const zflow::json::value& v) {
  switch (v.kind()) {
    case zflow::json::kind::double_:
      return std::isfinite(v.get_double());
    case zflow::json::kind::array:
      for (const zflow::json::value& element : v.get_array()) {
        if (!AllNumbersFinite(element)) return false;
      }
      return true;
    case zflow::json::kind::object:
      for (const auto& member : v.get_object()) {
        if (!AllNumbersFinite(member.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

bool ValidUtf8(std::string_view text) { return zflow::ValidUtf8(text) == text; }

const zflow::json::value& Context() {
  static const zflow::json::value context = zflow::json::object{
      {"Execution",
       zflow::json::object{{"Id", "arn:aws:states:us-east-1:1:execution:m:e"}, {"Name", "e"}}},
      {"State", zflow::json::object{{"Name", "S"}, {"EnteredTime", "2024-01-01T00:00:00Z"}}}};
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t separator = bytes.find(kSeparator);
  const std::string_view expression = bytes.substr(0, separator);
  const std::string_view input_text =
      separator == std::string_view::npos ? std::string_view() : bytes.substr(separator + 1);

  const zflow::jsonata::Outcome<zflow::jsonata::Expression> compiled =
      zflow::jsonata::Expression::Compile(expression);
  const zflow::jsonata::Outcome<zflow::jsonata::Expression> again =
      zflow::jsonata::Expression::Compile(expression);
  if (compiled.ok() != again.ok()) __builtin_trap();
  if (!compiled.ok()) {
    CheckError(compiled.error(), expression);
    if (!SameError(compiled.error(), again.error())) __builtin_trap();
    return 0;
  }
  if (compiled->text() != expression || again->text() != expression) __builtin_trap();

  // zflow's parser validates UTF-8, so an input document never carries invalid text.
  std::optional<zflow::json::value> input;
  if (separator != std::string_view::npos) {
    zflow::Result<zflow::ParsedJson> parsed =
        zflow::ParseJson(input_text, {.max_depth = 64, .record_locations = false});
    if (parsed.ok()) input = std::move(parsed->value);
  }
  zflow::json::object bindings;
  zflow::json::object states;
  states["input"] = input.value_or(zflow::json::object());
  states["context"] = Context();
  bindings["states"] = std::move(states);

  const zflow::jsonata::EvaluateOptions options{
      .bindings = &bindings, .max_depth = 200, .time_limit = std::chrono::milliseconds(200)};
  const zflow::jsonata::Outcome<std::optional<zflow::json::value>> result =
      compiled->Evaluate(input ? &*input : nullptr, options);
  if (!result.ok()) {
    CheckError(result.error(), expression);
    return 0;
  }
  if (!result->has_value()) return 0;
  const zflow::json::value& value = **result;
  if (!AllNumbersFinite(value)) __builtin_trap();
  // A string literal of the expression may carry invalid UTF-8 into the result; whether Compile
  // should refuse such text is not what this target checks.
  if (!ValidUtf8(expression)) return 0;
  const std::string serialized = zflow::ToJsonText(value);
  // No size or depth cap: a large result (a range of millions) is legitimate.
  zflow::Result<zflow::ParsedJson> reparsed = zflow::ParseJson(
      serialized, {.max_depth = 1 << 20, .max_bytes = SIZE_MAX, .record_locations = false});
  if (!reparsed.ok() || reparsed->value != value) __builtin_trap();
  return 0;
}
