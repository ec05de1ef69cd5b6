#include "server/metrics.h"

#include <chrono>

#include <fmt/format.h>

#include "server/execution_service.h"
#include "store/store.h"

namespace zflow::server {
namespace {

std::int64_t Millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

bool EndsTask(runtime::EventType t) {
  using E = runtime::EventType;
  return t == E::kTaskSucceeded || t == E::kTaskFailed || t == E::kTaskTimedOut;
}

}  // namespace

void Histogram::Observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++counts_[i];
  sum_ += seconds;
  ++count_;
}

void Histogram::Render(std::string& out, std::string_view name, std::string_view labels) const {
  std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kBounds[i],
                       cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
  std::string braces = labels.empty() ? "" : fmt::format("{{{}}}", labels);
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, sum_, name, braces, count_);
}

void Metrics::Request(std::string_view action, std::string_view error_type, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{std::string(action), std::string(error_type)}];
  request_seconds_[std::string(action)].Observe(seconds);
}

void Metrics::Event(const runtime::ExecutionInfo& info, const runtime::HistoryEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  ++events_[std::string(event.type)];
  const std::int64_t now = Millis(event.timestamp);
  if (runtime::IsStateEntered(event.kind)) {
    ++transitions_;
    state_began_[fmt::format("{}:{}\n{}", info.state_machine_name, info.name, event.state_name)] = now;
  } else if (runtime::IsStateExited(event.kind)) {
    auto it = state_began_.find(fmt::format("{}:{}\n{}", info.state_machine_name, info.name, event.state_name));
    if (it != state_began_.end()) {
      state_seconds_.Observe(static_cast<double>(now - it->second) / 1000.0);
      state_began_.erase(it);
    }
  } else if (event.kind == runtime::EventType::kTaskScheduled) {
    task_began_[fmt::format("{}:{}\n{}", info.state_machine_name, info.name, event.previous_event_id)] = now;
  } else if (EndsTask(event.kind)) {
    // A task's end follows its start (TaskStarted) or schedule: look back one or two events.
    for (std::int64_t back : {event.previous_event_id, event.previous_event_id - 1}) {
      auto it = task_began_.find(fmt::format("{}:{}\n{}", info.state_machine_name, info.name, back));
      if (it != task_began_.end()) {
        task_seconds_.Observe(static_cast<double>(now - it->second) / 1000.0);
        task_began_.erase(it);
        break;
      }
    }
  }
  if (event.kind == runtime::EventType::kExecutionSucceeded ||
      event.kind == runtime::EventType::kExecutionFailed ||
      event.kind == runtime::EventType::kExecutionAborted ||
      event.kind == runtime::EventType::kExecutionTimedOut) {
    // Forget what an execution that ended left open (a Parallel's branches cut short).
    const std::string prefix = fmt::format("{}:{}\n", info.state_machine_name, info.name);
    std::erase_if(state_began_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
    std::erase_if(task_began_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
  }
}

std::string Metrics::Render(store::Store& store, ExecutionService& executions) {
  std::string out;
  out += "# HELP zflow_executions Executions in the store, by status.\n"
         "# TYPE zflow_executions gauge\n";
  if (auto counts = store.CountExecutionsByStatus(); counts.ok()) {
    for (std::string_view status : {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}) {
      auto it = counts->find(std::string(status));
      out += fmt::format("zflow_executions{{status=\"{}\"}} {}\n", status,
                         it == counts->end() ? 0 : it->second);
    }
  }
  out += fmt::format(
      "# HELP zflow_executions_in_memory Executions the executor is running now.\n"
      "# TYPE zflow_executions_in_memory gauge\nzflow_executions_in_memory {}\n",
      executions.running());
  out += fmt::format(
      "# HELP zflow_activity_tasks_waiting Activity tasks no worker has picked up yet.\n"
      "# TYPE zflow_activity_tasks_waiting gauge\nzflow_activity_tasks_waiting {}\n",
      executions.activity_tasks_waiting());
  std::lock_guard<std::mutex> lock(mu_);
  out += fmt::format(
      "# HELP zflow_state_transitions_total States entered.\n"
      "# TYPE zflow_state_transitions_total counter\nzflow_state_transitions_total {}\n",
      transitions_);
  out += "# HELP zflow_history_events_total History events recorded, by type.\n"
         "# TYPE zflow_history_events_total counter\n";
  for (const auto& [type, n] : events_) {
    out += fmt::format("zflow_history_events_total{{type=\"{}\"}} {}\n", type, n);
  }
  out += "# HELP zflow_state_duration_seconds Time from entering a state to leaving it.\n"
         "# TYPE zflow_state_duration_seconds histogram\n";
  state_seconds_.Render(out, "zflow_state_duration_seconds", "");
  out += "# HELP zflow_task_duration_seconds Time from scheduling a task to its answer.\n"
         "# TYPE zflow_task_duration_seconds histogram\n";
  task_seconds_.Render(out, "zflow_task_duration_seconds", "");
  out += "# HELP zflow_api_requests_total Step Functions API requests, by action and error.\n"
         "# TYPE zflow_api_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("zflow_api_requests_total{{action=\"{}\",error=\"{}\"}} {}\n",
                       Escape(key.first), Escape(key.second), n);
  }
  out += "# HELP zflow_api_request_duration_seconds Time to answer an API request.\n"
         "# TYPE zflow_api_request_duration_seconds histogram\n";
  for (const auto& [action, h] : request_seconds_) {
    h.Render(out, "zflow_api_request_duration_seconds",
             fmt::format("action=\"{}\"", Escape(action)));
  }
  return out;
}

}  // namespace zflow::server
