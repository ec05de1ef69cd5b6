// A pipeline drawn at the level its author wrote it: one node per step, an edge per dependency
// (`zflow graph pipeline.yaml`, `graph` of zflow::Main), next to the state-level drawing of the
// compiled state machine (zflow/graph.h).
#ifndef ZFLOW_PIPELINE_STEP_GRAPH_H_
#define ZFLOW_PIPELINE_STEP_GRAPH_H_

#include <string>

#include "zflow/graph.h"
#include "zflow/pipeline.h"
#include "zflow/status.h"

namespace zflow::pipeline {

// DOT or Mermaid text of the pipeline's steps, labelled with their kind; conditional steps are
// dashed; a ForEach is one node (its body is drawn at the state level).
std::string RenderSteps(const Pipeline& pipeline, asl::GraphFormat format);
// SVG through Graphviz's dot (kUnavailable without it).
Result<std::string> RenderStepsSvg(const Pipeline& pipeline);

}  // namespace zflow::pipeline

#endif  // ZFLOW_PIPELINE_STEP_GRAPH_H_
