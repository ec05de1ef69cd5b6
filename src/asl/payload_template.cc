#include "asl/payload_template.h"

#include <optional>
#include <variant>

#include <fmt/format.h>

#include "asl/intrinsics.h"
#include "asl/json_path.h"

namespace zflow::asl {

// A template node: a constant subtree, an object whose members are templates, an array of
// templates, or a dynamic value (path or intrinsic).
struct PayloadTemplate::Node {
  struct Member {
    std::string key;  // without ".$"
    std::string source_key;  // as written, for error messages
    std::unique_ptr<Node> value;
  };
  enum class Kind : std::uint8_t { kConstant, kObject, kArray, kPath, kIntrinsic };
  Kind kind = Kind::kConstant;
  json::value constant;
  std::vector<Member> members;
  std::vector<std::unique_ptr<Node>> elements;
  std::optional<JsonPath> path;
  std::optional<IntrinsicCall> call;
};

namespace {

using Node = PayloadTemplate::Node;

bool HasDynamicKeys(const json::value& v) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.get_object()) {
      if (key.ends_with(".$") || HasDynamicKeys(child)) return true;
    }
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (HasDynamicKeys(e)) return true;
    }
  }
  return false;
}

Result<std::unique_ptr<Node>> CompileNode(const json::value& v, JsonPathCache* paths) {
  auto node = std::make_unique<Node>();
  if (!HasDynamicKeys(v)) {
    node->constant = v;
    return node;
  }
  if (v.is_array()) {
    node->kind = Node::Kind::kArray;
    for (const auto& e : v.get_array()) {
      ZFLOW_ASSIGN_OR_RETURN(auto child, CompileNode(e, paths));
      node->elements.push_back(std::move(child));
    }
    return node;
  }
  node->kind = Node::Kind::kObject;
  for (const auto& [key, child] : v.get_object()) {
    Node::Member m;
    m.source_key = std::string(key);
    if (key.ends_with(".$")) {
      m.key = std::string(key.substr(0, key.size() - 2));
      if (!child.is_string()) {
        return InvalidArgumentError(
            fmt::format("the value of \"{}\" must be a path or intrinsic function string", m.source_key));
      }
      std::string_view text = child.get_string();
      auto dynamic = std::make_unique<Node>();
      if (LooksLikeIntrinsic(text)) {
        auto call = IntrinsicCall::Parse(text);
        if (!call.ok()) {
          return InvalidArgumentError(
              fmt::format("\"{}\": {}", m.source_key, call.status().message()));
        }
        dynamic->kind = Node::Kind::kIntrinsic;
        dynamic->call = std::move(*call);
      } else {
        auto path = CompilePath(text, paths);
        if (!path.ok()) {
          return InvalidArgumentError(
              fmt::format("\"{}\": {}", m.source_key, path.status().message()));
        }
        dynamic->kind = Node::Kind::kPath;
        dynamic->path = std::move(*path);
      }
      m.value = std::move(dynamic);
    } else {
      m.key = m.source_key;
      ZFLOW_ASSIGN_OR_RETURN(m.value, CompileNode(child, paths));
    }
    node->members.push_back(std::move(m));
  }
  return node;
}

// AWS's wording for a path that selects nothing, with the document the path was applied to.
WorkflowError PathFailure(const JsonPath& path, const EvaluationContext& ctx,
                          std::string_view missing_path_error, std::string_view source_key) {
  std::string where;
  if (path.root() == JsonPath::Root::kVariable) {
    where = "the variables";
  } else {
    const json::value* doc = path.root() == JsonPath::Root::kContext ? ctx.context : ctx.input;
    std::string text = doc != nullptr ? ToJsonText(*doc) : "null";
    if (text.size() > 1024) text = text.substr(0, 1024) + "...";
    where = fmt::format("the {} '{}'",
                        path.root() == JsonPath::Root::kContext ? "context object" : "input",
                        text);
  }
  return WorkflowError{
      std::string(missing_path_error),
      fmt::format("The JSONPath '{}' specified for the field '{}' could not be found in {}",
                  path.text(), source_key, where)};
}

// Evaluates `node` into `out`, a value with ctx.storage: objects and arrays are built in place
// and selected nodes copied straight into their slot (no intermediate values).
std::optional<WorkflowError> EvaluateInto(const Node& node, const EvaluationContext& ctx,
                                          std::string_view missing_path_error,
                                          std::string_view source_key, json::value& out) {
  switch (node.kind) {
    case Node::Kind::kConstant:
      out = node.constant;
      return std::nullopt;
    case Node::Kind::kArray: {
      json::array& a = out.emplace_array();
      a.reserve(node.elements.size());
      for (const auto& e : node.elements) {
        a.emplace_back(nullptr);
        if (auto error = EvaluateInto(*e, ctx, missing_path_error, source_key, a.back())) {
          return error;
        }
      }
      return std::nullopt;
    }
    case Node::Kind::kObject: {
      json::object& o = out.emplace_object();
      o.reserve(node.members.size());
      for (const auto& m : node.members) {
        const Node& child = *m.value;
        if (child.kind == Node::Kind::kConstant) {
          o.insert_or_assign(m.key, child.constant);
          continue;
        }
        if (child.kind == Node::Kind::kPath) {
          // A reference path's node is copied straight into its slot (misses and other paths
          // take the general route below).
          if (const json::value* found = child.path->Find(ctx)) {
            o.insert_or_assign(m.key, *found);
            continue;
          }
        }
        json::value& slot = o.insert_or_assign(m.key, nullptr).first->value();
        if (auto error = EvaluateInto(child, ctx, missing_path_error, m.source_key, slot)) {
          return error;
        }
      }
      return std::nullopt;
    }
    case Node::Kind::kPath: {
      Outcome<json::value> v = node.path->Evaluate(ctx);
      if (!v.ok()) return PathFailure(*node.path, ctx, missing_path_error, source_key);
      out = std::move(*v);
      return std::nullopt;
    }
    case Node::Kind::kIntrinsic: {
      Outcome<json::value> v = node.call->Evaluate(ctx);
      if (!v.ok()) return v.error();
      out = std::move(*v);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

PayloadTemplate::PayloadTemplate(std::unique_ptr<Node> root) : root_(std::move(root)) {}
PayloadTemplate::PayloadTemplate(PayloadTemplate&&) noexcept = default;
PayloadTemplate& PayloadTemplate::operator=(PayloadTemplate&&) noexcept = default;
PayloadTemplate::~PayloadTemplate() = default;

Result<PayloadTemplate> PayloadTemplate::Compile(const json::value& definition,
                                                 JsonPathCache* paths) {
  ZFLOW_ASSIGN_OR_RETURN(auto root, CompileNode(definition, paths));
  return PayloadTemplate(std::move(root));
}

void PayloadTemplate::Prefetch() const {
  const Node* n = root_.get();
  __builtin_prefetch(n);
  if (n->kind != Node::Kind::kObject) return;
  const Node::Member* m = n->members.data();
  for (std::size_t i = 0; i < n->members.size(); ++i) {
    __builtin_prefetch(&m[i]);
    const Node* v = m[i].value.get();
    __builtin_prefetch(v);
    if (v->kind == Node::Kind::kPath) v->path->Prefetch();
  }
}

bool PayloadTemplate::is_constant() const { return root_->kind == Node::Kind::kConstant; }

Outcome<json::value> PayloadTemplate::Evaluate(const EvaluationContext& ctx,
                                               std::string_view missing_path_error) const {
  json::value out(ctx.storage);
  if (auto error = EvaluateInto(*root_, ctx, missing_path_error, "", out)) return *std::move(error);
  return out;
}

}  // namespace zflow::asl
