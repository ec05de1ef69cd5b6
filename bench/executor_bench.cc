// Many executions on one executor, and resuming them from stored histories.
//
//   build/bench/executor_bench waiting [--count 100000]   # executions waiting on a Wait state
//   build/bench/executor_bench tokens [--count 100000]    # ... on a task token
//   build/bench/executor_bench resume [--count 10000]     # resumed from stored histories
//
// `waiting` and `tokens` start N executions at once on one executor (one loop thread, no
// thread per execution), report the time until every one is waiting, the process's RSS and
// thread count at that point, and the time until all of them have completed (the Wait's
// deadline passing, or every token answered). `resume` runs N executions of a 52-state machine
// up to a Wait, keeps their histories, and resumes all N on a fresh executor: time per
// replayed event. Each mode prints one JSON line.
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "zflow/asl_parser.h"
#include "zflow/executor.h"
#include "zflow/runtime.h"

namespace {

using zflow::runtime::EventSink;
using zflow::runtime::ExecutionInfo;
using zflow::runtime::ExecutionResult;
using zflow::runtime::Executor;
using zflow::runtime::History;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A line of /proc/self/status ("VmRSS", "Threads") as a number (kB for sizes).
long ProcStatus(std::string_view key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      return std::atol(line.c_str() + key.size() + 1);
    }
  }
  return -1;
}

std::shared_ptr<const zflow::runtime::PreparedMachine> Prepare(std::string_view definition) {
  auto machine = zflow::asl::ParseStateMachine(definition);
  if (!machine.ok()) {
    std::cerr << machine.status().ToString() << "\n";
    std::exit(2);
  }
  auto prepared = zflow::runtime::Prepare(std::move(*machine));
  if (!prepared.ok()) {
    std::cerr << prepared.status().ToString() << "\n";
    std::exit(2);
  }
  return *prepared;
}

// Counts executions whose events reached the sink with the last one being a wait: the loop
// commits before it waits, so this is "every execution is waiting".
class WaitingCounter final : public EventSink {
 public:
  zflow::Status Append(const ExecutionInfo&, const History& history, std::size_t first) override {
    auto last = history.back().kind;
    if (last == zflow::runtime::EventType::kWaitStateEntered ||
        last == zflow::runtime::EventType::kTaskStarted) {
      ++waiting;
    }
    events += history.size() - first;
    return zflow::Status::Ok();
  }
  std::atomic<long> waiting{0};
  std::atomic<long> events{0};
};

int Waiting(long count, bool tokens) {
  auto machine = Prepare(
      tokens ? R"({"StartAt": "Hold", "States": {"Hold": {"Type": "Task",
                   "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                   "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}})"
             : R"({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 5,
                   "Next": "Done"}, "Done": {"Type": "Pass", "End": true}}})");
  std::mutex mu;
  std::vector<std::string> token_list;
  zflow::runtime::EngineOptions options;
  options.worker_threads = 2;
  if (tokens) {
    options.on_task_token = [&](const std::string&, const std::string& token) {
      std::lock_guard<std::mutex> lock(mu);
      token_list.push_back(token);
    };
  }
  long rss_before = ProcStatus("VmRSS");
  Executor executor(options);
  std::thread loop([&] { executor.Serve(); });
  WaitingCounter sink;
  std::atomic<long> done{0};
  std::atomic<long> succeeded{0};
  auto start = Clock::now();
  for (long i = 0; i < count; ++i) {
    auto id = executor.Start(machine, {.input = zflow::json::object{{"i", i}}, .sink = &sink},
                             [&](zflow::Result<ExecutionResult> r) {
                               if (r.ok() && r->status == zflow::runtime::ExecutionStatus::kSucceeded) {
                                 ++succeeded;
                               }
                               ++done;
                             });
    if (!id.ok()) return 2;
  }
  while (sink.waiting.load() < count) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double start_seconds = Since(start);
  long rss = ProcStatus("VmRSS");
  long threads = ProcStatus("Threads");
  // Without the memory malloc kept from the start-up burst (the queued Start commands, freed
  // already): what the waiting executions hold (plus, for tokens, the harness's token list).
  malloc_trim(0);
  if (std::getenv("ZFLOW_MALLOC_STATS") != nullptr) malloc_stats();
  long rss_trimmed = ProcStatus("VmRSS");
  auto finish = Clock::now();
  if (tokens) {
    std::vector<std::string> all;
    {
      std::lock_guard<std::mutex> lock(mu);
      all = token_list;
    }
    for (const std::string& t : all) {
      if (!executor.SendTaskSuccess(t, zflow::json::object{{"ok", true}}).ok()) return 2;
    }
  }
  while (done.load() < count) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double finish_seconds = Since(finish);
  executor.Shutdown();
  loop.join();
  std::cout << fmt::format(
                   R"({{"mode": "{}", "executions": {}, "start_seconds": {:.3f}, )"
                   R"("rss_waiting_mb": {:.1f}, "rss_per_execution_bytes": {}, )"
                   R"("rss_after_trim_mb": {:.1f}, "threads": {}, )"
                   R"("complete_seconds": {:.3f}, "succeeded": {}}})",
                   tokens ? "tokens" : "waiting", count, start_seconds, rss / 1024.0,
                   (rss - rss_before) * 1024 / count, rss_trimmed / 1024.0, threads,
                   finish_seconds, succeeded.load())
            << std::endl;
  return succeeded.load() == count ? 0 : 1;
}

// Keeps each execution's history as the engine committed it.
class Keeper final : public EventSink {
 public:
  zflow::Status Append(const ExecutionInfo& info, const History& history, std::size_t) override {
    std::lock_guard<std::mutex> lock(mu);
    kept.insert_or_assign(info.name, std::pair{info, history});
    return zflow::Status::Ok();
  }
  std::mutex mu;
  std::map<std::string, std::pair<ExecutionInfo, History>> kept;
};

int Resume(long count) {
  std::string definition = R"({"StartAt": "S0", "States": {)";
  constexpr int kStates = 50;
  for (int i = 0; i < kStates; ++i) {
    definition += fmt::format(
        R"("S{}": {{"Type": "Pass", "Parameters": {{"step": {}, "prev.$": "$.last.step"}}, )"
        R"("ResultPath": "$.last", "Next": "{}"}},)",
        i, i, i + 1 < kStates ? fmt::format("S{}", i + 1) : "Nap");
  }
  definition += R"("Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
                   "Done": {"Type": "Pass", "End": true}}})";
  auto machine = Prepare(definition);
  // The histories: each run stops at its Wait (the executor is dropped while they wait).
  Keeper keeper;
  {
    zflow::runtime::EngineOptions options;
    Executor executor(options);
    std::thread loop([&] { executor.Serve(); });
    for (long i = 0; i < count; ++i) {
      if (!executor.Start(machine, {.input = zflow::json::object{{"last", {{"step", -1}}}},
                                    .sink = &keeper})
               .ok()) {
        return 2;
      }
    }
    while (true) {
      {
        std::lock_guard<std::mutex> lock(keeper.mu);
        if (static_cast<long>(keeper.kept.size()) >= count) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    executor.Shutdown();
    loop.join();
  }
  std::size_t events = 0;
  for (const auto& [name, kept] : keeper.kept) events += kept.second.size();
  // Resume them all; with virtual time each replays its events, arms its Wait, and ends.
  zflow::runtime::EngineOptions options;
  options.virtual_time = true;
  Executor executor(options);
  std::atomic<long> succeeded{0};
  auto start = Clock::now();
  for (auto& [name, kept] : keeper.kept) {
    auto& [info, history] = kept;
    if (!executor.Resume(machine, history, info, nullptr, [&](zflow::Result<ExecutionResult> r) {
          if (r.ok() && r->status == zflow::runtime::ExecutionStatus::kSucceeded) ++succeeded;
        }).ok()) {
      return 2;
    }
  }
  executor.RunUntilIdle();
  double seconds = Since(start);
  std::cout << fmt::format(
                   R"({{"mode": "resume", "executions": {}, "events_replayed": {}, )"
                   R"("seconds": {:.3f}, "us_per_event": {:.3f}, "succeeded": {}}})",
                   count, events, seconds, seconds * 1e6 / static_cast<double>(events),
                   succeeded.load())
            << std::endl;
  return succeeded.load() == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "waiting";
  long count = mode == "resume" ? 10000 : 100000;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--count") count = std::max(1L, std::atol(argv[i + 1]));
  }
  if (mode == "waiting") return Waiting(count, /*tokens=*/false);
  if (mode == "tokens") return Waiting(count, /*tokens=*/true);
  if (mode == "resume") return Resume(count);
  std::cerr << "usage: executor_bench waiting|tokens|resume [--count N]\n";
  return 2;
}
