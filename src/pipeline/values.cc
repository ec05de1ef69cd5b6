// Values and conditions of the pipeline API: literals and expressions, Format(), comparisons
// compiled to Choice rules.
#include <algorithm>

#include <fmt/format.h>

#include "pipeline/compiler.h"
#include "zflow/pipeline.h"

namespace zflow {
namespace {

void Union(std::vector<std::string>& into, const std::vector<std::string>& from) {
  for (const auto& s : from) {
    if (std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
  }
}

ValueType LiteralType(const json::value& v) {
  if (v.is_string()) return ValueType::kString;
  if (v.is_number()) return ValueType::kNumber;
  if (v.is_bool()) return ValueType::kBoolean;
  return ValueType::kAny;
}

std::string ValueText(const Value& v) {
  return v.is_expression() ? v.expression() : ToJsonText(v.literal());
}

}  // namespace

Value Value::Json(json::value v) {
  Value out;
  out.type_ = LiteralType(v);
  out.literal_ = std::move(v);
  return out;
}

Value Value::Expression(std::string expr, ValueType type, std::vector<std::string> steps) {
  Value out;
  out.expression_ = true;
  out.text_ = std::move(expr);
  out.type_ = type;
  out.steps_ = std::move(steps);
  return out;
}

bool Value::empty() const {
  if (expression_) return false;
  return literal_.is_null() || (literal_.is_string() && literal_.as_string().empty());
}

StringValue::StringValue(const Value& untyped) : Value(untyped) {
  if (type_ == ValueType::kAny && (expression_ || literal_.is_null())) type_ = ValueType::kString;
}
NumberValue::NumberValue(const Value& untyped) : Value(untyped) {
  if (type_ == ValueType::kAny && (expression_ || literal_.is_null())) type_ = ValueType::kNumber;
}
BoolValue::BoolValue(const Value& untyped) : Value(untyped) {
  if (type_ == ValueType::kAny && (expression_ || literal_.is_null())) type_ = ValueType::kBoolean;
}

StringValue Format(std::string_view pattern, const std::vector<Value>& args) {
  // Flatten into pieces: literal text and expressions. Literal arguments become text; the
  // pieces of a Format() argument are spliced in.
  std::vector<Value> pieces;
  auto add_text = [&](std::string_view text) {
    if (text.empty()) return;
    if (!pieces.empty() && pieces.back().is_literal()) {
      std::string joined(pieces.back().literal().as_string());
      joined.append(text);
      pieces.back() = Value(std::move(joined));
    } else {
      pieces.emplace_back(std::string(text));
    }
  };
  std::size_t next = 0;
  std::size_t text_start = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern.compare(i, 2, "{}") != 0 || next >= args.size()) continue;
    add_text(pattern.substr(text_start, i - text_start));
    const Value& a = args[next++];
    if (a.format_pieces()) {
      for (const Value& p : *a.format_pieces()) {
        if (p.is_literal()) {
          add_text(p.literal().as_string());
        } else {
          pieces.push_back(p);
        }
      }
    } else if (a.is_literal()) {
      const json::value& l = a.literal();
      add_text(l.is_string() ? std::string(l.as_string()) : ToJsonText(l));
    } else {
      pieces.push_back(a);
    }
    ++i;
    text_start = i + 1;
  }
  if (text_start < pattern.size()) add_text(pattern.substr(text_start));
  if (pieces.empty()) return StringValue("");
  if (pieces.size() == 1 && pieces[0].is_literal()) return StringValue(pieces[0]);
  std::string expr = "States.Format('";
  std::string arg_text;
  std::vector<std::string> steps;
  for (const Value& p : pieces) {
    if (p.is_literal()) {
      expr += pipeline::EscapeIntrinsicText(p.literal().as_string());
    } else {
      expr += "{}";
      arg_text += ", " + p.expression();
      Union(steps, p.steps());
    }
  }
  expr += "'" + arg_text + ")";
  Value out = Value::Expression(std::move(expr), ValueType::kString, std::move(steps));
  out.format_ = std::make_shared<const std::vector<Value>>(std::move(pieces));
  return StringValue(out);
}

StringValue ExecutionName() {
  return StringValue(Value::Expression("$$.Execution.Name", ValueType::kString));
}

Value FailureError() { return Value::Expression("$.error", ValueType::kAny); }

// ---- Conditions ----

Condition Condition::Compare(const Value& left_in, std::string_view op_in, const Value& right_in) {
  Condition c;
  c.text_ = fmt::format("{} {} {}", ValueText(left_in), op_in, ValueText(right_in));
  Union(c.steps_, left_in.steps());
  Union(c.steps_, right_in.steps());
  const Value* left = &left_in;
  const Value* right = &right_in;
  std::string op(op_in);
  // The Choice Variable must be a path: put the literal on the right.
  if (left->is_literal() && right->is_expression()) {
    std::swap(left, right);
    if (op == "<") {
      op = ">";
    } else if (op == ">") {
      op = "<";
    } else if (op == "<=") {
      op = ">=";
    } else if (op == ">=") {
      op = "<=";
    }
  }
  if (!left->is_path()) {
    c.error_ = fmt::format(
        "condition \"{}\": one side must be a parameter or a step result (a path), not {}",
        c.text_, left->is_literal() ? "a literal" : "a computed string");
    return c;
  }
  if (right->is_expression() && !right->is_path()) {
    c.error_ = fmt::format("condition \"{}\": compare with a literal or a path, not a computed "
                           "string",
                           c.text_);
    return c;
  }
  ValueType type = left->type();
  if (type == ValueType::kAny) type = right->type();
  if (type == ValueType::kAny) {
    c.error_ = fmt::format(
        "condition \"{}\": cannot tell whether to compare strings, numbers or booleans; make "
        "one side typed, e.g. NumberValue(step.Output(...))",
        c.text_);
    return c;
  }
  if (right->type() != ValueType::kAny && right->type() != type) {
    c.error_ = fmt::format("condition \"{}\": compares values of different types", c.text_);
    return c;
  }
  if (right->is_literal() && right->literal().is_null()) {
    c.error_ = fmt::format("condition \"{}\": compares with null", c.text_);
    return c;
  }
  const char* prefix = type == ValueType::kString   ? "String"
                       : type == ValueType::kNumber ? "Numeric"
                                                    : "Boolean";
  std::string suffix;
  bool negate = false;
  if (op == "==") {
    suffix = "Equals";
  } else if (op == "!=") {
    suffix = "Equals";
    negate = true;
  } else if (op == "<") {
    suffix = "LessThan";
  } else if (op == "<=") {
    suffix = "LessThanEquals";
  } else if (op == ">") {
    suffix = "GreaterThan";
  } else if (op == ">=") {
    suffix = "GreaterThanEquals";
  }
  if (type == ValueType::kBoolean && suffix != "Equals") {
    c.error_ = fmt::format("condition \"{}\": booleans compare with == and != only", c.text_);
    return c;
  }
  json::object rule{{"Variable", left->expression()}};
  std::string key = std::string(prefix) + suffix;
  if (right->is_path()) {
    rule[key + "Path"] = right->expression();
  } else {
    rule[key] = right->literal();
  }
  c.rule_ = negate ? json::value(json::object{{"Not", std::move(rule)}})
                   : json::value(std::move(rule));
  return c;
}

Condition Condition::IsPresent(const Value& v, bool present) {
  Condition c;
  c.text_ = fmt::format("{}({})", present ? "present" : "absent", ValueText(v));
  c.steps_ = v.steps();
  if (!v.is_path()) {
    c.error_ = fmt::format("condition \"{}\": only a path can be present or absent", c.text_);
    return c;
  }
  c.rule_ = json::object{{"Variable", v.expression()}, {"IsPresent", present}};
  return c;
}

Condition Condition::Matches(const StringValue& v, std::string pattern) {
  Condition c;
  c.text_ = fmt::format("{} matches \"{}\"", ValueText(v), pattern);
  c.steps_ = v.steps();
  if (!v.is_path()) {
    c.error_ = fmt::format("condition \"{}\": only a path can be matched", c.text_);
    return c;
  }
  c.rule_ = json::object{{"Variable", v.expression()}, {"StringMatches", std::move(pattern)}};
  return c;
}

// And/Or flatten nested rules of the same kind: a && b && c is one "And" of three.
Condition Condition::Combine(const Condition& a, const Condition& b, const char* key,
                             const char* word) {
  Condition c;
  c.text_ = fmt::format("({}) {} ({})", a.text_, word, b.text_);
  c.error_ = !a.error_.empty() ? a.error_ : b.error_;
  c.steps_ = a.steps_;
  Union(c.steps_, b.steps_);
  json::array all;
  for (const Condition* part : {&a, &b}) {
    const json::object* o = part->rule_.if_object();
    if (o != nullptr && o->contains(key)) {
      for (const auto& r : o->at(key).as_array()) all.push_back(r);
    } else {
      all.push_back(part->rule_);
    }
  }
  c.rule_ = json::object{{key, std::move(all)}};
  return c;
}

Condition operator&&(const Condition& a, const Condition& b) {
  return Condition::Combine(a, b, "And", "and");
}

Condition operator||(const Condition& a, const Condition& b) {
  return Condition::Combine(a, b, "Or", "or");
}

Condition operator!(const Condition& a) {
  Condition c = a;
  c.text_ = fmt::format("not ({})", a.text_);
  c.rule_ = json::object{{"Not", a.rule_}};
  return c;
}

Condition operator==(const Value& a, const Value& b) { return Condition::Compare(a, "==", b); }
Condition operator!=(const Value& a, const Value& b) { return Condition::Compare(a, "!=", b); }
Condition operator<(const Value& a, const Value& b) { return Condition::Compare(a, "<", b); }
Condition operator<=(const Value& a, const Value& b) { return Condition::Compare(a, "<=", b); }
Condition operator>(const Value& a, const Value& b) { return Condition::Compare(a, ">", b); }
Condition operator>=(const Value& a, const Value& b) { return Condition::Compare(a, ">=", b); }

}  // namespace zflow
