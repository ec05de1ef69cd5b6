// Names and small value types of zflow/runtime.h: statuses, event types, execution identity,
// and the registry that maps Task resources to handlers.
#include <array>
#include <utility>

#include <fmt/format.h>

#include "zflow/runtime.h"

namespace zflow::runtime {

std::string_view ExecutionStatusName(ExecutionStatus s) {
  switch (s) {
    case ExecutionStatus::kRunning: return "RUNNING";
    case ExecutionStatus::kSucceeded: return "SUCCEEDED";
    case ExecutionStatus::kFailed: return "FAILED";
    case ExecutionStatus::kTimedOut: return "TIMED_OUT";
    case ExecutionStatus::kAborted: return "ABORTED";
  }
  return "UNKNOWN";
}

namespace {
// In EventType's order.
constexpr std::array<std::string_view, 39> kEventTypeNames = {
    "ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut",
    "ExecutionAborted", "ExecutionRedriven",
    "PassStateEntered", "PassStateExited", "TaskStateEntered", "TaskStateExited",
    "ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered", "WaitStateExited",
    "SucceedStateEntered", "SucceedStateExited", "FailStateEntered",
    "ParallelStateEntered", "ParallelStateExited", "MapStateEntered", "MapStateExited",
    "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskFailed", "TaskTimedOut",
    "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateFailed",
    "ParallelStateAborted",
    "MapStateStarted", "MapStateSucceeded", "MapStateFailed", "MapStateAborted",
    "MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted",
    "EvaluationFailed",
};
static_assert(static_cast<std::size_t>(EventType::kEvaluationFailed) + 1 ==
              kEventTypeNames.size());
}  // namespace

std::string_view EventTypeName(EventType t) {
  return kEventTypeNames[static_cast<std::size_t>(t)];
}

std::optional<EventType> ParseEventType(std::string_view name) {
  for (std::size_t i = 0; i < kEventTypeNames.size(); ++i) {
    if (kEventTypeNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

bool IsStateEntered(EventType t) { return EventTypeName(t).ends_with("StateEntered"); }
bool IsStateExited(EventType t) { return EventTypeName(t).ends_with("StateExited"); }

std::string ExecutionInfo::ExecutionArn() const {
  return fmt::format("arn:aws:states:{}:{}:execution:{}:{}", region, account,
                     state_machine_name, name);
}

std::string ExecutionInfo::StateMachineArn() const {
  return fmt::format("arn:aws:states:{}:{}:stateMachine:{}", region, account,
                     state_machine_name);
}

json::value ExecutionInfo::ToJson() const {
  return json::object{{"name", name},       {"stateMachineName", state_machine_name},
                      {"region", region},   {"account", account},
                      {"seed", seed}};
}

Result<ExecutionInfo> ExecutionInfo::FromJson(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return InvalidArgumentError("the execution record is not a JSON object");
  ExecutionInfo info;
  for (auto [key, field] : {std::pair{"name", &info.name},
                            std::pair{"stateMachineName", &info.state_machine_name},
                            std::pair{"region", &info.region}, std::pair{"account", &info.account},
                            std::pair{"seed", &info.seed}}) {
    const json::value* f = o->if_contains(key);
    if (f == nullptr || !f->is_string() || f->get_string().empty()) {
      return InvalidArgumentError(
          fmt::format("the execution record has no string \"{}\"", key));
    }
    *field = std::string(f->get_string());
  }
  return info;
}

void IntegrationRegistry::Register(std::string resource, std::shared_ptr<TaskHandler> handler) {
  handlers_.insert_or_assign(std::move(resource), std::move(handler));
}

namespace {
class FunctionHandler final : public TaskHandler {
 public:
  FunctionHandler(std::function<TaskResult(const TaskRequest&)> fn, bool inline_ok)
      : fn_(std::move(fn)), inline_(inline_ok) {}
  TaskResult Invoke(const TaskRequest& r) override { return fn_(r); }
  bool inline_safe() const override { return inline_; }

 private:
  std::function<TaskResult(const TaskRequest&)> fn_;
  bool inline_;
};
}  // namespace

void IntegrationRegistry::RegisterFunction(std::string resource,
                                           std::function<TaskResult(const TaskRequest&)> fn,
                                           bool inline_safe) {
  Register(std::move(resource), std::make_shared<FunctionHandler>(std::move(fn), inline_safe));
}

void IntegrationRegistry::SetFallback(std::shared_ptr<TaskHandler> handler) {
  fallback_ = std::move(handler);
}

TaskHandler* IntegrationRegistry::Find(std::string_view resource) const {
  auto it = handlers_.find(resource);
  if (it != handlers_.end()) return it->second.get();
  std::size_t best = 0;
  TaskHandler* found = nullptr;
  for (const auto& [key, handler] : handlers_) {
    if (key.size() > 1 && key.back() == '*' &&
        resource.starts_with(std::string_view(key).substr(0, key.size() - 1)) &&
        key.size() > best) {
      best = key.size();
      found = handler.get();
    }
  }
  return found != nullptr ? found : fallback_.get();
}

}  // namespace zflow::runtime
