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

// The error names and quotas users match against are public, each spelled once.
#include "zflow/errors.h"
#include "zflow/limits.h"

namespace zflow {
namespace {

TEST(PublicNames, ErrorNamesAndQuotas) {
  EXPECT_EQ(errors::kTaskFailed, "States.TaskFailed");
  EXPECT_TRUE(errors::IsPredefinedError(errors::kQueryEvaluationError));
  EXPECT_FALSE(errors::IsPredefinedError("States.Custom"));
  static_assert(kMaxDefinitionBytes == 1048576);
  static_assert(kMaxPayloadBytes == 262144);
  static_assert(kMaxHistoryEvents == 25000);
}

}  // namespace
}  // namespace zflow
