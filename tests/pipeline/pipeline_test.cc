#include "zflow/pipeline.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "zflow/asl_serializer.h"
#include "zflow/runtime.h"

namespace zflow {
namespace {

// The fraud-scoring shape: prepare, then train and a data-quality report in parallel, then
// evaluate (reads the model), then wait and deploy.
struct Fraud {
  Pipeline p{"fraud-scoring", {.default_retry = RetryPolicy{.max_attempts = 2}}};
  Value day = p.Parameter("day", "2026-11-21");
  StepRef prep = p.Add(LambdaFunction{.name = "prepare", .function_name = "prep",
                                      .payload = {{"day", day}, {"mode", "full"}}});
  StepRef train = p.Add(TrainingJob{.name = "train",
                                    .image = "fraud-gbm:latest",
                                    .role_arn = "arn:aws:iam::123456789012:role/sagemaker",
                                    .hyperparameters = {{"max_depth", "6"}},
                                    .channels = {{"train", prep.Output("Payload.uri")}},
                                    .output_path = "s3://bucket/models/"})
                      .After(prep);
  StepRef quality = p.Add(LambdaFunction{.name = "quality", .function_name = "dq",
                                         .payload = {{"uri", prep.Output("Payload.uri")}}})
                        .After(prep);
  StepRef evaluate = p.Add(LambdaFunction{.name = "evaluate", .function_name = "eval",
                                          .payload = {{"model", train.ModelArtifacts()},
                                                      {"report", quality.Output("Payload.ok")}}})
                         .After(train)
                         .After(quality);
};

TEST(Pipeline, CompilesToValidAslWithParallelStage) {
  Fraud f;
  auto m = f.p.Compile();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string text = asl::SerializeStateMachine(*m, asl::JsonStyle::kCompact);
  EXPECT_NE(text.find(R"("Parallel 1":{"Type":"Parallel")"), std::string::npos) << text;
  EXPECT_NE(text.find("arn:aws:states:::sagemaker:createTrainingJob.sync"), std::string::npos);
  EXPECT_NE(text.find(R"("S3Uri.$":"$.steps['prepare'].Payload.uri")"), std::string::npos);
  // Deterministic output.
  EXPECT_EQ(ToJsonText(*f.p.CompileJson()), ToJsonText(*f.p.CompileJson()));
}

TEST(Pipeline, DescribesItsStepGraphForDrawing) {
  Fraud f;
  EXPECT_EQ(ToJsonText(f.p.StepGraph()),
            R"({"pipeline":"fraud-scoring","steps":[)"
            R"({"name":"prepare","kind":"lambda","after":[]},)"
            R"({"name":"train","kind":"training","after":["prepare"]},)"
            R"({"name":"quality","kind":"lambda","after":["prepare"]},)"
            R"({"name":"evaluate","kind":"lambda","after":["train","quality"]}]})");
  Pipeline gated("gated", {.schedule = "rate(1 day)"});
  StepRef a = gated.Add(PassStep{.name = "a"});
  gated.Add(WaitStep{.name = "b", .seconds = 5}).After(a).When(a.Output("ok") == true);
  EXPECT_EQ(ToJsonText(gated.StepGraph()),
            R"({"pipeline":"gated","steps":[{"name":"a","kind":"pass","after":[]},)"
            R"({"name":"b","kind":"wait","after":["a"],"conditional":true}],)"
            R"j("schedule":"rate(1 day)"})j");
}

TEST(Pipeline, GatesAStepOnATrainingMetricReadFromFinalMetricDataList) {
  Pipeline p("gated");
  StepRef train = p.Add(TrainingJob{.name = "train",
                                    .image = "gbm:1",
                                    .role_arn = "arn:aws:iam::123456789012:role/sm",
                                    .channels = {{"train", "s3://b/train/"}},
                                    .output_path = "s3://b/models/",
                                    .metric_definitions = {{"validation:auc", "auc: ([0-9.]+)"},
                                                           {"loss", "loss: ([0-9.]+)"}}});
  p.Add(PassStep{.name = "ship"}).After(train).When(train.Metric("validation:auc") >= 0.8);
  auto compiled = p.CompileJson();
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  std::string text = ToJsonText(*compiled);
  EXPECT_NE(text.find(R"j("validation:auc.$":"States.ArrayGetItem($.FinalMetricDataList[?(@.MetricName == 'validation:auc')].Value, 0)")j"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"j("Variable":"$.steps['train'].Metrics['validation:auc']","NumericGreaterThanEquals":0.8)j"),
            std::string::npos) << text;

  // The gate on the engine: the metric the job reported decides.
  for (auto [auc, shipped] : {std::pair{0.91, true}, std::pair{0.61, false}}) {
    runtime::IntegrationRegistry registry;
    registry.RegisterFunction(
        "arn:aws:states:::sagemaker:createTrainingJob.sync", [auc](const runtime::TaskRequest&) {
          return runtime::TaskResult::Success(
              ParseJson(fmt::format(R"({{"TrainingJobName": "t", "ModelArtifacts": {{}},
                  "FinalMetricDataList": [{{"MetricName": "loss", "Value": 0.2}},
                  {{"MetricName": "validation:auc", "Value": {}}}]}})",
                                    auc))
                  ->value);
        });
    auto machine = p.Compile();
    ASSERT_TRUE(machine.ok());
    runtime::Engine engine({.integrations = &registry});
    auto r = engine.Run(*machine, {});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
    EXPECT_EQ(r->output.at("steps").at("train").at("Metrics").at("validation:auc"), auc);
    EXPECT_EQ(r->output.at("steps").at("ship").is_null(), !shipped) << ToJsonText(r->output);
  }

  Pipeline bad("bad");
  StepRef t2 = bad.Add(TrainingJob{.name = "train", .image = "gbm:1",
                                   .role_arn = "arn:aws:iam::123456789012:role/sm",
                                   .channels = {{"train", "s3://b/train/"}},
                                   .output_path = "s3://b/models/"});
  bad.Add(PassStep{.name = "ship"}).After(t2).When(t2.Metric("auc") >= 0.8);
  auto error = bad.CompileJson();
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.status().message().find("Metric(\"auc\"): the step has no metric definition"),
            std::string::npos) << error.status().message();
  Pipeline not_training("nt");
  StepRef pass = not_training.Add(PassStep{.name = "p"});
  not_training.Add(PassStep{.name = "q"}).After(pass).When(pass.Metric("auc") >= 0.8);
  EXPECT_NE(not_training.CompileJson().status().message().find("only a training step"),
            std::string::npos);
}

TEST(Pipeline, AFailureHandlerThatFailsKeepsTheOriginalError) {
  Pipeline p("alerting",
             {.default_retry = RetryPolicy{.errors = {"States.ALL"}, .max_attempts = 2},
              .on_failure = LambdaFunction{.name = "alert", .function_name = "alert",
                                           .payload = {{"error", FailureError()}}}});
  p.Add(LambdaFunction{.name = "work", .function_name = "work"});
  auto machine = p.Compile();
  ASSERT_TRUE(machine.ok()) << machine.status().ToString();
  runtime::IntegrationRegistry registry;
  int alerts = 0;
  registry.RegisterFunction("arn:aws:states:::lambda:invoke",
                            [&alerts](const runtime::TaskRequest& r) {
                              if (r.input.at("FunctionName") == "work") {
                                return runtime::TaskResult::Failure("Data.Bad", "row 7 is empty");
                              }
                              ++alerts;
                              return runtime::TaskResult::Failure("Alert.Down", "no pager");
                            });
  runtime::Engine engine({.integrations = &registry, .virtual_time = true});
  auto r = engine.Run(*machine, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, runtime::ExecutionStatus::kFailed);
  EXPECT_EQ(r->error, "Data.Bad");
  EXPECT_EQ(r->cause, "row 7 is empty");
  EXPECT_EQ(alerts, 3) << "the handler ran with its retries (MaxAttempts 2: three attempts)";
}

TEST(Pipeline, ChecksTheInputsParameterTypesBeforeAnythingRuns) {
  Pipeline p("typed");
  StringValue day = p.Parameter("day", "2026-12-01");
  NumberValue min_auc = p.Parameter("min_auc", 0.8);
  BoolValue dry_run = p.Parameter("dry_run", false);
  p.Add(LambdaFunction{.name = "echo", .function_name = "echo",
                       .payload = {{"day", day}, {"min", min_auc}, {"dry", dry_run}}});
  auto machine = p.Compile();
  ASSERT_TRUE(machine.ok()) << machine.status().ToString();
  runtime::IntegrationRegistry registry;
  registry.RegisterFunction("arn:aws:states:::lambda:invoke", [](const runtime::TaskRequest& r) {
    return runtime::TaskResult::Success(json::object{{"Payload", r.input.at("Payload")}});
  });
  runtime::Engine engine({.integrations = &registry});
  auto run = [&](std::string_view input) {
    auto parsed = ParseJson(input);
    auto r = engine.Run(*machine, {.input = parsed->value});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  };
  auto ok = run(R"({"min_auc": 0.9, "dry_run": true})");
  ASSERT_EQ(ok.status, runtime::ExecutionStatus::kSucceeded) << ok.error << ": " << ok.cause;
  EXPECT_EQ(ok.output.at("steps").at("echo").at("Payload").at("min"), 0.9);
  auto bad = run(R"({"min_auc": "0.9"})");
  EXPECT_EQ(bad.status, runtime::ExecutionStatus::kFailed);
  EXPECT_EQ(bad.error, "Pipeline.InvalidParameter");
  EXPECT_EQ(bad.cause, "parameter \"min_auc\" must be a number (its default is 0.8); the "
                       "execution input gives it another type");
  EXPECT_EQ(run(R"({"dry_run": "no"})").error, "Pipeline.InvalidParameter");
  EXPECT_EQ(run(R"({"day": 20261201})").error, "Pipeline.InvalidParameter");
  EXPECT_EQ(bad.history.size(), 9u) << "nothing ran after the check";
}

TEST(Pipeline, ADeploymentsEndpointLookupIsNotRetried) {
  Pipeline p("deploying", {.default_retry = RetryPolicy{.errors = {"States.ALL"}}});
  p.Add(EndpointDeployment{.name = "deploy", .endpoint_name = "e", .model_name = "m"});
  auto compiled = p.CompileJson();
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  const json::object& states = compiled->at("States").as_object();
  EXPECT_FALSE(states.at("deploy: find endpoint").as_object().contains("Retry"));
  EXPECT_TRUE(states.at("deploy: create endpoint").as_object().contains("Retry"));
}

TEST(Pipeline, RunsOnTheEngineWithDataFlowingBetweenSteps) {
  Fraud f;
  auto m = f.p.Compile();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  runtime::IntegrationRegistry tasks;
  tasks.RegisterFunction("arn:aws:states:::lambda:invoke", [](const runtime::TaskRequest& r) {
    std::string fn(r.input.at("FunctionName").as_string());
    json::object payload = r.input.at("Payload").as_object();
    if (fn == "prep") payload["uri"] = "s3://bucket/features/";
    if (fn == "dq") payload["ok"] = true;
    return runtime::TaskResult::Success(json::object{{"Payload", payload}, {"StatusCode", 200}});
  }, true);
  tasks.RegisterFunction(
      "arn:aws:states:::sagemaker:createTrainingJob.sync", [](const runtime::TaskRequest& r) {
        const json::value& uri = r.input.at("InputDataConfig").at(0).at("DataSource")
                                     .at("S3DataSource").at("S3Uri");
        EXPECT_EQ(uri.as_string(), "s3://bucket/features/");
        return runtime::TaskResult::Success(json::object{
            {"TrainingJobName", r.input.at("TrainingJobName")},
            {"ModelArtifacts", json::object{{"S3ModelArtifacts", "s3://bucket/models/m.tar.gz"}}},
            {"TrainingJobStatus", "Completed"}});
      }, true);
  runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
  auto r = engine.Run(*m, {.input = json::object{{"day", "2026-11-20"}}, .name = "run-1"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
  const json::value& out = r->output;
  EXPECT_EQ(out.at("params").at("day").as_string(), "2026-11-20");  // input overrides default
  EXPECT_EQ(out.at("steps").at("prepare").at("Payload").at("day").as_string(), "2026-11-20");
  EXPECT_EQ(out.at("steps").at("train").at("TrainingJobName").as_string(), "train-run-1");
  const json::value& eval = out.at("steps").at("evaluate").at("Payload");
  EXPECT_EQ(eval.at("model").as_string(), "s3://bucket/models/m.tar.gz");
  EXPECT_EQ(eval.at("report"), json::value(true));
}

TEST(Pipeline, ReadingAResultWithoutRunningAfterItIsAnError) {
  Pipeline p("bad");
  auto a = p.Add(LambdaFunction{.name = "a", .function_name = "fa"});
  p.Add(LambdaFunction{.name = "b", .function_name = "fb", .payload = {{"x", a.Output("Payload")}}});
  auto r = p.CompileJson();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("step \"b\" (payload.x) reads the result of \"a\" but "
                                      "does not run after it"),
            std::string::npos)
      << r.status().message();
}

TEST(Pipeline, CyclesAndDuplicateNamesAreErrors) {
  Pipeline p("cycle");
  auto a = p.Add(WaitStep{.name = "a", .seconds = 1});
  auto b = p.Add(WaitStep{.name = "b", .seconds = 1}).After(a);
  a.After(b);
  auto r = p.CompileJson();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("step \"a\": the steps a, b depend on each other in a cycle"), std::string::npos) << r.status().message();
  Pipeline d("dupes");
  d.Add(WaitStep{.name = "x", .seconds = 1});
  d.Add(PassStep{.name = "x"});
  EXPECT_NE(d.CompileJson().status().message().find("two steps are named \"x\""),
            std::string::npos);
}

TEST(Pipeline, EmptyPipelineStillCompiles) {
  Pipeline p("empty");
  auto m = p.Compile();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
}

}  // namespace
}  // namespace zflow
