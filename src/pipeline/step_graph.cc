#include "pipeline/step_graph.h"

#include <map>

#include <fmt/format.h>

#include "common/subprocess.h"

namespace zflow::pipeline {
namespace {

std::string Escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string Quoted(std::string_view s) { return "\"" + Escaped(s) + "\""; }

// Mermaid labels: quotes become #quot;.
std::string MermaidLabel(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"') {
      out += "#quot;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

class StepRenderer {
 public:
  explicit StepRenderer(asl::GraphFormat format) : format_(format) {}

  std::string Render(const json::value& graph) {
    const bool dot = format_ == asl::GraphFormat::kDot;
    out_ += dot ? fmt::format("digraph {} {{\n  rankdir=TB;\n"
                              "  node [shape=box, style=rounded, fontname=\"Helvetica\", "
                              "fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
                              Quoted(std::string(graph.at("pipeline").as_string())))
                : "flowchart TD\n";
    Steps(graph, "  ");
    out_ += dot ? "}\n" : "";
    return std::move(out_);
  }

 private:
  void Steps(const json::value& graph, const std::string& indent) {
    const bool dot = format_ == asl::GraphFormat::kDot;
    const std::string prefix = "s";
    std::map<std::string, std::string> ids;
    int n = 0;
    for (const json::value& v : graph.at("steps").as_array()) {
      const json::object& step = v.as_object();
      const std::string name(step.at("name").as_string());
      const std::string id = prefix + std::to_string(n++);
      ids[name] = id;
      const std::string kind(step.at("kind").as_string());
      const bool conditional = step.contains("conditional");
      if (dot) {
        // Two lines: the name, then the kind (DOT's \n inside a quoted label).
        const std::string label = fmt::format("\"{}{}\\n{}\"", Escaped(name),
                                              conditional ? " (if)" : "", Escaped(kind));
        out_ += fmt::format("{}{} [label={}{}];\n", indent, id, label,
                            conditional ? ", style=\"rounded,dashed\"" : "");
      } else {
        out_ += fmt::format("{}{}[\"{}\"]\n", indent, id,
                            MermaidLabel(fmt::format("{}{}<br/>{}", name,
                                                     conditional ? " (if)" : "", kind)));
      }
    }
    for (const json::value& v : graph.at("steps").as_array()) {
      const json::object& step = v.as_object();
      const std::string& to = ids[std::string(step.at("name").as_string())];
      for (const json::value& a : step.at("after").as_array()) {
        auto from = ids.find(std::string(a.as_string()));
        if (from == ids.end()) continue;
        out_ += dot ? fmt::format("{}{} -> {};\n", indent, from->second, to)
                    : fmt::format("{}{} --> {}\n", indent, from->second, to);
      }
    }
  }

  asl::GraphFormat format_;
  std::string out_;
};

}  // namespace

std::string RenderSteps(const Pipeline& pipeline, asl::GraphFormat format) {
  return StepRenderer(format).Render(pipeline.StepGraph());
}

Result<std::string> RenderStepsSvg(const Pipeline& pipeline) {
  auto run = RunProcess({"dot", "-Tsvg"}, RenderSteps(pipeline, asl::GraphFormat::kDot));
  if (!run.ok()) {
    return UnavailableError("rendering SVG needs Graphviz's `dot` (Debian package graphviz): " +
                            run.status().message());
  }
  if (run->exit_code != 0) return InternalError("dot failed: " + run->stderr_text.substr(0, 2000));
  return std::move(run->stdout_text);
}

}  // namespace zflow::pipeline
