// The pipeline compiler's JSONata output (query_language: JSONata) runs as its JSONPath output
// does: the example pipelines, every test case of their mock configurations, compared on
// status, output, error and the states entered.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integrations/local_handlers.h"
#include "zflow/pipeline.h"
#include "zflow/runtime.h"
#include "zflow/spec.h"

namespace zflow {
namespace {

const std::string kExamples = std::string(ZFLOW_SOURCE_DIR) + "/examples/";

json::value ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = ParseJson(ss.str());
  EXPECT_TRUE(doc.ok()) << path;
  return doc.ok() ? doc->value : json::value();
}

// Numbers by value: 3.0 and 3 are one JSON number (a JSONPath merge keeps a YAML default's
// double, JSONata's $merge writes it as an integer).
json::value Normalized(const json::value& v) {
  if (v.is_double() && v.get_double() == static_cast<double>(static_cast<std::int64_t>(v.get_double()))) {
    return static_cast<std::int64_t>(v.get_double());
  }
  if (const json::object* o = v.if_object()) {
    json::object out;
    for (const auto& m : *o) out[m.key()] = Normalized(m.value());
    return out;
  }
  if (const json::array* a = v.if_array()) {
    json::array out;
    for (const auto& e : *a) out.push_back(Normalized(e));
    return out;
  }
  return v;
}

struct Outcome {
  runtime::ExecutionStatus status;
  json::value output;
  std::string error, cause;
  std::vector<std::string> entered;  // state names, sorted (branches interleave)
};

Outcome RunWithMocks(const asl::StateMachine& machine, const json::value& mocks,
                     const std::string& machine_name, const std::string& test_case) {
  auto handler = integrations::MockHandler::Create(mocks, machine_name, test_case,
                                                   integrations::MakeEchoHandler());
  EXPECT_TRUE(handler.ok()) << handler.status().ToString();
  runtime::IntegrationRegistry registry;
  registry.SetFallback(*handler);
  runtime::Engine engine({.integrations = &registry, .virtual_time = true});
  auto result = engine.Run(machine, {.name = "jsonata-comparison", .seed = "seed"});
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  Outcome out{};
  if (!result.ok()) return out;
  out.status = result->status;
  out.output = Normalized(result->output);
  out.error = result->error;
  out.cause = result->cause;
  for (const runtime::HistoryEvent& e : result->history) {
    if (e.type.ends_with("StateEntered")) out.entered.emplace_back(e.state_name);
  }
  std::sort(out.entered.begin(), out.entered.end());
  return out;
}

// Whether a definition holds any JSONPath-only construct.
bool HasJsonPathField(const json::value& v) {
  if (const json::object* o = v.if_object()) {
    for (const auto& m : *o) {
      std::string_view k = m.key();
      if (k.ends_with(".$") || k == "Parameters" || k == "ResultPath" || k == "ResultSelector" ||
          k == "InputPath" || k == "OutputPath" || k == "ItemsPath" || k == "Variable" ||
          (k.ends_with("Path") && k != "S3OutputPath" && k != "LocalPath" && k != "Path" &&
           m.value().is_string())) {
        return true;
      }
      if (HasJsonPathField(m.value())) return true;
    }
  }
  if (const json::array* a = v.if_array()) {
    for (const auto& e : *a) {
      if (HasJsonPathField(e)) return true;
    }
  }
  return false;
}

struct Example {
  std::string spec, mocks, machine_name;
};

class PipelineJsonata : public ::testing::TestWithParam<Example> {};

TEST_P(PipelineJsonata, EveryTestCaseRunsTheSameInBothLanguages) {
  const Example& ex = GetParam();
  auto loaded = spec::LoadPipelineFile(kExamples + ex.spec);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto jsonpath = loaded->pipeline().CompileAll();
  ASSERT_TRUE(jsonpath.ok()) << jsonpath.status().ToString();
  auto jsonata = loaded->pipeline().CompileAll({.query_language = asl::QueryLanguage::kJsonata});
  ASSERT_TRUE(jsonata.ok()) << jsonata.status().ToString();
  EXPECT_EQ(jsonata->definition.at("QueryLanguage"), "JSONata");
  EXPECT_FALSE(HasJsonPathField(jsonata->definition)) << ToJsonText(jsonata->definition);
  EXPECT_FALSE(HasJsonPathField(jsonata->definition.at("States")));

  const json::value mocks = ReadJson(kExamples + ex.mocks);
  const json::object& cases =
      mocks.at("StateMachines").at(ex.machine_name).at("TestCases").as_object();
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.key()));
    Outcome a = RunWithMocks(jsonpath->local(), mocks, ex.machine_name, c.key());
    Outcome b = RunWithMocks(jsonata->local(), mocks, ex.machine_name, c.key());
    EXPECT_EQ(runtime::ExecutionStatusName(a.status), runtime::ExecutionStatusName(b.status))
        << b.error << ": " << b.cause;
    EXPECT_EQ(a.output, b.output) << "JSONPath: " << ToJsonText(a.output)
                                  << "\nJSONata:  " << ToJsonText(b.output);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.cause, b.cause);
    EXPECT_EQ(a.entered, b.entered);
    EXPECT_GT(a.entered.size(), 5u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Examples, PipelineJsonata,
    ::testing::Values(Example{"fraud-detection/fraud_pipeline.yaml",
                              "fraud-detection/mocks.json", "fraud-scoring"},
                      Example{"tuned-deploy/tuned_deploy.yaml", "tuned-deploy/mocks.json",
                              "churn-tuned"}),
    [](const ::testing::TestParamInfo<Example>& info) {
      return info.index == 0 ? std::string("Fraud") : std::string("TunedDeploy");
    });

// A ForEach (a Map over a result, the item and outer results in each iteration), a condition,
// continue_on_failure and a Wait, run in both languages with the same Lambda answers.
TEST(PipelineJsonataOption, ForEachConditionsAndFailuresRunTheSame) {
  auto loaded = spec::LoadPipelineText(R"(pipeline: fan
parameters: {limit: 3, label: "run"}
steps:
  - name: list
    lambda: {function_name: list}
  - name: each
    after: [list]
    for_each:
      items: "{{ steps.list.Payload.items }}"
      max_concurrency: 2
      steps:
        - name: work
          lambda: {function_name: work, payload: {item: "{{ item }}", total: "{{ steps.list.Payload.n }}"}}
  - name: flaky
    after: [list]
    lambda: {function_name: flaky}
    continue_on_failure: [States.ALL]
  - name: pause
    after: [each]
    wait: {seconds: 30}
  - name: big
    after: [each]
    when: "{{ steps.list.Payload.n }} > {{ params.limit }}"
    lambda: {function_name: work, payload: {label: "{{ params.label }}"}}
  - name: small
    after: [each]
    when: "{{ steps.list.Payload.n }} <= {{ params.limit }}"
    lambda: {function_name: work, payload: {label: "{{ params.label }}", n: "{{ steps.list.Payload.n }}"}}
)",
                                       "f.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto jsonpath = loaded->pipeline().CompileAll();
  ASSERT_TRUE(jsonpath.ok()) << jsonpath.status().ToString();
  auto jsonata = loaded->pipeline().CompileAll({.query_language = asl::QueryLanguage::kJsonata});
  ASSERT_TRUE(jsonata.ok()) << jsonata.status().ToString();
  EXPECT_FALSE(HasJsonPathField(jsonata->definition)) << ToJsonText(jsonata->definition);
  for (const json::value& input :
       {json::value(json::object()), json::value(json::object{{"limit", 1}, {"label", "x"}})}) {
    auto run = [&](const asl::StateMachine& m) {
      runtime::IntegrationRegistry tasks;
      tasks.RegisterFunction("arn:aws:states:::lambda:invoke", [](const runtime::TaskRequest& r) {
        const json::value& name = r.input.at("FunctionName");
        if (name == "list") {
          return runtime::TaskResult::Success(json::object{
              {"Payload", json::object{{"items", json::array{1, json::array{2, 3}, "x"}},
                                       {"n", 3}}}});
        }
        if (name == "flaky") return runtime::TaskResult::Failure("Flaky.Error", "always");
        return runtime::TaskResult::Success(json::object{{"Payload", r.input.at("Payload")}});
      }, true);
      runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
      auto r = engine.Run(m, {.input = input, .name = "e"});
      EXPECT_TRUE(r.ok());
      return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
    };
    runtime::ExecutionResult a = run(jsonpath->local());
    runtime::ExecutionResult b = run(jsonata->local());
    ASSERT_EQ(a.status, runtime::ExecutionStatus::kSucceeded) << a.error << ": " << a.cause;
    EXPECT_EQ(b.status, a.status) << b.error << ": " << b.cause;
    EXPECT_EQ(Normalized(a.output), Normalized(b.output))
        << "JSONPath: " << ToJsonText(a.output) << "\nJSONata:  " << ToJsonText(b.output);
    EXPECT_EQ(a.history.size(), b.history.size());
  }
}

// The pipeline option and its refusals.
TEST(PipelineJsonataOption, YamlQueryLanguageKeyAndBadValue) {
  auto good = spec::LoadPipelineText(
      "pipeline: p\nquery_language: JSONata\nsteps:\n"
      "  - name: wait\n    wait: {seconds: 5}\n",
      "p.yaml");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  auto json = good->pipeline().CompileJson();
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(json->at("QueryLanguage"), "JSONata");

  auto bad = spec::LoadPipelineText(
      "pipeline: p\nquery_language: JSONPathish\nsteps:\n"
      "  - name: wait\n    wait: {seconds: 5}\n",
      "p.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("query_language: expected JSONPath or JSONata"),
            std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace zflow
