// The umbrella header is self-contained and gives the documented workflow.
#include "zflow/zflow.h"

#include <gtest/gtest.h>

namespace zflow {
namespace {

TEST(PublicApi, ValidateFormatRoundTrip) {
  asl::ValidationReport r = asl::ValidateDefinition(
      R"({"Comment": "x", "StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1.5, "End": true}}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(asl::SerializeStateMachine(*r.machine, asl::JsonStyle::kCompact),
            R"({"Comment":"x","StartAt":"A","States":{"A":{"Type":"Pass","Result":1.5,"End":true}}})");
  Result<asl::StateMachine> bad = asl::ParseStateMachine(R"({"StartAt": 1})");
  ASSERT_FALSE(bad.ok());
  // The first diagnostic in document order: "States" is missing from the root object.
  EXPECT_EQ(bad.status().message().rfind("1:1: E_MISSING_FIELD", 0), 0u) << bad.status().message();
}

}  // namespace
}  // namespace zflow
