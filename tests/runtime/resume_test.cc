// Stopping an execution after any event and resuming it from its stored history; redrive;
// Stop (ABORTED); event sinks; many executions on one executor.
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "integrations/local_handlers.h"
#include "zflow/asl_parser.h"
#include "zflow/executor.h"
#include "zflow/runtime.h"

namespace zflow::runtime {
namespace {

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

// An in-memory object store for the distributed Map.
class MemoryStore final : public ObjectStore {
 public:
  Result<std::string> Get(std::string_view bucket, std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(fmt::format("{}/{}", bucket, key));
    if (it == objects_.end()) return NotFoundError("no such object");
    return it->second;
  }
  Result<std::vector<ObjectInfo>> List(std::string_view, std::string_view) override {
    return std::vector<ObjectInfo>{};
  }
  Status Put(std::string_view bucket, std::string_view key, std::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[fmt::format("{}/{}", bucket, key)] = std::string(data);
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
};

// Every kind of wait the engine has, in one machine: a pool task that fails twice and is
// retried with jittered backoff, a Catch, a Wait, a Parallel, an inline Map with variables, a
// distributed Map reading from and writing to the object store, a task token, a timeout.
constexpr std::string_view kVaried = R"j({
  "StartAt": "Flaky",
  "States": {
    "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::zflow:flaky",
      "Parameters": {"n.$": "$.n"}, "ResultPath": "$.flaky",
      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "BackoffRate": 2.5,
                 "JitterStrategy": "FULL"}],
      "Next": "Broken"},
    "Broken": {"Type": "Task", "Resource": "arn:aws:states:::zflow:fail",
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Nap"}],
      "End": true},
    "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Fan"},
    "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each",
      "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo",
          "Parameters": {"a.$": "$.n"}, "Next": "AWait"},
          "AWait": {"Type": "Wait", "Seconds": 5, "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.each", "MaxConcurrency": 2,
      "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
      "ItemProcessor": {"StartAt": "Square", "States": {
        "Square": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo",
          "Parameters": {"sq.$": "States.MathAdd($.v, $.i)"}, "Assign": {"last.$": "$.sq"},
          "Next": "Short"},
        "Short": {"Type": "Wait", "Seconds": 2, "End": true}}},
      "Next": "Dist"},
    "Dist": {"Type": "Map", "ResultPath": "$.dist",
      "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "data", "Key": "items.json"}},
      "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out", "Prefix": "runs"}},
      "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Double", "States": {"Double": {"Type": "Pass",
          "Parameters": {"d.$": "States.MathAdd($.x, $.x)"}, "End": true}}},
      "Next": "Approve"},
    "Approve": {"Type": "Task", "Resource": "arn:aws:states:::zflow:approve.waitForTaskToken",
      "Parameters": {"token.$": "$$.Task.Token"}, "TimeoutSeconds": 600,
      "ResultPath": "$.approved", "Next": "Done"},
    "Done": {"Type": "Pass", "Parameters": {"flaky.$": "$.flaky", "fan.$": "$.fan",
      "each.$": "$.each", "dist.$": "$.dist", "approved.$": "$.approved",
      "caught.$": "$.caught.Error", "rc.$": "$$.Execution.RedriveCount"}, "End": true}
  }})j";

constexpr std::string_view kVariedInput = R"({"n": 7, "items": [10, 20, 30]})";

// Events k-6 .. k+3 as "id type name (previous)" lines, for failure messages.
std::string Around(const History& h, std::size_t k) {
  std::string out;
  for (std::size_t i = k > 6 ? k - 6 : 1; i <= std::min(h.size(), k + 3); ++i) {
    HistoryEvent e = h[i - 1];
    out += fmt::format("  {} {} {} (after {}){}\n", e.id, e.type, e.state_name,
                       e.previous_event_id, i == k ? "  <--" : "");
  }
  return out;
}

TimePoint T0() { return TimePoint(std::chrono::seconds(1'800'000'000)); }

class ResumeTest : public ::testing::Test {
 protected:
  ResumeTest() : clock_(T0()) {
    (void)store_.Put("data", "items.json", R"([{"x": 1}, {"x": 2}, {"x": 3}])");
    registry_.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
    // A pool task (not inline) that fails on its first two attempts.
    registry_.RegisterFunction("arn:aws:states:::zflow:flaky", [this](const TaskRequest& r) {
      ++flaky_calls_;
      if (r.retry_count < 2) return TaskResult::Failure("Flaky", "not yet");
      return TaskResult::Success(json::object{{"attempts", r.retry_count + 1}});
    });
    registry_.RegisterFunction("arn:aws:states:::zflow:fail", [this](const TaskRequest&) {
      ++fail_calls_;
      if (heal_) return TaskResult::Success(json::object{{"healed", true}});
      return TaskResult::Failure("Broken", "it always fails");
    });
    // Hands its token on by answering it at once (as a queue consumer would).
    registry_.RegisterFunction(
        "arn:aws:states:::zflow:approve.waitForTaskToken", [this](const TaskRequest& r) {
          std::string token(r.input.at("token").as_string());
          Status st = engine_for_tokens_.load()->SendTaskSuccess(
              token, json::object{{"ok", true}, {"token_len", token.size()}});
          if (!st.ok()) return TaskResult::Failure("Approve", st.message());
          return TaskResult::Success(json::object{});
        });
  }

  EngineOptions Options() {
    return {.integrations = &registry_, .clock = &clock_, .virtual_time = true,
            .object_store = &store_};
  }

  std::shared_ptr<const PreparedMachine> Prepared(std::string_view definition) {
    auto machine = asl::ParseStateMachine(definition);
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    auto prepared = runtime::Prepare(std::move(*machine));
    EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
    return *prepared;
  }

  ExecutionResult RunFresh(const PreparedMachine& m, std::string_view input) {
    Engine engine(Options());
    engine_for_tokens_ = &engine;
    auto r = engine.Run(m, ExecutionOptions{.input = Json(input), .name = "run-1",
                                            .state_machine_name = "varied", .seed = "seed-1"});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(*r);
  }

  Result<ExecutionResult> ResumeFrom(const PreparedMachine& m, const json::value& stored,
                                     const ExecutionInfo& info) {
    auto history = History::FromJson(stored);
    if (!history.ok()) return history.status();
    Engine engine(Options());
    engine_for_tokens_ = &engine;
    return engine.Resume(m, *history, info);
  }

  static json::value Prefix(const json::value& full, std::size_t n) {
    const json::array& all = full.at("events").as_array();
    json::array events(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    return json::object{{"events", std::move(events)}};
  }

  ManualClock clock_;
  MemoryStore store_;
  IntegrationRegistry registry_;
  std::atomic<int> flaky_calls_{0};
  std::atomic<int> fail_calls_{0};
  std::atomic<bool> heal_{false};
  std::atomic<Engine*> engine_for_tokens_{nullptr};
};

TEST_F(ResumeTest, StoppedAfterAnyEventTheExecutionResumesToTheSameOutcomeAndHistory) {
  auto m = Prepared(kVaried);
  ExecutionResult ref = RunFresh(*m, kVariedInput);
  ASSERT_EQ(ref.status, ExecutionStatus::kSucceeded) << ref.error << ": " << ref.cause;
  EXPECT_EQ(ref.output.at("flaky"), Json(R"({"attempts": 3})"));
  EXPECT_EQ(ref.output.at("each"), Json(R"([{"sq": 10}, {"sq": 21}, {"sq": 32}])"));
  EXPECT_EQ(ref.output.at("approved").at("ok"), true);
  const json::value full = ref.history.ToJson();
  const std::string full_text = ToJsonText(full);
  const std::size_t n = ref.history.size();
  ASSERT_GT(n, 60u);
  for (std::size_t k = 1; k < n; ++k) {
    SCOPED_TRACE(fmt::format("stopped after event {} ({})", k, ref.history[k - 1].type));
    auto r = ResumeFrom(*m, Prefix(full, k), ref.info);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << Around(ref.history, k);
    EXPECT_EQ(r->status, ref.status);
    EXPECT_EQ(r->output, ref.output);
    std::string text = ToJsonText(r->history.ToJson());
    if (text != full_text) {
      for (std::size_t i = 0; i < std::min(n, r->history.size()); ++i) {
        ASSERT_EQ(ToJsonText(r->history[i].ToJson()), ToJsonText(ref.history[i].ToJson()))
            << "first difference at event " << i + 1 << "\nexpected:\n"
            << Around(ref.history, i + 1) << "got:\n" << Around(r->history, i + 1);
      }
      ASSERT_EQ(r->history.size(), n);
    }
  }
}

TEST_F(ResumeTest, CompletedTasksAreNotRunAgainAndInFlightOnesAre) {
  auto m = Prepared(kVaried);
  ExecutionResult ref = RunFresh(*m, kVariedInput);
  ASSERT_EQ(ref.status, ExecutionStatus::kSucceeded);
  const json::value full = ref.history.ToJson();
  // Find the third TaskStarted of Flaky (its last attempt) and stop right after it: that
  // attempt is in flight and runs again; the two failed ones do not.
  std::size_t third = 0;
  int seen = 0;
  for (std::size_t i = 0; i < ref.history.size(); ++i) {
    if (ref.history[i].kind == EventType::kTaskStarted && ++seen == 3) third = i + 1;
  }
  ASSERT_GT(third, 0u);
  flaky_calls_ = 0;
  auto r = ResumeFrom(*m, Prefix(full, third), ref.info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(flaky_calls_.load(), 1);
  flaky_calls_ = 0;
  r = ResumeFrom(*m, Prefix(full, third + 1), ref.info);  // its answer is on record
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(flaky_calls_.load(), 0);
  EXPECT_EQ(r->output, ref.output);
}

TEST_F(ResumeTest, AnEndedExecutionIsNotResumedAndAForeignHistoryIsRefused) {
  auto m = Prepared(kVaried);
  ExecutionResult ref = RunFresh(*m, kVariedInput);
  auto again = ResumeFrom(*m, ref.history.ToJson(), ref.info);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already ended (SUCCEEDED)"), std::string::npos);
  // The same history against another machine: the first event that differs is named.
  auto other = Prepared(R"({"StartAt": "Other", "States": {"Other": {"Type": "Pass", "End": true}}})");
  auto r = ResumeFrom(*other, Prefix(ref.history.ToJson(), 5), ref.info);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at event 2"), std::string::npos) << r.status().message();
}

TEST_F(ResumeTest, LoadingAHistoryReportsWhatIsWrongAndWhere) {
  EXPECT_FALSE(History::FromJson(Json("[1]")).ok());
  auto bad_type = History::FromJson(Json(R"({"events": [{"id": 1, "previousEventId": 0,
      "timestamp": "2026-01-01T00:00:00.000Z", "type": "Nonsense"}]})"));
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("history event 1"), std::string::npos);
  auto bad_id = History::FromJson(Json(R"({"events": [{"id": 2, "previousEventId": 0,
      "timestamp": "2026-01-01T00:00:00.000Z", "type": "ExecutionStarted"}]})"));
  ASSERT_FALSE(bad_id.ok());
  auto bad_payload = History::FromJson(Json(R"({"events": [{"id": 1, "previousEventId": 0,
      "timestamp": "2026-01-01T00:00:00.000Z", "type": "ExecutionStarted",
      "executionStartedEventDetails": {"input": "{not json"}}]})"));
  ASSERT_FALSE(bad_payload.ok());
  EXPECT_NE(bad_payload.status().message().find("not JSON"), std::string::npos);
}

TEST_F(ResumeTest, RedriveRerunsTheFailedStateAndKeepsWhatSucceeded) {
  auto m = Prepared(R"({"StartAt": "First", "States": {
    "First": {"Type": "Task", "Resource": "arn:aws:states:::zflow:flaky",
      "Parameters": {}, "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 5}],
      "ResultPath": "$.first", "Next": "Both"},
    "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Count", "Branches": [
      {"StartAt": "Ok", "States": {"Ok": {"Type": "Task",
         "Resource": "arn:aws:states:::zflow:echo", "Parameters": {"ok": 1}, "End": true}}},
      {"StartAt": "Bad", "States": {"Bad": {"Type": "Task",
         "Resource": "arn:aws:states:::zflow:fail", "End": true}}}]},
    "Count": {"Type": "Pass", "Parameters": {"rc.$": "$$.Execution.RedriveCount",
      "both.$": "$.both", "first.$": "$.first"}, "End": true}}})");
  ExecutionResult failed = RunFresh(*m, "{}");
  ASSERT_EQ(failed.status, ExecutionStatus::kFailed);
  EXPECT_EQ(failed.error, "Broken");
  EXPECT_EQ(flaky_calls_.load(), 3);
  EXPECT_EQ(fail_calls_.load(), 1);
  heal_ = true;
  Engine engine(Options());
  auto r = engine.Redrive(*m, failed.history, failed.info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
  EXPECT_EQ(r->output, Json(R"({"rc": 1, "both": [{"ok": 1}, {"healed": true}],
                                "first": {"attempts": 3}})"));
  EXPECT_EQ(flaky_calls_.load(), 3);  // not run again
  EXPECT_EQ(fail_calls_.load(), 2);
  EXPECT_EQ(r->redrive_count, 1);
  // The old events stay; ExecutionRedriven follows ExecutionFailed.
  std::size_t old = failed.history.size();
  ASSERT_GT(r->history.size(), old);
  EXPECT_EQ(r->history[old - 1].kind, EventType::kExecutionFailed);
  EXPECT_EQ(r->history[old].kind, EventType::kExecutionRedriven);
  EXPECT_EQ(r->history[old].ToJson().at("executionRedrivenEventDetails"),
            Json(R"({"redriveCount": 1})"));
  EXPECT_EQ(r->history[old + 1].kind, EventType::kTaskStateEntered);
  EXPECT_EQ(r->history[old + 1].state_name, "Bad");
  // A redriven execution, stopped after any of its events, resumes to the same end.
  const json::value full = r->history.ToJson();
  // (Before the redrive the task is healed now, so a resume would run differently.)
  for (std::size_t k = old; k < r->history.size(); ++k) {
    SCOPED_TRACE(fmt::format("stopped after event {}", k));
    auto again = ResumeFrom(*m, Prefix(full, k), r->info);
    if (k == old) {  // the failed run's last event: that execution has ended
      ASSERT_FALSE(again.ok());
      continue;
    }
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(ToJsonText(again->history.ToJson()), ToJsonText(full));
  }
  // Succeeded: nothing to redrive.
  auto none = engine.Redrive(*m, r->history, r->info);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("ExecutionNotRedrivable"), std::string::npos);
}

TEST_F(ResumeTest, AStoppedExecutionIsAbortedAndCanBeRedriven) {
  auto m = Prepared(R"({"StartAt": "Hold", "States": {
    "Hold": {"Type": "Task", "Resource": "arn:aws:states:::zflow:hold.waitForTaskToken",
      "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}})");
  std::mutex mu;
  std::vector<std::string> tokens;
  EngineOptions options = Options();
  options.on_task_token = [&](const std::string&, const std::string& token) {
    std::lock_guard<std::mutex> lock(mu);
    tokens.push_back(token);
  };
  Executor executor(options);
  std::thread loop([&] { executor.Serve(); });
  std::promise<Result<ExecutionResult>> first;
  auto id = executor.Start(m, {.input = Json("{}"), .name = "held"},
                           [&](Result<ExecutionResult> r) { first.set_value(std::move(r)); });
  ASSERT_TRUE(id.ok());
  while (true) {
    std::lock_guard<std::mutex> lock(mu);
    if (!tokens.empty()) break;
  }
  ASSERT_TRUE(executor.Stop(*id, "Operator", "stopped by hand").ok());
  auto stopped = first.get_future().get();
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->status, ExecutionStatus::kAborted);
  EXPECT_EQ(stopped->history.back().kind, EventType::kExecutionAborted);
  EXPECT_EQ(stopped->history.back().ToJson().at("executionAbortedEventDetails"),
            Json(R"({"error": "Operator", "cause": "stopped by hand"})"));
  // The token died with the execution.
  EXPECT_EQ(executor.SendTaskSuccess(tokens[0], json::object{}).code(), StatusCode::kNotFound);
  // Redriven, the task waits again, with a new token; answering it finishes the execution.
  std::promise<Result<ExecutionResult>> second;
  auto redriven = executor.Redrive(m, stopped->history, stopped->info, nullptr,
                                   [&](Result<ExecutionResult> r) { second.set_value(std::move(r)); });
  ASSERT_TRUE(redriven.ok());
  while (true) {
    std::lock_guard<std::mutex> lock(mu);
    if (tokens.size() == 2) break;
  }
  EXPECT_NE(tokens[1], tokens[0]);
  ASSERT_TRUE(executor.SendTaskSuccess(tokens[1], json::object{{"done", true}}).ok());
  auto done = second.get_future().get();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(done->output, Json(R"({"done": true})"));
  executor.Shutdown();
  loop.join();
}

// Counts what it is given and checks it comes in order, before effects.
class CountingSink final : public EventSink {
 public:
  Status Append(const ExecutionInfo& info, const History& history, std::size_t first) override {
    if (first != appended) return InternalError("events skipped or repeated");
    appended = history.size();
    ++batches;
    if (fail_after >= 0 && appended > static_cast<std::size_t>(fail_after)) {
      return UnavailableError("disk full");
    }
    return Status::Ok();
  }
  std::size_t appended = 0;
  int batches = 0;
  int fail_after = -1;
};

TEST_F(ResumeTest, TheSinkSeesEveryEventBeforeTheTaskRunsAndAFailingSinkStopsTheExecution) {
  auto m = Prepared(kVaried);
  CountingSink sink;
  Engine engine(Options());
  engine_for_tokens_ = &engine;
  auto r = engine.Run(*m, ExecutionOptions{.input = Json(kVariedInput), .sink = &sink});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(sink.appended, r->history.size());
  EXPECT_GT(sink.batches, 3);
  // The sink refuses the events before the first task: the task never runs.
  CountingSink refusing;
  refusing.fail_after = 1;
  flaky_calls_ = 0;
  auto cut = engine.Run(*m, ExecutionOptions{.input = Json(kVariedInput), .sink = &refusing});
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->status, ExecutionStatus::kFailed);
  EXPECT_EQ(cut->sink_status.code(), StatusCode::kUnavailable);
  EXPECT_NE(cut->cause.find("disk full"), std::string::npos);
  EXPECT_EQ(flaky_calls_.load(), 0);
}

TEST_F(ResumeTest, OneExecutorRunsManyWaitingExecutionsWithoutAThreadEach) {
  auto m = Prepared(R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "SecondsPath": "$.s", "Next": "P"},
    "P": {"Type": "Pass", "Parameters": {"s.$": "$.s"}, "End": true}}})");
  Executor executor(Options());
  std::atomic<int> done{0};
  std::atomic<int> ok{0};
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    auto id = executor.Start(m, {.input = json::object{{"s", i % 97}}},
                             [&, i](Result<ExecutionResult> r) {
                               ++done;
                               if (r.ok() && r->status == ExecutionStatus::kSucceeded &&
                                   r->output.at("s").as_int64() == i % 97) {
                                 ++ok;
                               }
                             });
    ASSERT_TRUE(id.ok());
  }
  executor.RunUntilIdle();
  EXPECT_EQ(done.load(), kCount);
  EXPECT_EQ(ok.load(), kCount);
  EXPECT_EQ(executor.running(), 0u);
}

}  // namespace
}  // namespace zflow::runtime

namespace zflow::runtime {
namespace {

TEST_F(ResumeTest, LongHistoriesRoundTripThroughJsonAndResumeAcrossChunks) {
  // 700 Map iterations: thousands of events, across every chunk size of the history.
  auto m = Prepared(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
    "MaxConcurrency": 3, "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Task",
      "Resource": "arn:aws:states:::zflow:echo", "Parameters": {"v.$": "$"}, "End": true}}},
    "End": true}}})");
  json::array items;
  for (int i = 0; i < 700; ++i) items.push_back(i);
  std::string input = ToJsonText(json::object{{"items", items}});
  ExecutionResult ref = RunFresh(*m, input);
  ASSERT_EQ(ref.status, ExecutionStatus::kSucceeded);
  ASSERT_GT(ref.history.size(), 4000u);
  const json::value full = ref.history.ToJson();
  auto loaded = History::FromJson(full);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(ToJsonText(loaded->ToJson()), ToJsonText(full));
  for (std::size_t k : {std::size_t{3000}, ref.history.size() - 2}) {
    auto r = ResumeFrom(*m, Prefix(full, k), ref.info);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(ToJsonText(r->history.ToJson()), ToJsonText(full)) << "stopped after " << k;
  }
}

}  // namespace
}  // namespace zflow::runtime
