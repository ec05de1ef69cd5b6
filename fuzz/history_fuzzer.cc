// Fuzzes loading a history file (complete or cut short) and resuming an execution from it: any
// bytes must give a history or a located error, and a loaded history must resume or be
// refused with a reason, never crash or hang (the machine has no task that waits forever).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "runtime/history_file.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace {

using namespace zflow;

struct Fixture {
  Fixture() {
    registry.RegisterFunction(
        "arn:aws:states:::zflow:echo",
        [](const runtime::TaskRequest& r) { return runtime::TaskResult::Success(r.input); },
        /*inline_safe=*/true);
    registry.RegisterFunction("arn:aws:states:::zflow:fail", [](const runtime::TaskRequest&) {
      return runtime::TaskResult::Failure("Boom", "always");
    });
    auto m = asl::ParseStateMachine(R"({"StartAt": "A", "States": {
      "A": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo", "Next": "W"},
      "W": {"Type": "Wait", "Seconds": 10, "Next": "P"},
      "P": {"Type": "Parallel", "Next": "M", "Branches": [
        {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::zflow:fail",
          "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
          "C": {"Type": "Pass", "End": true}}},
        {"StartAt": "D", "States": {"D": {"Type": "Pass", "End": true}}}]},
      "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "E",
        "States": {"E": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo", "End": true}}},
        "Next": "F"},
      "F": {"Type": "Fail", "Error": "Done", "Cause": "end"}}})");
    if (!m.ok()) std::abort();
    machine = *runtime::Prepare(std::move(*m));
  }
  runtime::IntegrationRegistry registry;
  std::shared_ptr<const runtime::PreparedMachine> machine;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fixture = new Fixture();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto stored = runtime::ParseHistoryFile(text, "fuzz");
  if (!stored.ok()) {
    if (stored.status().message().rfind("fuzz:", 0) != 0) std::abort();  // names the file
    return 0;
  }
  if (stored->history.size() > 2000) return 0;
  ManualClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
  runtime::Engine engine({.integrations = &fixture->registry, .clock = &clock,
                          .virtual_time = true, .worker_threads = 1});
  auto resumed = engine.Resume(*fixture->machine, stored->history, stored->info);
  if (!resumed.ok() && resumed.status().code() != StatusCode::kFailedPrecondition) std::abort();
  auto redriven = engine.Redrive(*fixture->machine, stored->history, stored->info);
  if (!redriven.ok() && redriven.status().code() != StatusCode::kFailedPrecondition) std::abort();
  return 0;
}
