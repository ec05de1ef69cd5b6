#include "asl/choice_evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "asl/json_path.h"
#include "asl/timestamp.h"

namespace zflow::asl {
namespace {

using Op = ComparisonOperator;

WorkflowError RuntimeError(std::string cause) {
  return WorkflowError{std::string(errors::kRuntime), std::move(cause)};
}

// AWS's wording, so users who search for the message find the AWS documentation.
WorkflowError InvalidPathError(std::string_view path) {
  return RuntimeError(fmt::format(
      "Invalid path '{}': The choice state's condition path references an invalid value.", path));
}

// What a path selects: a node borrowed from the context, an owned value (the match list of an
// indefinite path), or nothing.
class Selection {
 public:
  static Selection Borrowed(const json::value* v) {
    Selection s;
    s.borrowed_ = v;
    return s;
  }
  static Selection Owned(json::value v) {
    Selection s;
    s.owned_ = std::move(v);
    return s;
  }
  // Null when the path names nothing.
  const json::value* get() const { return owned_ ? &*owned_ : borrowed_; }

 private:
  const json::value* borrowed_ = nullptr;
  std::optional<json::value> owned_;
};

// `compiled`: the path compiled beforehand (ChoicePaths); without it the text is compiled here.
Outcome<Selection> Select(std::string_view text, const EvaluationContext& ctx,
                          const JsonPath* compiled) {
  std::optional<JsonPath> own;
  if (compiled == nullptr) {
    Result<JsonPath> path = JsonPath::Compile(text);
    if (!path.ok()) {
      return RuntimeError(
          fmt::format("Invalid path '{}' in a Choice rule: {}", text, path.status().message()));
    }
    own = std::move(*path);
    compiled = &*own;
  }
  if (compiled->is_reference_path()) return Selection::Borrowed(compiled->Find(ctx));
  // AWS requires reference paths here (the validator says so); an indefinite path selects the
  // array of its matches, and names nothing when that array is empty.
  Outcome<json::value> matches = compiled->Evaluate(ctx);
  if (!matches.ok()) return matches.error();
  if (matches->is_array() && matches->get_array().empty()) return Selection::Borrowed(nullptr);
  return Selection::Owned(std::move(matches).value());
}

// ---------------------------------------------------------------------------------------------
// Orderings. Each returns <0, 0 or >0, or nullopt when the values are not comparable.

int Sign(bool less, bool greater) { return less ? -1 : (greater ? 1 : 0); }

template <typename T>
int Compare3(const T& a, const T& b) {
  if (a < b) return -1;
  return b < a ? 1 : 0;
}

// An integer against a double, exactly: converting the integer to double would round above 2^53.
std::optional<int> CompareInt64Double(std::int64_t i, double d) {
  if (std::isnan(d)) return std::nullopt;
  if (d >= 9223372036854775808.0) return -1;  // 2^63
  if (d < -9223372036854775808.0) return 1;   // -2^63
  double whole = std::trunc(d);               // exact, and in int64 range
  auto t = static_cast<std::int64_t>(whole);
  if (i != t) return Compare3(i, t);
  double fraction = d - whole;  // exact
  return Sign(fraction > 0, fraction < 0);
}

std::optional<int> CompareUint64Double(std::uint64_t u, double d) {
  if (std::isnan(d)) return std::nullopt;
  if (d < 0) return 1;
  if (d >= 18446744073709551616.0) return -1;  // 2^64
  double whole = std::trunc(d);
  auto t = static_cast<std::uint64_t>(whole);
  if (u != t) return Compare3(u, t);
  double fraction = d - whole;
  return Sign(fraction > 0, fraction < 0);
}

std::optional<int> CompareInt64Uint64(std::int64_t i, std::uint64_t u) {
  if (i < 0) return -1;
  auto v = static_cast<std::uint64_t>(i);
  return Compare3(v, u);
}

std::optional<int> Negate(std::optional<int> c) {
  if (c) return -*c;
  return c;
}

// Both must be JSON numbers.
std::optional<int> CompareNumbers(const json::value& a, const json::value& b) {
  using json::kind;
  switch (a.kind()) {
    case kind::int64: {
      std::int64_t x = a.get_int64();
      if (b.is_int64()) return Compare3(x, b.get_int64());
      if (b.is_uint64()) return CompareInt64Uint64(x, b.get_uint64());
      return CompareInt64Double(x, b.get_double());
    }
    case kind::uint64: {
      std::uint64_t x = a.get_uint64();
      if (b.is_uint64()) return Compare3(x, b.get_uint64());
      if (b.is_int64()) return Negate(CompareInt64Uint64(b.get_int64(), x));
      return CompareUint64Double(x, b.get_double());
    }
    default: {
      double x = a.get_double();
      if (b.is_int64()) return Negate(CompareInt64Double(b.get_int64(), x));
      if (b.is_uint64()) return Negate(CompareUint64Double(b.get_uint64(), x));
      double y = b.get_double();
      if (std::isnan(x) || std::isnan(y)) return std::nullopt;
      return Compare3(x, y);
    }
  }
}

// Decodes the UTF-8 sequence starting at s[i]. Malformed input yields the lead byte's value,
// which keeps the order total (strings from the JSON parser are always valid).
std::uint32_t DecodeUtf8At(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  std::uint8_t lead = byte(i);
  std::size_t extra = 0;
  if ((lead >> 5) == 0x6) {
    extra = 1;
  } else if ((lead >> 4) == 0xE) {
    extra = 2;
  } else if ((lead >> 3) == 0x1E) {
    extra = 3;
  }
  if (extra == 0 || i + extra >= s.size()) return lead;
  std::uint32_t cp = lead & (0x3F >> extra);
  for (std::size_t k = 1; k <= extra; ++k) {
    std::uint8_t c = byte(i + k);
    if ((c & 0xC0) != 0x80) return lead;
    cp = (cp << 6) | (c & 0x3F);
  }
  return cp;
}

// The first UTF-16 code unit of a code point: Java (and so AWS) compares strings by UTF-16 code
// units, which puts supplementary characters (high surrogates, D800..DBFF) before U+E000..U+FFFF.
std::uint32_t FirstUtf16Unit(std::uint32_t cp) {
  return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

// String order as Java's String.compareTo, which AWS documents for the String* operators.
int CompareStrings(std::string_view a, std::string_view b) {
  std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  if (i == n) return Compare3(a.size(), b.size());
  // Equal prefixes end on the same code point boundary: back up to the differing code point.
  std::size_t start = i;
  while (start > 0 && (static_cast<std::uint8_t>(a[start]) & 0xC0) == 0x80) --start;
  std::uint32_t ca = DecodeUtf8At(a, start);
  std::uint32_t cb = DecodeUtf8At(b, start);
  std::uint32_t ua = FirstUtf16Unit(ca);
  std::uint32_t ub = FirstUtf16Unit(cb);
  if (ua != ub) return Compare3(ua, ub);
  if (ca != cb) return Compare3(ca, cb);  // same high surrogate: low surrogates order as cps
  auto xa = static_cast<std::uint8_t>(a[i]);
  auto xb = static_cast<std::uint8_t>(b[i]);
  return Compare3(xa, xb);  // malformed UTF-8 only
}

// ---------------------------------------------------------------------------------------------
// StringMatches.

// The literal runs between unescaped '*'s: "a*b\*c" is {"a", "b*c"}. A backslash escapes only
// '*' and '\'; the spec calls any other ("open") backslash a runtime error.
Outcome<std::vector<std::string>> ParseWildcardPattern(std::string_view pattern) {
  std::vector<std::string> runs(1);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '*') {
      runs.emplace_back();
    } else if (c == '\\') {
      if (i + 1 >= pattern.size() || (pattern[i + 1] != '*' && pattern[i + 1] != '\\')) {
        return RuntimeError(fmt::format(
            "StringMatches pattern \"{}\" has an unescaped '\\' at offset {}: a backslash must "
            "be followed by '*' (a literal star) or '\\' (a literal backslash)",
            pattern, i));
      }
      runs.back() += pattern[++i];
    } else {
      runs.back() += c;
    }
  }
  return runs;
}

// The first occurrence of `needle` in `text` at or after `from`, or npos. Knuth-Morris-Pratt, so
// a whole match is linear in the text however adversarial the pattern.
std::size_t FindLinear(std::string_view text, std::string_view needle, std::size_t from) {
  if (needle.empty()) return from;
  std::vector<std::size_t> border(needle.size(), 0);
  for (std::size_t i = 1, k = 0; i < needle.size(); ++i) {
    while (k > 0 && needle[i] != needle[k]) k = border[k - 1];
    if (needle[i] == needle[k]) ++k;
    border[i] = k;
  }
  for (std::size_t i = from, k = 0; i < text.size(); ++i) {
    while (k > 0 && text[i] != needle[k]) k = border[k - 1];
    if (text[i] == needle[k]) ++k;
    if (k == needle.size()) return i + 1 - k;
  }
  return std::string_view::npos;
}

// With '*' the only wildcard, placing each middle run at its leftmost possible position is
// optimal, so no backtracking is needed. Matching bytes is matching code points: a run of valid
// UTF-8 can only match at a code point boundary.
bool MatchesWildcard(std::string_view text, const std::vector<std::string>& runs) {
  if (runs.size() == 1) return text == runs[0];
  std::string_view first = runs.front();
  std::string_view last = runs.back();
  if (text.size() < first.size() + last.size()) return false;
  if (!text.starts_with(first) || !text.ends_with(last)) return false;
  std::string_view middle = text.substr(first.size(), text.size() - first.size() - last.size());
  std::size_t pos = 0;
  for (std::size_t r = 1; r + 1 < runs.size(); ++r) {
    pos = FindLinear(middle, runs[r], pos);
    if (pos == std::string_view::npos) return false;
    pos += runs[r].size();
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Comparisons.

enum class Family : std::uint8_t { kString, kNumeric, kBoolean, kTimestamp };
enum class Relation : std::uint8_t { kEquals, kLessThan, kGreaterThan, kLessEq, kGreaterEq };

struct Comparison {
  Family family;
  Relation relation;
};

// The family and relation of a binary comparison (literal and ...Path forms alike); nullopt for
// StringMatches and the Is* tests.
std::optional<Comparison> Classify(Op op) {
  switch (op) {
    case Op::kStringEquals:
    case Op::kStringEqualsPath:
      return Comparison{Family::kString, Relation::kEquals};
    case Op::kStringLessThan:
    case Op::kStringLessThanPath:
      return Comparison{Family::kString, Relation::kLessThan};
    case Op::kStringGreaterThan:
    case Op::kStringGreaterThanPath:
      return Comparison{Family::kString, Relation::kGreaterThan};
    case Op::kStringLessThanEquals:
    case Op::kStringLessThanEqualsPath:
      return Comparison{Family::kString, Relation::kLessEq};
    case Op::kStringGreaterThanEquals:
    case Op::kStringGreaterThanEqualsPath:
      return Comparison{Family::kString, Relation::kGreaterEq};
    case Op::kNumericEquals:
    case Op::kNumericEqualsPath:
      return Comparison{Family::kNumeric, Relation::kEquals};
    case Op::kNumericLessThan:
    case Op::kNumericLessThanPath:
      return Comparison{Family::kNumeric, Relation::kLessThan};
    case Op::kNumericGreaterThan:
    case Op::kNumericGreaterThanPath:
      return Comparison{Family::kNumeric, Relation::kGreaterThan};
    case Op::kNumericLessThanEquals:
    case Op::kNumericLessThanEqualsPath:
      return Comparison{Family::kNumeric, Relation::kLessEq};
    case Op::kNumericGreaterThanEquals:
    case Op::kNumericGreaterThanEqualsPath:
      return Comparison{Family::kNumeric, Relation::kGreaterEq};
    case Op::kBooleanEquals:
    case Op::kBooleanEqualsPath:
      return Comparison{Family::kBoolean, Relation::kEquals};
    case Op::kTimestampEquals:
    case Op::kTimestampEqualsPath:
      return Comparison{Family::kTimestamp, Relation::kEquals};
    case Op::kTimestampLessThan:
    case Op::kTimestampLessThanPath:
      return Comparison{Family::kTimestamp, Relation::kLessThan};
    case Op::kTimestampGreaterThan:
    case Op::kTimestampGreaterThanPath:
      return Comparison{Family::kTimestamp, Relation::kGreaterThan};
    case Op::kTimestampLessThanEquals:
    case Op::kTimestampLessThanEqualsPath:
      return Comparison{Family::kTimestamp, Relation::kLessEq};
    case Op::kTimestampGreaterThanEquals:
    case Op::kTimestampGreaterThanEqualsPath:
      return Comparison{Family::kTimestamp, Relation::kGreaterEq};
    default:
      return std::nullopt;
  }
}

bool Holds(Relation relation, int order) {
  switch (relation) {
    case Relation::kEquals:
      return order == 0;
    case Relation::kLessThan:
      return order < 0;
    case Relation::kGreaterThan:
      return order > 0;
    case Relation::kLessEq:
      return order <= 0;
    case Relation::kGreaterEq:
      return order >= 0;
  }
  return false;
}

// The order of `a` relative to `b` within `family`, or nullopt when either is not of the
// family's type (a mismatch is false for every relation, never an error).
std::optional<int> Order(Family family, const json::value& a, const json::value& b) {
  switch (family) {
    case Family::kString:
      if (!a.is_string() || !b.is_string()) return std::nullopt;
      return CompareStrings(a.get_string(), b.get_string());
    case Family::kNumeric:
      if (!a.is_number() || !b.is_number()) return std::nullopt;
      return CompareNumbers(a, b);
    case Family::kBoolean:
      if (!a.is_bool() || !b.is_bool()) return std::nullopt;
      return Compare3(a.get_bool(), b.get_bool());
    case Family::kTimestamp: {
      if (!a.is_string() || !b.is_string()) return std::nullopt;
      std::optional<Instant> x = ParseTimestamp(a.get_string());
      std::optional<Instant> y = ParseTimestamp(b.get_string());
      if (!x || !y) return std::nullopt;
      return Compare3(*x, *y);
    }
  }
  return std::nullopt;
}

bool IsTypeTest(Op op) {
  switch (op) {
    case Op::kIsNull:
    case Op::kIsPresent:
    case Op::kIsNumeric:
    case Op::kIsString:
    case Op::kIsBoolean:
    case Op::kIsTimestamp:
      return true;
    default:
      return false;
  }
}

// `value` is non-null (IsPresent is decided before).
bool TypeTest(Op op, const json::value& value) {
  switch (op) {
    case Op::kIsNull:
      return value.is_null();
    case Op::kIsNumeric:
      return value.is_number();
    case Op::kIsString:
      return value.is_string();
    case Op::kIsBoolean:
      return value.is_bool();
    case Op::kIsTimestamp:
      return value.is_string() && ParseTimestamp(value.get_string()).has_value();
    default:
      return true;  // kIsPresent
  }
}

WorkflowError MalformedRule(const ChoiceRule& rule, std::string_view expected) {
  return RuntimeError(
      fmt::format("the Choice rule \"{}\" on '{}' needs {}; validate the "
                  "definition before running it",
                  ComparisonOperatorName(rule.op), rule.variable, expected));
}

Outcome<bool> EvaluateComparison(const ChoiceRule& rule, const EvaluationContext& ctx,
                                 const ChoicePaths* paths) {
  const Op op = rule.op;
  // Patterns and operand types are checked before the data so that a broken rule fails the same
  // way whatever the input.
  std::optional<std::vector<std::string>> pattern;
  if (op == Op::kStringMatches) {
    if (!rule.operand.is_string()) return MalformedRule(rule, "a string pattern");
    Outcome<std::vector<std::string>> parsed = ParseWildcardPattern(rule.operand.get_string());
    if (!parsed.ok()) return parsed.error();
    pattern = std::move(parsed).value();
  } else if (IsTypeTest(op)) {
    if (!rule.operand.is_bool()) return MalformedRule(rule, "true or false");
  } else if (IsPathOperator(op) && !rule.operand.is_string()) {
    return MalformedRule(rule, "a path string");
  }

  Outcome<Selection> variable =
      Select(rule.variable, ctx, paths != nullptr ? paths->Find(&rule.variable) : nullptr);
  if (!variable.ok()) return variable.error();
  const json::value* value = variable->get();

  if (IsTypeTest(op)) {
    const bool expected = rule.operand.get_bool();
    // The spec exempts only IsPresent from the missing-Variable error.
    if (op == Op::kIsPresent) return (value != nullptr) == expected;
    if (value == nullptr) return InvalidPathError(rule.variable);
    return TypeTest(op, *value) == expected;
  }
  // AWS fails the execution when the Variable names nothing, for every operator but IsPresent.
  if (value == nullptr) return InvalidPathError(rule.variable);

  if (op == Op::kStringMatches) {
    return value->is_string() && MatchesWildcard(value->get_string(), *pattern);
  }

  std::optional<Comparison> comparison = Classify(op);
  if (!comparison) return MalformedRule(rule, "a known comparison operator");

  const json::value* operand = &rule.operand;
  std::optional<Selection> operand_selection;
  if (IsPathOperator(op)) {
    std::string_view operand_path = rule.operand.get_string();
    Outcome<Selection> selected =
        Select(operand_path, ctx, paths != nullptr ? paths->Find(&rule.operand) : nullptr);
    if (!selected.ok()) return selected.error();
    operand_selection = std::move(selected).value();
    operand = operand_selection->get();
    if (operand == nullptr) return InvalidPathError(operand_path);
  }

  std::optional<int> order = Order(comparison->family, *value, *operand);
  return order.has_value() && Holds(comparison->relation, *order);
}

}  // namespace

void ChoicePaths::Add(const ChoiceRule& rule, JsonPathCache* cache) {
  if (rule.kind == ChoiceRule::Kind::kComparison) {
    if (!rule.variable.empty()) {
      if (auto p = CompilePath(rule.variable, cache); p.ok()) {
        paths_.emplace(&rule.variable, std::move(*p));
      }
    }
    if (IsPathOperator(rule.op) && rule.operand.is_string()) {
      if (auto p = CompilePath(rule.operand.get_string(), cache); p.ok()) {
        paths_.emplace(&rule.operand, std::move(*p));
      }
    }
  }
  for (const ChoiceRule& child : rule.children) Add(child, cache);
}

Outcome<bool> EvaluateChoiceRule(const ChoiceRule& rule, const EvaluationContext& ctx,
                                 const ChoicePaths* paths) {
  switch (rule.kind) {
    case ChoiceRule::Kind::kComparison:
      return EvaluateComparison(rule, ctx, paths);
    case ChoiceRule::Kind::kAnd:
      for (const ChoiceRule& child : rule.children) {
        Outcome<bool> r = EvaluateChoiceRule(child, ctx, paths);
        if (!r.ok() || !*r) return r;
      }
      return true;
    case ChoiceRule::Kind::kOr:
      for (const ChoiceRule& child : rule.children) {
        Outcome<bool> r = EvaluateChoiceRule(child, ctx, paths);
        if (!r.ok() || *r) return r;
      }
      return false;
    case ChoiceRule::Kind::kNot: {
      if (rule.children.size() != 1) {
        return RuntimeError(fmt::format("a \"Not\" Choice rule needs exactly one rule, not {}",
                                        rule.children.size()));
      }
      Outcome<bool> r = EvaluateChoiceRule(rule.children.front(), ctx, paths);
      if (!r.ok()) return r;
      return !*r;
    }
    case ChoiceRule::Kind::kCondition:
      if (rule.condition.is_bool()) return rule.condition.get_bool();
      return RuntimeError(
          "JSONata Choice conditions are evaluated by the JSONata engine, not the JSONPath "
          "Choice evaluator");
  }
  return RuntimeError("unknown Choice rule kind");
}

Outcome<const ChoiceRule*> SelectChoice(const State& choice_state, const EvaluationContext& ctx) {
  for (const ChoiceRule& rule : choice_state.choice().choices) {
    Outcome<bool> matched = EvaluateChoiceRule(rule, ctx);
    if (!matched.ok()) return matched.error();
    if (*matched) return &rule;
  }
  return nullptr;
}

}  // namespace zflow::asl
