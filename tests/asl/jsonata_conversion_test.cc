// asl::ConvertToJsonata, differentially: every path, intrinsic call and Choice rule below is
// evaluated by the JSONPath evaluators and, converted, by the JSONata module, over a set of
// inputs; where the JSONPath side gives a value, the JSONata side must give the same one.
// Plus the shape of converted states and the errors for what has no JSONata form.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "asl/choice_evaluator.h"
#include "asl/jsonata_functions.h"
#include "asl/payload_template.h"
#include "zflow/asl_convert.h"
#include "zflow/asl_parser.h"
#include "zflow/jsonata.h"
#include "zflow/validator.h"

namespace zflow::asl {
namespace {

json::value J(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? v->value : json::value();
}

// JSON equality with numbers by value (1 == 1.0).
bool Same(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!Same(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& m : x) {
      const json::value* o = y.if_contains(m.key());
      if (o == nullptr || !Same(m.value(), *o)) return false;
    }
    return true;
  }
  return a == b;
}

// The body of a "{% ... %}" string.
std::string Body(const json::value& v) {
  std::string_view s = v.as_string();
  EXPECT_TRUE(s.starts_with("{% ") && s.ends_with(" %}")) << s;
  return std::string(s.substr(3, s.size() - 6));
}

jsonata::Outcome<std::optional<json::value>> EvaluateJsonata(const std::string& expr,
                                                             const json::value& input) {
  auto compiled = jsonata::Expression::Compile(expr);
  if (!compiled.ok()) return compiled.error();
  const std::pair<std::string_view, const json::value*> members[] = {{"input", &input}};
  const jsonata::BorrowedVariable states[] = {{.name = "states", .members = members}};
  jsonata::EvaluateOptions options;
  options.borrowed = states;
  options.functions = &StepFunctionsJsonata();
  return compiled->Evaluate(nullptr, options);
}

const char* const kInputs[] = {
    R"({"v": "abc", "w": "abd", "n": 3, "m": 3.0, "b": true, "a": [1, 2, 3], "o": {"k": 1}})",
    R"({"v": 5, "w": 7, "n": -2.5, "m": 10, "b": false, "a": [], "o": {}})",
    R"({"v": "2024-05-01T10:00:00Z", "w": "2024-05-01T12:00:00+01:00", "n": 0, "m": 1e3,
        "b": null, "a": ["x", "y", "x"], "o": {"k": "v", "j": [1, {"z": 2}]}})",
    R"({"v": null, "w": "a*b", "n": 12345678901, "m": 0.5, "b": "true",
        "a": [{"id": 1, "t": 5}, {"id": 2, "t": 50}, {"id": 3}], "o": {"k": {"deep": [0]}}})",
    R"({"v": ["q"], "w": {"x": 1}, "n": 1, "m": 2, "b": true, "a": [3, 1, 2], "o": {"k": 0}})",
};

TEST(JsonataConversion, PathsAndIntrinsicsComputeWhatJsonPathComputes) {
  const char* const kValues[] = {
      "$", "$.v", "$.o.k", "$.a[0]", "$.a[-1]", "$.a[1:]", "$.a[0:2]", "$.a[*]", "$.o.*",
      "$.a[0,2]", "$.a[?(@.t > 10)].id", "$.a[?(@.id)]", "$.a[?(@.id == 2 || @.t < 10)]",
      "$.o['k']", "$..deep", "$$.Execution.Name",
      "States.Format('x={} y={}', $.v, $.n)", "States.Format('plain')",
      "States.Format('{}', $.b)", "States.StringToJson('{\"k\": [1, 2]}')",
      "States.JsonToString($.o)", "States.Array($.n, 'lit', 2)", "States.Array()",
      "States.ArrayPartition($.a, 2)", "States.ArrayContains($.a, 2)",
      "States.ArrayContains($.a, 'x')", "States.ArrayRange(1, 9, 2)",
      "States.ArrayGetItem($.a, 1)", "States.ArrayLength($.a)", "States.ArrayUnique($.a)",
      "States.Base64Encode($.v)", "States.Base64Decode('aGVsbG8=')", "States.Hash($.v, 'SHA-256')",
      "States.JsonMerge($.o, States.StringToJson('{\"k\": 9}'), false)",
      "States.MathAdd($.n, 4)", "States.StringSplit('a,b,,c', ',')",
      "States.StringSplit($.w, '*b')", "States.StringSplit('1 2.3', ' .')",
      "States.ArrayGetItem(States.StringSplit('a-b-c', '-'), 2)",
      "States.Format('{}-{}', States.ArrayLength($.a), States.MathAdd(1, 2))",
  };
  const json::value context = J(R"({"Execution": {"Name": "run-7"}})");
  int compared = 0;
  int known_differences = 0;
  for (const char* value : kValues) {
    SCOPED_TRACE(value);
    const json::value machine = json::object{
        {"StartAt", "P"},
        {"States", json::object{{"P", json::object{{"Type", "Pass"},
                                                   {"Parameters", json::object{{"x.$", value}}},
                                                   {"End", true}}}}}};
    auto converted = ConvertToJsonata(machine);
    ASSERT_TRUE(converted.ok()) << converted.status().ToString();
    const json::value& output = converted->at("States").at("P").at("Output");
    auto tpl = PayloadTemplate::Compile(json::object{{"x.$", value}});
    ASSERT_TRUE(tpl.ok()) << tpl.status().ToString();
    for (const char* text : kInputs) {
      SCOPED_TRACE(text);
      json::value input = J(text);
      EvaluationContext ctx{.input = &input, .context = &context};
      auto want = tpl->Evaluate(ctx, "States.Runtime");
      if (!want.ok()) continue;  // JSONPath refuses this input; nothing to match
      const json::value& x = output.at("x");
      json::value got;
      if (x.is_array()) {  // States.Array, item by item
        json::array items;
        for (const json::value& item : x.get_array()) {
          auto r = EvaluateJsonata(Body(item), json::object{{"input", input}}.at("input"));
          ASSERT_TRUE(r.ok()) << r.error().ToString();
          items.push_back(r->value_or(nullptr));
        }
        got = std::move(items);
      } else {
        json::value with_context = input;
        std::string expr = Body(x);
        // $states.context is not borrowed here: bind the one path that reads it.
        if (expr.find("$states.context") != std::string::npos) {
          EXPECT_EQ(expr, "$states.context.Execution.Name");
          got = context.at("Execution").at("Name");
        } else {
          auto r = EvaluateJsonata(expr, input);
          ASSERT_TRUE(r.ok()) << expr << ": " << r.error().ToString();
          ASSERT_TRUE(r->has_value()) << expr << " is undefined";
          got = **r;
        }
      }
      // Known differences (docs/jsonata.md): a JSONata path splices arrays it selects into
      // the list a wildcard or descent makes, and $string writes arrays and objects as JSON
      // where States.Format writes "[a, b]" and "{k=v}".
      const bool indefinite = std::string_view(value).find('*') != std::string_view::npos ||
                              std::string_view(value).find("..") != std::string_view::npos;
      const bool format = std::string_view(value).starts_with("States.Format") &&
                          std::string_view(value).find("$.v") != std::string_view::npos;
      auto holds_containers = [](const json::value& v) {
        if (!v.is_array()) return false;
        for (const auto& e : v.get_array()) {
          if (e.is_array()) return true;
        }
        return false;
      };
      if ((indefinite && holds_containers(want->at("x"))) ||
          (format && (input.at("v").is_array() || input.at("v").is_object()))) {
        ++known_differences;
        continue;
      }
      EXPECT_TRUE(Same(want->at("x"), got))
          << Body(x.is_array() ? x.at(0) : x) << "\n JSONPath: " << ToJsonText(want->at("x"))
          << "\n JSONata:  " << ToJsonText(got);
      ++compared;
    }
  }
  EXPECT_GT(compared, 150);
  EXPECT_LE(known_differences, 3);
}

TEST(JsonataConversion, ChoiceRulesDecideAsJsonPathDoes) {
  const char* const kRules[] = {
      R"({"Variable": "$.v", "StringEquals": "abc"})",
      R"({"Variable": "$.v", "StringLessThan": "abd"})",
      R"({"Variable": "$.v", "StringGreaterThanEquals": "abc"})",
      R"({"Variable": "$.v", "StringEqualsPath": "$.w"})",
      R"({"Variable": "$.v", "StringLessThanPath": "$.w"})",
      R"({"Variable": "$.v", "StringMatches": "a*"})",
      R"({"Variable": "$.w", "StringMatches": "a\\*b"})",
      R"({"Variable": "$.v", "StringMatches": "*.(x)?[y]*"})",
      R"({"Variable": "$.n", "NumericEquals": 3})",
      R"({"Variable": "$.n", "NumericLessThan": 0})",
      R"({"Variable": "$.n", "NumericGreaterThanEquals": -2.5})",
      R"({"Variable": "$.n", "NumericLessThanEqualsPath": "$.m"})",
      R"({"Variable": "$.n", "NumericEqualsPath": "$.m"})",
      R"({"Variable": "$.v", "NumericGreaterThan": 1})",
      R"({"Variable": "$.b", "BooleanEquals": true})",
      R"({"Variable": "$.b", "BooleanEquals": false})",
      R"({"Variable": "$.b", "BooleanEqualsPath": "$.b"})",
      R"({"Variable": "$.v", "TimestampEquals": "2024-05-01T10:00:00Z"})",
      R"({"Variable": "$.v", "TimestampLessThanPath": "$.w"})",
      R"({"Variable": "$.w", "TimestampGreaterThan": "2024-05-01T10:30:00Z"})",
      R"({"Variable": "$.v", "IsNull": true})",
      R"({"Variable": "$.v", "IsNull": false})",
      R"({"Variable": "$.v", "IsString": true})",
      R"({"Variable": "$.n", "IsNumeric": false})",
      R"({"Variable": "$.b", "IsBoolean": true})",
      R"({"Variable": "$.v", "IsTimestamp": true})",
      R"({"Variable": "$.nope", "IsPresent": false})",
      R"({"Variable": "$.o.k", "IsPresent": true})",
      R"({"Variable": "$.a[0]", "IsPresent": true})",
      R"({"And": [{"Variable": "$.n", "IsNumeric": true}, {"Variable": "$.n", "NumericGreaterThan": 1}]})",
      R"({"Or": [{"Variable": "$.b", "IsNull": true}, {"Not": {"Variable": "$.v", "IsString": true}}]})",
      R"({"Not": {"Variable": "$.v", "StringEquals": "abc"}})",
  };
  int compared = 0;
  for (const char* rule_text : kRules) {
    SCOPED_TRACE(rule_text);
    json::value rule = J(rule_text);
    rule.as_object()["Next"] = "A";
    const json::value machine = json::object{
        {"StartAt", "C"},
        {"States", json::object{{"C", json::object{{"Type", "Choice"},
                                                   {"Choices", json::array{rule}},
                                                   {"Default", "A"}}},
                                {"A", json::object{{"Type", "Succeed"}}}}}};
    auto parsed = ParseStateMachineValue(machine);
    ASSERT_TRUE(parsed.machine.has_value());
    const ChoiceRule& parsed_rule = parsed.machine->top().states[0].choice().choices[0];
    auto converted = ConvertToJsonata(machine);
    ASSERT_TRUE(converted.ok()) << converted.status().ToString();
    const std::string condition =
        Body(converted->at("States").at("C").at("Choices").at(0).at("Condition"));
    for (const char* text : kInputs) {
      SCOPED_TRACE(text);
      const json::value input = J(text);
      EvaluationContext ctx{.input = &input};
      auto want = EvaluateChoiceRule(parsed_rule, ctx);
      if (!want.ok()) continue;
      auto got = EvaluateJsonata(condition, input);
      ASSERT_TRUE(got.ok()) << condition << ": " << got.error().ToString();
      ASSERT_TRUE(got->has_value() && (*got)->is_bool()) << condition;
      EXPECT_EQ(*want, (*got)->get_bool()) << condition;
      ++compared;
    }
  }
  EXPECT_GT(compared, 140);
}

TEST(JsonataConversion, StatesTakeJsonataFields) {
  auto converted = ConvertToJsonata(J(R"({
    "Comment": "c", "StartAt": "T",
    "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "InputPath": "$.in", "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "ResultSelector": {"p.$": "$.Payload"}, "ResultPath": "$.out.r",
            "TimeoutSecondsPath": "$.t",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "F"}],
            "Next": "W"},
      "W": {"Type": "Wait", "SecondsPath": "$.delay", "OutputPath": "$.out", "Next": "M"},
      "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrencyPath": "$.c",
            "ItemSelector": {"i.$": "$$.Map.Item.Value", "lit": "{% not an expression %}",
                             "half": "{% open"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass",
              "Result": {"k": 1}, "ResultPath": null, "End": true}}},
            "ResultPath": null, "End": true},
      "F": {"Type": "Fail", "ErrorPath": "$.err.Error", "CausePath": "$.err.Cause"}
    }})"));
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  const json::value& s = converted->at("States");
  EXPECT_EQ(converted->at("QueryLanguage"), "JSONata");
  EXPECT_EQ(converted->at("Comment"), "c");
  const json::value& t = s.at("T");
  EXPECT_EQ(t.at("Arguments"),
            J(R"({"FunctionName": "f", "Payload": "{% $states.input.`in` %}"})"));
  // "in" is a JSONata operator: as a name it is quoted.
  EXPECT_EQ(t.at("TimeoutSeconds"), "{% $states.input.`in`.t %}");
  EXPECT_EQ(t.at("Output"),
            "{% $merge([$states.input, {\"out\": $merge([$states.input.out, {\"r\": "
            "{\"p\": $states.result.Payload}}])}]) %}");
  EXPECT_EQ(t.at("Catch").at(0).at("Output"),
            "{% $merge([$states.input, {\"err\": $states.errorOutput}]) %}");
  EXPECT_FALSE(t.as_object().contains("ResultPath"));
  EXPECT_EQ(s.at("W").at("Seconds"), "{% $states.input.delay %}");
  EXPECT_EQ(s.at("W").at("Output"), "{% $states.input.out %}");
  const json::value& m = s.at("M");
  EXPECT_EQ(m.at("Items"), "{% $states.input.items %}");
  EXPECT_EQ(m.at("MaxConcurrency"), "{% $states.input.c %}");
  // A literal that JSONata would read as an expression stays a literal.
  EXPECT_EQ(m.at("ItemSelector"),
            J(R"({"i": "{% $states.context.Map.Item.Value %}",
                  "lit": "{% \"{% not an expression %}\" %}", "half": "{% \"{% open\" %}"})"));
  EXPECT_EQ(m.at("Output"), "{% $states.input %}");
  EXPECT_FALSE(m.at("ItemProcessor").at("States").at("I").as_object().contains("Output"));
  EXPECT_EQ(s.at("F").at("Error"), "{% $states.input.err.Error %}");
  // What zflow validates as a JSONata machine.
  auto parsed = ParseStateMachineValue(*converted);
  ASSERT_TRUE(parsed.machine.has_value());
  for (const Diagnostic& d : ValidateStateMachine(*parsed.machine)) {
    EXPECT_NE(d.severity, Severity::kError) << d.message << " at " << d.pointer;
  }
}

TEST(JsonataConversion, ChoiceRulesTakeTheStatesAssignAndOutput) {
  auto converted = ConvertToJsonata(J(R"({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "InputPath": "$.x", "OutputPath": "$.y",
          "Assign": {"a": 1, "b.$": "$.z"},
          "Choices": [{"Variable": "$.k", "IsPresent": true, "Assign": {"b": 2}, "Next": "S"}],
          "Default": "S"},
    "S": {"Type": "Succeed"}}})"));
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  const json::value& c = converted->at("States").at("C");
  EXPECT_EQ(c.at("Choices").at(0),
            J(R"({"Condition": "{% $exists($states.input.x.k) %}",
                  "Assign": {"a": 1, "b": 2}, "Output": "{% $states.input.x.y %}",
                  "Next": "S"})"));
  EXPECT_EQ(c.at("Assign"), J(R"({"a": 1, "b": "{% $states.input.x.z %}"})"));
  EXPECT_EQ(c.at("Output"), "{% $states.input.x.y %}");
}

TEST(JsonataConversion, WhatHasNoJsonataFormIsNamedWithItsStateAndField) {
  auto union_names = ConvertToJsonata(J(R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
    "Parameters": {"x.$": "$['a','b']"}, "End": true}}})"));
  ASSERT_FALSE(union_names.ok());
  EXPECT_NE(union_names.status().message().find("state \"P\": \"Parameters\""), std::string::npos)
      << union_names.status().message();
  auto into_index = ConvertToJsonata(J(R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
    "ResultPath": "$.a[0]", "End": true}}})"));
  ASSERT_FALSE(into_index.ok());
  EXPECT_NE(into_index.status().message().find("\"ResultPath\""), std::string::npos);
  auto runtime_format = ConvertToJsonata(J(R"j({"StartAt": "P", "States": {"P": {"Type": "Pass",
    "Parameters": {"x.$": "States.Format($.f, 1)"}, "End": true}}})j"));
  ASSERT_FALSE(runtime_format.ok());
  EXPECT_NE(runtime_format.status().message().find("format string"), std::string::npos);
  EXPECT_FALSE(ConvertToJsonata(J("[1]")).ok());
}

TEST(JsonataConversion, JsonataStatesAreKeptAndJsonPathOnesInsideAreConverted) {
  auto converted = ConvertToJsonata(J(R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 + 1 %}", "Next": "B"},
    "B": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}})"));
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  EXPECT_EQ(converted->at("States").at("A"),
            J(R"({"Type": "Pass", "Output": "{% 1 + 1 %}", "Next": "B"})"));
  EXPECT_EQ(converted->at("States").at("B").at("Output"), J(R"({"v": "{% $states.input %}"})"));
}

}  // namespace
}  // namespace zflow::asl
