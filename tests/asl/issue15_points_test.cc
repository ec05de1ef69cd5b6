// The JSONPath-mode and validator points where zflow now does what AWS does (issue 15), and
// the validator's JSONata rules.
#include <algorithm>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "asl/evaluation.h"
#include "asl/json_path.h"
#include <boost/json/parse.hpp>
#include "zflow/validator.h"

namespace zflow::asl {
namespace {

using ::testing::HasSubstr;

std::vector<Diagnostic> Check(std::string_view text, ParseOptions options = {}) {
  return ValidateDefinition(text, options).diagnostics;
}

const Diagnostic* Find(const std::vector<Diagnostic>& ds, std::string_view code) {
  auto it = std::find_if(ds.begin(), ds.end(), [&](const Diagnostic& d) { return d.code == code; });
  return it == ds.end() ? nullptr : &*it;
}

std::string Map(std::string_view label) {
  return std::string(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "Label": )") +
         std::string(label) +
         R"(, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})";
}

TEST(Issue15, LegacyIteratorAcceptsProcessorConfig) {
  for (std::string_view config : {R"({"Mode": "INLINE"})",
                                   R"({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"})"}) {
    std::string text = std::string(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
      "Iterator": {"ProcessorConfig": )") + std::string(config) + R"(,
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})";
    auto ds = Check(text);
    EXPECT_FALSE(HasErrors(ds)) << config << ": " << (ds.empty() ? "" : ds[0].message);
  }
  auto ds = Check(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
      "Iterator": {"Oops": 1, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})");
  const Diagnostic* d = Find(ds, diag::kUnknownField);
  ASSERT_NE(d, nullptr);
  EXPECT_THAT(d->message, HasSubstr("an Iterator"));
  EXPECT_THAT(d->message, ::testing::Not(HasSubstr("Parallel")));
}

TEST(Issue15, MapLabelRules) {
  EXPECT_FALSE(HasErrors(Check(Map(R"("batch-1.a_b")"))));
  EXPECT_NE(Find(Check(Map(R"("")")), diag::kInvalidValue), nullptr);
  EXPECT_NE(Find(Check(Map("\"" + std::string(41, 'a') + "\"")), diag::kQuota), nullptr);
  for (std::string_view bad : {R"("a b")", R"("a[0]")", R"("a*")", R"("a?")", R"("a\u0001")",
                               R"("a\u007f")", R"("a\u0085")", R"("a\"b")"}) {
    EXPECT_NE(Find(Check(Map(bad)), diag::kInvalidValue), nullptr) << bad;
  }
}

TEST(Issue15, CustomStatesErrorNamesAreWarnings) {
  auto ds = Check(R"({"StartAt": "P", "States": {
    "P": {"Type": "Parallel", "End": true,
      "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "States.QuorumMet"}}}],
      "Catch": [{"ErrorEquals": ["States.QuorumMet"], "Next": "Done"}]},
    "Done": {"Type": "Succeed"}}})");
  EXPECT_FALSE(HasErrors(ds));
  const Diagnostic* d = Find(ds, diag::kInvalidErrorName);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kWarning);
}

constexpr std::string_view kPlaceholder = R"({"StartAt": "T", "States": {
  "T": {"Type": "Task", "Resource": "${CheckPriceFnArn}", "End": true}}})";

TEST(Issue15, PlaceholdersAreWarningsUnlessStrict) {
  auto ds = Check(kPlaceholder);
  EXPECT_FALSE(HasErrors(ds));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].severity, Severity::kWarning);
  EXPECT_THAT(ds[0].message, HasSubstr("${CheckPriceFnArn}"));
  EXPECT_TRUE(HasErrors(Check(kPlaceholder, {.strict_placeholders = true})));
}

TEST(Issue15, SubstitutionsApplyBeforeValidation) {
  auto text = ApplyDefinitionSubstitutions(
      kPlaceholder, {{"CheckPriceFnArn", "arn:aws:lambda:us-east-1:123456789012:function:p"}});
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("function:p"));
  EXPECT_TRUE(Check(*text).empty());
  auto wrong = ApplyDefinitionSubstitutions(kPlaceholder, {{"CheckPriceFnArn", "nope"}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(Find(Check(*wrong), diag::kInvalidValue), nullptr);
  EXPECT_FALSE(ApplyDefinitionSubstitutions(kPlaceholder, {{"bad key", "x"}}).ok());
  // Keys not in the text change nothing; placeholders without a value stay.
  auto same = ApplyDefinitionSubstitutions(kPlaceholder, {{"Other", "x"}});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, kPlaceholder);
}

TEST(Issue15, ExpressRules) {
  auto report = ValidateDefinition(R"({"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Next": "B"},
    "B": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
          "Next": "C"},
    "C": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:work",
          "Next": "D"},
    "D": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(CheckWorkflowType(*report.machine, WorkflowType::kStandard).empty());
  auto ds = CheckWorkflowType(*report.machine, WorkflowType::kExpress);
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds[0].pointer, "/States/A/Resource");
  EXPECT_THAT(ds[0].message, HasSubstr(".sync"));
  EXPECT_THAT(ds[1].message, HasSubstr(".waitForTaskToken"));
  EXPECT_THAT(ds[2].message, HasSubstr("activity"));
  EXPECT_TRUE(ds[0].location.known());
}

json::value Select(std::string_view path, std::string_view input) {
  auto p = JsonPath::Compile(path);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  json::value in = json::parse(input);
  EvaluationContext ctx;
  ctx.input = &in;
  auto v = p->Evaluate(ctx);
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : json::value();
}

TEST(Issue15, UnquotedWordsInFilterComparisonsAreStrings) {
  EXPECT_EQ(Select("$.L[?(@.Name==Receipt)].c",
                   R"({"L": [{"Name": "Receipt", "c": 1}, {"Name": "Other", "c": 2}]})"),
            json::parse("[1]"));
  EXPECT_EQ(Select("$.L[?(@.Name != Receipt && @.c > 1)].c",
                   R"({"L": [{"Name": "Receipt", "c": 2}, {"Name": "Other", "c": 2}]})"),
            json::parse("[2]"));
  EXPECT_EQ(Select("$.L[?(@.v==true)].c", R"({"L": [{"v": true, "c": 1}, {"v": "true", "c": 2}]})"),
            json::parse("[1]"));
}

TEST(Issue15, BracketNamesWithEscapedQuotesAndBackslashes) {
  EXPECT_EQ(Select(R"($['a\"b'])", R"({"a\"b": 1})"), json::value(1));
  EXPECT_EQ(Select(R"($['a\'b'])", R"({"a'b": 2})"), json::value(2));
  EXPECT_EQ(Select(R"($['a\\b'])", R"({"a\\b": 3})"), json::value(3));
}

TEST(Issue15, JsonataExpressionsAreCheckedAtCreation) {
  auto ds = Check(R"({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
    "P": {"Type": "Pass", "End": true, "Output": {
      "a": "{% $states.result %}", "b": "{% 1 + %}", "c": "{% $$ %}", "d": "{% total %}",
      "e": "{% $states.errorOutput %}", "ok": "{% $states.input.items[total > 1] %}"}}}})");
  std::vector<std::string> pointers;
  for (const Diagnostic& d : ds) {
    EXPECT_EQ(d.code, diag::kInvalidJsonata) << d.message;
    pointers.push_back(d.pointer);
  }
  EXPECT_EQ(pointers, (std::vector<std::string>{"/States/P/Output/a", "/States/P/Output/b",
                                                "/States/P/Output/c", "/States/P/Output/d",
                                                "/States/P/Output/e"}));
  // $states.result in a Task's Output, $states.errorOutput in a catcher: allowed.
  EXPECT_TRUE(Check(R"({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
      "Output": "{% $states.result.Payload %}",
      "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}",
                 "Next": "D"}]},
    "D": {"Type": "Succeed"}}})").empty());
}

// A state inside a Parallel branch or a Map processor cannot assign a variable an enclosing
// scope assigns; the Map's own Assign and catchers are in the enclosing scope, and sibling
// branches are separate scopes.
TEST(Issue15, InnerScopesCannotReassignOuterVariables) {
  auto ds = Check(R"({"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
    "Set": {"Type": "Pass", "Assign": {"total": 0, "label": "x"}, "Next": "M"},
    "M": {"Type": "Map", "Items": [1, 2], "Assign": {"count": 2},
          "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"failed": true}, "Next": "Done"}],
          "ItemProcessor": {"StartAt": "Inner", "States": {
            "Inner": {"Type": "Pass", "Assign": {"total": 1, "mine": 2}, "Next": "Pick"},
            "Pick": {"Type": "Choice", "Choices": [{"Condition": "{% true %}",
                     "Assign": {"failed": false}, "Next": "End"}], "Default": "End"},
            "End": {"Type": "Succeed"}}},
          "Next": "Done"},
    "Done": {"Type": "Succeed"}}})");
  std::vector<std::string> pointers;
  for (const Diagnostic& d : ds) {
    if (d.severity == Severity::kError) pointers.push_back(d.pointer);
  }
  EXPECT_THAT(pointers,
              ::testing::UnorderedElementsAre(
                  "/States/M/ItemProcessor/States/Inner/Assign/total",
                  "/States/M/ItemProcessor/States/Pick/Choices/0/Assign/failed"));
  auto inner = std::find_if(ds.begin(), ds.end(), [](const Diagnostic& d) {
    return d.pointer == "/States/M/ItemProcessor/States/Inner/Assign/total";
  });
  ASSERT_NE(inner, ds.end());
  EXPECT_THAT(inner->message, HasSubstr("variable \"total\" is assigned in an enclosing scope "
                                        "(by state \"Set\")"));
  // Sibling branches, and JSONPath keys ("x.$"), nested two levels.
  ds = Check(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x.$": "$"}, "End": true}}},
    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Q"},
      "Q": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "C", "States": {
        "C": {"Type": "Pass", "Assign": {"x.$": "$.y"}, "End": true}}}]}}}]}}})");
  pointers.clear();
  for (const Diagnostic& d : ds) {
    if (d.severity == Severity::kError) pointers.push_back(d.pointer);
  }
  EXPECT_THAT(pointers, ::testing::ElementsAre(
                            "/States/P/Branches/1/States/Q/Branches/0/States/C/Assign/x.$"));
}

}  // namespace
}  // namespace zflow::asl
