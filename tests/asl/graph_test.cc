#include "zflow/graph.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "zflow/validator.h"

namespace zflow::asl {
namespace {

StateMachine Machine(std::string_view text) {
  auto m = ParseStateMachine(text);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : StateMachine{};
}

constexpr std::string_view kMachine = R"({"StartAt": "Check \"x\"", "States": {
  "Check \"x\"": {"Type": "Choice", "Choices": [
      {"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Fan"}], "Default": "Done"},
  "Fan": {"Type": "Map", "ItemProcessor": {"StartAt": "Item", "States": {
      "Item": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo", "End": true}}},
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}], "Next": "Done"},
  "Oops": {"Type": "Fail", "Error": "E"},
  "Done": {"Type": "Succeed"}}})";

TEST(Graph, DotHasNodesEdgesClustersAndLabels) {
  std::string dot = RenderGraph(Machine(kMachine), GraphFormat::kDot);
  EXPECT_NE(dot.find("n0 [label=\"Check \\\"x\\\"\\nChoice\", shape=diamond"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n0 -> n1 [label=\"$.n NumericGreaterThan 3\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("n0 -> n4 [label=\"Default\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("n1 -> n3 [label=\"States.ALL\", style=dashed]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("subgraph cluster_n1_items"), std::string::npos) << dot;
  EXPECT_NE(dot.find("start -> n0;"), std::string::npos) << dot;
  EXPECT_EQ(dot, RenderGraph(Machine(kMachine), GraphFormat::kDot));  // deterministic
}

TEST(Graph, MermaidUsesFlowchartSyntax) {
  std::string m = RenderGraph(Machine(kMachine), GraphFormat::kMermaid);
  EXPECT_EQ(m.rfind("flowchart TD\n", 0), 0u);
  EXPECT_NE(m.find("n0{\"Check #quot;x#quot; (Choice)\"}"), std::string::npos) << m;
  EXPECT_NE(m.find("n1 -.->|\"States.ALL\"| n3"), std::string::npos) << m;
  EXPECT_NE(m.find("n4 --> end_"), std::string::npos) << m;
}

// Graphviz accepts the DOT of every valid definition in the conformance suite.
TEST(Graph, GraphvizRendersEveryValidConformanceDefinition) {
  std::filesystem::path dir =
      std::filesystem::path(ZFLOW_SOURCE_DIR) / "tests/conformance/validate/cases";
  int rendered = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    ValidationReport r = ValidateDefinition(ss.str());
    if (!r.ok()) continue;
    auto svg = RenderSvg(*r.machine);
    ASSERT_TRUE(svg.ok()) << e.path() << ": " << svg.status().ToString();
    EXPECT_NE(svg->find("<svg"), std::string::npos) << e.path();
    ++rendered;
  }
  EXPECT_GE(rendered, 100);
}

}  // namespace
}  // namespace zflow::asl
