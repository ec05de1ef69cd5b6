#include "zflow/asl_parser.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace zflow::asl {
namespace {

bool HasCode(const ParseReport& r, std::string_view code) {
  return std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                     [&](const Diagnostic& d) { return d.code == code; });
}

TEST(Parser, BuildsTypedModelForEveryStateType) {
  constexpr std::string_view kText = R"({
  "Comment": "all types",
  "StartAt": "P",
  "TimeoutSeconds": 60,
  "States": {
    "P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "TimeoutSeconds": 30,
          "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2, "BackoffRate": 1.5,
                     "JitterStrategy": "FULL"}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": "$.error"}],
          "Next": "C"},
    "C": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.a", "NumericGreaterThan": 1},
                     {"Not": {"Variable": "$.b", "IsPresent": true}}], "Next": "W"}],
          "Default": "S"},
    "W": {"Type": "Wait", "Seconds": 5, "Next": "Par"},
    "Par": {"Type": "Parallel", "Branches": [
              {"StartAt": "B1", "States": {"B1": {"Type": "Succeed"}}}], "Next": "M"},
    "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                            "States": {"I": {"Type": "Pass", "End": true}}},
          "End": true},
    "S": {"Type": "Succeed"},
    "F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}
  }
})";
  ParseReport r = ParseStateMachineText(kText);
  ASSERT_TRUE(r.diagnostics.empty()) << r.diagnostics[0].message;
  const StateMachine& m = *r.machine;
  EXPECT_EQ(m.start_at(), "P");
  EXPECT_EQ(m.timeout_seconds, 60);
  ASSERT_EQ(m.states().size(), 8u);
  const State* t = m.top().Find("T");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, StateType::kTask);
  EXPECT_EQ(t->task().resource, "arn:aws:states:::lambda:invoke");
  ASSERT_EQ(t->retry.size(), 1u);
  EXPECT_EQ(t->retry[0].max_attempts, 2);
  EXPECT_EQ(t->retry[0].jitter_strategy, JitterStrategy::kFull);
  ASSERT_EQ(t->catch_.size(), 1u);
  EXPECT_EQ(t->catch_[0].result_path, PathField::Of("$.error"));
  const State* c = m.top().Find("C");
  ASSERT_EQ(c->choice().choices.size(), 1u);
  EXPECT_EQ(c->choice().choices[0].kind, ChoiceRule::Kind::kAnd);
  EXPECT_EQ(c->choice().choices[0].children[1].kind, ChoiceRule::Kind::kNot);
  EXPECT_EQ(c->choice().choices[0].children[1].children[0].op, ComparisonOperator::kIsPresent);
  const State* map = m.top().Find("M");
  ASSERT_TRUE(map->map().item_processor.has_value());
  EXPECT_EQ(map->map().item_processor->mode, ProcessorMode::kInline);
  // States do not keep their JSON pointer (a string per state); branches do.
  EXPECT_EQ(map->map().item_processor->pointer, "/States/M/ItemProcessor");
}

TEST(Parser, ReportsJsonSyntaxErrorWithLocation) {
  ParseReport r = ParseStateMachineText("{\n  \"StartAt\": \"A\",\n  \"States\": {,}\n}");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_JSON_SYNTAX");
  EXPECT_EQ(r.diagnostics[0].location.line, 3u);
  EXPECT_EQ(r.diagnostics[0].location.column, 14u);
  EXPECT_FALSE(r.machine.has_value());
}

TEST(Parser, ReportsUnknownFieldWithSuggestionAtKeyLocation) {
  ParseReport r = ParseStateMachineText(
      "{\"StartAt\": \"A\", \"States\": {\n  \"A\": {\"Type\": \"Pass\", \"Nxt\": \"B\", "
      "\"End\": true}}}");
  ASSERT_TRUE(HasCode(r, "E_UNKNOWN_FIELD"));
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.pointer, "/States/A/Nxt");
  EXPECT_EQ(d.location.line, 2u);
  EXPECT_EQ(d.location.column, 25u);
  EXPECT_NE(d.message.find("did you mean \"Next\""), std::string::npos) << d.message;
}

TEST(Parser, RejectsFieldOfOtherQueryLanguage) {
  ParseReport r = ParseStateMachineText(R"({"QueryLanguage": "JSONata", "StartAt": "A",
    "States": {"A": {"Type": "Pass", "InputPath": "$.x", "End": true}}})");
  EXPECT_TRUE(HasCode(r, "E_FIELD_NOT_ALLOWED"));
}

TEST(Parser, RejectsRetryOnPass) {
  ParseReport r = ParseStateMachineText(R"({"StartAt": "A",
    "States": {"A": {"Type": "Pass", "Retry": [], "End": true}}})");
  ASSERT_TRUE(HasCode(r, "E_FIELD_NOT_ALLOWED"));
  EXPECT_NE(r.diagnostics[0].message.find("only Task, Parallel and Map"), std::string::npos);
}

TEST(Parser, ReportsWrongTypes) {
  ParseReport r = ParseStateMachineText(R"({"StartAt": "A",
    "States": {"A": {"Type": "Task", "Resource": "x", "TimeoutSeconds": "10", "End": true}}})");
  ASSERT_TRUE(HasCode(r, "E_TYPE"));
  EXPECT_EQ(r.diagnostics[0].pointer, "/States/A/TimeoutSeconds");
}

TEST(Parser, ReportsChoiceRuleProblems) {
  ParseReport r = ParseStateMachineText(R"({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [
      {"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "D"},
      {"Not": {"Variable": "$.x", "IsNull": true, "Next": "D"}, "Next": "D"},
      {"Variable": "$.x", "BooleanEquals": "true", "Next": "D"},
      {"Variable": "$.x", "StringEquals": "a"}]},
    "D": {"Type": "Succeed"}}})");
  int choice_errors = 0;
  for (const Diagnostic& d : r.diagnostics) choice_errors += d.code == "E_INVALID_CHOICE_RULE";
  EXPECT_EQ(choice_errors, 4);
}

TEST(Parser, RejectsNonObjectDocument) {
  ParseReport r = ParseStateMachineText("[1,2]");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_TYPE");
}

TEST(Parser, RefusesOversizedDefinitionBeforeParsing) {
  std::string big(std::size_t{1} << 21, ' ');
  ParseReport r = ParseStateMachineText(big);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_DEFINITION_TOO_LARGE");
}

TEST(Parser, DeepNestingIsADiagnosticNotACrash) {
  std::string deep = "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Result\":";
  deep += std::string(10000, '[');
  deep += std::string(10000, ']');
  deep += ",\"End\":true}}}";
  ParseReport r = ParseStateMachineText(deep);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_JSON_SYNTAX");
  EXPECT_NE(r.diagnostics[0].message.find("deeper than"), std::string::npos);
}

}  // namespace
}  // namespace zflow::asl
