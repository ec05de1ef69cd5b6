#include <iostream>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "common/file.h"
#include "pipeline/step_graph.h"
#include "zflow/graph.h"

namespace zflow::cli {
namespace {

int Write(const GraphOptions& options, const std::string& text) {
  if (options.output.empty()) {
    std::cout << text;
    return kExitOk;
  }
  Status s = WriteFileAtomically(options.output, text);
  if (!s.ok()) {
    std::cerr << "zflow graph: " << s.message() << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

int RunStepGraph(const Pipeline& pipeline, const GraphOptions& options) {
  if (options.format == "svg") {
    auto svg = pipeline::RenderStepsSvg(pipeline);
    if (!svg.ok()) {
      std::cerr << "zflow graph: " << svg.status().message() << "\n";
      return kExitUsage;
    }
    return Write(options, *svg);
  }
  return Write(options, pipeline::RenderSteps(pipeline, options.format == "mermaid"
                                                          ? asl::GraphFormat::kMermaid
                                                          : asl::GraphFormat::kDot));
}

int RunGraph(const GraphOptions& options) {
  if (options.level == "steps") {
    std::cerr << "zflow graph: " << options.file
              << " is a state machine: it has states, not pipeline steps (--level states)\n";
    return kExitUsage;
  }
  DefinitionCheck check =
      options.text ? CheckDefinitionText(*options.text) : CheckDefinitionFile(options.file);
  if (!check.read_error.empty()) {
    std::cerr << "zflow graph: " << check.read_error << "\n";
    return kExitUsage;
  }
  if (!check.report.ok()) {
    for (const Diagnostic& d : check.report.diagnostics) {
      std::cerr << FormatDiagnostic(options.file, d) << "\n";
    }
    return kExitInvalid;
  }
  std::string text;
  if (options.format == "svg") {
    auto svg = asl::RenderSvg(*check.report.machine);
    if (!svg.ok()) {
      std::cerr << "zflow graph: " << svg.status().message() << "\n";
      return kExitUsage;
    }
    text = std::move(*svg);
  } else {
    text = asl::RenderGraph(*check.report.machine, options.format == "mermaid"
                                                       ? asl::GraphFormat::kMermaid
                                                       : asl::GraphFormat::kDot);
  }
  return Write(options, text);
}

}  // namespace zflow::cli
