#include "zflow/graph.h"

#include <unordered_map>

#include <fmt/format.h>

#include "common/subprocess.h"

namespace zflow::asl {
namespace {

std::string RuleLabel(const ChoiceRule& r) {
  std::string label;
  switch (r.kind) {
    case ChoiceRule::Kind::kComparison:
      label = fmt::format("{} {} {}", r.variable, ComparisonOperatorName(r.op),
                          r.operand.is_string() ? std::string(r.operand.get_string())
                                                : ToJsonText(r.operand));
      break;
    case ChoiceRule::Kind::kAnd:
      label = fmt::format("And ({} rules)", r.children.size());
      break;
    case ChoiceRule::Kind::kOr:
      label = fmt::format("Or ({} rules)", r.children.size());
      break;
    case ChoiceRule::Kind::kNot:
      label = r.children.empty() ? "Not" : "Not " + RuleLabel(r.children[0]);
      break;
    case ChoiceRule::Kind::kCondition:
      label = r.condition.is_string() ? std::string(r.condition.get_string())
                                      : ToJsonText(r.condition);
      break;
  }
  if (label.size() > 48) label = label.substr(0, 45) + "...";
  return label;
}

std::string JoinErrors(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += (out.empty() ? "" : ", ") + e;
  return out;
}

// Walks the machine once and emits nodes, clusters and edges through a small syntax table, so
// DOT and Mermaid share the traversal.
class Renderer {
 public:
  explicit Renderer(GraphFormat format) : format_(format) {}

  std::string Render(const StateMachine& m) {
    if (format_ == GraphFormat::kDot) {
      out_ += "digraph \"state machine\" {\n  rankdir=TB;\n"
              "  graph [fontname=\"Helvetica\", fontsize=10];\n"
              "  node [fontname=\"Helvetica\", fontsize=10];\n"
              "  edge [fontname=\"Helvetica\", fontsize=9];\n"
              "  start [shape=circle, label=\"\", style=filled, fillcolor=black, width=0.2];\n"
              "  end [shape=doublecircle, label=\"\", style=filled, fillcolor=black, "
              "width=0.15];\n";
    } else {
      out_ += "flowchart TD\n  start((start))\n  end_((end))\n";
    }
    AssignIds(m.top());
    Branch(m.top(), "  ", /*top=*/true);
    Edge("start", Id(m.top(), m.start_at()), "", false);
    out_ += edges_;
    if (format_ == GraphFormat::kDot) out_ += "}\n";
    return out_;
  }

 private:
  void AssignIds(const asl::Branch& b) {
    for (const State& s : b.states) {
      ids_.emplace(&s, fmt::format("n{}", ids_.size()));
      for (const asl::Branch& inner : s.parallel().branches) AssignIds(inner);
      if (s.map().item_processor) AssignIds(*s.map().item_processor);
    }
  }

  std::string Id(const asl::Branch& b, const std::string& name) const {
    const State* s = b.Find(name);
    auto it = s == nullptr ? ids_.end() : ids_.find(s);
    return it == ids_.end() ? "end" : it->second;
  }

  static std::string Escape(std::string_view text, GraphFormat format) {
    std::string out;
    for (char c : text) {
      if (format == GraphFormat::kDot) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      } else if (c == '"') {
        out += "#quot;";
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  void Node(const State& s, const std::string& indent) {
    const std::string& id = ids_.at(&s);
    std::string label = Escape(s.name, format_);
    std::string type(StateTypeName(s.type));
    if (format_ == GraphFormat::kDot) {
      std::string_view shape = "box";
      std::string style = "rounded";
      if (s.type == StateType::kChoice) {
        shape = "diamond";
        style = "solid";
      } else if (s.type == StateType::kSucceed || s.type == StateType::kFail) {
        shape = "box";
        style = "rounded,filled";
      }
      std::string fill = s.type == StateType::kFail      ? ", fillcolor=\"#f8d7da\""
                         : s.type == StateType::kSucceed ? ", fillcolor=\"#d4edda\""
                                                         : "";
      out_ += fmt::format("{}{} [label=\"{}\\n{}\", shape={}, style=\"{}\"{}];\n", indent, id,
                          label, type, shape, style, fill);
    } else {
      std::string_view open = "([", close = "])";
      if (s.type == StateType::kChoice) {
        open = "{";
        close = "}";
      }
      out_ += fmt::format("{}{}{}\"{} ({})\"{}\n", indent, id, open, label, type, close);
    }
  }

  void Edge(const std::string& from, const std::string& to, const std::string& label,
            bool dashed) {
    std::string target = (format_ == GraphFormat::kMermaid && to == "end") ? "end_" : to;
    if (format_ == GraphFormat::kDot) {
      std::string attrs;
      if (!label.empty()) attrs = fmt::format("label=\"{}\"", Escape(label, format_));
      if (dashed) attrs += std::string(attrs.empty() ? "" : ", ") + "style=dashed";
      edges_ += fmt::format("  {} -> {}{};\n", from, target,
                            attrs.empty() ? "" : " [" + attrs + "]");
    } else {
      std::string arrow = dashed ? "-.->" : "-->";
      if (!label.empty()) {
        edges_ += fmt::format("  {} {}|\"{}\"| {}\n", from, arrow, Escape(label, format_), target);
      } else {
        edges_ += fmt::format("  {} {} {}\n", from, arrow, target);
      }
    }
  }

  void Branch(const asl::Branch& b, const std::string& indent, bool top) {
    for (const State& s : b.states) {
      Node(s, indent);
      const std::string& id = ids_.at(&s);
      // Transitions. Inside branches, terminal states end the branch (no edge to "end").
      if (!s.next.empty()) Edge(id, Id(b, s.next), "", false);
      if (s.end && top) Edge(id, "end", "", false);
      if ((s.type == StateType::kSucceed || s.type == StateType::kFail) && top) {
        Edge(id, "end", "", false);
      }
      for (const ChoiceRule& r : s.choice().choices) Edge(id, Id(b, r.next), RuleLabel(r), false);
      if (!s.choice().default_next.empty()) Edge(id, Id(b, s.choice().default_next), "Default", false);
      for (const Catcher& c : s.catch_) Edge(id, Id(b, c.next), JoinErrors(c.error_equals), true);
      // Nested graphs.
      for (std::size_t i = 0; i < s.parallel().branches.size(); ++i) {
        Cluster(s, s.parallel().branches[i], fmt::format("{}_b{}", id, i),
                fmt::format("{} branch {}", s.name, i + 1), indent);
      }
      if (s.map().item_processor) {
        Cluster(s, *s.map().item_processor, id + "_items", s.name + " (each item)", indent);
      }
    }
  }

  void Cluster(const State& owner, const asl::Branch& b, const std::string& cluster_id,
               const std::string& label, const std::string& indent) {
    if (format_ == GraphFormat::kDot) {
      out_ += fmt::format("{}subgraph cluster_{} {{\n{}  label=\"{}\"; style=dashed;\n", indent,
                          cluster_id, indent, Escape(label, format_));
      Branch(b, indent + "  ", false);
      out_ += indent + "}\n";
    } else {
      out_ += fmt::format("{}subgraph {} [\"{}\"]\n", indent, cluster_id, Escape(label, format_));
      Branch(b, indent + "  ", false);
      out_ += indent + "end\n";
    }
    Edge(ids_.at(&owner), Id(b, b.start_at), "", true);
  }

  GraphFormat format_;
  std::string out_;
  std::string edges_;
  std::unordered_map<const State*, std::string> ids_;
};

}  // namespace

std::string RenderGraph(const StateMachine& machine, GraphFormat format) {
  return Renderer(format).Render(machine);
}

Result<std::string> RenderSvg(const StateMachine& machine) {
  auto run = RunProcess({"dot", "-Tsvg"}, RenderGraph(machine, GraphFormat::kDot));
  if (!run.ok()) {
    return UnavailableError("rendering SVG needs Graphviz's `dot` (Debian package graphviz): " +
                            run.status().message());
  }
  if (run->exit_code != 0) {
    return InternalError("dot failed: " + run->stderr_text.substr(0, 2000));
  }
  return std::move(run->stdout_text);
}

}  // namespace zflow::asl
