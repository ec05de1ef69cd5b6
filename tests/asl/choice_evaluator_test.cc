#include "asl/choice_evaluator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "zflow/asl_parser.h"
#include "zflow/json.h"

namespace zflow::asl {
namespace {

json::value Json(std::string_view text) {
  Result<ParsedJson> doc = ParseJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString() << " in " << text;
  return doc.ok() ? std::move(doc->value) : json::value();
}

// A Choice state parsed from its "Choices" array (JSON text), the way a definition is read.
State ChoiceState(std::string_view choices) {
  std::string text = R"({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": )" +
                     std::string(choices) +
                     R"(, "Default": "D"}, "A": {"Type": "Succeed"}, "B": {"Type": "Succeed"},
                         "D": {"Type": "Succeed"}}})";
  Result<StateMachine> machine = ParseStateMachine(text);
  EXPECT_TRUE(machine.ok()) << machine.status().ToString() << " in " << text;
  if (!machine.ok()) return State{};
  return *machine->top().Find("C");
}

// One top-level rule (JSON object text without "Next").
ChoiceRule Rule(std::string_view rule) {
  json::value v = Json(rule);
  if (!v.is_object()) return ChoiceRule{};
  v.as_object()["Next"] = "A";
  State s = ChoiceState("[" + ToJsonText(v) + "]");
  EXPECT_EQ(s.choice().choices.size(), 1u);
  return s.choice().choices.empty() ? ChoiceRule{} : s.choice().choices.front();
}

// A comparison built directly, for rules the parser would reject.
ChoiceRule Comparison(std::string variable, ComparisonOperator op, json::value operand) {
  ChoiceRule r;
  r.kind = ChoiceRule::Kind::kComparison;
  r.variable = std::move(variable);
  r.op = op;
  r.operand = std::move(operand);
  return r;
}

class ChoiceEvaluatorTest : public ::testing::Test {
 protected:
  void SetInput(std::string_view text) { input_ = Json(text); }
  void SetContext(std::string_view text) { context_ = Json(text); }
  void SetVariable(std::string name, std::string_view text) {
    variables_[std::move(name)] = Json(text);
  }

  EvaluationContext Ctx() const {
    EvaluationContext ctx;
    ctx.input = &input_;
    ctx.context = &context_;
    ctx.variables = [this](std::string_view name) -> const json::value* {
      auto it = variables_.find(std::string(name));
      return it == variables_.end() ? nullptr : &it->second;
    };
    return ctx;
  }

  // Every rule is evaluated twice: its paths looked up by text, and compiled beforehand as the
  // engine does (ChoicePaths); both must give the same result or the same error.
  Outcome<bool> Eval(const ChoiceRule& rule) const {
    Outcome<bool> by_text = EvaluateChoiceRule(rule, Ctx());
    ChoicePaths paths;
    paths.Add(rule, nullptr);
    Outcome<bool> compiled = EvaluateChoiceRule(rule, Ctx(), &paths);
    EXPECT_EQ(by_text.ok(), compiled.ok());
    if (by_text.ok() && compiled.ok()) {
      EXPECT_EQ(*by_text, *compiled);
    } else if (!by_text.ok() && !compiled.ok()) {
      EXPECT_EQ(by_text.error().error, compiled.error().error);
      EXPECT_EQ(by_text.error().cause, compiled.error().cause);
    }
    return by_text;
  }
  Outcome<bool> Eval(std::string_view rule) const { return Eval(Rule(rule)); }

  // The rule's result; a workflow error fails the test.
  bool Matches(std::string_view rule) const {
    Outcome<bool> r = Eval(rule);
    EXPECT_TRUE(r.ok()) << rule << " raised " << r.error().error << ": " << r.error().cause;
    return r.ok() && *r;
  }
  bool Matches(const ChoiceRule& rule) const {
    Outcome<bool> r = Eval(rule);
    EXPECT_TRUE(r.ok()) << r.error().error << ": " << r.error().cause;
    return r.ok() && *r;
  }

  // The error the rule raises; a result instead fails the test.
  WorkflowError Error(std::string_view rule) const { return ErrorOf(Eval(rule)); }
  WorkflowError Error(const ChoiceRule& rule) const { return ErrorOf(Eval(rule)); }

 private:
  static WorkflowError ErrorOf(const Outcome<bool>& r) {
    EXPECT_FALSE(r.ok()) << "expected an error, got " << (r.ok() && *r);
    return r.ok() ? WorkflowError{} : r.error();
  }

  json::value input_ = json::object();
  json::value context_ = json::object();
  std::map<std::string, json::value> variables_;
};

// ---- compiled paths ------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, ChoicePathsHoldEveryVariableAndPathOperandOfTheRuleTree) {
  ChoiceRule rule = Rule(R"({"And": [{"Variable": "$.a", "NumericEqualsPath": "$.b"},
                                     {"Not": {"Variable": "$$.Execution.Id", "IsPresent": true}},
                                     {"Variable": "$.c", "StringEquals": "$.not.a.path"}]})");
  ChoicePaths paths;
  paths.Add(rule, nullptr);
  const ChoiceRule& first = rule.children[0];
  const ChoiceRule& negated = rule.children[1].children[0];
  const ChoiceRule& third = rule.children[2];
  ASSERT_NE(paths.Find(&first.variable), nullptr);
  EXPECT_EQ(paths.Find(&first.variable)->text(), "$.a");
  ASSERT_NE(paths.Find(&first.operand), nullptr);
  EXPECT_EQ(paths.Find(&first.operand)->text(), "$.b");
  ASSERT_NE(paths.Find(&negated.variable), nullptr);
  EXPECT_EQ(paths.Find(&negated.variable)->root(), JsonPath::Root::kContext);
  EXPECT_NE(paths.Find(&third.variable), nullptr);
  EXPECT_EQ(paths.Find(&third.operand), nullptr);  // a literal, not a path
  SetInput(R"({"a": 2, "b": 2, "c": "$.not.a.path"})");
  EXPECT_TRUE(Matches(rule));  // $$.Execution.Id is absent from this context
  SetContext(R"({"Execution": {"Id": "x"}})");
  EXPECT_FALSE(Matches(rule));
  SetContext(R"({})");
  SetInput(R"({"a": 2, "b": 3, "c": "$.not.a.path"})");
  EXPECT_FALSE(Matches(rule));
}

// ---- String* ------------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, StringEqualsComparesExactly) {
  SetInput(R"({"s": "abc", "n": 1, "t": "abc", "u": "abd"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.s", "StringEquals": "abc"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "StringEquals": "ABC"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "StringEquals": "abc "})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.n", "StringEquals": "1"})"));  // type mismatch
  EXPECT_TRUE(Matches(R"({"Variable": "$.s", "StringEqualsPath": "$.t"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "StringEqualsPath": "$.u"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "StringEqualsPath": "$.n"})"));
}

TEST_F(ChoiceEvaluatorTest, StringOrderingOperatorsAndPathForms) {
  SetInput(R"({"b": "b", "a": "a", "c": "c", "b2": "b", "n": 5})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringLessThan": "c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringLessThan": "b"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringLessThan": "ba"})"));  // prefix is smaller
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringGreaterThan": "a"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringGreaterThan": "b"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringLessThanEquals": "b"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringLessThanEquals": "a"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringGreaterThanEquals": "b"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringGreaterThanEquals": "c"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringGreaterThan": ""})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringGreaterThan": "B"})"));  // no case folding

  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringLessThanPath": "$.c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringLessThanPath": "$.a"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringGreaterThanPath": "$.a"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringGreaterThanPath": "$.c"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringLessThanEqualsPath": "$.b2"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.c", "StringLessThanEqualsPath": "$.b"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringGreaterThanEqualsPath": "$.b2"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.a", "StringGreaterThanEqualsPath": "$.b"})"));

  // Every relation is false on a type mismatch, including the negated-looking ones.
  EXPECT_FALSE(Matches(R"({"Variable": "$.n", "StringLessThan": "z"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.n", "StringGreaterThanEquals": ""})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringLessThanPath": "$.n"})"));
}

TEST_F(ChoiceEvaluatorTest, StringsCompareByCharacterWithoutNormalization) {
  SetInput(R"({"e_acute": "\u00e9", "e_combining": "e\u0301", "fullwidth_a": "\uff21",
               "emoji": "\ud83d\ude00", "cjk": "\u65e5\u672c"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.e_acute", "StringGreaterThan": "z"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.e_acute", "StringEqualsPath": "$.e_combining"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.e_acute", "StringEquals": "é"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.cjk", "StringLessThan": "日本語"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.cjk", "StringGreaterThan": "日"})"));
  // Java's String.compareTo (AWS's documented order) compares UTF-16 code units: a supplementary
  // character (surrogate pair, D83D...) sorts before U+FF21 although its code point is larger.
  EXPECT_TRUE(Matches(R"({"Variable": "$.emoji", "StringLessThanPath": "$.fullwidth_a"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.fullwidth_a", "StringGreaterThanPath": "$.emoji"})"));
  // Below U+E000 the order is the code point order.
  EXPECT_TRUE(Matches(R"({"Variable": "$.cjk", "StringLessThanPath": "$.emoji"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.emoji", "StringEquals": "\ud83d\ude00"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.emoji", "StringLessThan": "\ud83d\ude01"})"));
}

// ---- StringMatches ------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, StringMatchesSpecExamples) {
  SetInput(R"({"a": "foo23.log", "b": "zebra.log", "c": "foobar.zebra", "n": 7})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.a", "StringMatches": "foo*.log"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.b", "StringMatches": "*.log"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.c", "StringMatches": "foo*.*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.c", "StringMatches": "*.log"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.b", "StringMatches": "foo*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.n", "StringMatches": "*"})"));  // not a string
}

TEST_F(ChoiceEvaluatorTest, StringMatchesWildcardPositions) {
  SetInput(R"({"empty": "", "abc": "abc", "aba": "aba", "star": "a*c", "q": "a?c"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.empty", "StringMatches": ""})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": ""})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.empty", "StringMatches": "*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.empty", "StringMatches": "***"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "abc"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "ab"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "a*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "*c"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "*b*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "abc*"})"));  // star matches ""
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "*abc"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.abc", "StringMatches": "a**c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "*d*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "b*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "*b"})"));
  // Prefix and suffix may not overlap: "aba" is not "ab*ba".
  EXPECT_FALSE(Matches(R"({"Variable": "$.aba", "StringMatches": "ab*ba"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.aba", "StringMatches": "a*a"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "a*b*b*c"})"));
  // No character but '*' is special.
  EXPECT_TRUE(Matches(R"({"Variable": "$.q", "StringMatches": "a?c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "a?c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "a.c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "[a]bc"})"));
}

TEST_F(ChoiceEvaluatorTest, StringMatchesEscapes) {
  // JSON "\\*" is the pattern \* (a literal star); JSON "\\\\" is \\ (a literal backslash).
  SetInput(R"({"star": "a*c", "abc": "abc", "backslash": "a\\c", "both": "x\\*y",
               "stars": "**"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.star", "StringMatches": "a\\*c"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "a\\*c"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.star", "StringMatches": "*\\**"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "*\\**"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.backslash", "StringMatches": "a\\\\c"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.backslash", "StringMatches": "*\\\\*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.abc", "StringMatches": "*\\\\*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.both", "StringMatches": "x\\\\\\*y"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.both", "StringMatches": "x\\\\*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.stars", "StringMatches": "\\*\\*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.star", "StringMatches": "\\*\\*"})"));
}

TEST_F(ChoiceEvaluatorTest, StringMatchesOpenEscapeIsRuntimeError) {
  // The validator rejects these patterns (E_INVALID_CHOICE_RULE); a model built in code can
  // still carry one, and evaluating it must fail cleanly.
  SetInput(R"({"s": "abc"})");
  WorkflowError trailing =
      Error(Comparison("$.s", ComparisonOperator::kStringMatches, json::value("abc\\")));
  EXPECT_EQ(trailing.error, "States.Runtime");
  EXPECT_NE(trailing.cause.find("StringMatches"), std::string::npos) << trailing.cause;
  EXPECT_NE(trailing.cause.find("offset 3"), std::string::npos) << trailing.cause;
  EXPECT_EQ(Error(Comparison("$.s", ComparisonOperator::kStringMatches, json::value("a\\bc")))
                .error,
            "States.Runtime");
  EXPECT_EQ(
      Error(Comparison("$.s", ComparisonOperator::kStringMatches, json::value("\\"))).error,
      "States.Runtime");
  EXPECT_FALSE(ParseStateMachine(R"({"StartAt": "C", "States": {"C": {"Type": "Choice",
    "Choices": [{"Variable": "$.s", "StringMatches": "a\\bc", "Next": "D"}]},
    "D": {"Type": "Succeed"}}})")
                   .ok());
}

TEST_F(ChoiceEvaluatorTest, StringMatchesUnicode) {
  SetInput(R"({"s": "日本語のテキスト", "e": "\ud83d\ude00x\ud83d\ude00"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.s", "StringMatches": "日本*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.s", "StringMatches": "*の*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "StringMatches": "*中*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.e", "StringMatches": "\ud83d\ude00*\ud83d\ude00"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.e", "StringMatches": "*x*"})"));
}

TEST_F(ChoiceEvaluatorTest, StringMatchesAdversarialPatternIsLinear) {
  // A backtracking matcher takes exponential (or at least n^k) time here; the rule must still
  // answer at once. No timing assertion: a regression shows up as a test timeout.
  json::object input;
  input["long"] = std::string(200000, 'a');
  input["long_b"] = std::string(200000, 'a') + "b";
  SetInput(ToJsonText(input));
  EXPECT_FALSE(Matches(R"({"Variable": "$.long", "StringMatches": "a*a*a*a*a*a*a*b"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.long_b", "StringMatches": "a*a*a*a*a*a*a*b"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.long",
                          "StringMatches": "*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab*"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.long_b",
                         "StringMatches": "*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab*"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.long", "StringMatches": "*a*a*a*a*a*a*a*a*a*a*c*"})"));
}

// ---- Numeric* -----------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, NumericOperatorsAndPathForms) {
  SetInput(R"({"five": 5, "six": 6, "five_f": 5.0, "half": 0.5, "neg": -3, "s": "5"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericEquals": 5})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericEquals": 6})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericLessThan": 6})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericLessThan": 5})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericGreaterThan": 4.99})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericGreaterThan": 5})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericLessThanEquals": 5})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericLessThanEquals": 4})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericGreaterThanEquals": 5})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericGreaterThanEquals": 5.5})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.neg", "NumericLessThan": -2.5})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.half", "NumericGreaterThan": 0})"));

  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericEqualsPath": "$.five_f"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericEqualsPath": "$.six"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericLessThanPath": "$.six"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.six", "NumericLessThanPath": "$.five"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.six", "NumericGreaterThanPath": "$.five_f"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericGreaterThanPath": "$.six"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five_f", "NumericLessThanEqualsPath": "$.five"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.six", "NumericLessThanEqualsPath": "$.five"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.five", "NumericGreaterThanEqualsPath": "$.neg"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.neg", "NumericGreaterThanEqualsPath": "$.half"})"));

  // Numeric strings are strings.
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "NumericEquals": 5})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "NumericLessThan": 100})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.five", "NumericEqualsPath": "$.s"})"));
}

TEST_F(ChoiceEvaluatorTest, NumericIntegersAndDoublesCompareExactly) {
  SetInput(R"({"one": 1, "one_f": 1.0, "big": 9007199254740993, "big_f": 9007199254740992.0,
               "max_u": 18446744073709551615, "max_i": 9223372036854775807,
               "min_i": -9223372036854775808,
               "neg_one": -1, "zero_f": -0.0})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.one", "NumericEquals": 1.0})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.one_f", "NumericEquals": 1})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.one", "NumericEquals": 1e0})"));
  // 2^53 + 1 is not the double 2^53 (a comparison through double would say equal).
  EXPECT_FALSE(Matches(R"({"Variable": "$.big", "NumericEqualsPath": "$.big_f"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.big", "NumericGreaterThanPath": "$.big_f"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.big_f", "NumericLessThanPath": "$.big"})"));
  // uint64 against int64 and doubles beyond the int64 range.
  EXPECT_TRUE(Matches(R"({"Variable": "$.max_u", "NumericGreaterThanPath": "$.max_i"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.neg_one", "NumericLessThanPath": "$.max_u"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.max_u", "NumericLessThan": 1e20})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.max_u", "NumericGreaterThan": -1.5})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.max_i", "NumericLessThan": 9.3e18})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.min_i", "NumericGreaterThan": -1e19})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.min_i", "NumericEquals": -9.223372036854775808e18})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.zero_f", "NumericEquals": 0})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.neg_one", "NumericGreaterThan": -1.0000001})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.neg_one", "NumericLessThan": -0.9999999})"));
}

// ---- BooleanEquals ------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, BooleanEqualsAndPathForm) {
  SetInput(R"({"t": true, "f": false, "t2": true, "s": "true", "one": 1})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.t", "BooleanEquals": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.t", "BooleanEquals": false})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.f", "BooleanEquals": false})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.s", "BooleanEquals": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.one", "BooleanEquals": true})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.t", "BooleanEqualsPath": "$.t2"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.t", "BooleanEqualsPath": "$.f"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.t", "BooleanEqualsPath": "$.s"})"));
}

// ---- Timestamp* ---------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, TimestampsCompareInstantsAcrossOffsetsAndFractions) {
  SetInput(R"({"utc": "2026-01-01T00:00:00Z", "plus_one": "2026-01-01T01:00:00+01:00",
               "minus": "2025-12-31T19:00:00-05:00", "frac": "2026-01-01T00:00:00.5Z",
               "nanos": "2026-01-01T00:00:00.000000001Z", "later": "2026-01-01T00:00:01Z"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.plus_one", "TimestampEquals": "2026-01-01T00:00:00Z"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.minus", "TimestampEquals": "2026-01-01T00:00:00Z"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.utc", "TimestampEqualsPath": "$.plus_one"})"));
  // Equal instants are different strings.
  EXPECT_FALSE(Matches(R"({"Variable": "$.utc", "StringEqualsPath": "$.plus_one"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.utc", "TimestampEquals": "2026-01-01T00:00:00.000Z"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.frac", "TimestampEquals": "2026-01-01T00:00:00Z"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.utc", "TimestampLessThanPath": "$.nanos"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.frac", "TimestampLessThan": "2026-01-01T00:00:01Z"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.later", "TimestampLessThan": "2026-01-01T00:00:01Z"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.later", "TimestampGreaterThanPath": "$.frac"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.utc", "TimestampGreaterThanPath": "$.minus"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.utc", "TimestampLessThanEqualsPath": "$.minus"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.later", "TimestampLessThanEqualsPath": "$.utc"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.utc", "TimestampGreaterThanEqualsPath": "$.plus_one"})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.utc", "TimestampGreaterThanEqualsPath": "$.later"})"));
  EXPECT_TRUE(
      Matches(R"({"Variable": "$.later", "TimestampGreaterThan": "2025-12-31T23:59:59Z"})"));
  EXPECT_TRUE(
      Matches(R"({"Variable": "$.utc", "TimestampLessThanEquals": "2026-01-01T00:00:00Z"})"));
  EXPECT_TRUE(
      Matches(R"({"Variable": "$.utc", "TimestampGreaterThanEquals": "2026-01-01T00:00:00Z"})"));
}

TEST_F(ChoiceEvaluatorTest, UnparsableTimestampsAreFalse) {
  SetInput(R"({"lower_z": "2026-01-01t00:00:00z", "date": "2026-01-01", "num": 1767225600,
               "feb30": "2026-02-30T00:00:00Z", "ok": "2026-01-01T00:00:00Z"})");
  for (const char* relation : {"TimestampEquals", "TimestampLessThan", "TimestampGreaterThan",
                               "TimestampLessThanEquals", "TimestampGreaterThanEquals"}) {
    for (const char* var : {"$.lower_z", "$.date", "$.num", "$.feb30"}) {
      json::object rule;
      rule["Variable"] = var;
      rule[relation] = "2026-01-01T00:00:00Z";
      EXPECT_FALSE(Matches(ToJsonText(rule))) << relation << " " << var;
      rule.erase(relation);
      rule[std::string(relation) + "Path"] = "$.ok";
      EXPECT_FALSE(Matches(ToJsonText(rule))) << relation << "Path " << var;
    }
  }
  // The parser rejects an unparsable literal; a hand-built rule with one is simply false.
  EXPECT_FALSE(Matches(Comparison("$.ok", ComparisonOperator::kTimestampEquals, "yesterday")));
}

// ---- Is* ----------------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, TypeTests) {
  SetInput(R"({"null": null, "int": 3, "dbl": 2.5, "str": "x", "num_str": "3", "t": true,
               "ts": "2026-01-01T00:00:00Z", "bad_ts": "2026-13-01T00:00:00Z", "arr": [],
               "obj": {}})");
  struct Case {
    const char* var;
    bool null, numeric, string, boolean, timestamp;
  };
  for (const Case& c : {Case{"$.null", true, false, false, false, false},
                        Case{"$.int", false, true, false, false, false},
                        Case{"$.dbl", false, true, false, false, false},
                        Case{"$.str", false, false, true, false, false},
                        Case{"$.num_str", false, false, true, false, false},
                        Case{"$.t", false, false, false, true, false},
                        Case{"$.ts", false, false, true, false, true},
                        Case{"$.bad_ts", false, false, true, false, false},
                        Case{"$.arr", false, false, false, false, false},
                        Case{"$.obj", false, false, false, false, false}}) {
    for (auto [op, expected] : {std::pair{"IsNull", c.null}, std::pair{"IsNumeric", c.numeric},
                                std::pair{"IsString", c.string}, std::pair{"IsBoolean", c.boolean},
                                std::pair{"IsTimestamp", c.timestamp}}) {
      for (bool operand : {true, false}) {
        json::object rule;
        rule["Variable"] = c.var;
        rule[op] = operand;
        EXPECT_EQ(Matches(ToJsonText(rule)), expected == operand)
            << c.var << " " << op << ": " << operand;
      }
    }
  }
}

TEST_F(ChoiceEvaluatorTest, IsPresent) {
  SetInput(R"({"x": 1, "null": null, "obj": {"a": {"b": false}}, "arr": [10]})");
  EXPECT_TRUE(Matches(R"({"Variable": "$.x", "IsPresent": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.x", "IsPresent": false})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.null", "IsPresent": true})"));  // null is a value
  EXPECT_TRUE(Matches(R"({"Variable": "$.obj.a.b", "IsPresent": true})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.arr[0]", "IsPresent": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.arr[1]", "IsPresent": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.missing", "IsPresent": true})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$.missing", "IsPresent": false})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.obj.a.c.d", "IsPresent": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$.x.y", "IsPresent": true})"));  // through a number
}

// ---- Missing values -----------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, MissingVariableIsRuntimeErrorForEveryOperatorButIsPresent) {
  SetInput(R"({"x": 1, "s": "a"})");
  for (const char* rule : {
           R"({"Variable": "$.missing", "StringEquals": "a"})",
           R"({"Variable": "$.missing", "StringMatches": "*"})",
           R"({"Variable": "$.missing", "NumericEquals": 1})",
           R"({"Variable": "$.missing", "BooleanEquals": true})",
           R"({"Variable": "$.missing", "TimestampEquals": "2026-01-01T00:00:00Z"})",
           R"({"Variable": "$.missing", "StringEqualsPath": "$.s"})",
           R"({"Variable": "$.missing", "IsNull": false})",
           R"({"Variable": "$.missing", "IsString": false})",
           R"({"Variable": "$.missing", "IsTimestamp": true})",
       }) {
    WorkflowError e = Error(rule);
    EXPECT_EQ(e.error, "States.Runtime") << rule;
    EXPECT_NE(e.cause.find("'$.missing'"), std::string::npos) << rule << ": " << e.cause;
  }
}

TEST_F(ChoiceEvaluatorTest, MissingPathOperandIsRuntimeErrorNamingThePath) {
  SetInput(R"({"x": 1, "s": "a", "t": true, "ts": "2026-01-01T00:00:00Z"})");
  for (const char* rule : {
           R"({"Variable": "$.s", "StringEqualsPath": "$.nope"})",
           R"({"Variable": "$.x", "NumericLessThanPath": "$.nope"})",
           R"({"Variable": "$.t", "BooleanEqualsPath": "$.nope"})",
           R"({"Variable": "$.ts", "TimestampGreaterThanPath": "$.nope"})",
       }) {
    WorkflowError e = Error(rule);
    EXPECT_EQ(e.error, "States.Runtime") << rule;
    EXPECT_NE(e.cause.find("'$.nope'"), std::string::npos) << rule << ": " << e.cause;
  }
}

TEST_F(ChoiceEvaluatorTest, IsPresentGuardShortCircuitsTheMissingValueError) {
  SetInput(R"({"x": 25})");
  constexpr std::string_view kGuarded = R"({"And": [
      {"Variable": "$.y", "IsPresent": true},
      {"Variable": "$.y", "NumericGreaterThan": 10}]})";
  EXPECT_FALSE(Matches(kGuarded));
  SetInput(R"({"y": 25})");
  EXPECT_TRUE(Matches(kGuarded));

  SetInput(R"({"x": 25})");
  EXPECT_TRUE(Matches(R"({"Or": [
      {"Variable": "$.x", "NumericEquals": 25},
      {"Variable": "$.y", "NumericEquals": 1}]})"));
  // Without the guard (or when the guard does not decide) the error surfaces.
  EXPECT_EQ(Error(R"({"Or": [
      {"Variable": "$.x", "NumericEquals": 0},
      {"Variable": "$.y", "NumericEquals": 1}]})")
                .error,
            "States.Runtime");
  EXPECT_EQ(Error(R"({"Not": {"Variable": "$.y", "NumericEquals": 1}})").error, "States.Runtime");
}

// ---- And / Or / Not -----------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, BooleanCombinators) {
  SetInput(R"({"type": "Private", "value": 22})");
  EXPECT_FALSE(Matches(R"({"Not": {"Variable": "$.type", "StringEquals": "Private"}})"));
  EXPECT_TRUE(Matches(R"({"Not": {"Variable": "$.type", "StringEquals": "Public"}})"));
  EXPECT_TRUE(Matches(R"({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                                  {"Variable": "$.value", "NumericLessThan": 30}]})"));
  EXPECT_FALSE(Matches(R"({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                                   {"Variable": "$.value", "NumericLessThan": 22}]})"));
  EXPECT_TRUE(Matches(R"({"Or": [{"Variable": "$.value", "NumericEquals": 1},
                                 {"Variable": "$.value", "NumericEquals": 22}]})"));
  EXPECT_FALSE(Matches(R"({"Or": [{"Variable": "$.value", "NumericEquals": 1},
                                  {"Variable": "$.value", "NumericEquals": 2}]})"));
  EXPECT_TRUE(Matches(R"({"And": [{"Variable": "$.value", "NumericEquals": 22}]})"));
  EXPECT_TRUE(Matches(R"({"Not": {"Not": {"Variable": "$.value", "NumericEquals": 22}}})"));
  // (type == Private and not (value < 20 or value > 30)) or value == 0
  EXPECT_TRUE(Matches(R"({"Or": [
      {"And": [
        {"Variable": "$.type", "StringEquals": "Private"},
        {"Not": {"Or": [{"Variable": "$.value", "NumericLessThan": 20},
                        {"Variable": "$.value", "NumericGreaterThan": 30}]}}]},
      {"Variable": "$.value", "NumericEquals": 0}]})"));
  EXPECT_FALSE(Matches(R"({"And": [
      {"Variable": "$.type", "StringEquals": "Private"},
      {"Not": {"Or": [{"Variable": "$.value", "NumericLessThan": 25},
                      {"Variable": "$.value", "NumericGreaterThan": 30}]}}]})"));
}

// ---- Roots: $$, $var, $ -------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, VariablesAndContextObjectAsOperands) {
  SetInput(R"({"limit": 10})");
  SetContext(R"({"Execution": {"Input": {"mode": "fast"}, "Name": "run-1"}})");
  SetVariable("count", "12");
  SetVariable("cfg", R"({"limit": 12, "name": "run-1"})");
  EXPECT_TRUE(Matches(R"({"Variable": "$$.Execution.Input.mode", "StringEquals": "fast"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$count", "NumericGreaterThanPath": "$.limit"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$count", "NumericEqualsPath": "$cfg.limit"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$cfg.name", "StringEqualsPath": "$$.Execution.Name"})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$cfg", "IsPresent": true})"));
  EXPECT_FALSE(Matches(R"({"Variable": "$undefined", "IsPresent": true})"));
  EXPECT_EQ(Error(R"({"Variable": "$undefined", "NumericEquals": 1})").error, "States.Runtime");
  EXPECT_FALSE(Matches(R"({"Variable": "$$.Execution.Nope", "IsPresent": true})"));
}

TEST_F(ChoiceEvaluatorTest, RootPathSelectsTheWholeInput) {
  SetInput(R"("just a string")");
  EXPECT_TRUE(Matches(R"({"Variable": "$", "IsString": true})"));
  EXPECT_TRUE(Matches(R"({"Variable": "$", "StringMatches": "just*"})"));
}

// ---- Rules the parser would reject, and JSONata --------------------------------------------

TEST_F(ChoiceEvaluatorTest, MalformedRulesAreRuntimeErrors) {
  SetInput(R"({"x": 1})");
  EXPECT_EQ(Error(Comparison("$.x", ComparisonOperator::kIsNull, "yes")).error, "States.Runtime");
  EXPECT_EQ(Error(Comparison("$.x", ComparisonOperator::kNumericEqualsPath, 3)).error,
            "States.Runtime");
  EXPECT_EQ(Error(Comparison("$.x", ComparisonOperator::kStringMatches, 3)).error,
            "States.Runtime");
  WorkflowError bad_path = Error(Comparison("x[", ComparisonOperator::kIsPresent, true));
  EXPECT_EQ(bad_path.error, "States.Runtime");
  EXPECT_NE(bad_path.cause.find("x["), std::string::npos) << bad_path.cause;

  ChoiceRule not_rule;
  not_rule.kind = ChoiceRule::Kind::kNot;
  EXPECT_EQ(Error(not_rule).error, "States.Runtime");
  // Type mismatch between a literal and the value stays false.
  EXPECT_FALSE(Matches(Comparison("$.x", ComparisonOperator::kNumericEquals, "1")));
}

TEST_F(ChoiceEvaluatorTest, JsonataConditionsAreNotEvaluatedHere) {
  ChoiceRule rule;
  rule.kind = ChoiceRule::Kind::kCondition;
  rule.condition = "{% $states.input.x > 1 %}";
  WorkflowError e = Error(rule);
  EXPECT_EQ(e.error, "States.Runtime");
  EXPECT_NE(e.cause.find("JSONata"), std::string::npos);
  rule.condition = true;
  EXPECT_TRUE(Matches(rule));
  rule.condition = false;
  EXPECT_FALSE(Matches(rule));
}

// ---- SelectChoice -------------------------------------------------------------------------

TEST_F(ChoiceEvaluatorTest, SelectChoiceReturnsTheFirstMatchingRuleInOrder) {
  State state = ChoiceState(R"([
      {"Variable": "$.v", "NumericGreaterThan": 100, "Next": "A"},
      {"Variable": "$.v", "NumericGreaterThan": 10, "Next": "B"},
      {"Variable": "$.v", "NumericGreaterThan": 0, "Next": "A"}])");
  ASSERT_EQ(state.choice().choices.size(), 3u);

  SetInput(R"({"v": 50})");
  Outcome<const ChoiceRule*> r = SelectChoice(state, Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, &state.choice().choices[1]);
  EXPECT_EQ((*r)->next, "B");

  SetInput(R"({"v": 500})");  // rules 0, 1 and 2 all match: the first wins
  r = SelectChoice(state, Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, &state.choice().choices[0]);

  SetInput(R"({"v": 5})");
  r = SelectChoice(state, Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, &state.choice().choices[2]);

  SetInput(R"({"v": -5})");
  r = SelectChoice(state, Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, nullptr);
}

TEST_F(ChoiceEvaluatorTest, SelectChoiceStopsAtTheFirstMatchAndPropagatesErrors) {
  State state = ChoiceState(R"([
      {"Variable": "$.kind", "StringEquals": "a", "Next": "A"},
      {"Variable": "$.missing", "StringEquals": "b", "Next": "B"}])");
  SetInput(R"({"kind": "a"})");
  Outcome<const ChoiceRule*> r = SelectChoice(state, Ctx());
  ASSERT_TRUE(r.ok());  // the second rule, which would fail, is never evaluated
  EXPECT_EQ(*r, &state.choice().choices[0]);

  SetInput(R"({"kind": "z"})");
  r = SelectChoice(state, Ctx());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, "States.Runtime");
  EXPECT_NE(r.error().cause.find("$.missing"), std::string::npos) << r.error().cause;
}

TEST_F(ChoiceEvaluatorTest, SelectChoiceWithNoChoicesIsNull) {
  State state;
  state.type = StateType::kChoice;
  Outcome<const ChoiceRule*> r = SelectChoice(state, Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, nullptr);
}

// The compiled-path cache is shared by all threads (TSan runs this in CI).
TEST_F(ChoiceEvaluatorTest, IsSafeToCallConcurrently) {
  SetInput(R"({"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}, "d": {"n": 4}})");
  std::vector<ChoiceRule> rules;
  for (std::string_view field : {"a", "b", "c", "d"}) {
    rules.push_back(Rule(R"({"Variable": "$.)" + std::string(field) +
                         R"(.n", "NumericLessThanPath": "$.d.n"})"));
  }
  const EvaluationContext ctx = Ctx();
  std::vector<int> matches(rules.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < rules.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        for (const ChoiceRule& rule : rules) {
          Outcome<bool> r = EvaluateChoiceRule(rule, ctx);
          if (r.ok() && *r && &rule == &rules[t]) ++matches[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(matches, (std::vector<int>{200, 200, 200, 0}));
}

}  // namespace
}  // namespace zflow::asl
