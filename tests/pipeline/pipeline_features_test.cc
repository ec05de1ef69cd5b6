// The pipeline API's step kinds, conditions, fan-out and failure handling: compiled, validated,
// and run on the engine with in-process stand-ins for the AWS APIs.
#include <gtest/gtest.h>

#include <type_traits>

#include "zflow/asl_parser.h"
#include "zflow/asl_serializer.h"
#include "zflow/pipeline.h"
#include "zflow/runtime.h"

namespace zflow {
namespace {

using runtime::TaskRequest;
using runtime::TaskResult;

// Compile-time type checks: typed values do not convert into each other, and comparing values
// of different types does not compile.
static_assert(!std::is_convertible_v<NumberValue, StringValue>);
static_assert(!std::is_convertible_v<StringValue, NumberValue>);
static_assert(!std::is_convertible_v<BoolValue, NumberValue>);
static_assert(std::is_convertible_v<Value, StringValue>);  // untyped step outputs
template <class A, class B>
concept Comparable = requires(A a, B b) { a > b; };
static_assert(Comparable<NumberValue, NumberValue>);
static_assert(!Comparable<StringValue, NumberValue>);
static_assert(!Comparable<BoolValue, StringValue>);

std::string Text(const Pipeline& p) {
  auto j = p.CompileJson();
  return j.ok() ? ToJsonText(*j) : "error: " + j.status().message();
}

std::string ErrorOf(const Pipeline& p) {
  auto m = p.Compile();
  return m.ok() ? std::string("(compiled)") : m.status().message();
}

runtime::ExecutionResult RunIt(const Pipeline& p, runtime::IntegrationRegistry& tasks,
                               json::value input = json::object()) {
  auto m = p.Compile();
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {.status = runtime::ExecutionStatus::kFailed, .error = "compile"};
  runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
  auto r = engine.Run(*m, {.input = std::move(input), .name = "exec-1"});
  EXPECT_TRUE(r.ok());
  return *r;
}

// A Lambda stand-in: functions by name.
void Lambdas(runtime::IntegrationRegistry& tasks,
             std::map<std::string, std::function<TaskResult(const json::value&)>> fns) {
  tasks.RegisterFunction(
      "arn:aws:states:::lambda:invoke",
      [fns = std::move(fns)](const TaskRequest& r) {
        std::string name(r.input.at("FunctionName").as_string());
        auto it = fns.find(name);
        if (it == fns.end()) return TaskResult::Failure("Lambda.ResourceNotFoundException", name);
        TaskResult res = it->second(r.input.at("Payload"));
        if (res.ok()) res = TaskResult::Success(json::object{{"Payload", *res.output}});
        return res;
      },
      true);
}

TEST(PipelineConditions, CompileToChoiceRulesWithPathsAndLiterals) {
  Pipeline p("cond");
  NumberValue min_auc = p.Parameter("min_auc", 0.9);
  auto eval = p.Add(LambdaFunction{.name = "evaluate", .function_name = "eval"});
  p.Add(PassStep{.name = "deploy"})
      .After(eval)
      .When(eval.Output("Payload.auc") > min_auc && eval.Output("Payload.ok") == true);
  std::string t = Text(p);
  EXPECT_NE(t.find(R"("deploy?":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.steps['evaluate'].Payload.auc","NumericGreaterThanPath":"$.params['min_auc']"},{"Variable":"$.steps['evaluate'].Payload.ok","BooleanEquals":true}],"Next":"deploy"}],"Default":"deploy: skipped"})"),
            std::string::npos)
      << t;
  // A literal on the left is mirrored so the Variable is the path.
  Pipeline q("mirror");
  auto e2 = q.Add(LambdaFunction{.name = "e", .function_name = "f"});
  q.Add(PassStep{.name = "x"}).After(e2).When(Value(0.5) < NumberValue(e2.Output("Payload")));
  EXPECT_NE(Text(q).find(R"({"Variable":"$.steps['e'].Payload","NumericGreaterThan":0.5,"Next":"x"})"),
            std::string::npos)
      << Text(q);
}

TEST(PipelineConditions, DeployRunsOnlyWhenTheModelBeatsTheThreshold) {
  Pipeline p("conditional-deploy");
  NumberValue min_auc = p.Parameter("min_auc", 0.9);
  auto eval = p.Add(LambdaFunction{.name = "evaluate", .function_name = "eval"});
  auto deploy = p.Add(LambdaFunction{.name = "deploy", .function_name = "deploy"})
                    .After(eval)
                    .When(eval.Output("Payload.auc") > min_auc);
  p.Add(LambdaFunction{.name = "notify", .function_name = "notify"}).After(deploy);
  int deploys = 0;
  runtime::IntegrationRegistry tasks;
  Lambdas(tasks, {{"eval", [](const json::value&) {
                     return TaskResult::Success(json::object{{"auc", 0.93}});
                   }},
                  {"deploy", [&](const json::value&) {
                     ++deploys;
                     return TaskResult::Success(json::object{{"endpoint", "fraud"}});
                   }},
                  {"notify", [](const json::value& in) { return TaskResult::Success(in); }}});
  auto r = RunIt(p, tasks);
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(deploys, 1);
  r = RunIt(p, tasks, json::object{{"min_auc", 0.95}});
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(deploys, 1);  // skipped
  EXPECT_TRUE(r.output.at("steps").at("deploy").is_null());
  EXPECT_TRUE(r.output.at("steps").as_object().contains("notify"));
}

TEST(PipelineConditions, ReadersOfAConditionalStepNeedTheSameCondition) {
  Pipeline p("cond-read");
  auto eval = p.Add(LambdaFunction{.name = "evaluate", .function_name = "eval"});
  auto deploy = p.Add(LambdaFunction{.name = "deploy", .function_name = "deploy"})
                    .After(eval)
                    .When(eval.Output("Payload.auc") > 0.9);
  p.Add(LambdaFunction{.name = "smoke", .function_name = "smoke",
                       .payload = {{"endpoint", deploy.Output("Payload.endpoint")}}})
      .After(deploy);
  EXPECT_NE(ErrorOf(p).find("step \"smoke\" (payload.endpoint) reads the result of \"deploy\", "
                            "which runs only when $.steps['evaluate'].Payload.auc > 0.9"),
            std::string::npos)
      << ErrorOf(p);
}

TEST(PipelineConditions, BadConditionsAreReportedWithTheStep) {
  Pipeline p("bad-cond");
  auto a = p.Add(LambdaFunction{.name = "a", .function_name = "fa"});
  p.Add(PassStep{.name = "b"}).After(a).When(Value(1) > Value(2));
  EXPECT_NE(ErrorOf(p).find("step \"b\": When(): condition \"1 > 2\": one side must be a parameter"),
            std::string::npos)
      << ErrorOf(p);
  Pipeline q("untyped");
  auto c = q.Add(LambdaFunction{.name = "c", .function_name = "fc"});
  q.Add(PassStep{.name = "d"}).After(c).When(c.Output("Payload.x") > c.Output("Payload.y"));
  EXPECT_NE(ErrorOf(q).find("cannot tell whether to compare strings, numbers or booleans"),
            std::string::npos);
}

TEST(PipelineSteps, FieldTypeAndRequiredFieldErrorsNameStepAndField) {
  Pipeline p("types");
  p.Add(TrainingJob{.name = "train", .image = "img", .role_arn = "arn:aws:iam::1:role/r",
                    .channels = {{"train", "s3://b/t"}}, .output_path = "s3://b/m",
                    .instance_count = NumberValue(Value("two"))});
  EXPECT_EQ(ErrorOf(p), "step \"train\": instance_count must be a number, not a string");
  Pipeline q("required");
  q.Add(TrainingJob{.name = "train", .role_arn = "arn:aws:iam::1:role/r",
                    .channels = {{"train", "s3://b/t"}}, .output_path = "s3://b/m"});
  EXPECT_EQ(ErrorOf(q), "step \"train\": image is required");
  Pipeline r("names");
  r.Add(PassStep{.name = "bad:name"});
  EXPECT_NE(ErrorOf(r).find("step name \"bad:name\": expected 1 to 60 characters"),
            std::string::npos);
  Pipeline s("reserved");
  s.Add(PassStep{.name = "Done"});
  EXPECT_NE(ErrorOf(s).find("reserved"), std::string::npos);
}

TEST(PipelineSteps, FormatBuildsStringsFromParametersAndResults) {
  Pipeline p("fmt");
  StringValue bucket = p.Parameter("bucket", "b");
  auto a = p.Add(LambdaFunction{.name = "a", .function_name = "fa"});
  p.Add(LambdaFunction{.name = "b", .function_name = "fb",
                       .payload = {{"uri", Format("s3://{}/x/{}/{}", {bucket, ExecutionName(),
                                                                     a.Output("Payload.id")})},
                                   {"const", Format("{}-{}", {"k", 3})}}})
      .After(a);
  runtime::IntegrationRegistry tasks;
  json::value seen;
  Lambdas(tasks, {{"fa", [](const json::value&) {
                     return TaskResult::Success(json::object{{"id", "it's"}});
                   }},
                  {"fb", [&](const json::value& in) {
                     seen = in;
                     return TaskResult::Success(in);
                   }}});
  auto r = RunIt(p, tasks);
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(seen.at("uri").as_string(), "s3://b/x/exec-1/it's");
  EXPECT_EQ(seen.at("const").as_string(), "k-3");
}

// SageMaker endpoint create-or-update, with a stand-in that keeps endpoints in a map.
struct FakeSageMaker {
  std::map<std::string, std::string> endpoints;  // name -> config
  std::map<std::string, int> describes;          // name -> DescribeEndpoint calls while creating
  std::vector<std::string> calls;

  void Register(runtime::IntegrationRegistry& tasks) {
    tasks.RegisterFunction("arn:aws:states:::sagemaker:createEndpointConfig",
                           [this](const TaskRequest& r) {
                             calls.push_back("createEndpointConfig");
                             return TaskResult::Success(json::object{
                                 {"EndpointConfigArn", "arn:config"}});
                           }, true);
    tasks.RegisterFunction("arn:aws:states:::sagemaker:createEndpoint", [this](const TaskRequest& r) {
      calls.push_back("createEndpoint");
      endpoints[std::string(r.input.at("EndpointName").as_string())] =
          std::string(r.input.at("EndpointConfigName").as_string());
      return TaskResult::Success(json::object{{"EndpointArn", "arn:endpoint"}});
    }, true);
    tasks.RegisterFunction("arn:aws:states:::sagemaker:updateEndpoint", [this](const TaskRequest& r) {
      calls.push_back("updateEndpoint");
      endpoints[std::string(r.input.at("EndpointName").as_string())] =
          std::string(r.input.at("EndpointConfigName").as_string());
      return TaskResult::Success(json::object{{"EndpointArn", "arn:endpoint"}});
    }, true);
    tasks.RegisterFunction("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                           [this](const TaskRequest& r) {
                             std::string name(r.input.at("EndpointName").as_string());
                             calls.push_back("describeEndpoint");
                             if (!endpoints.count(name)) {
                               return TaskResult::Failure("SageMaker.SageMakerException",
                                                          "Could not find endpoint " + name);
                             }
                             // The first status check sees the endpoint still updating.
                             const char* status = describes[name]++ % 3 == 1 ? "Updating"
                                                                             : "InService";
                             return TaskResult::Success(json::object{{"EndpointName", name},
                                                                     {"EndpointStatus", status}});
                           }, true);
  }
};

TEST(PipelineSteps, EndpointDeploymentCreatesThenUpdatesAndWaitsForInService) {
  Pipeline p("deploy");
  p.Add(EndpointDeployment{.name = "deploy", .endpoint_name = "fraud", .model_name = "m-1",
                           .poll_seconds = 30});
  FakeSageMaker sm;
  runtime::IntegrationRegistry tasks;
  sm.Register(tasks);
  auto r = RunIt(p, tasks);
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(sm.endpoints.at("fraud"), "deploy-exec-1");
  EXPECT_EQ(std::count(sm.calls.begin(), sm.calls.end(), "createEndpoint"), 1);
  const json::value& result = r.output.at("steps").at("deploy");
  EXPECT_EQ(result.at("EndpointName").as_string(), "fraud");
  EXPECT_EQ(result.at("Status").at("EndpointStatus").as_string(), "InService");
  // Second deployment: the endpoint exists, so it is updated.
  sm.calls.clear();
  r = RunIt(p, tasks);
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(std::count(sm.calls.begin(), sm.calls.end(), "updateEndpoint"), 1);
  EXPECT_EQ(std::count(sm.calls.begin(), sm.calls.end(), "createEndpoint"), 0);
}

TEST(PipelineSteps, DatabricksJobSubmitsPollsAndReportsFailures) {
  Pipeline p("dbx");
  StringValue ws = p.External("DatabricksUrl", "Workspace URL", "http://127.0.0.1:1");
  p.Add(DatabricksJob{.name = "prep", .workspace_url = ws,
                      .connection_arn = "arn:aws:events:us-east-1:1:connection/dbx/abc",
                      .python_file = "dbfs:/jobs/prep.py", .parameters = {"--day", ExecutionName()},
                      .poll_seconds = 20});
  std::string t = Text(p);
  EXPECT_NE(t.find(R"j("ApiEndpoint":"${DatabricksUrl}/api/2.1/jobs/runs/submit")j"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(R"j("parameters.$":"States.Array('--day', $$.Execution.Name)")j"),
            std::string::npos);
  for (std::string final_state : {"SUCCESS", "FAILED"}) {
    int gets = 0;
    json::value submitted;
    runtime::IntegrationRegistry tasks;
    tasks.RegisterFunction("arn:aws:states:::http:invoke", [&](const TaskRequest& r) {
      std::string url(r.input.at("ApiEndpoint").as_string());
      if (url.ends_with("/runs/submit")) {
        submitted = r.input.at("RequestBody");
        return TaskResult::Success(json::object{{"ResponseBody", json::object{{"run_id", 42}}},
                                                {"StatusCode", 200}});
      }
      EXPECT_EQ(r.input.at("QueryParameters").at("run_id").as_string(), "42");
      json::object state{{"life_cycle_state", ++gets < 3 ? "RUNNING" : "TERMINATED"},
                         {"state_message", "boom in stage 3"}};
      if (gets >= 3) state["result_state"] = final_state;
      return TaskResult::Success(json::object{
          {"ResponseBody", json::object{{"run_id", 42}, {"run_page_url", "http://x/42"},
                                        {"state", state}}},
          {"StatusCode", 200}});
    }, true);
    auto m = p.Compile();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    std::string text = SubstituteLocal(asl::SerializeStateMachine(*m), p);
    auto parsed = asl::ParseStateMachineText(text);
    ASSERT_TRUE(parsed.machine);
    runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
    auto r = engine.Run(*parsed.machine, {.name = "exec-1"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(gets, 3);
    EXPECT_EQ(submitted.at("idempotency_token").as_string(), "prep-exec-1");
    EXPECT_EQ(submitted.at("tasks").at(0).at("spark_python_task").at("parameters"),
              (json::array{"--day", "exec-1"}));
    if (final_state == "SUCCESS") {
      EXPECT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
    } else {
      EXPECT_EQ(r->status, runtime::ExecutionStatus::kFailed);
      EXPECT_EQ(r->error, "Databricks.RunFailed");
      EXPECT_EQ(r->cause, "boom in stage 3");
    }
  }
}

TEST(PipelineSteps, ForEachFansOutOverAListWithTheOuterDataVisible) {
  Pipeline body("score-shard");
  Pipeline p("fanout");
  StringValue model = p.Parameter("model", "m-1");
  auto list = p.Add(LambdaFunction{.name = "list", .function_name = "list"});
  body.Add(LambdaFunction{.name = "score", .function_name = "score",
                          .payload = {{"shard", body.Item()}, {"model", model},
                                      {"n", list.Output("Payload.n")}}});
  p.Add(ForEach{.name = "score-all", .items = list.Output("Payload.shards"), .body = &body,
                .max_concurrency = 2})
      .After(list);
  runtime::IntegrationRegistry tasks;
  Lambdas(tasks, {{"list", [](const json::value&) {
                     return TaskResult::Success(
                         json::object{{"shards", json::array{"a", "b", "c"}}, {"n", 3}});
                   }},
                  {"score", [](const json::value& in) { return TaskResult::Success(in); }}});
  auto r = RunIt(p, tasks);
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  const json::array& results = r.output.at("steps").at("score-all").as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1].at("score").at("Payload"),
            (json::object{{"shard", "b"}, {"model", "m-1"}, {"n", 3}}));
  // The body reads "list": the ForEach must run after it.
  Pipeline body2("b2");
  Pipeline q("fanout-order");
  auto l2 = q.Add(LambdaFunction{.name = "list", .function_name = "list"});
  body2.Add(LambdaFunction{.name = "s", .function_name = "s",
                           .payload = {{"n", l2.Output("Payload.n")}}});
  q.Add(ForEach{.name = "each", .items = Pipeline("x").Item(), .body = &body2});
  EXPECT_NE(ErrorOf(q).find("step \"each\" (body step \"s\" payload.n) reads the result of "
                            "\"list\" but does not run after it"),
            std::string::npos)
      << ErrorOf(q);
}

TEST(PipelineFailures, OnFailureHandlerRunsThenTheExecutionFailsWithTheError) {
  Pipeline p("handled", {.on_failure = LambdaFunction{.name = "alert", .function_name = "alert",
                                                      .payload = {{"error", Value::Expression(
                                                                                "$.error",
                                                                                ValueType::kAny)}}}});
  auto a = p.Add(LambdaFunction{.name = "a", .function_name = "fa"});
  auto b = p.Add(LambdaFunction{.name = "b", .function_name = "fb"});
  p.Add(LambdaFunction{.name = "c", .function_name = "fc"}).After(a).After(b);
  json::value alerted;
  runtime::IntegrationRegistry tasks;
  Lambdas(tasks, {{"fa", [](const json::value&) { return TaskResult::Success(json::object()); }},
                  {"fb", [](const json::value&) {
                     return TaskResult::Failure("DataError", "bad rows");
                   }},
                  {"alert", [&](const json::value& in) {
                     alerted = in;
                     return TaskResult::Success(json::object());
                   }}});
  auto r = RunIt(p, tasks);
  EXPECT_EQ(r.status, runtime::ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "DataError");
  EXPECT_EQ(r.cause, "bad rows");
  EXPECT_EQ(alerted.at("error").at("Error").as_string(), "DataError");
}

TEST(PipelineFailures, ContinueOnFailureRecordsTheErrorAndGoesOn) {
  Pipeline p("tolerant");
  auto a = p.Add(LambdaFunction{.name = "a", .function_name = "fa"}).ContinueOnFailure();
  p.Add(LambdaFunction{.name = "b", .function_name = "fb"}).After(a);
  bool ran_b = false;
  runtime::IntegrationRegistry tasks;
  Lambdas(tasks, {{"fa", [](const json::value&) { return TaskResult::Failure("Oops", "x"); }},
                  {"fb", [&](const json::value&) {
                     ran_b = true;
                     return TaskResult::Success(json::object());
                   }}});
  auto r = RunIt(p, tasks);
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_TRUE(ran_b);
  EXPECT_EQ(r.output.at("steps").at("a").at("Error").as_string(), "Oops");
}

TEST(PipelineFailures, AStepAfterAnUnconditionalFailIsAnError) {
  Pipeline p("fail");
  auto f = p.Add(FailStep{.name = "stop", .error = "Stop"});
  p.Add(PassStep{.name = "after"}).After(f);
  EXPECT_NE(ErrorOf(p).find("\"after\" comes after \"stop\", which always ends the execution"),
            std::string::npos)
      << ErrorOf(p);
}

TEST(PipelineSteps, TuningModelAndTransformCompileToTheSageMakerShapes) {
  Pipeline p("tune", {.tags = {{"team", "fraud"}}});
  StringValue role = p.External("SageMakerRoleArn", "SageMaker execution role",
                                "arn:aws:iam::123456789012:role/local");
  auto tune = p.Add(HyperparameterTuningJob{
      .name = "tune",
      .training = {.image = "gbm:1", .role_arn = role, .channels = {{"train", "s3://b/train"}},
                   .output_path = "s3://b/models",
                   .metric_definitions = {{"validation:auc", "auc=([0-9.]+)"}}},
      .objective_metric = "validation:auc",
      .ranges = {{.kind = ParameterRange::Kind::kContinuous, .name = "eta", .min_value = "0.01",
                  .max_value = "0.3"},
                 {.kind = ParameterRange::Kind::kCategorical, .name = "loss",
                  .values = {"log_loss", "exponential"}}},
      .max_jobs = 6,
      .max_parallel_jobs = 2});
  auto model = p.Add(Model{.name = "model", .image = "gbm:1",
                           .model_data_url = tune.ModelArtifacts(), .role_arn = role})
                   .After(tune);
  p.Add(BatchTransformJob{.name = "predict", .model_name = model.ModelName(),
                          .input_uri = "s3://b/in", .output_uri = "s3://b/out"})
      .After(model);
  auto m = p.Compile();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string t = Text(p);
  for (const char* want :
       {R"j("HyperParameterTuningJobName.$":"States.Format('tune-{}', States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 0))")j",
        R"("CategoricalParameterRanges":[{"Name":"loss","Values":["log_loss","exponential"]}])",
        R"j("MetricDefinitions":[{"Name":"validation:auc","Regex":"auc=([0-9.]+)"}])j",
        R"("RoleArn":"${SageMakerRoleArn}")", R"("ModelDataUrl.$":"$.steps['tune'].BestModelArtifacts")",
        R"("ModelName.$":"$.steps['model'].ModelName")", R"("Tags":[{"Key":"team","Value":"fraud"}])",
        R"("Resource":"arn:aws:states:::sagemaker:createTransformJob.sync")"}) {
    EXPECT_NE(t.find(want), std::string::npos) << want << "\n" << t;
  }
}

TEST(PipelineSchedule, ExpressionsAreValidatedWithTheFieldAtFault) {
  for (const char* ok : {"cron(0 6 * * ? *)", "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 12 L * ? 2027)",
                         "cron(30 9 ? * 3#2 *)", "cron(0 0 15W JAN,JUL ? *)", "rate(1 day)",
                         "rate(5 minutes)"}) {
    EXPECT_TRUE(ValidateScheduleExpression(ok).ok()) << ok << ": "
                                                     << ValidateScheduleExpression(ok).message();
  }
  struct Bad {
    const char* expr;
    const char* message;
  };
  for (const Bad& b : {Bad{"cron(0 6 * * *)", "has 5 fields; expected 6"},
                       Bad{"cron(60 6 * * ? *)", "cron field Minutes \"60\""},
                       Bad{"cron(0 6 * * * *)", "exactly one of Day-of-month"},
                       Bad{"cron(0 6 ? * ? *)", "exactly one of Day-of-month"},
                       Bad{"cron(0 6 * FOO ? *)", "cron field Month \"FOO\""},
                       Bad{"cron(0 6 ? * 8 *)", "cron field Day-of-week \"8\""},
                       Bad{"cron(0 6 * * ? 1969)", "cron field Year"},
                       Bad{"rate(1 days)", "a value of 1 takes a singular unit"},
                       Bad{"rate(5 hour)", "a value above 1 takes a plural unit"},
                       Bad{"rate(0 minutes)", "positive whole value"},
                       Bad{"rate(5 weeks)", "unit \"weeks\""},
                       Bad{"every day", "not a schedule expression"}}) {
    Status s = ValidateScheduleExpression(b.expr);
    EXPECT_FALSE(s.ok()) << b.expr;
    EXPECT_NE(s.message().find(b.message), std::string::npos) << b.expr << ": " << s.message();
  }
  Pipeline p("scheduled", {.schedule = "cron(0 25 * * ? *)"});
  EXPECT_NE(ErrorOf(p).find("pipeline \"scheduled\": schedule: cron field Hours \"25\""),
            std::string::npos)
      << ErrorOf(p);
}

TEST(PipelineSteps, RawStatesAreLinkedAndChecked) {
  Pipeline p("raw");
  auto a = p.Add(RawState{.name = "custom",
                          .state = json::object{{"Type", "Pass"},
                                                {"Result", json::object{{"x", 1}}},
                                                {"ResultPath", "$.steps['custom']"}}});
  p.Add(LambdaFunction{.name = "use", .function_name = "f", .payload = {{"x", a.Output("x")}}})
      .After(a);
  EXPECT_TRUE(p.Compile().ok()) << ErrorOf(p);
  Pipeline q("raw-bad");
  q.Add(RawState{.name = "c", .state = json::object{{"Type", "Choice"}}});
  EXPECT_NE(ErrorOf(q).find("a raw state is a Pass, Task, Wait, Parallel, Map or Fail state"),
            std::string::npos);
  Pipeline r("raw-invalid");
  r.Add(RawState{.name = "t", .state = json::object{{"Type", "Task"}, {"Resource", "nope"}}});
  EXPECT_NE(ErrorOf(r).find("the compiled state machine is not valid"), std::string::npos)
      << ErrorOf(r);
}

}  // namespace
}  // namespace zflow
