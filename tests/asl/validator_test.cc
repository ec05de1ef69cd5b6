#include "zflow/validator.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace zflow::asl {
namespace {

std::vector<Diagnostic> Check(std::string_view text) { return ValidateDefinition(text).diagnostics; }

const Diagnostic* Find(const std::vector<Diagnostic>& ds, std::string_view code) {
  auto it = std::find_if(ds.begin(), ds.end(), [&](const Diagnostic& d) { return d.code == code; });
  return it == ds.end() ? nullptr : &*it;
}

TEST(Validator, AcceptsMinimalMachine) {
  EXPECT_TRUE(Check(R"({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})").empty());
}

TEST(Validator, UnknownStartAtAndNextWithSuggestionAndLocation) {
  auto ds = Check("{\"StartAt\": \"Frist\",\n \"States\": {\"First\": {\"Type\": \"Pass\", "
                  "\"Next\": \"Secnd\"},\n \"Second\": {\"Type\": \"Succeed\"}}}");
  ASSERT_EQ(std::count_if(ds.begin(), ds.end(),
                          [](const Diagnostic& d) { return d.code == "E_UNKNOWN_STATE"; }),
            2);
  EXPECT_NE(ds[0].message.find("did you mean \"First\""), std::string::npos) << ds[0].message;
  EXPECT_EQ(ds[0].location, (SourceLocation{1, 13}));
  EXPECT_EQ(ds[0].pointer, "/StartAt");
}

TEST(Validator, TransitionsCannotLeaveTheirScope) {
  auto ds = Check(R"({"StartAt": "P", "States": {
    "P": {"Type": "Parallel", "Next": "Done", "Branches": [
      {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Done"}}}]},
    "Done": {"Type": "Succeed"}}})");
  const Diagnostic* d = Find(ds, "E_UNKNOWN_STATE");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->message.find("another scope"), std::string::npos) << d->message;
  EXPECT_EQ(d->pointer, "/States/P/Branches/0/States/B/Next");
}

TEST(Validator, StateNamesAreUniqueAcrossNestedScopes) {
  auto ds = Check(R"({"StartAt": "M", "States": {
    "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "M",
      "States": {"M": {"Type": "Pass", "End": true}}}}}})");
  const Diagnostic* d = Find(ds, "E_DUPLICATE_STATE_NAME");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->pointer, "/States/M/ItemProcessor/States/M");
}

TEST(Validator, UnreachableStatesInACycleAreReported) {
  auto ds = Check(R"({"StartAt": "A", "States": {
    "A": {"Type": "Succeed"},
    "L1": {"Type": "Pass", "Next": "L2"},
    "L2": {"Type": "Pass", "Next": "L1"}}})");
  EXPECT_EQ(std::count_if(ds.begin(), ds.end(),
                          [](const Diagnostic& d) { return d.code == "E_UNREACHABLE_STATE"; }),
            2);
}

TEST(Validator, MachineWithOnlyACycleHasNoTerminalState) {
  auto ds = Check(R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}})");
  EXPECT_NE(Find(ds, "E_NO_TERMINAL_STATE"), nullptr);
}

TEST(Validator, StatesAllMustBeAloneAndLast) {
  auto ds = Check(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
    "Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "D"}], "End": true},
    "D": {"Type": "Succeed"}}})");
  EXPECT_NE(Find(ds, "E_STATES_ALL_POSITION"), nullptr);
}

TEST(Validator, UnknownPredefinedErrorName) {
  auto ds = Check(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Retry": [{"ErrorEquals": ["States.Timeuot"]}], "End": true}}})");
  EXPECT_NE(Find(ds, "E_INVALID_ERROR_NAME"), nullptr);
}

TEST(Validator, ResultPathMustBeAReferencePathIntoTheInput) {
  auto ds = Check(R"({"StartAt": "A", "States": {"A": {"Type": "Pass",
    "ResultPath": "$.a[*]", "End": true}}})");
  EXPECT_NE(Find(ds, "E_INVALID_REFERENCE_PATH"), nullptr);
  ds = Check(R"({"StartAt": "A", "States": {"A": {"Type": "Pass",
    "ResultPath": "$$.Execution", "End": true}}})");
  EXPECT_NE(Find(ds, "E_INVALID_REFERENCE_PATH"), nullptr);
}

TEST(Validator, PayloadTemplatePathsAndIntrinsicsAreChecked) {
  auto ds = Check(R"({"StartAt": "A", "States": {"A": {"Type": "Pass",
    "Parameters": {"a.$": "$.x[", "b": {"c.$": "States.Format('{}'"}}, "End": true}}})");
  EXPECT_NE(Find(ds, "E_INVALID_JSONPATH"), nullptr);
  const Diagnostic* d = Find(ds, "E_INVALID_INTRINSIC");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->pointer, "/States/A/Parameters/b/c.$");
}

TEST(Validator, WaitTimestampMustBeRfc3339) {
  auto ds = Check(R"({"StartAt": "W", "States": {"W": {"Type": "Wait",
    "Timestamp": "2026-02-30T00:00:00Z", "End": true}}})");
  EXPECT_NE(Find(ds, "E_INVALID_TIMESTAMP"), nullptr);
}

TEST(Validator, QuotasAreEnforced) {
  std::string long_name(81, 'x');
  auto ds = Check(R"({"StartAt": ")" + long_name + R"(", "States": {")" + long_name +
                  R"(": {"Type": "Succeed"}}})");
  EXPECT_NE(Find(ds, "E_STATE_NAME_TOO_LONG"), nullptr);
  ds = Check(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Retry": [{"ErrorEquals": ["X"], "MaxDelaySeconds": 31622401}], "End": true}}})");
  EXPECT_NE(Find(ds, "E_QUOTA"), nullptr);
}

TEST(Validator, HeartbeatMustBeBelowTimeout) {
  auto ds = Check(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::activity:x", "TimeoutSeconds": 10, "HeartbeatSeconds": 10,
    "End": true}}})");
  EXPECT_NE(Find(ds, "E_INVALID_VALUE"), nullptr);
}

TEST(Validator, DistributedOnlyFieldsNeedDistributedMode) {
  auto ds = Check(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"},
    "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "End": true}}})");
  EXPECT_NE(Find(ds, "E_FIELD_NOT_ALLOWED"), nullptr);
}

TEST(Validator, VariableNamesAreIdentifiers) {
  auto ds = Check(R"({"StartAt": "A", "States": {"A": {"Type": "Pass",
    "Assign": {"ok_name": 1, "bad-name": 2}, "End": true}}})");
  const Diagnostic* d = Find(ds, "E_INVALID_VALUE");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->pointer, "/States/A/Assign/bad-name");
}

TEST(Validator, StructuralErrorsSuppressSemanticCascade) {
  // The Type typo makes the state unusable; no E_TRANSITION/E_UNREACHABLE noise follows.
  auto ds = Check(R"({"StartAt": "A", "States": {"A": {"Type": "Pas", "End": true}}})");
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, "E_INVALID_VALUE");
}

}  // namespace
}  // namespace zflow::asl

namespace zflow::asl {
namespace {

TEST(Validator, MapLabelCharactersAndExecutionTimeoutQuota) {
  auto ds = ValidateDefinition(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "Label": "bad label", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
    "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": {"Type": "Succeed"}}},
    "End": true}}})").diagnostics;
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, "E_INVALID_VALUE");
  EXPECT_EQ(ds[0].pointer, "/States/M/Label");
  ds = ValidateDefinition(R"({"StartAt": "A", "TimeoutSeconds": 100000000,
    "States": {"A": {"Type": "Succeed"}}})").diagnostics;
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, "E_QUOTA");
}

}  // namespace
}  // namespace zflow::asl

namespace zflow::asl {
namespace {

TEST(Validator, ItemReaderConfigIsChecked) {
  auto ds = ValidateDefinition(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
      "ReaderConfig": {"InputType": "XML", "MaxItems": 10, "CSVHeders": []}},
    "ItemBatcher": {"MaxItemsPerBatch": 0},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
      "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "End": true}}})").diagnostics;
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds[0].code, "E_INVALID_VALUE");
  EXPECT_EQ(ds[0].pointer, "/States/M/ItemReader/ReaderConfig/InputType");
  EXPECT_EQ(ds[1].code, "E_UNKNOWN_FIELD");
  EXPECT_NE(ds[1].message.find("did you mean \"CSVHeaders\""), std::string::npos);
  EXPECT_EQ(ds[2].pointer, "/States/M/ItemBatcher/MaxItemsPerBatch");
}

}  // namespace
}  // namespace zflow::asl
