// Nested executions (states:startExecution, .sync, .sync:2) against local definitions.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "integrations/local_handlers.h"
#include "integrations/nested.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

class NestedTest : public ::testing::Test {
 protected:
  NestedTest() : dir_(fs::temp_directory_path() / ("zflow-nested-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "child.asl.json") << R"j({"StartAt": "Check", "States": {
      "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10,
                "Next": "TooBig"}], "Default": "Echo"},
      "Echo": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo",
               "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true},
      "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "n is over 10"}}})j";
    handler_ = std::make_shared<NestedExecutionHandler>(
        std::map<std::string, std::string>{{"child", (dir_ / "child.asl.json").string()},
                                           {"slow", (dir_ / "slow.asl.json").string()}});
    registry_.Register(std::string(kEchoResource), MakeEchoHandler());
    for (const char* r : {"arn:aws:states:::states:startExecution",
                          "arn:aws:states:::states:startExecution.sync",
                          "arn:aws:states:::states:startExecution.sync:2"}) {
      registry_.Register(r, handler_);
    }
    std::ofstream(dir_ / "slow.asl.json") << R"j({"StartAt": "Nap", "States": {
      "Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}})j";
  }
  ~NestedTest() override { fs::remove_all(dir_); }

  runtime::ExecutionResult Start(std::string_view resource, std::string_view extra,
                                 std::string_view machine = "child") {
    auto parent = asl::ParseStateMachine(fmt::format(
        R"({{"StartAt": "C", "States": {{"C": {{"Type": "Task", "Resource": "{}",
            "Parameters": {{"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
                           "Input": {{"n.$": "$.n"}} {}}}, "End": true}}}}}})",
        resource, machine, extra));
    EXPECT_TRUE(parent.ok()) << parent.status().ToString();
    runtime::Engine engine({.integrations = &registry_, .virtual_time = true});
    auto r = engine.Run(*parent, {.input = Json(R"({"n": 4})")});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  }

  fs::path dir_;
  std::shared_ptr<NestedExecutionHandler> handler_;
  runtime::IntegrationRegistry registry_;
};

TEST_F(NestedTest, Sync2ReturnsTheChildsOutputAsJsonAndSyncAsText) {
  auto r = Start("arn:aws:states:::states:startExecution.sync:2", R"(, "Name": "kid-1")");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("Status"), "SUCCEEDED");
  EXPECT_EQ(r.output.at("Output"), Json(R"({"doubled": 8})"));
  EXPECT_EQ(r.output.at("ExecutionArn"),
            "arn:aws:states:us-east-1:123456789012:execution:child:kid-1");
  r = Start("arn:aws:states:::states:startExecution.sync", "");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("Output"), R"({"doubled":8})");
  EXPECT_EQ(r.output.at("Input"), R"({"n":4})");
}

TEST_F(NestedTest, ChildFailuresAndUnknownMachinesAreNamedAsAwsNamesThem) {
  auto parent = asl::ParseStateMachine(R"({"StartAt": "C", "States": {"C": {"Type": "Task",
      "Resource": "arn:aws:states:::states:startExecution.sync:2",
      "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child",
                     "Input": {"n": 40}}, "End": true}}})");
  ASSERT_TRUE(parent.ok());
  runtime::Engine engine({.integrations = &registry_, .virtual_time = true});
  auto r = engine.Run(*parent, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, "States.TaskFailed");
  json::value cause = Json(r->cause);
  EXPECT_EQ(cause.at("Status"), "FAILED");
  EXPECT_EQ(cause.at("Error"), "TooBig");
  auto unknown = Start("arn:aws:states:::states:startExecution.sync:2", "", "nope");
  EXPECT_EQ(unknown.error, "StepFunctions.StateMachineDoesNotExistException");
  ASSERT_EQ(Start("arn:aws:states:::states:startExecution.sync:2", R"(, "Name": "same")").status,
            runtime::ExecutionStatus::kSucceeded);
  auto again = Start("arn:aws:states:::states:startExecution.sync:2", R"(, "Name": "same")");
  EXPECT_EQ(again.error, "StepFunctions.ExecutionAlreadyExistsException");
}

TEST_F(NestedTest, RequestResponseStartsTheChildAndReturnsAtOnce) {
  auto r = Start("arn:aws:states:::states:startExecution", R"(, "Name": "bg-1")");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("ExecutionArn"),
            "arn:aws:states:us-east-1:123456789012:execution:child:bg-1");
  EXPECT_TRUE(r.output.at("StartDate").is_int64());
}

TEST_F(NestedTest, ChildrenRunOnTheParentsExecutorAndClock) {
  // An hour-long child of a .sync task: under the parent's virtual clock it takes no time,
  // and its start and stop are an hour apart on that clock.
  auto r = Start("arn:aws:states:::states:startExecution.sync:2", R"(, "Name": "nap")", "slow");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("StopDate").as_int64() - r.output.at("StartDate").as_int64(), 3600000);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(r.stop_time - r.start_time).count(),
            3600);
}

}  // namespace
}  // namespace zflow::integrations
