#include "integrations/nested.h"

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/file.h"
#include "common/ids.h"
#include "zflow/asl_parser.h"
#include "zflow/validator.h"

namespace zflow::integrations {
namespace {

std::int64_t EpochMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}


}  // namespace

runtime::TaskResult NestedExecutionHandler::Invoke(const runtime::TaskRequest& r) {
  const bool sync2 = r.resource.ends_with(".sync:2");
  const bool sync = sync2 || r.resource.ends_with(".sync");
  const json::object* p = r.input.if_object();
  const json::value* arn_value = p != nullptr ? p->if_contains("StateMachineArn") : nullptr;
  if (arn_value == nullptr || !arn_value->is_string()) {
    return runtime::TaskResult::Failure("StepFunctions.InvalidArnException",
                                        "startExecution needs a string StateMachineArn");
  }
  std::string arn(arn_value->get_string());
  std::string machine_name = arn.substr(arn.rfind(':') + 1);
  auto file = machines_.find(machine_name);
  if (file == machines_.end()) {
    return runtime::TaskResult::Failure(
        "StepFunctions.StateMachineDoesNotExistException",
        fmt::format("State Machine Does Not Exist: '{}' (no local definition is mapped to "
                    "\"{}\"; add it under \"state_machines:\" in the profile)",
                    arn, machine_name));
  }
  auto text = ReadFileCapped(file->second, std::size_t{1} << 20);
  if (!text.ok()) {
    return runtime::TaskResult::Failure("StepFunctions.StateMachineDoesNotExistException",
                                        text.status().message());
  }
  if (r.host == nullptr || !r.complete) {
    return runtime::TaskResult::Failure(
        "States.Runtime", "nested executions run on an executor; this task has none");
  }
  asl::ValidationReport report = asl::ValidateDefinition(text->data);
  if (!report.ok()) {
    return runtime::TaskResult::Failure(
        "StepFunctions.InvalidDefinitionException",
        fmt::format("{}: {}", file->second,
                    report.diagnostics.empty() ? "invalid" : report.diagnostics[0].message));
  }
  auto machine = runtime::Prepare(std::move(report));
  if (!machine.ok()) {
    return runtime::TaskResult::Failure("StepFunctions.InvalidDefinitionException",
                                        fmt::format("{}: {}", file->second,
                                                    machine.status().message()));
  }
  json::value input = json::object();
  if (const json::value* in = p->if_contains("Input")) {
    if (in->is_string()) {
      auto parsed = ParseJson(in->get_string(), {.record_locations = false});
      if (!parsed.ok()) {
        return runtime::TaskResult::Failure("StepFunctions.InvalidExecutionInputException",
                                            parsed.status().message());
      }
      input = std::move(parsed->value);
    } else {
      input = *in;
    }
  }
  std::string name = RandomUuid();
  if (const json::value* n = p->if_contains("Name"); n && n->is_string()) {
    name = std::string(n->get_string());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!names_.insert(machine_name + "/" + name).second) {
      return runtime::TaskResult::Failure(
          "StepFunctions.ExecutionAlreadyExistsException",
          fmt::format("Execution Already Exists: '{}'", name));
    }
  }
  std::string execution_arn = arn;
  if (std::size_t at = execution_arn.find(":stateMachine:"); at != std::string::npos) {
    execution_arn.replace(at, 14, ":execution:");
  }
  execution_arn += ":" + name;
  runtime::ExecutionOptions options{.input = input, .name = name,
                                    .state_machine_name = machine_name};
  if (!sync) {
    // Request/response: the child runs on, next to its parent; the task answers at once.
    std::int64_t start = EpochMillis(std::chrono::system_clock::now());
    Status st = r.host->StartExecution(*machine, std::move(options), nullptr);
    if (!st.ok()) return runtime::TaskResult::Failure("States.Runtime", st.message());
    return runtime::TaskResult::Success(
        json::object{{"ExecutionArn", execution_arn}, {"StartDate", start}});
  }
  // .sync / .sync:2: the task answers when the child ends (DescribeExecution's shape).
  auto done = [complete = r.complete, input, name, arn, sync2](
                  Result<runtime::ExecutionResult> result) {
    if (!result.ok()) {
      complete(runtime::TaskResult::Failure("StepFunctions.InvalidDefinitionException",
                                            result.status().message()));
      return;
    }
    json::object describe{
        {"ExecutionArn", result->execution_arn},
        {"Input", sync2 ? input : json::value(ToJsonText(input))},
        {"InputDetails", json::object{{"Included", true}}},
        {"Name", name},
        {"RedriveCount", 0},
        {"RedriveStatus", "NOT_REDRIVABLE"},
        {"StartDate", EpochMillis(result->start_time)},
        {"StateMachineArn", arn},
        {"Status", runtime::ExecutionStatusName(result->status)},
        {"StopDate", EpochMillis(result->stop_time)}};
    if (result->status == runtime::ExecutionStatus::kSucceeded) {
      describe["Output"] = sync2 ? result->output : json::value(ToJsonText(result->output));
      describe["OutputDetails"] = json::object{{"Included", true}};
      complete(runtime::TaskResult::Success(std::move(describe)));
      return;
    }
    describe["Error"] = result->error;
    describe["Cause"] = result->cause;
    complete(runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                          ToJsonText(json::value(describe))));
  };
  Status st = r.host->StartExecution(*machine, std::move(options), std::move(done));
  if (!st.ok()) return runtime::TaskResult::Failure("States.Runtime", st.message());
  return runtime::TaskResult::Hosted();
}

}  // namespace zflow::integrations
