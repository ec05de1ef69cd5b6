// LocalServices: the local stand-ins a C++ program, zflow run and zflow::Main share.
#include "zflow/local_services.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "zflow/asl_parser.h"
#include "zflow/executor.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

class LocalServicesTest : public ::testing::Test {
 protected:
  LocalServicesTest()
      : dir_(fs::temp_directory_path() / ("zflow-services-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~LocalServicesTest() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, std::string_view text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  fs::path dir_;
};

TEST_F(LocalServicesTest, ACxxProgramRunsFunctionsCommandsAndNestedMachinesFromOneSetup) {
  std::string child = Write("child.asl.json", R"({"StartAt": "Up", "States": {
    "Up": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
           "Parameters": {"FunctionName": "upper", "Payload.$": "$"},
           "OutputPath": "$.Payload", "End": true}}})");
  std::string profile = Write("zflow.profile.yaml", "s3_root: s3\nwork_dir: work\n"
                                                    "state_machines:\n  child: child.asl.json\n");
  auto services = LocalServices::Start(
      {.profile = profile,
       .functions = {{"upper",
                      [](const json::value& event) {
                        std::string s(event.at("word").as_string());
                        for (char& c : s) c = static_cast<char>(std::toupper(c));
                        return runtime::TaskResult::Success(json::object{{"word", s}});
                      }}},
       .commands = {{"arn:aws:states:::zflow:count", {"wc", "-c"}}}});
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  EXPECT_EQ((*services)->work_dir(), (dir_ / "work").string());
  auto machine = asl::ParseStateMachine(R"({"StartAt": "Count", "States": {
    "Count": {"Type": "Task", "Resource": "arn:aws:states:::zflow:count",
              "ResultPath": "$.bytes", "Next": "Child"},
    "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
              "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child",
                             "Input": {"word.$": "$.word"}},
              "ResultSelector": {"out.$": "$.Output"}, "End": true}}})");
  ASSERT_TRUE(machine.ok()) << machine.status().ToString();
  auto prepared = runtime::Prepare(std::move(*machine));
  ASSERT_TRUE(prepared.ok());
  // One executor, two executions at once, through the same services.
  runtime::Executor executor((*services)->Engine({.virtual_time = true}));
  std::vector<Result<runtime::ExecutionResult>> results;
  for (const char* word : {"alpha", "beta"}) {
    ASSERT_TRUE(executor
                    .Start(*prepared, {.input = json::object{{"word", word}}},
                           [&](Result<runtime::ExecutionResult> r) {
                             results.push_back(std::move(r));
                           })
                    .ok());
  }
  executor.RunUntilIdle();
  ASSERT_EQ(results.size(), 2u);
  for (auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
    std::string word(r->output.at("out").at("word").as_string());
    EXPECT_TRUE(word == "ALPHA" || word == "BETA") << word;
  }
}

// A Python Lambda function finds the S3 root the profile set (as Databricks jobs do), and what
// it prints is the task's log.
TEST_F(LocalServicesTest, LambdaFunctionsGetTheS3RootAndTheirPrintsAreKept) {
  Write("where.py",
        "import os, sys\n"
        "def handler(event, context):\n"
        "    print('looking in', os.environ['ZFLOW_S3_ROOT'])\n"
        "    return {'root': os.environ['ZFLOW_S3_ROOT']}\n");
  std::string profile = Write("zflow.profile.yaml", "s3_root: my-s3\nwork_dir: work\n"
                                                    "lambda:\n  where: {python: where.py}\n");
  auto services = LocalServices::Start({.profile = profile});
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  auto machine = asl::ParseStateMachine(R"({"StartAt": "Where", "States": {
    "Where": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "where", "Payload": {}},
              "OutputPath": "$.Payload", "End": true}}})");
  ASSERT_TRUE(machine.ok());
  runtime::EngineOptions options = (*services)->Engine({});
  std::string log;
  options.on_task_log = [&](const runtime::ExecutionInfo&, std::string_view, std::int64_t,
                            std::string_view text) { log += text; };
  runtime::Engine engine(std::move(options));
  auto result = engine.Run(*machine, {});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->status, runtime::ExecutionStatus::kSucceeded) << result->cause;
  EXPECT_EQ(result->output.at("root").as_string(), (dir_ / "my-s3").string());
  EXPECT_EQ(log, "looking in " + (dir_ / "my-s3").string() + "\n");
}

TEST_F(LocalServicesTest, MocksAnswerFirstAndBadSetupsSayWhatAndWhere) {
  auto services = LocalServices::Start(
      {.echo_tasks = true,
       .mock_config = Json(R"({"StateMachines": {"M": {"TestCases": {"Happy": {
           "T": "Ok"}}}}, "MockedResponses": {"Ok": {"0": {"Return": {"mocked": true}}}}})"),
       .test_case = "Happy",
       .state_machine_name = "M"});
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  auto machine = asl::ParseStateMachine(R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "U"},
    "U": {"Type": "Task", "Resource": "arn:aws:states:::zflow:nothing", "End": true}}})");
  ASSERT_TRUE(machine.ok());
  runtime::Engine engine((*services)->Engine({.virtual_time = true}));
  auto r = engine.Run(*machine, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, Json(R"({"mocked": true})"));  // U is not mocked: it echoes
  std::string bad = Write("bad.yaml", "lambda:\n  f: [not, a, map]\n");
  auto broken = LocalServices::Start({.profile = bad});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("bad.yaml:"), std::string::npos)
      << broken.status().message();
  auto no_case = LocalServices::Start({.mock_config = Json("{}")});
  ASSERT_FALSE(no_case.ok());
  EXPECT_NE(no_case.status().message().find("test case"), std::string::npos);
}

}  // namespace
}  // namespace zflow
