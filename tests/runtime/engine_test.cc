#include "zflow/runtime.h"

#include <future>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "integrations/local_handlers.h"
#include "zflow/asl_parser.h"

namespace zflow::runtime {
namespace {

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    registry_.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
  }

  ExecutionResult Run(std::string_view definition, std::string_view input = "{}",
                      bool virtual_time = true) {
    auto machine = asl::ParseStateMachine(definition);
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    Engine engine({.integrations = &registry_, .virtual_time = virtual_time});
    auto r = engine.Run(*machine, {.input = Json(input)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : ExecutionResult{};
  }

  IntegrationRegistry registry_;
};

std::vector<std::string> Types(const ExecutionResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.history) out.emplace_back(e.type);
  return out;
}

TEST_F(EngineTest, InputOutputChainFollowsAws) {
  // The AWS "InputPath, Parameters and ResultSelector" walk-through, with an echo task.
  ExecutionResult r = Run(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::zflow:echo",
    "InputPath": "$.lambda",
    "Parameters": {"comment": "x", "data.$": "$.a", "ctx.$": "$$.State.Name"},
    "ResultSelector": {"d.$": "$.data", "c.$": "$.ctx"},
    "ResultPath": "$.lambda.result",
    "OutputPath": "$.lambda", "End": true}}})",
                          R"({"lambda": {"a": [1, 2]}, "other": true})");
  EXPECT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
  EXPECT_EQ(r.output, Json(R"({"a": [1, 2], "result": {"d": [1, 2], "c": "T"}})"));
}

TEST_F(EngineTest, NullPathsDiscardAsDocumented) {
  ExecutionResult r = Run(R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
    "InputPath": null, "Result": {"r": 1}, "ResultPath": null, "Next": "Q"},
    "Q": {"Type": "Pass", "OutputPath": null, "End": true}}})",
                          R"({"keep": 1})");
  EXPECT_EQ(r.output, Json("{}"));
  ASSERT_GE(r.history.size(), 4u);
  ASSERT_TRUE(r.history[2].payload);
  EXPECT_EQ(r.history[2].payload.view(), R"({"keep":1})");
  EXPECT_EQ(r.history[2].ToJson().at("stateExitedEventDetails").at("output").as_string(),
            R"({"keep":1})");
}

TEST_F(EngineTest, MapIterationEventsNameTheMapAndTheIndex) {
  ExecutionResult r = Run(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
    "End": true}}})",
                          "[10, 20]");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
  std::vector<std::string> iterations;
  for (const HistoryEvent& e : r.history) {
    if (!e.type.starts_with("MapIteration")) continue;
    json::value j = e.ToJson();
    std::string key = "m" + std::string(e.type.substr(1)) + "EventDetails";
    iterations.push_back(std::string(e.type) + " " + ToJsonText(j.at(key)));
  }
  EXPECT_EQ(iterations, (std::vector<std::string>{
                            R"(MapIterationStarted {"name":"M","index":0})",
                            R"(MapIterationStarted {"name":"M","index":1})",
                            R"(MapIterationSucceeded {"name":"M","index":0})",
                            R"(MapIterationSucceeded {"name":"M","index":1})"}));
  // The first iteration's state is entered with its item.
  EXPECT_EQ(r.history[5].ToJson().at("stateEnteredEventDetails").at("input").as_string(), "10");
}

TEST_F(EngineTest, InlineMapRunsAtMostFortyIterationsAtOnce) {
  // AWS: an inline Map supports up to 40 concurrent iterations, whatever MaxConcurrency says.
  for (std::string_view concurrency : {"0", "100", "7"}) {
    std::string items = "[";
    for (int i = 0; i < 100; ++i) items += (i ? "," : "") + std::to_string(i);
    items += "]";
    ExecutionResult r = Run(std::string(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
      "MaxConcurrency": )") + std::string(concurrency) + R"(, "ItemProcessor": {"StartAt": "W",
      "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}, "End": true}}})",
                            items);
    ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
    int running = 0, most = 0, started = 0;
    for (const HistoryEvent& e : r.history) {
      if (e.type == "MapIterationStarted") most = std::max(most, ++running), ++started;
      if (e.type == "MapIterationSucceeded") --running;
    }
    EXPECT_EQ(started, 100);
    EXPECT_EQ(most, concurrency == "7" ? 7 : 40) << "MaxConcurrency " << concurrency;
  }
}

TEST_F(EngineTest, RunTakingTheInputOverStillServesExecutionInput) {
  Engine engine({.integrations = &registry_, .virtual_time = true});
  // A Map reads $$.Execution.Input in its iterations: the input must stay readable.
  auto reads = engine.Prepare(*asl::ParseStateMachine(R"({"StartAt": "P", "States": {
    "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "M"},
    "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Q", "States": {
      "Q": {"Type": "Pass", "Parameters": {"i.$": "$$.Execution.Input.items[0]"}, "End": true}}},
      "End": true}}})"));
  ASSERT_TRUE(reads.ok()) << reads.status().ToString();
  auto r = engine.Run(**reads, ExecutionOptions{.input = Json(R"({"items": [7, 8]})")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, Json(R"([{"i": 7}, {"i": 7}])")) << r->error << r->cause;
  // Without "$$" the input is moved in; the run is the same.
  auto plain = engine.Prepare(*asl::ParseStateMachine(
      R"({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a",
      "End": true}}})"));
  ASSERT_TRUE(plain.ok());
  ExecutionOptions options{.input = Json(R"({"b": 2})")};
  r = engine.Run(**plain, std::move(options));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, Json(R"({"b": 2, "a": 1})"));
  EXPECT_EQ(r->history.front().payload.view(), R"({"b":2})");
}

TEST_F(EngineTest, HistoryOutlivesItsResultEngineAndMachine) {
  // Events are views into the History: names, payload texts and details must stay readable
  // through a copy after the result, the engine and the prepared machine are gone (ASan checks).
  History history;
  EXPECT_TRUE(history.empty());
  {
    Engine engine({.integrations = &registry_, .virtual_time = true});
    auto machine = asl::ParseStateMachine(R"({"StartAt": "First state", "States": {
      "First state": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "Echo"},
      "Echo": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo", "End": true}}})");
    ASSERT_TRUE(machine.ok());
    auto prepared = engine.Prepare(std::move(*machine));
    ASSERT_TRUE(prepared.ok());
    auto run = engine.Run(**prepared, {.input = Json(R"({"n": 7, "m": 8})")});
    ASSERT_TRUE(run.ok());
    history = run->history;
  }
  ASSERT_GE(history.size(), 8u);
  EXPECT_EQ(history.front().type, "ExecutionStarted");
  EXPECT_EQ(history.front().payload.view(), R"({"n":7,"m":8})");
  EXPECT_EQ(history[1].state_name, "First state");
  EXPECT_EQ(history[2].payload.view(), R"({"n":7})");
  std::vector<std::int64_t> ids;
  bool scheduled = false;
  for (const HistoryEvent& e : history) {
    ids.push_back(e.id);
    if (e.type != "TaskScheduled") continue;
    scheduled = true;
    EXPECT_EQ(e.details->at("resource"), "echo") << ToJsonText(*e.details);
    EXPECT_EQ(e.ToJson().at("taskScheduledEventDetails").at("resourceType"), "zflow");
  }
  EXPECT_TRUE(scheduled);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<std::int64_t>(i + 1));
  EXPECT_EQ(history.back().type, "ExecutionSucceeded");
  EXPECT_EQ(history.end() - history.begin(), static_cast<std::ptrdiff_t>(history.size()));
}

TEST_F(EngineTest, HistoryTextsSpanBlocksAndLongPayloads) {
  // Payload texts are written straight into 64 KiB blocks; a text longer than the room left in
  // a block is written aside and stored whole. 40 states whose output grows by 3,000 bytes each
  // cross many blocks and pass the 4 KiB in-place room: every recorded text must still be the
  // exact serialization of that state's input or output.
  std::string states;
  for (int i = 0; i < 40; ++i) {
    states += fmt::format(R"("S{}": {{"Type": "Pass", "Parameters": {{"pad.$": )"
                          R"j("States.Format('{{}}{}', $.pad)", "n": {}}}, {})j",
                          i, std::string(3000, static_cast<char>('a' + i % 26)), i,
                          i + 1 < 40 ? fmt::format(R"("Next": "S{}"}},)", i + 1)
                                     : std::string(R"("End": true})"));
  }
  ExecutionResult r = Run(R"({"StartAt": "S0", "States": {)" + states + "}}",
                          R"({"pad": "start\n\"quoted\""})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
  std::string pad = "start\n\"quoted\"";
  std::size_t exited = 0;
  for (const HistoryEvent& e : r.history) {
    if (e.type != "PassStateExited") continue;
    int i = std::stoi(std::string(e.state_name.substr(1)));
    pad += std::string(3000, static_cast<char>('a' + i % 26));
    json::object expected{{"pad", pad}, {"n", i}};
    ASSERT_TRUE(e.payload) << e.state_name;
    EXPECT_EQ(e.payload.view(), ToJsonText(expected)) << e.state_name;
    // The next state's entry shares the text.
    if (i + 1 < 40) {
      EXPECT_EQ(r.history[static_cast<std::size_t>(e.id)].payload.view(), e.payload.view());
    }
    ++exited;
  }
  EXPECT_EQ(exited, 40u);
  EXPECT_EQ(ToJsonText(r.output), r.history[r.history.size() - 2].payload.view());
}

TEST_F(EngineTest, ValuesHandedOutOutliveTheRunAndItsEngine) {
  // The engine builds an execution's values in a pool of its own; what a handler receives and
  // what the run returns must not point into it (ASan checks the reads below).
  json::value seen_input, seen_context;
  bool default_storage = false;
  for (bool inline_safe : {false, true}) {
    registry_.RegisterFunction(
        "arn:aws:states:::lambda:invoke",
        [&](const TaskRequest& r) {
          seen_input = r.input;  // a copy keeps the storage of what it copies
          seen_context = r.context;
          default_storage = *r.input.storage() == *json::storage_ptr();
          return TaskResult::Success(r.input);
        },
        inline_safe);
    ExecutionResult r;
    {
      Engine engine({.integrations = &registry_, .virtual_time = true});
      auto machine = asl::ParseStateMachine(R"({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"built": {"n.$": "$.n"}}, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"x.$": "$.built", "name.$": "$$.Execution.Input.n"},
              "ResultPath": "$.t", "End": true}}})");
      ASSERT_TRUE(machine.ok());
      auto run = engine.Run(*machine, {.input = Json(R"({"n": 5})")});
      ASSERT_TRUE(run.ok());
      r = std::move(*run);
    }
    EXPECT_TRUE(default_storage) << "inline_safe " << inline_safe;
    EXPECT_EQ(seen_input, Json(R"({"x": {"n": 5}, "name": 5})"));
    EXPECT_EQ(seen_context.at("State").at("Name"), "T");
    EXPECT_EQ(r.output, Json(R"({"built": {"n": 5}, "t": {"x": {"n": 5}, "name": 5}})"));
    EXPECT_TRUE(*r.output.storage() == *json::storage_ptr());
  }
}

TEST_F(EngineTest, MissingInputPathIsRuntimeErrorNotCaughtByStatesAll) {
  ExecutionResult r = Run(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::zflow:echo", "InputPath": "$.nope",
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
    "Caught": {"Type": "Succeed"}}})");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("'T'"), std::string::npos) << r.cause;
  EXPECT_NE(r.cause.find("$.nope"), std::string::npos) << r.cause;
}

TEST_F(EngineTest, RetryBacksOffOnTheVirtualClockThenCatches) {
  int calls = 0;
  registry_.RegisterFunction("arn:aws:states:::lambda:invoke", [&](const TaskRequest& r) {
    ++calls;
    EXPECT_EQ(r.retry_count, calls - 1);
    return TaskResult::Failure("Boom", "attempt " + std::to_string(calls));
  }, true);
  ExecutionResult r = Run(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "MaxAttempts": 3,
               "BackoffRate": 3, "MaxDelaySeconds": 50}],
    "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Done"}], "End": true},
    "Done": {"Type": "Succeed"}}})");
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(r.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(r.output, Json(R"({"err": {"Error": "Boom", "Cause": "attempt 4"}})"));
  // 10 + 30 + min(90, 50) seconds of backoff, on the virtual clock.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(r.stop_time - r.start_time).count(),
            90);
}

TEST_F(EngineTest, MaxAttemptsZeroNeverRetries) {
  int calls = 0;
  registry_.RegisterFunction("arn:aws:states:::lambda:invoke", [&](const TaskRequest&) {
    ++calls;
    return TaskResult::Failure("Boom", "");
  });
  ExecutionResult r = Run(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}], "End": true}}})");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Boom");
}

TEST_F(EngineTest, ParallelFailureFailsTheStateWithTheBranchError) {
  ExecutionResult r = Run(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel",
    "Branches": [
      {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100, "End": true}}},
      {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "b"}}}],
    "End": true}}})");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Bad");
  // The failure did not wait for the slow branch.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(r.stop_time - r.start_time).count(),
            100);
}

TEST_F(EngineTest, MapKeepsOrderRespectsConcurrencyAndExposesItemContext) {
  ExecutionResult r = Run(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ItemsPath": "$.xs", "MaxConcurrency": 2,
    "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
    "ItemProcessor": {"StartAt": "W", "States": {
      "W": {"Type": "Wait", "SecondsPath": "$.v", "Next": "Out"},
      "Out": {"Type": "Pass", "End": true}}},
    "End": true}}})",
                          R"({"xs": [30, 10, 20], "k": "K"})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"i":0,"v":30,"k":"K"},{"i":1,"v":10,"k":"K"},
                                {"i":2,"v":20,"k":"K"}])"));
  // Two at a time: 10 finishes at t=10, then 20 runs until t=30, alongside 30.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(r.stop_time - r.start_time).count(),
            30);
}

TEST_F(EngineTest, MapToleratedFailures) {
  constexpr std::string_view kMachine = R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ToleratedFailureCount": 1,
    "ItemProcessor": {"StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}],
            "Default": "Ok"},
      "F": {"Type": "Fail", "Error": "Zero"}, "Ok": {"Type": "Pass", "End": true}}},
    "End": true}}})";
  ExecutionResult one = Run(kMachine, "[1, 0, 2]");
  EXPECT_EQ(one.status, ExecutionStatus::kSucceeded) << one.error;
  ExecutionResult two = Run(kMachine, "[0, 0, 2]");
  EXPECT_EQ(two.status, ExecutionStatus::kFailed);
  EXPECT_EQ(two.error, "States.ExceedToleratedFailureThreshold");
}

TEST_F(EngineTest, ExecutionTimeoutTimesOut) {
  ExecutionResult r = Run(R"({"StartAt": "W", "TimeoutSeconds": 60, "States": {
    "W": {"Type": "Wait", "Seconds": 3600, "End": true}}})");
  EXPECT_EQ(r.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(r.error, "States.Timeout");
  EXPECT_EQ(r.history.back().type, "ExecutionTimedOut");
}

// A branch reads the outer scope's variables and assigns its own (AWS refuses a branch that
// assigns a name the outer scope assigns: see the validator's scope rule).
TEST_F(EngineTest, VariablesAreScopedToBranches) {
  ExecutionResult r = Run(R"({"StartAt": "Set", "States": {
    "Set": {"Type": "Pass", "Assign": {"x": 1, "y.$": "$.y"}, "Next": "P"},
    "P": {"Type": "Parallel", "Branches": [{"StartAt": "In", "States": {
      "In": {"Type": "Pass", "Assign": {"z": 2}, "Parameters": {"outer_y.$": "$y"}, "Next": "Read"},
      "Read": {"Type": "Pass", "Parameters": {"inner_z.$": "$z", "outer_x.$": "$x",
                                              "y.$": "$.outer_y"},
               "End": true}}}],
      "ResultPath": "$.branch", "Next": "After"},
    "After": {"Type": "Pass", "Parameters": {"x.$": "$x", "branch.$": "$.branch"}, "End": true}}})",
                          R"({"y": "why"})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
  EXPECT_EQ(r.output,
            Json(R"({"x": 1, "branch": [{"inner_z": 2, "outer_x": 1, "y": "why"}]})"));
}

TEST_F(EngineTest, ChoiceWithoutMatchFails) {
  ExecutionResult r = Run(R"({"StartAt": "C", "States": {"C": {"Type": "Choice",
    "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "D"}]},
    "D": {"Type": "Succeed"}}})",
                          R"({"a": "y"})");
  EXPECT_EQ(r.error, "States.NoChoiceMatched");
}

TEST_F(EngineTest, FailStateWithPaths) {
  ExecutionResult r = Run(R"j({"StartAt": "F", "States": {"F": {"Type": "Fail",
    "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.n)"}}})j",
                          R"({"e": "Custom.Error", "n": 7})");
  EXPECT_EQ(r.error, "Custom.Error");
  EXPECT_EQ(r.cause, "bad 7");
}

TEST_F(EngineTest, HistoryHasAwsEventsAndDetails) {
  ExecutionResult r = Run(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::zflow:echo", "End": true}}})",
                          R"({"a": 1})");
  EXPECT_EQ(Types(r), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered",
                                                "TaskScheduled", "TaskStarted", "TaskSucceeded",
                                                "TaskStateExited", "ExecutionSucceeded"}));
  json::value scheduled = r.history[2].ToJson();
  const json::object& d = scheduled.at("taskScheduledEventDetails").as_object();
  EXPECT_EQ(d.at("resourceType").as_string(), "zflow");
  EXPECT_EQ(d.at("resource").as_string(), "echo");
  EXPECT_EQ(d.at("parameters").as_string(), R"({"a":1})");
  json::value entered = r.history[1].ToJson();
  EXPECT_TRUE(entered.as_object().contains("stateEnteredEventDetails"));
  EXPECT_EQ(entered.at("previousEventId").as_int64(), 1);
}

TEST_F(EngineTest, PayloadLimitIsDataLimitExceeded) {
  ExecutionResult r = Run(R"j({"StartAt": "P", "States": {"P": {"Type": "Pass",
    "Parameters": {"big.$": "States.ArrayRange(1, 1000, 1)"}, "Next": "Q"},
    "Q": {"Type": "Map", "ItemsPath": "$.big", "ItemSelector": {"x.$": "$.big"},
      "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
      "End": true}}})j");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.DataLimitExceeded");
}

TEST_F(EngineTest, TaskTimeoutInRealTime) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  registry_.RegisterFunction("arn:aws:states:::lambda:invoke", [released](const TaskRequest&) {
    released.wait_for(std::chrono::seconds(30));
    return TaskResult::Success(json::value(1));
  });
  auto machine = asl::ParseStateMachine(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 1, "End": true}}})");
  ASSERT_TRUE(machine.ok());
  Engine engine({.integrations = &registry_});
  auto r = engine.Run(*machine, {});
  release.set_value();  // let the abandoned handler finish before the engine joins its workers
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
  EXPECT_EQ(r->error, "States.Timeout");
  std::vector<std::string> types = Types(*r);
  EXPECT_NE(std::find(types.begin(), types.end(), "TaskTimedOut"), types.end());
}

TEST_F(EngineTest, HandlerExceptionBecomesTaskFailed) {
  registry_.RegisterFunction("arn:aws:states:::lambda:invoke", [](const TaskRequest&) -> TaskResult {
    throw std::runtime_error("kaput");
  });
  ExecutionResult r = Run(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})");
  EXPECT_EQ(r.error, "States.TaskFailed");
  EXPECT_EQ(r.cause, "kaput");
}

TEST_F(EngineTest, InvalidMachineIsRefusedBeforeRunning) {
  asl::StateMachine m;  // no states
  Engine engine({.integrations = &registry_});
  EXPECT_FALSE(engine.Run(m, {}).ok());
}

TEST_F(EngineTest, WaitLoopUnderVirtualClockEndsAtTheHistoryLimit) {
  ExecutionResult r = Run(R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 3600, "Next": "C"},
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "D"}],
          "Default": "W"},
    "D": {"Type": "Succeed"}}})");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_EQ(r.history.size(), 25000u);
}

}  // namespace
}  // namespace zflow::runtime

namespace zflow::runtime {
namespace {

TEST_F(EngineTest, MapFailsWhenEitherToleranceIsExceeded) {
  // 2 of 4 fail: within the count (5) but over the percentage (10%).
  ExecutionResult r = Run(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10,
    "ItemProcessor": {"StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}],
            "Default": "Ok"},
      "F": {"Type": "Fail", "Error": "Zero"}, "Ok": {"Type": "Pass", "End": true}}},
    "End": true}}})",
                          "[0, 0, 1, 2]");
  EXPECT_EQ(r.error, "States.ExceedToleratedFailureThreshold");
}

TEST_F(EngineTest, MapParametersSelectEachItem) {
  ExecutionResult r = Run(R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "Parameters": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
    "End": true}}})",
                          R"(["a", "b"])");
  EXPECT_EQ(r.output, Json(R"([{"v": "a", "i": 0}, {"v": "b", "i": 1}])"));
}

TEST_F(EngineTest, ExitedEventListsAssignedVariablesAndCausesNameTheEnteredEvent) {
  ExecutionResult r = Run(R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Assign": {"n": 1, "s": "x"}, "Next": "B"},
    "B": {"Type": "Pass", "Parameters": {"x.$": "$.nope"}, "End": true}}})");
  json::value exited = r.history[2].ToJson().at("stateExitedEventDetails");
  EXPECT_EQ(exited.at("assignedVariables"), Json(R"({"n": "1", "s": "\"x\""})"));
  EXPECT_EQ(exited.at("name").as_string(), "A");
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("'B' (entered at the event id #4)"), std::string::npos) << r.cause;
}

}  // namespace
}  // namespace zflow::runtime

namespace zflow::runtime {
namespace {

constexpr std::string_view kHeartbeatMachine = R"({"StartAt": "T", "States": {"T": {
  "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "HeartbeatSeconds": 1,
  "TimeoutSeconds": 30, "End": true}}})";

TEST_F(EngineTest, TaskThatKeepsBeatingOutlivesHeartbeatSeconds) {
  registry_.RegisterFunction("arn:aws:states:::lambda:invoke", [](const TaskRequest& r) {
    for (int i = 0; i < 6; ++i) {  // 1.5 s of work, a beat every 250 ms
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      r.heartbeat();
    }
    return TaskResult::Success(json::value("done"));
  });
  ExecutionResult r = Run(kHeartbeatMachine, "{}", /*virtual_time=*/false);
  EXPECT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error;
  EXPECT_EQ(r.output, json::value("done"));
}

TEST_F(EngineTest, SilentTaskFailsWithHeartbeatTimeoutAndIsCancelled) {
  std::atomic<bool> saw_cancel{false};
  registry_.RegisterFunction("arn:aws:states:::lambda:invoke", [&](const TaskRequest& r) {
    for (int i = 0; i < 300 && !r.cancelled->load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    saw_cancel = r.cancelled->load();
    return TaskResult::Success(json::value(1));
  });
  ExecutionResult r = Run(kHeartbeatMachine, "{}", /*virtual_time=*/false);
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.HeartbeatTimeout");
  EXPECT_TRUE(saw_cancel.load());  // the engine asked the abandoned handler to stop
  std::vector<std::string> types = Types(r);
  EXPECT_NE(std::find(types.begin(), types.end(), "TaskTimedOut"), types.end());
}

}  // namespace
}  // namespace zflow::runtime

namespace zflow::runtime {
namespace {

// Generated execution names are UUIDs that differ between runs (and processes), as AWS's do:
// jobs named after them must not collide with an earlier run's.
TEST(EngineNames, GeneratedExecutionNamesAreFreshUuids) {
  auto machine = asl::ParseStateMachine(R"({"StartAt": "P", "States": {"P": {"Type": "Pass",
      "Parameters": {"name.$": "$$.Execution.Name"}, "End": true}}})");
  ASSERT_TRUE(machine.ok());
  Engine a({});
  Engine b({});
  auto r1 = a.Run(*machine, {});
  auto r2 = b.Run(*machine, {});
  ASSERT_TRUE(r1.ok() && r2.ok());
  std::string n1(r1->output.at("name").as_string());
  std::string n2(r2->output.at("name").as_string());
  EXPECT_NE(n1, n2);
  ASSERT_EQ(n1.size(), 36u);
  EXPECT_EQ(n1[14], '4');  // version 4
}

}  // namespace
}  // namespace zflow::runtime
