#include "asl/jsonata_template.h"

#include <cmath>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "asl/jsonata_functions.h"
#include "zflow/errors.h"

namespace zflow::asl {

bool IsJsonataString(std::string_view s) {
  return s.size() >= 4 && s.substr(0, 2) == "{%" && s.substr(s.size() - 2) == "%}";
}

std::string_view JsonataBody(std::string_view s) {
  std::string_view body = s.substr(2, s.size() - 4);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) {
    body.remove_prefix(1);
  }
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
    body.remove_suffix(1);
  }
  return body;
}

struct JsonataTemplate::Node {
  // Declared here, defined below: clang checks std::pair<std::string, Node> while Node is
  // still incomplete otherwise.
  Node();
  enum class Kind : std::uint8_t { kLiteral, kExpression, kObject, kArray };
  Kind kind = Kind::kLiteral;
  json::value literal;
  std::optional<jsonata::Expression> expression;
  std::string field;  // the field path in causes: Output/a/b[0]
  std::vector<std::pair<std::string, Node>> members;
  std::vector<Node> items;
};

JsonataTemplate::Node::Node() = default;

namespace {

using Node = JsonataTemplate::Node;

// Builds the node for `v`; literal when no expression is inside it.
Result<Node> Build(const json::value& v, const std::string& field) {
  Node n;
  if (v.is_string() && IsJsonataString(v.get_string())) {
    std::string_view body = JsonataBody(v.get_string());
    jsonata::Outcome<jsonata::Expression> e = jsonata::Expression::Compile(body);
    if (!e.ok()) {
      return InvalidArgumentError(fmt::format("the JSONata expression '{}' in {} does not parse: {}",
                                              body, field, e.error().ToString()));
    }
    n.kind = Node::Kind::kExpression;
    n.expression = std::move(*e);
    n.field = field;
    return n;
  }
  if (v.is_object()) {
    bool dynamic = false;
    for (const auto& kv : v.get_object()) {
      ZFLOW_ASSIGN_OR_RETURN(Node child,
                             Build(kv.value(), fmt::format("{}/{}", field, std::string_view(kv.key()))));
      dynamic = dynamic || child.kind != Node::Kind::kLiteral;
      n.members.emplace_back(std::string(kv.key()), std::move(child));
    }
    if (dynamic) {
      n.kind = Node::Kind::kObject;
      return n;
    }
    n.members.clear();
  } else if (v.is_array()) {
    bool dynamic = false;
    const json::array& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      ZFLOW_ASSIGN_OR_RETURN(Node child, Build(a[i], fmt::format("{}[{}]", field, i)));
      dynamic = dynamic || child.kind != Node::Kind::kLiteral;
      n.items.push_back(std::move(child));
    }
    if (dynamic) {
      n.kind = Node::Kind::kArray;
      return n;
    }
    n.items.clear();
  }
  n.kind = Node::Kind::kLiteral;
  n.literal = v;
  return n;
}

WorkflowError QueryError(std::string cause) {
  return WorkflowError{std::string(errors::kQueryEvaluationError), std::move(cause)};
}

std::string Prefix(const Node& n) {
  return fmt::format("The JSONata expression '{}' specified for the field '{}'",
                     n.expression->text(), n.field);
}

// AWS's limit on one expression's run time.
constexpr std::chrono::milliseconds kTimeLimit{1000};

Outcome<json::value> EvaluateNode(const Node& n, const JsonataScope& scope) {
  switch (n.kind) {
    case Node::Kind::kLiteral:
      return n.literal;
    case Node::Kind::kExpression: {
      const std::pair<std::string_view, const json::value*> members[] = {
          {"input", scope.input},
          {"result", scope.result},
          {"errorOutput", scope.error_output},
          {"context", scope.context},
      };
      const jsonata::BorrowedVariable states[] = {{.name = "states", .members = members}};
      jsonata::EvaluateOptions options;
      options.borrowed = states;
      options.lookup = scope.variables;
      options.functions = &StepFunctionsJsonata();
      options.native_context = scope.random;
      options.time_limit = kTimeLimit;
      options.now = scope.now;
      auto r = n.expression->Evaluate(nullptr, options);
      if (!r.ok()) {
        const jsonata::Error& e = r.error();
        WorkflowError w =
            e.code == "U1001"
                ? QueryError(fmt::format("{} threw an error during evaluation: {}", Prefix(n),
                                         e.message))
                : QueryError(fmt::format("{} threw an error during evaluation. {}: {}",
                                         Prefix(n), e.code, e.message));
        w.position = e.position.value_or(0);
        return w;
      }
      if (!r->has_value()) return QueryError(Prefix(n) + " returned nothing (undefined).");
      return std::move(**r);
    }
    case Node::Kind::kObject: {
      json::object out;
      out.reserve(n.members.size());
      for (const auto& [key, child] : n.members) {
        ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, EvaluateNode(child, scope));
        out.emplace(key, std::move(v));
      }
      return json::value(std::move(out));
    }
    case Node::Kind::kArray: {
      json::array out;
      out.reserve(n.items.size());
      for (const Node& child : n.items) {
        ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, EvaluateNode(child, scope));
        out.push_back(std::move(v));
      }
      return json::value(std::move(out));
    }
  }
  return json::value();
}

std::string_view TypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "unknown";
}

}  // namespace

namespace {
bool NodeReadsContext(const Node& n) {
  if (n.expression) {
    for (const std::string& m : n.expression->Facts().states_members) {
      if (m == "context") return true;
    }
    return false;
  }
  for (const auto& [k, child] : n.members) {
    if (NodeReadsContext(child)) return true;
  }
  for (const Node& child : n.items) {
    if (NodeReadsContext(child)) return true;
  }
  return false;
}
}  // namespace

bool JsonataTemplate::ReadsContext() const { return NodeReadsContext(*root_); }

Result<JsonataTemplate> JsonataTemplate::Compile(const json::value& value, std::string field) {
  ZFLOW_ASSIGN_OR_RETURN(Node root, Build(value, field));
  if (root.kind == Node::Kind::kLiteral) root.field = std::move(field);
  return JsonataTemplate(std::make_shared<const Node>(std::move(root)));
}

Outcome<json::value> JsonataTemplate::Evaluate(const JsonataScope& scope) const {
  return EvaluateNode(*root_, scope);
}

WorkflowError JsonataTemplate::TypeError(const JsonataScope&, std::string_view expected,
                                         const json::value& got) const {
  return QueryError(fmt::format("{} returned an unexpected result type. Expected '{}', but was "
                                "'{}' for value: {}",
                                SubjectOf(got), expected, TypeName(got), ToJsonText(got)));
}

std::string JsonataTemplate::SubjectOf(const json::value& got) const {
  return root_->expression ? Prefix(*root_)
                           : fmt::format("The value {} specified for the field '{}'",
                                         ToJsonText(got), root_->field);
}

Outcome<std::int64_t> JsonataTemplate::EvaluateInteger(const JsonataScope& scope,
                                                        std::int64_t min,
                                                        std::int64_t max) const {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, Evaluate(scope));
  std::optional<std::int64_t> n;
  if (v.is_int64() && v.get_int64() >= min) n = v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double() && std::trunc(v.get_double()) == v.get_double() && v.get_double() >= double(min) &&
      std::fabs(v.get_double()) < 9.2e18) {
    n = static_cast<std::int64_t>(v.get_double());
  }
  if (!n) return TypeError(scope, min > 0 ? "positive integer" : "non-negative integer", v);
  if (*n > max) {
    return QueryError(fmt::format("{} returned a value out of range. Expected an integer from {} "
                                  "to {}, but was {}",
                                  SubjectOf(v), min, max, ToJsonText(v)));
  }
  return *n;
}

Outcome<double> JsonataTemplate::EvaluateNumber(const JsonataScope& scope) const {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, Evaluate(scope));
  if (v.is_number()) return v.to_number<double>();
  return TypeError(scope, "number", v);
}

Outcome<bool> JsonataTemplate::EvaluateBoolean(const JsonataScope& scope) const {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, Evaluate(scope));
  if (v.is_bool()) return v.get_bool();
  return TypeError(scope, "boolean", v);
}

Outcome<std::string> JsonataTemplate::EvaluateString(const JsonataScope& scope) const {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, Evaluate(scope));
  if (v.is_string()) return std::string(v.get_string());
  return TypeError(scope, "string", v);
}

Outcome<json::value> JsonataTemplate::EvaluateArray(const JsonataScope& scope) const {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, Evaluate(scope));
  if (v.is_array()) return v;
  return TypeError(scope, "array", v);
}

}  // namespace zflow::asl
