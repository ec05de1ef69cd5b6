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

NestedExecutionHandler::~NestedExecutionHandler() { Wait(); }

void NestedExecutionHandler::Wait() {
  while (true) {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(background_);
    }
    if (threads.empty()) return;
    for (auto& t : threads) t.join();  // a child may start children of its own: loop
  }
}

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
  if (file == machines_.end() || registry_ == nullptr) {
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
  asl::ValidationReport report = asl::ValidateDefinition(text->data);
  if (!report.ok()) {
    return runtime::TaskResult::Failure(
        "StepFunctions.InvalidDefinitionException",
        fmt::format("{}: {}", file->second,
                    report.diagnostics.empty() ? "invalid" : report.diagnostics[0].message));
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
  auto machine = std::make_shared<asl::StateMachine>(std::move(*report.machine));
  runtime::IntegrationRegistry* registry = registry_;
  bool virtual_time = virtual_time_;
  auto run = [machine, registry, virtual_time, input, name, machine_name]() {
    runtime::Engine engine({.integrations = registry, .virtual_time = virtual_time});
    return engine.Run(*machine, {.input = input, .name = name, .state_machine_name = machine_name});
  };
  std::string execution_arn = arn;
  if (std::size_t s = execution_arn.find(":stateMachine:"); s != std::string::npos) {
    execution_arn.replace(s, 14, ":execution:");
  }
  execution_arn += ":" + name;
  if (!sync) {
    std::int64_t start = EpochMillis(std::chrono::system_clock::now());
    std::lock_guard<std::mutex> lock(mu_);
    background_.emplace_back([run] { (void)run(); });
    return runtime::TaskResult::Success(
        json::object{{"ExecutionArn", execution_arn}, {"StartDate", start}});
  }
  auto result = run();
  if (!result.ok()) {
    return runtime::TaskResult::Failure("StepFunctions.InvalidDefinitionException",
                                        result.status().message());
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
    return runtime::TaskResult::Success(std::move(describe));
  }
  describe["Error"] = result->error;
  describe["Cause"] = result->cause;
  return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                      ToJsonText(json::value(describe)));
}

}  // namespace zflow::integrations
