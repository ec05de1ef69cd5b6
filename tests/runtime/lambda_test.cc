// Lambda functions served locally (Python handlers, commands), with the lambda:invoke response
// shape and AWS's error mapping; and the local profile that maps them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "integrations/lambda.h"
#include "integrations/profile.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

class LambdaTest : public ::testing::Test {
 protected:
  LambdaTest() : dir_(fs::temp_directory_path() / ("zflow-lambda-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "fn.py") << R"py(
import json, sys, time
def handler(event, context):
    print("log line from the handler")          # goes to the log, not the result
    if event.get("fail"):
        raise ValueError("bad input: %s" % event["fail"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"got": event, "function": context.function_name,
            "remaining_ok": context.get_remaining_time_in_millis() > 0}
def other(event, context):
    return 42
)py";
  }
  ~LambdaTest() override { fs::remove_all(dir_); }

  runtime::ExecutionResult Run(std::string_view definition, std::string_view input = "{}") {
    std::map<std::string, LambdaFunctionSpec> fns;
    fns["scorer"] = {.python_file = (dir_ / "fn.py").string()};
    fns["quick"] = {.python_file = (dir_ / "fn.py").string(), .timeout = std::chrono::seconds(1)};
    fns["answer"] = {.python_file = (dir_ / "fn.py").string(), .handler = "other"};
    fns["missing-handler"] = {.python_file = (dir_ / "fn.py").string(), .handler = "nope"};
    fns["cat"] = {.command = {"cat"}};
    auto handler = std::make_shared<LambdaHandler>(std::move(fns));
    runtime::IntegrationRegistry registry;
    registry.Register("arn:aws:states:::lambda:invoke", handler);
    registry.Register("arn:aws:lambda:*", handler);
    auto machine = asl::ParseStateMachine(definition);
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    runtime::Engine engine({.integrations = &registry});
    auto r = engine.Run(*machine, {.input = Json(input)});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  }

  static std::string Invoke(std::string_view function, std::string_view payload) {
    return fmt::format(R"({{"StartAt": "L", "States": {{"L": {{"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {{"FunctionName": "{}", "Payload": {}}}, "End": true}}}}}})",
                       function, payload);
  }

  fs::path dir_;
};

TEST_F(LambdaTest, PythonHandlerResultComesBackInTheInvokeResponseShape) {
  auto r = Run(Invoke("arn:aws:lambda:us-east-1:123456789012:function:scorer:live", R"({"x": 1})"));
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("StatusCode"), 200);
  EXPECT_EQ(r.output.at("ExecutedVersion"), "$LATEST");
  EXPECT_EQ(r.output.at("SdkHttpMetadata").at("HttpStatusCode"), 200);
  EXPECT_EQ(r.output.at("Payload"),
            Json(R"({"got": {"x": 1}, "function": "scorer", "remaining_ok": true})"));
  r = Run(Invoke("answer", "{}"));
  EXPECT_EQ(r.output.at("Payload"), 42);
}

TEST_F(LambdaTest, FunctionErrorsAreNamedByTheirTypeAndCaught) {
  auto r = Run(R"({"StartAt": "L", "States": {
      "L": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "scorer", "Payload": {"fail": "row 7"}},
            "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.err", "Next": "Caught"}],
            "End": true},
      "Caught": {"Type": "Pass", "End": true}}})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("err").at("Error"), "ValueError");
  json::value cause = Json(r.output.at("err").at("Cause").as_string());
  EXPECT_EQ(cause.at("errorMessage"), "bad input: row 7");
  EXPECT_EQ(cause.at("errorType"), "ValueError");
  EXPECT_FALSE(cause.at("stackTrace").as_array().empty());

  r = Run(Invoke("missing-handler", "{}"));
  EXPECT_EQ(r.error, "Runtime.HandlerNotFound");
  r = Run(Invoke("nobody", "{}"));
  EXPECT_EQ(r.error, "Lambda.ResourceNotFoundException");
  EXPECT_NE(r.cause.find("function:nobody"), std::string::npos) << r.cause;
}

TEST_F(LambdaTest, BareFunctionArnsReturnThePayloadItself) {
  auto r = Run(R"({"StartAt": "L", "States": {"L": {"Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:cat", "End": true}}})",
               R"({"a": [1, 2]})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"({"a": [1, 2]})"));
}

TEST_F(LambdaTest, FunctionTimeoutIsSandboxTimedout) {
  auto r = Run(Invoke("quick", R"({"sleep": 5})"));
  EXPECT_EQ(r.status, runtime::ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Sandbox.Timedout");
  EXPECT_NE(r.cause.find("Task timed out after 1.00 seconds"), std::string::npos) << r.cause;
}

TEST(Profile, MapsFunctionsAndResolvesPathsRelativeToTheFile) {
  auto p = ParseProfile(R"(s3_root: data/s3
work_dir: work
sagemaker:
  images:
    fraud-gbm:1.0: {python: training/train.py}
    other:2: {command: [bin/train, --fast]}
lambda:
  prep: {python: jobs/prep.py, timeout_seconds: 30}
  notify: {command: "bin/notify --quiet"}
)",
                        "/proj/zflow.profile.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->s3_root, "/proj/data/s3");
  EXPECT_EQ(p->work_dir, "/proj/work");
  EXPECT_EQ(p->images.at("fraud-gbm:1.0").python_file, "/proj/training/train.py");
  EXPECT_EQ(p->images.at("other:2").command, (std::vector<std::string>{"/proj/bin/train", "--fast"}));
  EXPECT_EQ(p->lambda.at("prep").python_file, "/proj/jobs/prep.py");
  EXPECT_EQ(p->lambda.at("prep").timeout, std::chrono::seconds(30));
  EXPECT_EQ(p->lambda.at("notify").command,
            (std::vector<std::string>{"/proj/bin/notify", "--quiet"}));
  auto bad = ParseProfile("lambda:\n  f: {pyhton: x.py}\n", "p.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("p.yaml:2:7: lambda.f: unknown key \"pyhton\""),
            std::string::npos)
      << bad.status().message();
  bad = ParseProfile("lambda:\n  f: {python: x.py, command: [ls]}\n", "p.yaml");
  EXPECT_NE(bad.status().message().find("give exactly one of python"), std::string::npos);
  bad = ParseProfile("lambda:\n  f: {python: x.py, timeout_seconds: 901}\n", "p.yaml");
  EXPECT_NE(bad.status().message().find("Lambda allows 1 to 900"), std::string::npos);
}

}  // namespace
}  // namespace zflow::integrations
