// zflow/graph.h: a state machine as a picture: Graphviz DOT, Mermaid, or SVG (via Graphviz).
//
//   std::string dot = zflow::asl::RenderGraph(machine, zflow::asl::GraphFormat::kDot);
//
// Nodes are states (shape by type), edges are transitions: Next, Choice rules and Default
// (labelled with the rule), Catch (dashed, labelled with the errors). Parallel branches and Map
// item processors are drawn as clusters inside their state. Output is deterministic.
#ifndef ZFLOW_GRAPH_H_
#define ZFLOW_GRAPH_H_

#include <string>

#include "zflow/state_machine.h"
#include "zflow/status.h"

namespace zflow::asl {

enum class GraphFormat : std::uint8_t { kDot, kMermaid };

std::string RenderGraph(const StateMachine& machine, GraphFormat format);

// DOT rendered to SVG by Graphviz's `dot` (kUnavailable when it is not installed).
Result<std::string> RenderSvg(const StateMachine& machine);

}  // namespace zflow::asl

#endif  // ZFLOW_GRAPH_H_
