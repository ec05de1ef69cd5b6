// JSONPath-mode states rewritten as JSONata-mode states (zflow/asl_convert.h).
//
// A JSONPath state's data flow is InputPath → Parameters → the work → ResultSelector →
// ResultPath (merged into the raw input) → OutputPath. A JSONata state has Arguments for the
// first half and one Output expression for the second, both over $states.input and
// $states.result. The conversion writes each JSONPath stage as an expression over the
// previous one: `input` below is the effective input (InputPath applied), `result` the
// selected result, and ResultPath becomes nested $merge calls.
#include "zflow/asl_convert.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/jsonata_text.h"

namespace zflow::asl {

std::string JsonataLiteral(const json::value& v) { return ToJsonText(v); }

Result<std::string> JsonataName(std::string_view name) {
  static constexpr std::string_view kKeywords[] = {"and", "or", "in", "true", "false", "null",
                                                   "function"};
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_');
  }
  for (std::string_view k : kKeywords) plain = plain && name != k;
  if (plain) return std::string(name);
  if (name.find('`') != std::string_view::npos) {
    return InvalidArgumentError(
        fmt::format("the name \"{}\" holds a backquote, which a JSONata name cannot", name));
  }
  return fmt::format("`{}`", name);
}

namespace {

constexpr std::string_view kInput = "$states.input";
constexpr std::string_view kResult = "$states.result";
constexpr std::string_view kErrorOutput = "$states.errorOutput";

std::string Embed(std::string_view expr) { return fmt::format("{{% {} %}}", expr); }

// An expression a path step can follow: a variable path as it is, anything else in brackets.
std::string Base(std::string_view expr) {
  bool simple = expr.starts_with('$');
  for (char c : expr) simple = simple && c != ' ' && c != '(' && c != '[' && c != '{';
  return simple ? std::string(expr) : fmt::format("({})", expr);
}

// A path or an intrinsic call, with `input` for "$".
Result<std::string> ValueExpr(std::string_view text, std::string_view input) {
  if (LooksLikeIntrinsic(text)) {
    ZFLOW_ASSIGN_OR_RETURN(IntrinsicCall call, IntrinsicCall::Parse(text));
    return call.ToJsonata(input);
  }
  ZFLOW_ASSIGN_OR_RETURN(JsonPath path, JsonPath::Compile(text));
  return path.ToJsonata(input);
}

// A literal string that a JSONata state would take for an expression (or refuse as an
// unfinished one: it opens "{%") is written as an expression that yields the same string.
json::value LiteralString(const json::string& s) {
  std::string_view v = s;
  if (v.starts_with("{%")) return json::value(Embed(JsonataLiteral(s)));
  return s;
}

// A JSON value that must stay literal in a JSONata template.
json::value LiteralTemplate(const json::value& v) {
  if (v.is_string()) return LiteralString(v.get_string());
  if (const json::object* o = v.if_object()) {
    json::object out;
    for (const auto& m : *o) out[m.key()] = LiteralTemplate(m.value());
    return out;
  }
  if (const json::array* a = v.if_array()) {
    json::array out;
    for (const auto& e : *a) out.push_back(LiteralTemplate(e));
    return out;
  }
  return v;
}

// A payload template ("x.$" keys) as a JSONata template: JSON with "{% %}" leaves.
Result<json::value> TemplateToJson(const json::value& t, std::string_view input) {
  if (const json::object* o = t.if_object()) {
    json::object out;
    for (const auto& m : *o) {
      std::string_view key = m.key();
      if (!key.ends_with(".$")) {
        ZFLOW_ASSIGN_OR_RETURN(out[key], TemplateToJson(m.value(), input));
        continue;
      }
      key.remove_suffix(2);
      if (!m.value().is_string()) {
        return InvalidArgumentError(fmt::format("\"{}.$\" is not a string", key));
      }
      std::string_view text = m.value().get_string();
      if (LooksLikeIntrinsic(text)) {
        ZFLOW_ASSIGN_OR_RETURN(IntrinsicCall call, IntrinsicCall::Parse(text));
        if (call.is_array()) {
          // Item by item, so that an item that is an array stays one item.
          ZFLOW_ASSIGN_OR_RETURN(std::vector<std::string> items, call.ArgumentsToJsonata(input));
          json::array a;
          for (const std::string& e : items) a.push_back(json::value(Embed(e)));
          out[key] = std::move(a);
          continue;
        }
        ZFLOW_ASSIGN_OR_RETURN(std::string e, call.ToJsonata(input));
        out[key] = Embed(e);
        continue;
      }
      ZFLOW_ASSIGN_OR_RETURN(std::string e, ValueExpr(text, input));
      out[key] = Embed(e);
    }
    return json::value(std::move(out));
  }
  if (const json::array* a = t.if_array()) {
    json::array out;
    for (const auto& e : *a) {
      ZFLOW_ASSIGN_OR_RETURN(json::value v, TemplateToJson(e, input));
      out.push_back(std::move(v));
    }
    return json::value(std::move(out));
  }
  return LiteralTemplate(t);
}

// The same template as one JSONata expression (an object constructor), to build on.
Result<std::string> TemplateToExpr(const json::value& t, std::string_view input) {
  if (const json::object* o = t.if_object()) {
    std::string out = "{";
    for (const auto& m : *o) {
      std::string_view key = m.key();
      std::string value;
      if (key.ends_with(".$")) {
        key.remove_suffix(2);
        if (!m.value().is_string()) {
          return InvalidArgumentError(fmt::format("\"{}.$\" is not a string", key));
        }
        ZFLOW_ASSIGN_OR_RETURN(value, ValueExpr(m.value().get_string(), input));
      } else {
        ZFLOW_ASSIGN_OR_RETURN(value, TemplateToExpr(m.value(), input));
      }
      out += fmt::format("{}{}: {}", out.size() > 1 ? ", " : "",
                         JsonataLiteral(json::value(json::string(key))), value);
    }
    return out + "}";
  }
  if (const json::array* a = t.if_array()) {
    std::string out = "[";
    for (const auto& e : *a) {
      ZFLOW_ASSIGN_OR_RETURN(std::string v, TemplateToExpr(e, input));
      out += fmt::format("{}{}", out.size() > 1 ? ", " : "", v);
    }
    return out + "]";
  }
  return JsonataLiteral(t);
}

// `target` with `value` stored under the member names, as ResultPath stores a result.
std::string SetMembers(std::string_view target, std::span<const std::string> names,
                       std::string_view value, std::string& error) {
  if (names.empty()) return std::string(value);
  Result<std::string> step = JsonataName(names[0]);
  if (!step.ok()) {
    error = step.status().message();
    return {};
  }
  std::string inner = SetMembers(fmt::format("{}.{}", Base(target), *step), names.subspan(1),
                                 value, error);
  return fmt::format("$merge([{}, {{{}: {}}}])", target,
                     JsonataLiteral(json::value(json::string(names[0]))), inner);
}

// A value known both as an expression and, where it has one, as a template.
struct Shaped {
  std::string expr;
  std::optional<json::value> tpl;
};

bool IsNull(const json::object& s, std::string_view key) {
  const json::value* v = s.if_contains(key);
  return v != nullptr && v->is_null();
}
const json::string* StringField(const json::object& s, std::string_view key) {
  const json::value* v = s.if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

// The StringMatches pattern ('*' any run, "\*" and "\\" literal) as a JSONata regex.
std::string WildcardRegex(std::string_view pattern) {
  std::string out = "/^";
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      c = pattern[++i];
    } else if (c == '*') {
      out += "[\\s\\S]*";
      continue;
    }
    if (std::string_view("\\^$.|?*+()[]{}/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out + "$/";
}

class Converter {
 public:
  explicit Converter(bool jsonata_machine) : jsonata_machine_(jsonata_machine) {}

  Result<json::value> Machine(const json::object& def) {
    json::object out;
    if (const json::value* c = def.if_contains("Comment")) out["Comment"] = *c;
    out["QueryLanguage"] = "JSONata";
    for (const auto& m : def) {
      if (m.key() == "Comment" || m.key() == "QueryLanguage") continue;
      if (m.key() == "States") {
        ZFLOW_ASSIGN_OR_RETURN(out["States"], States(m.value()));
      } else {
        out[m.key()] = m.value();
      }
    }
    return json::value(std::move(out));
  }

 private:
  Result<json::value> States(const json::value& states) {
    const json::object* o = states.if_object();
    if (o == nullptr) return InvalidArgumentError("\"States\" is not an object");
    json::object out;
    for (const auto& m : *o) {
      const json::object* s = m.value().if_object();
      if (s == nullptr) {
        return InvalidArgumentError(fmt::format("state \"{}\" is not an object",
                                                std::string_view(m.key())));
      }
      std::string_view lang = StringField(*s, "QueryLanguage") != nullptr
                                  ? std::string_view(*StringField(*s, "QueryLanguage"))
                                  : std::string_view(jsonata_machine_ ? "JSONata" : "JSONPath");
      Result<json::object> converted = lang == "JSONata" ? KeepJsonata(*s) : State(*s);
      if (!converted.ok()) {
        return InvalidArgumentError(fmt::format("state \"{}\": {}", std::string_view(m.key()),
                                                converted.status().message()));
      }
      out[m.key()] = std::move(*converted);
    }
    return json::value(std::move(out));
  }

  // A JSONata state: only its branches may hold JSONPath states.
  Result<json::object> KeepJsonata(const json::object& s) {
    json::object out;
    for (const auto& m : s) {
      if (m.key() == "QueryLanguage") continue;
      ZFLOW_ASSIGN_OR_RETURN(out[m.key()], Nested(m.key(), m.value()));
    }
    return out;
  }

  // Branches and item processors are converted; other values are copied.
  Result<json::value> Nested(std::string_view key, const json::value& v) {
    if (key == "Branches" && v.is_array()) {
      json::array out;
      for (const auto& b : v.get_array()) {
        ZFLOW_ASSIGN_OR_RETURN(json::value c, Branch(b));
        out.push_back(std::move(c));
      }
      return json::value(std::move(out));
    }
    if (key == "ItemProcessor" || key == "Iterator") return Branch(v);
    return v;
  }

  Result<json::value> Branch(const json::value& b) {
    const json::object* o = b.if_object();
    if (o == nullptr) return b;
    json::object out;
    for (const auto& m : *o) {
      if (m.key() == "States") {
        ZFLOW_ASSIGN_OR_RETURN(out["States"], States(m.value()));
      } else {
        out[m.key()] = m.value();
      }
    }
    return json::value(std::move(out));
  }

  // Field errors name the field.
  template <typename T>
  static Result<T> In(std::string_view field, Result<T> r) {
    if (r.ok()) return r;
    return InvalidArgumentError(fmt::format("\"{}\": {}", field, r.status().message()));
  }

  Result<json::object> State(const json::object& s) {
    const json::string* type_text = StringField(s, "Type");
    if (type_text == nullptr) return InvalidArgumentError("no \"Type\"");
    const std::string_view type = *type_text;
    const bool with_result = type == "Task" || type == "Parallel" || type == "Map";

    // The effective input.
    std::string input(kInput);
    if (IsNull(s, "InputPath")) {
      input = "{}";
    } else if (const json::string* p = StringField(s, "InputPath")) {
      ZFLOW_ASSIGN_OR_RETURN(input, In("InputPath", ValueExpr(*p, kInput)));
    }
    const std::string in = Base(input);

    // The result, for Pass and the states that run something.
    Shaped result;
    if (with_result) {
      result.expr = kResult;
      if (const json::value* sel = s.if_contains("ResultSelector")) {
        ZFLOW_ASSIGN_OR_RETURN(result.expr, In("ResultSelector", TemplateToExpr(*sel, kResult)));
        ZFLOW_ASSIGN_OR_RETURN(result.tpl, In("ResultSelector", TemplateToJson(*sel, kResult)));
      }
    } else if (type == "Pass") {
      if (const json::value* r = s.if_contains("Result")) {
        result.expr = JsonataLiteral(*r);
        result.tpl = LiteralTemplate(*r);
      } else if (const json::value* p = s.if_contains("Parameters")) {
        ZFLOW_ASSIGN_OR_RETURN(result.expr, In("Parameters", TemplateToExpr(*p, in)));
        ZFLOW_ASSIGN_OR_RETURN(result.tpl, In("Parameters", TemplateToJson(*p, in)));
      } else {
        result.expr = input;
      }
    } else {
      result.expr = input;  // Choice, Wait, Succeed: the output is built from the input
    }

    // ResultPath, then OutputPath.
    Shaped merged = result;
    if (with_result || type == "Pass") {
      if (IsNull(s, "ResultPath")) {
        merged = {std::string(kInput), std::nullopt};
      } else if (const json::string* rp = StringField(s, "ResultPath"); rp != nullptr && *rp != "$") {
        ZFLOW_ASSIGN_OR_RETURN(merged.expr, In("ResultPath", MergeInto(*rp, result.expr)));
        merged.tpl.reset();
      }
    }
    Shaped output = merged;
    if (IsNull(s, "OutputPath")) {
      output = {"{}", json::value(json::object())};
    } else if (const json::string* op = StringField(s, "OutputPath"); op != nullptr && *op != "$") {
      ZFLOW_ASSIGN_OR_RETURN(output.expr, In("OutputPath", ValueExpr(*op, Base(merged.expr))));
      output.tpl.reset();
    }
    // The JSONata default: the result for Task, Parallel and Map, the input for the rest.
    const std::string_view fallback = with_result ? kResult : kInput;
    std::optional<json::value> output_field;
    if (type != "Fail" && output.expr != fallback) {
      output_field = output.tpl ? std::move(*output.tpl) : json::value(Embed(output.expr));
    }

    json::object out;
    bool placed = false;  // Output and the fields derived from the input go before Retry/Catch
    auto place = [&] {
      if (placed) return;
      placed = true;
      if ((type == "Task" || type == "Parallel") && !s.contains("Parameters") &&
          input != kInput) {
        out["Arguments"] = Embed(input);
      }
      if (type == "Map" && !s.contains("ItemsPath") && input != kInput) {
        out["Items"] = Embed(input);
      }
      if (output_field) out["Output"] = *output_field;
    };
    for (const auto& m : s) {
      const std::string_view key = m.key();
      const json::value& v = m.value();
      if (key == "Retry" || key == "Catch" || key == "Next" || key == "End") {
        place();
      }
      if (key == "QueryLanguage" || key == "InputPath" || key == "ResultSelector" ||
          key == "ResultPath" || key == "OutputPath" || key == "Result") {
        continue;
      }
      if (key == "Parameters") {
        if (type == "Pass") continue;
        ZFLOW_ASSIGN_OR_RETURN(out[type == "Map" ? "ItemSelector" : "Arguments"],
                               In(key, TemplateToJson(v, in)));
      } else if (key == "ItemSelector" || key == "Credentials") {
        ZFLOW_ASSIGN_OR_RETURN(out[key], In(key, TemplateToJson(v, in)));
      } else if (key == "Assign") {
        // Assign reads the result (after ResultSelector) in Pass, Task, Parallel and Map, the
        // effective input elsewhere.
        const std::string base = with_result || type == "Pass" ? Base(result.expr) : in;
        ZFLOW_ASSIGN_OR_RETURN(out[key], In(key, TemplateToJson(v, base)));
      } else if (key.ends_with("Path") && v.is_string() &&
                 (key == "ItemsPath" || key == "SecondsPath" || key == "TimestampPath" ||
                  key == "MaxConcurrencyPath" || key == "ToleratedFailureCountPath" ||
                  key == "ToleratedFailurePercentagePath" || key == "TimeoutSecondsPath" ||
                  key == "HeartbeatSecondsPath" || key == "ErrorPath" || key == "CausePath")) {
        // Fail's paths read the raw input (a Fail state has no InputPath).
        ZFLOW_ASSIGN_OR_RETURN(std::string e, In(key, ValueExpr(v.get_string(), in)));
        out[key.substr(0, key.size() - 4)] = Embed(e);  // "SecondsPath" → "Seconds"
      } else if (key == "Choices") {
        ZFLOW_ASSIGN_OR_RETURN(out[key], In(key, Choices(v, in)));
      } else if (key == "Catch") {
        ZFLOW_ASSIGN_OR_RETURN(out[key], In(key, Catchers(v)));
      } else if (key == "ItemReader" || key == "ItemBatcher" || key == "ResultWriter") {
        ZFLOW_ASSIGN_OR_RETURN(out[key], In(key, MapConfig(v, in)));
      } else {
        ZFLOW_ASSIGN_OR_RETURN(out[key], Nested(key, v));
      }
    }
    place();
    if (type == "Choice") ChoiceRulesTakeStateFields(out, output_field);
    return out;
  }

  // A matched rule's Output and Assign replace the state's (which serve the Default), while a
  // JSONPath Choice applies its own Assign and then the rule's.
  static void ChoiceRulesTakeStateFields(json::object& state,
                                         const std::optional<json::value>& output) {
    json::value* choices = state.if_contains("Choices");
    if (choices == nullptr || !choices->is_array()) return;
    const json::object* assign =
        state.if_contains("Assign") != nullptr ? state["Assign"].if_object() : nullptr;
    for (json::value& r : choices->get_array()) {
      json::object* rule = r.if_object();
      if (rule == nullptr) continue;
      std::optional<json::object> merged;
      if (assign != nullptr) {
        merged = *assign;
        if (const json::value* own = rule->if_contains("Assign"); own && own->is_object()) {
          for (const auto& a : own->get_object()) (*merged)[a.key()] = a.value();
        }
      }
      json::object fields;  // Condition, Assign, Output, Next, in that order
      for (auto& m : *rule) {
        if (m.key() == "Next") {
          if (merged) fields["Assign"] = std::move(*merged);
          if (output) fields["Output"] = *output;
        }
        if (!fields.contains(m.key())) fields[m.key()] = std::move(m.value());
      }
      r = std::move(fields);
    }
  }

  // ResultPath: `value` stored into the raw input.
  Result<std::string> MergeInto(std::string_view result_path, std::string_view value) {
    ZFLOW_ASSIGN_OR_RETURN(JsonPath path, JsonPath::CompileReferencePath(result_path));
    std::optional<std::vector<std::string>> names = path.member_names();
    if (path.root() != JsonPath::Root::kInput || !names) {
      return InvalidArgumentError(fmt::format(
          "\"{}\" stores into an array item or outside the input, which has no JSONata form",
          result_path));
    }
    std::string error;
    std::string out = SetMembers(kInput, *names, value, error);
    if (!error.empty()) return InvalidArgumentError(error);
    return out;
  }

  Result<json::value> Catchers(const json::value& v) {
    const json::array* a = v.if_array();
    if (a == nullptr) return v;
    json::array out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const json::object* c = (*a)[i].if_object();
      if (c == nullptr) {
        out.push_back((*a)[i]);
        continue;
      }
      json::object k;
      for (const auto& m : *c) {
        if (m.key() == "ResultPath") continue;
        if (m.key() == "Assign") {
          ZFLOW_ASSIGN_OR_RETURN(k["Assign"], In(fmt::format("[{}].Assign", i),
                                                  TemplateToJson(m.value(), kErrorOutput)));
        } else {
          if (m.key() == "Next") ZFLOW_RETURN_IF_ERROR(CatcherOutput(*c, i, k));
          k[m.key()] = m.value();
        }
      }
      if (!k.contains("Output")) ZFLOW_RETURN_IF_ERROR(CatcherOutput(*c, i, k));
      out.push_back(std::move(k));
    }
    return json::value(std::move(out));
  }

  // A catcher's ResultPath as its Output (the default Output is the error output).
  Status CatcherOutput(const json::object& c, std::size_t i, json::object& k) {
    if (k.contains("Output")) return Status::Ok();
    if (IsNull(c, "ResultPath")) {
      k["Output"] = Embed(kInput);
    } else if (const json::string* rp = StringField(c, "ResultPath"); rp != nullptr && *rp != "$") {
      Result<std::string> e = MergeInto(*rp, kErrorOutput);
      if (!e.ok()) {
        return InvalidArgumentError(
            fmt::format("\"[{}].ResultPath\": {}", i, e.status().message()));
      }
      k["Output"] = Embed(*e);
    }
    return Status::Ok();
  }

  Result<json::value> Choices(const json::value& v, std::string_view in) {
    const json::array* a = v.if_array();
    if (a == nullptr) return v;
    json::array out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const json::object* r = (*a)[i].if_object();
      if (r == nullptr) {
        out.push_back((*a)[i]);
        continue;
      }
      json::object rule;
      Result<std::string> cond = Condition(*r, in);
      if (!cond.ok()) {
        return InvalidArgumentError(fmt::format("[{}]: {}", i, cond.status().message()));
      }
      rule["Condition"] = Embed(*cond);
      for (const auto& m : *r) {
        if (m.key() == "Assign") {
          ZFLOW_ASSIGN_OR_RETURN(rule["Assign"], In(fmt::format("[{}].Assign", i),
                                                     TemplateToJson(m.value(), in)));
        } else if (m.key() == "Next" || m.key() == "Comment") {
          rule[m.key()] = m.value();
        }
      }
      out.push_back(std::move(rule));
    }
    return json::value(std::move(out));
  }

  // A Choice rule (Variable and one comparison, or And/Or/Not) as a boolean expression.
  Result<std::string> Condition(const json::object& r, std::string_view in) {
    for (std::string_view op : {"And", "Or"}) {
      if (const json::value* list = r.if_contains(op)) {
        if (!list->is_array() || list->get_array().empty()) {
          return InvalidArgumentError(fmt::format("\"{}\" is not a list of rules", op));
        }
        std::string out = "(";
        for (const auto& c : list->get_array()) {
          if (!c.is_object()) return InvalidArgumentError(fmt::format("a rule in \"{}\"", op));
          ZFLOW_ASSIGN_OR_RETURN(std::string e, Condition(c.get_object(), in));
          if (out.size() > 1) out += op == "And" ? " and " : " or ";
          out += e;
        }
        return out + ")";
      }
    }
    if (const json::value* n = r.if_contains("Not")) {
      if (!n->is_object()) return InvalidArgumentError("\"Not\" is not a rule");
      ZFLOW_ASSIGN_OR_RETURN(std::string e, Condition(n->get_object(), in));
      return fmt::format("$not({})", e);
    }
    const json::string* variable = StringField(r, "Variable");
    if (variable == nullptr) return InvalidArgumentError("a rule without \"Variable\"");
    ZFLOW_ASSIGN_OR_RETURN(std::string x, ValueExpr(*variable, in));
    for (const auto& m : r) {
      std::string_view op = m.key();
      if (op == "Variable" || op == "Next" || op == "Assign" || op == "Comment") continue;
      const json::value& operand = m.value();
      std::string y;
      const bool path = op.ends_with("Path");
      if (path) {
        if (!operand.is_string()) {
          return InvalidArgumentError(fmt::format("\"{}\" is not a path", op));
        }
        ZFLOW_ASSIGN_OR_RETURN(y, ValueExpr(operand.get_string(), in));
        op.remove_suffix(4);
      } else {
        y = JsonataLiteral(operand);
      }
      return Comparison(op, x, y, operand, path);
    }
    return InvalidArgumentError("a rule without a comparison");
  }

  // `operand` is the literal operand, or the path text of a *Path comparison.
  static Result<std::string> Comparison(std::string_view op, const std::string& x,
                                        const std::string& y, const json::value& operand,
                                        bool path) {
    auto typed = [&](std::string_view type, std::string_view cmp) {
      if (!path) return fmt::format("($type({0}) = '{2}' and {0} {3} {1})", x, y, type, cmp);
      return fmt::format("($type({0}) = '{2}' and $type({1}) = '{2}' and {0} {3} {1})", x, y, type,
                         cmp);
    };
    // Timestamps compare as instants; anything that is not an RFC 3339 text compares false.
    auto instant = [&](std::string_view cmp) {
      constexpr std::string_view kShape = "/^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}/";
      return fmt::format(
          "($type({0}) = 'string' and $type({1}) = 'string' and $contains({0}, {3}) and "
          "$contains({1}, {3}) and $toMillis({0}) {2} $toMillis({1}))",
          x, y, cmp, kShape);
    };
    struct Op {
      std::string_view suffix, cmp;
    };
    static constexpr Op kOps[] = {{"Equals", "="},       {"LessThanEquals", "<="},
                                  {"GreaterThanEquals", ">="}, {"LessThan", "<"},
                                  {"GreaterThan", ">"}};
    for (std::string_view family : {"String", "Numeric", "Timestamp"}) {
      if (!op.starts_with(family)) continue;
      for (const Op& o : kOps) {
        if (op.substr(family.size()) != o.suffix) continue;
        if (family == "Timestamp") return instant(o.cmp);
        return typed(family == "String" ? "string" : "number", o.cmp);
      }
    }
    if (op == "BooleanEquals") return typed("boolean", "=");
    if (op == "StringMatches") {
      if (!operand.is_string()) return InvalidArgumentError("\"StringMatches\" is not a string");
      return fmt::format("($type({0}) = 'string' and $contains({0}, {1}))", x,
                         WildcardRegex(operand.get_string()));
    }
    const bool want = operand.is_bool() && operand.get_bool();
    std::string test;
    if (op == "IsPresent") return want ? fmt::format("$exists({})", x)
                                       : fmt::format("$not($exists({}))", x);
    if (op == "IsNull") test = fmt::format("{} = null", x);
    if (op == "IsNumeric") test = fmt::format("$type({}) = 'number'", x);
    if (op == "IsString") test = fmt::format("$type({}) = 'string'", x);
    if (op == "IsBoolean") test = fmt::format("$type({}) = 'boolean'", x);
    if (op == "IsTimestamp") {
      test = fmt::format(
          "($type({0}) = 'string' and $contains({0}, "
          "/^\\d{{4}}-\\d{{2}}-\\d{{2}}T\\d{{2}}:\\d{{2}}:\\d{{2}}(\\.\\d+)?(Z|[+-]\\d{{2}}:\\d{{2}})$/))",
          x);
    }
    if (test.empty()) return InvalidArgumentError(fmt::format("unknown comparison \"{}\"", op));
    // A type test on something absent is false either way round.
    return want ? fmt::format("({})", test) : fmt::format("($exists({0}) and $not({1}))", x, test);
  }

  // ItemReader, ItemBatcher, ResultWriter: Parameters become Arguments, *Path limits become
  // expressions, BatchInput a template.
  Result<json::value> MapConfig(const json::value& v, std::string_view in) {
    const json::object* o = v.if_object();
    if (o == nullptr) return v;
    json::object out;
    for (const auto& m : *o) {
      std::string_view key = m.key();
      if (key == "Parameters") {
        ZFLOW_ASSIGN_OR_RETURN(out["Arguments"], In(key, TemplateToJson(m.value(), in)));
      } else if (key == "BatchInput") {
        ZFLOW_ASSIGN_OR_RETURN(out[key], In(key, TemplateToJson(m.value(), in)));
      } else if (key == "ReaderConfig") {
        ZFLOW_ASSIGN_OR_RETURN(out[key], MapConfig(m.value(), in));
      } else if (key.ends_with("Path") && m.value().is_string()) {
        ZFLOW_ASSIGN_OR_RETURN(std::string e, In(key, ValueExpr(m.value().get_string(), in)));
        out[key.substr(0, key.size() - 4)] = Embed(e);
      } else {
        out[key] = m.value();
      }
    }
    return json::value(std::move(out));
  }

  // States without their own QueryLanguage are JSONata already (the machine says so).
  bool jsonata_machine_;
};

}  // namespace

Result<json::value> ConvertToJsonata(const json::value& definition) {
  const json::object* def = definition.if_object();
  if (def == nullptr) return InvalidArgumentError("the definition is not a JSON object");
  const json::value* q = def->if_contains("QueryLanguage");
  Converter c(q != nullptr && q->is_string() && q->get_string() == "JSONata");
  return c.Machine(*def);
}

}  // namespace zflow::asl
