#include "zflow/asl_serializer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "zflow/validator.h"

namespace zflow::asl {
namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every valid definition in the conformance suite and the examples.
std::vector<std::filesystem::path> ValidDefinitions() {
  std::vector<std::filesystem::path> out;
  std::filesystem::path root(ZFLOW_SOURCE_DIR);
  for (const auto& dir : {root / "tests/conformance/validate/cases", root / "examples"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".json") continue;
      if (ValidateDefinition(ReadAll(e.path())).ok()) out.push_back(e.path());
    }
  }
  return out;
}

TEST(Serializer, ParseSerializeParseIsIdentityOnEveryValidDefinition) {
  auto files = ValidDefinitions();
  ASSERT_GE(files.size(), 80u);
  for (const auto& f : files) {
    ValidationReport first = ValidateDefinition(ReadAll(f));
    ASSERT_TRUE(first.ok()) << f;
    std::string text = SerializeStateMachine(*first.machine);
    ValidationReport second = ValidateDefinition(text);
    ASSERT_TRUE(second.ok()) << f << "\n" << text;
    EXPECT_TRUE(*first.machine == *second.machine) << f << "\n" << text;
    // Canonical output is a fixed point.
    EXPECT_EQ(SerializeStateMachine(*second.machine), text) << f;
  }
}

TEST(Serializer, UsesCanonicalFieldOrder) {
  auto m = ParseStateMachine(R"({"States": {"A": {"End": true, "ResultPath": null,
    "Parameters": {"x.$": "$.y"}, "Resource": "arn:aws:states:::lambda:invoke", "Type": "Task"}},
    "StartAt": "A", "Comment": "c"})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(SerializeStateMachine(*m, JsonStyle::kCompact),
            R"({"Comment":"c","StartAt":"A","States":{"A":{"Type":"Task",)"
            R"("Resource":"arn:aws:states:::lambda:invoke","Parameters":{"x.$":"$.y"},)"
            R"("ResultPath":null,"End":true}}})");
}

TEST(Serializer, KeepsLegacyMapFieldNames) {
  auto m = ParseStateMachine(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
    "Parameters": {"v.$": "$$.Map.Item.Value"}, "End": true}}})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string text = SerializeStateMachine(*m, JsonStyle::kCompact);
  EXPECT_NE(text.find("\"Iterator\""), std::string::npos);
  EXPECT_EQ(text.find("\"ItemProcessor\""), std::string::npos);
}

}  // namespace
}  // namespace zflow::asl
