// .waitForTaskToken: $$.Task.Token, SendTaskSuccess/Failure/Heartbeat from other threads,
// timeouts and heartbeat timeouts while waiting, a new token per attempt.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace zflow::runtime {
namespace {

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

struct TokenRun {
  std::unique_ptr<Engine> engine;
  IntegrationRegistry registry;
  std::vector<std::string> tokens;  // what the handler was given
  std::vector<std::thread> answering;  // joined before the engine goes away
  std::mutex mu;

  ~TokenRun() {
    for (auto& t : answering) t.join();
  }

  // A handler that receives the token in its input and answers with `answer` on another
  // thread (after `delay`), as a worker outside the state machine would.
  void Serve(std::function<void(Engine&, const std::string&, int attempt)> answer) {
    registry.RegisterFunction(
        "arn:aws:states:::lambda:invoke.waitForTaskToken", [this, answer](const TaskRequest& r) {
          std::string token(r.input.at("Payload").at("token").as_string());
          std::lock_guard<std::mutex> lock(mu);
          tokens.push_back(token);
          int attempt = static_cast<int>(tokens.size());
          answering.emplace_back([this, answer, token, attempt] { answer(*engine, token, attempt); });
          return TaskResult::Success(json::object{{"StatusCode", 202}});
        });
  }

  ExecutionResult Run(std::string_view extra_fields, bool virtual_time = false) {
    std::string def = std::string(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}})") +
                      std::string(extra_fields) + R"(, "End": true}}})";
    auto machine = asl::ParseStateMachine(def);
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    engine = std::make_unique<Engine>(EngineOptions{.integrations = &registry, .virtual_time = virtual_time});
    auto r = engine->Run(*machine, {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : ExecutionResult{};
  }
};

TEST(TaskToken, SendTaskSuccessCompletesTheTaskWithItsOutput) {
  TokenRun t;
  t.Serve([](Engine& e, const std::string& token, int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(e.SendTaskHeartbeat(token).ok());
    EXPECT_TRUE(e.SendTaskSuccess(token, Json(R"({"approved": true})")).ok());
    EXPECT_EQ(e.SendTaskSuccess(token, json::object()).code(), StatusCode::kNotFound);
  });
  auto r = t.Run("");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"({"approved": true})"));
  ASSERT_EQ(t.tokens.size(), 1u);
  EXPECT_TRUE(t.tokens[0].starts_with("zflow-"));
}

TEST(TaskToken, AnAnswerSentBeforeTheHandlerReturnsIsKept) {
  TokenRun t;
  t.registry.RegisterFunction(
      "arn:aws:states:::lambda:invoke.waitForTaskToken", [&t](const TaskRequest& r) {
        std::string token(r.input.at("Payload").at("token").as_string());
        EXPECT_TRUE(t.engine->SendTaskSuccess(token, Json(R"({"fast": 1})")).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return TaskResult::Success(json::object());
      });
  auto r = t.Run("");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"({"fast": 1})"));
}

TEST(TaskToken, FailuresAreRetriedWithANewTokenThenCaught) {
  TokenRun t;
  t.Serve([](Engine& e, const std::string& token, int attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(e.SendTaskFailure(token, "Rejected", "attempt " + std::to_string(attempt)).ok());
  });
  auto r = t.Run(R"(, "Retry": [{"ErrorEquals": ["Rejected"], "MaxAttempts": 1,
                                 "IntervalSeconds": 1}])");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Rejected");
  EXPECT_EQ(r.cause, "attempt 2");
  ASSERT_EQ(t.tokens.size(), 2u);
  EXPECT_NE(t.tokens[0], t.tokens[1]);
}

TEST(TaskToken, NoAnswerTimesOutAndSilenceIsAHeartbeatTimeout) {
  TokenRun t;
  t.Serve([](Engine&, const std::string&, int) {});  // never answers
  auto r = t.Run(R"(, "TimeoutSeconds": 1)");
  EXPECT_EQ(r.error, "States.Timeout");
  TokenRun h;
  h.Serve([](Engine&, const std::string&, int) {});
  r = h.Run(R"(, "TimeoutSeconds": 60, "HeartbeatSeconds": 1)");
  EXPECT_EQ(r.error, "States.HeartbeatTimeout");
  EXPECT_EQ(h.engine->SendTaskSuccess(h.tokens[0], json::object()).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace zflow::runtime
