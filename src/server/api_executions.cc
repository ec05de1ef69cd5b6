// The Step Functions API: executions, their history, task tokens and TestState.
#include <algorithm>
#include <chrono>
#include <future>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "asl/timestamp.h"
#include "common/ids.h"
#include "server/api_fields.h"
#include "server/step_functions_api.h"
#include "zflow/validator.h"

namespace zflow::server {
namespace {

ApiError ExecutionMissing(std::string_view arn) {
  return Error("ExecutionDoesNotExist", fmt::format("Execution Does Not Exist: '{}'", arn));
}

// Reads "executionArn" and checks its form.
std::optional<ApiError> ReadExecutionArn(Fields& f, std::string* arn) {
  *arn = f.Required("executionArn", 256);
  if (!f.ok()) return f.error;
  auto parsed = ParseStatesArn(*arn);
  if (!parsed) return InvalidArn(*arn, "");
  if (parsed->kind != "execution" && parsed->kind != "express") {
    return InvalidArn(*arn, fmt::format("Resource type not valid in this context: {}", parsed->kind));
  }
  if (parsed->qualifier.empty()) return InvalidArn(*arn, "");
  return std::nullopt;
}

bool Finished(const std::string& status) { return status != "RUNNING"; }

json::object RedriveStatus(const store::ExecutionRecord& e) {
  if (e.status == "RUNNING" || e.status == "SUCCEEDED") {
    return json::object{{"redriveStatus", "NOT_REDRIVABLE"},
                        {"redriveStatusReason",
                         fmt::format("Execution is {} and cannot be redriven", e.status)}};
  }
  return json::object{{"redriveStatus", "REDRIVABLE"}};
}

// Waits (bounded) until the stored execution has left RUNNING; returns the record.
Result<store::ExecutionRecord> AwaitEnd(store::Store& store, const std::string& arn) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    ZFLOW_ASSIGN_OR_RETURN(store::ExecutionRecord e, store.GetExecution(arn));
    if (Finished(e.status) || std::chrono::steady_clock::now() > deadline) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Task tokens this server hands out start with "zflow-"; anything else is not a token.
std::optional<ApiError> CheckToken(Fields& f, std::string* token) {
  *token = f.Required("taskToken", 2048);
  if (!f.ok()) return f.error;
  if (!token->starts_with("zflow-")) return Error("InvalidToken", "Invalid Token: 'Invalid token'");
  return std::nullopt;
}

ApiError TokenError(const Status& st) {
  if (st.code() == StatusCode::kNotFound) {
    return Error("TaskDoesNotExist", "Task Does Not Exist: the task is not waiting for this token "
                                     "(it was answered, timed out or its execution ended)");
  }
  return Internal(st);
}

// The engine records an activity's task as TaskScheduled / TaskStarted / TaskSucceeded / ...
// events of its Task state; AWS's history names them Activity*, with details of their own.
void RenderActivityEvent(json::object& event) {
  struct Renamed {
    std::string_view task_type, activity_type, task_details, activity_details;
  };
  static constexpr Renamed kRenamed[] = {
      {"TaskScheduled", "ActivityScheduled", "taskScheduledEventDetails",
       "activityScheduledEventDetails"},
      {"TaskStarted", "ActivityStarted", "taskStartedEventDetails", "activityStartedEventDetails"},
      {"TaskSucceeded", "ActivitySucceeded", "taskSucceededEventDetails",
       "activitySucceededEventDetails"},
      {"TaskFailed", "ActivityFailed", "taskFailedEventDetails", "activityFailedEventDetails"},
      {"TaskTimedOut", "ActivityTimedOut", "taskTimedOutEventDetails",
       "activityTimedOutEventDetails"},
  };
  const json::value* type = event.if_contains("type");
  if (type == nullptr || !type->is_string()) return;
  const Renamed* renamed = nullptr;
  for (const Renamed& r : kRenamed) {
    if (type->as_string() == r.task_type) renamed = &r;
  }
  if (renamed == nullptr) return;
  json::value* found = event.if_contains(renamed->task_details);
  if (found == nullptr || !found->is_object()) return;
  const json::object& task = found->as_object();
  const json::value* resource = task.if_contains("resource");
  if (resource == nullptr || !resource->is_string()) return;
  auto arn = ParseStatesArn(resource->as_string());
  if (!arn || arn->kind != "activity") return;
  json::object details;
  auto copy = [&](std::string_view from, std::string_view to) {
    if (const json::value* v = task.if_contains(from)) details[to] = *v;
  };
  if (renamed->activity_type == "ActivityScheduled") {
    copy("resource", "resource");
    copy("parameters", "input");
    details["inputDetails"] = json::object{{"truncated", false}};
    copy("timeoutInSeconds", "timeoutInSeconds");
    copy("heartbeatInSeconds", "heartbeatInSeconds");
  } else if (renamed->activity_type == "ActivitySucceeded") {
    copy("output", "output");
    copy("outputDetails", "outputDetails");
  } else if (renamed->activity_type != "ActivityStarted") {
    copy("error", "error");
    copy("cause", "cause");
  }
  event.erase(renamed->task_details);
  event["type"] = renamed->activity_type;
  event[renamed->activity_details] = std::move(details);
}

}  // namespace

Answer StepFunctionsApi::StartExecution(const json::object& in) {
  Fields f(in);
  std::string target = f.Required("stateMachineArn", 256);
  std::optional<std::string> name = f.Optional("name", 80);
  std::string input = f.Optional("input", runtime::kMaxPayloadBytes).value_or("{}");
  std::string trace = f.Optional("traceHeader", 256).value_or("");
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(target);
  if (!parsed) return InvalidArn(target, "");
  if (parsed->kind != "stateMachine") {
    return InvalidArn(target, fmt::format("Resource type not valid in this context: {}",
                                          parsed->kind));
  }
  if (name) {
    if (auto bad = CheckName(*name)) return *bad;
  } else {
    name = RandomUuid();
  }
  auto input_json = ParseJson(input);
  if (!input_json.ok()) {
    return Error("InvalidExecutionInput",
                 fmt::format("Invalid State Machine Execution Input: '{}'",
                             input_json.status().message()));
  }
  const std::string machine_arn = parsed->machine_arn();
  auto machine = store_.GetStateMachine(machine_arn);
  if (!machine.ok()) return MachineMissing(target);
  store::ExecutionRecord record;
  record.machine_arn = machine_arn;
  record.definition = machine->definition;
  record.role_arn = machine->role_arn;
  record.revision_id = machine->revision_id;
  if (!parsed->qualifier.empty()) {
    std::string version_arn = target;
    if (parsed->qualifier.find_first_not_of("0123456789") != std::string::npos) {
      // An alias: pick one of its versions by weight.
      auto alias = store_.GetAlias(target);
      if (!alias.ok()) return Error("ResourceNotFound", fmt::format("Resource not found: '{}'", target));
      record.alias_arn = target;
      auto routing = ParseJson(alias->routing);
      if (!routing.ok() || !routing->value.is_array()) return Internal(routing.status());
      thread_local std::mt19937 random(std::random_device{}());
      int roll = std::uniform_int_distribution<int>(0, 99)(random);
      for (const json::value& r : routing->value.as_array()) {
        const json::object& o = r.as_object();
        version_arn = std::string(o.at("stateMachineVersionArn").as_string());
        roll -= static_cast<int>(o.at("weight").as_int64());
        if (roll < 0) break;
      }
    }
    auto version = store_.GetVersion(version_arn);
    if (!version.ok()) return MachineMissing(version_arn);
    record.version_arn = version_arn;
    record.definition = version->definition;
    record.role_arn = version->role_arn;
    record.revision_id = version->revision_id;
  }
  runtime::ExecutionInfo info{.name = *name,
                              .state_machine_name = parsed->name,
                              .region = parsed->region,
                              .account = parsed->account,
                              .seed = RandomHex(32)};
  record.arn = info.ExecutionArn();
  record.name = *name;
  record.input = input;
  record.info = ToJsonText(info.ToJson());
  record.trace_header = trace;
  record.start_ms = NowMs();
  auto id = store_.CreateExecution(record);
  if (!id.ok()) {
    if (id.status().code() != StatusCode::kAlreadyExists) return Internal(id.status());
    // The same name and input while it runs: the same answer (AWS's idempotency).
    auto existing = store_.GetExecution(record.arn);
    if (existing.ok() && existing->status == "RUNNING" && existing->input == input) {
      return json::object{{"executionArn", existing->arn},
                          {"startDate", Date(existing->start_ms)}};
    }
    return Error("ExecutionAlreadyExists",
                 fmt::format("Execution Already Exists: '{}'", record.arn));
  }
  record.id = *id;
  if (Status st = executions_.Start(record); !st.ok()) return Internal(st);
  return json::object{{"executionArn", record.arn}, {"startDate", Date(record.start_ms)}};
}

Answer StepFunctionsApi::StartSyncExecution(const json::object& in) {
  Fields f(in);
  std::string target = f.Required("stateMachineArn", 256);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(target);
  if (!parsed || parsed->kind != "stateMachine") return InvalidArn(target, "");
  auto machine = store_.GetStateMachine(parsed->machine_arn());
  if (!machine.ok()) return MachineMissing(target);
  if (machine->type != "EXPRESS") {
    return Error("StateMachineTypeNotSupported",
                 "This operation is not supported by this type of state machine");
  }
  Answer started = StartExecution(in);
  if (!started.ok()) return started;
  std::string arn(started.body().at("executionArn").as_string());
  // Synchronous: wait for the end (AWS's limit for express executions is 5 minutes).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  store::ExecutionRecord e;
  while (true) {
    auto now = store_.GetExecution(arn);
    if (!now.ok()) return Internal(now.status());
    e = std::move(*now);
    if (Finished(e.status) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  json::object out{{"executionArn", e.arn},
                   {"stateMachineArn", e.machine_arn},
                   {"name", e.name},
                   {"startDate", Date(e.start_ms)},
                   {"stopDate", Date(e.stop_ms)},
                   {"status", e.status == "ABORTED" ? "FAILED" : e.status},
                   {"input", e.input},
                   {"inputDetails", json::object{{"included", true}}},
                   {"billingDetails",
                    json::object{{"billedMemoryUsedInMB", 64},
                                 {"billedDurationInMilliseconds",
                                  std::max<std::int64_t>(100, e.stop_ms - e.start_ms)}}}};
  if (e.status == "SUCCEEDED") {
    out["output"] = e.output;
    out["outputDetails"] = json::object{{"included", true}};
  } else {
    if (!e.error.empty()) out["error"] = e.error;
    if (!e.cause.empty()) out["cause"] = e.cause;
  }
  if (!e.trace_header.empty()) out["traceHeader"] = e.trace_header;
  return out;
}

Answer StepFunctionsApi::StopExecution(const json::object& in) {
  Fields f(in);
  std::string arn;
  if (auto bad = ReadExecutionArn(f, &arn)) return *bad;
  std::string error = f.Optional("error", 256).value_or("");
  std::string cause = f.Optional("cause", 32768).value_or("");
  if (!f.ok()) return *f.error;
  auto e = store_.GetExecution(arn);
  if (!e.ok()) return ExecutionMissing(arn);
  if (e->status == "RUNNING") {
    Status st = executions_.Stop(arn, error, cause);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return Internal(st);
    auto ended = AwaitEnd(store_, arn);
    if (!ended.ok()) return Internal(ended.status());
    e = std::move(ended);
  }
  return json::object{{"stopDate", Date(e->stop_ms != 0 ? e->stop_ms : NowMs())}};
}

Answer StepFunctionsApi::DescribeExecution(const json::object& in) {
  Fields f(in);
  std::string arn;
  if (auto bad = ReadExecutionArn(f, &arn)) return *bad;
  f.Enum("includedData", {"ALL_DATA", "METADATA_ONLY"});
  if (!f.ok()) return *f.error;
  auto e = store_.GetExecution(arn);
  if (!e.ok()) {
    if (e.status().code() == StatusCode::kNotFound) return ExecutionMissing(arn);
    return Internal(e.status());
  }
  json::object out{{"executionArn", e->arn},
                   {"stateMachineArn", e->version_arn.empty() ? e->machine_arn : e->version_arn},
                   {"name", e->name},
                   {"status", e->status},
                   {"startDate", Date(e->start_ms)},
                   {"input", e->input},
                   {"inputDetails", json::object{{"included", true}}},
                   {"redriveCount", e->redrive_count}};
  if (Finished(e->status)) out["stopDate"] = Date(e->stop_ms);
  if (e->status == "SUCCEEDED") {
    out["output"] = e->output;
    out["outputDetails"] = json::object{{"included", true}};
  }
  if (!e->error.empty()) out["error"] = e->error;
  if (!e->cause.empty()) out["cause"] = e->cause;
  if (!e->trace_header.empty()) out["traceHeader"] = e->trace_header;
  if (!e->version_arn.empty()) out["stateMachineVersionArn"] = e->version_arn;
  if (!e->alias_arn.empty()) out["stateMachineAliasArn"] = e->alias_arn;
  if (e->redrive_ms != 0) out["redriveDate"] = Date(e->redrive_ms);
  for (auto& [k, v] : RedriveStatus(*e)) out[k] = v;
  return out;
}

Answer StepFunctionsApi::ListExecutions(const json::object& in, const StartWindow& window) {
  Fields f(in);
  std::optional<std::string> target = f.Optional("stateMachineArn", 256);
  std::optional<std::string> map_run = f.Optional("mapRunArn", 2000);
  std::optional<std::string> status =
      f.Enum("statusFilter", {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED",
                              "PENDING_REDRIVE"});
  std::optional<std::string> redrive = f.Enum("redriveFilter", {"REDRIVEN", "NOT_REDRIVEN"});
  int limit = ReadMaxResults(f);
  std::optional<std::string> cursor = ReadPageToken(f);
  if (!f.ok()) return *f.error;
  if (target.has_value() == map_run.has_value()) {
    return Validation("Exactly one of stateMachineArn and mapRunArn must be given");
  }
  if (map_run) {
    // Map runs of distributed Maps are not listed as executions by this server.
    return json::object{{"executions", json::array()}};
  }
  auto parsed = ParseStatesArn(*target);
  if (!parsed || parsed->kind != "stateMachine") return InvalidArn(*target, "");
  if (!store_.GetStateMachine(parsed->machine_arn()).ok()) return MachineMissing(*target);
  store::ExecutionFilter filter{.machine_arn = parsed->machine_arn(),
                                .started_after_ms = window.started_after_ms,
                                .started_before_ms = window.started_before_ms,
                                .limit = limit + 1};
  if (!parsed->qualifier.empty()) {
    if (parsed->qualifier.find_first_not_of("0123456789") == std::string::npos) {
      filter.version_arn = *target;
    } else {
      filter.alias_arn = *target;
    }
  }
  if (status && *status != "PENDING_REDRIVE") filter.status = *status;
  if (cursor) {
    char* end = nullptr;
    filter.before_id = std::strtoll(cursor->c_str(), &end, 10);
    if (end == cursor->c_str() || *end != '\0' || filter.before_id <= 0) {
      return Error("InvalidToken", "Invalid Token: 'Invalid token'");
    }
  }
  json::array list;
  std::int64_t last_id = 0;
  bool more = false;
  // PENDING_REDRIVE and the redrive filter are applied here; a page may then hold fewer.
  while (true) {
    auto page = store_.ListExecutions(filter);
    if (!page.ok()) return Internal(page.status());
    for (const auto& e : *page) {
      if (list.size() == static_cast<std::size_t>(limit)) {
        more = true;
        break;
      }
      last_id = e.id;
      if (status && *status == "PENDING_REDRIVE") continue;  // redrives start at once here
      if (redrive && (*redrive == "REDRIVEN") != (e.redrive_count > 0)) continue;
      json::object item{{"executionArn", e.arn},
                        {"stateMachineArn", e.machine_arn},
                        {"name", e.name},
                        {"status", e.status},
                        {"startDate", Date(e.start_ms)}};
      if (Finished(e.status)) item["stopDate"] = Date(e.stop_ms);
      if (!e.version_arn.empty()) item["stateMachineVersionArn"] = e.version_arn;
      if (!e.alias_arn.empty()) item["stateMachineAliasArn"] = e.alias_arn;
      if (e.redrive_count > 0) {
        item["redriveCount"] = e.redrive_count;
        item["redriveDate"] = Date(e.redrive_ms);
      }
      list.push_back(std::move(item));
    }
    if (more || page->size() < static_cast<std::size_t>(filter.limit) ||
        list.size() == static_cast<std::size_t>(limit)) {
      more = more || (list.size() == static_cast<std::size_t>(limit) &&
                      page->size() == static_cast<std::size_t>(filter.limit));
      break;
    }
    filter.before_id = last_id;
  }
  json::object out{{"executions", std::move(list)}};
  if (more) out["nextToken"] = PageToken(std::to_string(last_id));
  return out;
}

Answer StepFunctionsApi::GetExecutionHistory(const json::object& in) {
  Fields f(in);
  std::string arn;
  if (auto bad = ReadExecutionArn(f, &arn)) return *bad;
  int limit = ReadMaxResults(f);
  bool reverse = f.Bool("reverseOrder").value_or(false);
  bool include_data = f.Bool("includeExecutionData").value_or(true);
  std::optional<std::string> cursor = ReadPageToken(f);
  if (!f.ok()) return *f.error;
  auto e = store_.GetExecution(arn);
  if (!e.ok()) return ExecutionMissing(arn);
  std::int64_t from = reverse ? 0 : 1;
  if (cursor) {
    // The token names the execution too: a token of another execution is refused.
    std::string_view c = *cursor;
    std::size_t bar = c.find('|');
    char* end = nullptr;
    std::string number(c.substr(0, bar));
    from = std::strtoll(number.c_str(), &end, 10);
    if (bar == std::string_view::npos || c.substr(bar + 1) != e->arn || end == number.c_str() ||
        *end != '\0' || from <= 0) {
      return Error("InvalidToken", "Invalid Token: 'Invalid token'");
    }
  }
  auto page = store_.Events(e->id, from, limit, reverse);
  if (!page.ok()) return Internal(page.status());
  json::array events;
  for (const std::string& text : page->events) {
    auto event = ParseJson(text);
    if (!event.ok()) return Internal(event.status());
    if (json::object* o = event->value.if_object()) {
      // The store keeps events as history files do (RFC 3339 times); the JSON protocol sends
      // epoch seconds.
      if (json::value* t = o->if_contains("timestamp"); t != nullptr && t->is_string()) {
        if (auto instant = asl::ParseTimestamp(t->as_string())) {
          *t = Date(instant->seconds * 1000 + instant->nanos / 1000000);
        }
      }
      if (json::value* d = o->if_contains("executionStartedEventDetails");
          d != nullptr && d->is_object()) {
        json::object& details = d->as_object();
        details["roleArn"] = e->role_arn;
        if (!e->version_arn.empty()) details["stateMachineVersionArn"] = e->version_arn;
        if (!e->alias_arn.empty()) details["stateMachineAliasArn"] = e->alias_arn;
      }
    }
    if (json::object* o = event->value.if_object()) RenderActivityEvent(*o);
    if (!include_data && event->value.is_object()) {
      // Without execution data the input and output go; their "truncated" flags stay (AWS's
      // HistoryEventExecutionDataDetails has no other member).
      for (auto& [k, v] : event->value.as_object()) {
        if (!v.is_object()) continue;
        for (std::string_view field : {"input", "output"}) v.as_object().erase(field);
      }
    }
    events.push_back(std::move(event->value));
  }
  json::object out{{"events", std::move(events)}};
  if (page->next_id != 0) out["nextToken"] = PageToken(fmt::format("{}|{}", page->next_id, e->arn));
  return out;
}

Answer StepFunctionsApi::RedriveExecution(const json::object& in) {
  Fields f(in);
  std::string arn;
  if (auto bad = ReadExecutionArn(f, &arn)) return *bad;
  f.Optional("clientToken", 256);
  if (!f.ok()) return *f.error;
  auto e = store_.GetExecution(arn);
  if (!e.ok()) return ExecutionMissing(arn);
  if (e->status == "RUNNING" || e->status == "SUCCEEDED") {
    return Error("ExecutionNotRedrivable",
                 fmt::format("Execution with arn {} cannot be redriven: execution is {}", arn,
                             e->status));
  }
  Status st = executions_.Redrive(*e);
  if (st.code() == StatusCode::kFailedPrecondition) {
    std::string message(st.message());
    constexpr std::string_view kPrefix = "ExecutionNotRedrivable: ";
    if (message.starts_with(kPrefix)) message.erase(0, kPrefix.size());
    return Error("ExecutionNotRedrivable",
                 fmt::format("Execution with arn {} cannot be redriven: {}", arn, message));
  }
  if (!st.ok()) return Internal(st);
  auto now = store_.GetExecution(arn);
  if (!now.ok()) return Internal(now.status());
  return json::object{{"redriveDate", Date(now->redrive_ms != 0 ? now->redrive_ms : NowMs())}};
}

Answer StepFunctionsApi::DescribeStateMachineForExecution(const json::object& in) {
  Fields f(in);
  std::string arn;
  if (auto bad = ReadExecutionArn(f, &arn)) return *bad;
  if (!f.ok()) return *f.error;
  auto e = store_.GetExecution(arn);
  if (!e.ok()) return ExecutionMissing(arn);
  auto parsed = ParseStatesArn(e->machine_arn);
  json::object out{{"stateMachineArn", e->version_arn.empty() ? e->machine_arn : e->version_arn},
                   {"name", parsed ? parsed->name : std::string()},
                   {"definition", e->definition},
                   {"roleArn", e->role_arn},
                   {"updateDate", Date(e->start_ms)},
                   {"revisionId", e->revision_id}};
  if (auto machine = store_.GetStateMachine(e->machine_arn); machine.ok()) {
    out["updateDate"] = Date(machine->revision_id == e->revision_id ? machine->update_ms
                                                                     : e->start_ms);
    out["loggingConfiguration"] = ParseJson(machine->logging_configuration).value().value;
    out["tracingConfiguration"] = ParseJson(machine->tracing_configuration).value().value;
  }
  return out;
}

// ---- task tokens ----

Answer StepFunctionsApi::SendTaskSuccess(const json::object& in) {
  Fields f(in);
  std::string token;
  if (auto bad = CheckToken(f, &token)) return *bad;
  std::string output = f.Required("output", runtime::kMaxPayloadBytes);
  if (!f.ok()) return *f.error;
  auto parsed = ParseJson(output);
  if (!parsed.ok()) {
    return Error("InvalidOutput", fmt::format("Invalid Output: '{}'", parsed.status().message()));
  }
  Status st = executions_.SendTaskSuccess(token, std::move(parsed->value));
  if (!st.ok()) return TokenError(st);
  return json::object{};
}

Answer StepFunctionsApi::SendTaskFailure(const json::object& in) {
  Fields f(in);
  std::string token;
  if (auto bad = CheckToken(f, &token)) return *bad;
  std::string error = f.Optional("error", 256).value_or("");
  std::string cause = f.Optional("cause", 32768).value_or("");
  if (!f.ok()) return *f.error;
  Status st = executions_.SendTaskFailure(token, std::move(error), std::move(cause));
  if (!st.ok()) return TokenError(st);
  return json::object{};
}

Answer StepFunctionsApi::SendTaskHeartbeat(const json::object& in) {
  Fields f(in);
  std::string token;
  if (auto bad = CheckToken(f, &token)) return *bad;
  Status st = executions_.SendTaskHeartbeat(token);
  if (!st.ok()) return TokenError(st);
  return json::object{};
}

ApiResponse StepFunctionsApi::TaskLogs(std::string_view execution_arn) {
  auto e = store_.GetExecution(execution_arn);
  if (!e.ok()) return ErrorResponse(ExecutionMissing(execution_arn));
  auto logs = store_.TaskLogs(e->id);
  if (!logs.ok()) return ErrorResponse(Internal(logs.status()));
  json::array out;
  for (const store::TaskLog& log : *logs) {
    out.push_back(json::object{{"eventId", log.event_id},
                               {"stateName", log.state},
                               {"log", ValidUtf8(log.log)}});
  }
  return ApiResponse{200, ToJsonText(json::object{{"logs", std::move(out)}}), {}};
}

// ---- TestState ----

Answer StepFunctionsApi::TestState(const json::object& in) {
  Fields f(in);
  std::string definition = f.Required("definition", kMaxDefinitionBytes);
  f.Optional("roleArn", 256);
  std::string input = f.Optional("input", runtime::kMaxPayloadBytes).value_or("{}");
  std::string level = f.Enum("inspectionLevel", {"INFO", "DEBUG", "TRACE"}).value_or("INFO");
  f.Bool("revealSecrets");
  if (!f.ok()) return *f.error;
  auto state = ParseJson(definition);
  if (!state.ok() || !state->value.is_object()) {
    return Error("InvalidDefinition",
                 "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the definition of "
                 "a state must be a JSON object'");
  }
  auto input_json = ParseJson(input);
  if (!input_json.ok()) {
    return Error("InvalidExecutionInput",
                 fmt::format("Invalid State Machine Execution Input: '{}'",
                             input_json.status().message()));
  }
  // The state runs alone: its Retry is not applied (AWS answers RETRIABLE instead), and every
  // state it can go to next is a stand-in Succeed state, so the next state shows in the
  // history.
  json::object tested = state->value.as_object();
  json::value retry = tested.contains("Retry") ? tested["Retry"] : json::value();
  tested.erase("Retry");
  std::vector<std::string> targets;
  auto add_target = [&](const json::value* next) {
    if (next != nullptr && next->is_string()) targets.emplace_back(next->as_string());
  };
  add_target(tested.if_contains("Next"));
  add_target(tested.if_contains("Default"));
  for (std::string_view list : {"Choices", "Catch"}) {
    if (const json::value* items = tested.if_contains(list); items && items->is_array()) {
      for (const json::value& item : items->as_array()) {
        if (item.is_object()) add_target(item.as_object().if_contains("Next"));
      }
    }
  }
  constexpr std::string_view kName = "TestState";
  json::object states{{kName, tested}};
  for (const std::string& target : targets) {
    if (target != kName) states[target] = json::object{{"Type", "Succeed"}};
  }
  json::object machine{{"StartAt", kName}, {"States", std::move(states)}};
  std::string machine_text = ToJsonText(machine);
  asl::ValidationReport report = asl::ValidateDefinition(machine_text);
  if (!report.ok()) {
    std::vector<std::string> problems;
    for (const Diagnostic& d : report.diagnostics) {
      if (d.severity == Severity::kError) {
        std::string where = d.pointer;
        constexpr std::string_view kPrefix = "/States/TestState";
        if (where.starts_with(kPrefix)) where = where.substr(kPrefix.size());
        problems.push_back(fmt::format("{} at {}", d.message, where.empty() ? "/" : where));
      }
    }
    return Error("InvalidDefinition", fmt::format("Invalid State Machine Definition: '{}'",
                                                  fmt::join(problems, ", ")));
  }
  auto prepared = runtime::Prepare(std::move(report));
  if (!prepared.ok()) return Validation(std::string(prepared.status().message()));
  auto result = executions_.RunDetached(**prepared, std::move(input_json->value));
  if (!result.ok()) return Internal(result.status());
  json::object out;
  json::object inspection;
  std::string next_state;
  std::string failed_error;
  std::string failed_cause;
  for (runtime::HistoryEvent event : result->history) {
    if (event.state_name == kName && runtime::IsStateEntered(event.kind) && event.payload) {
      inspection["input"] = std::string(event.payload.view());
    }
    if (event.kind == runtime::EventType::kTaskSucceeded && event.payload) {
      inspection["result"] = std::string(event.payload.view());
    }
    if (event.state_name == kName && runtime::IsStateExited(event.kind) && event.payload) {
      inspection["afterResultPath"] = std::string(event.payload.view());
      out["output"] = std::string(event.payload.view());
    }
    if (runtime::IsStateEntered(event.kind) && event.state_name != kName) {
      next_state = std::string(event.state_name);
    }
    if (event.kind == runtime::EventType::kTaskFailed ||
        event.kind == runtime::EventType::kExecutionFailed) {
      if (event.details != nullptr) {
        if (const json::value* v = event.details->if_contains("error"); v && v->is_string()) {
          failed_error = std::string(v->as_string());
        }
        if (const json::value* v = event.details->if_contains("cause"); v && v->is_string()) {
          failed_cause = std::string(v->as_string());
        }
      }
    }
  }
  std::string status;
  if (!next_state.empty() && !failed_error.empty()) {
    status = "CAUGHT_ERROR";
  } else if (result->status == runtime::ExecutionStatus::kSucceeded) {
    status = "SUCCEEDED";
  } else {
    status = "FAILED";
    failed_error = result->error;
    failed_cause = result->cause;
    // A retrier that matches the error: AWS reports RETRIABLE rather than retrying.
    if (retry.is_array()) {
      for (const json::value& r : retry.as_array()) {
        const json::value* equals = r.is_object() ? r.as_object().if_contains("ErrorEquals") : nullptr;
        if (equals == nullptr || !equals->is_array()) continue;
        for (const json::value& name : equals->as_array()) {
          if (name.is_string() && (name.as_string() == failed_error ||
                                   (name.as_string() == "States.ALL" &&
                                    failed_error != "States.Runtime"))) {
            status = "RETRIABLE";
          }
        }
      }
    }
  }
  out["status"] = status;
  if (!next_state.empty()) out["nextState"] = next_state;
  if (status != "SUCCEEDED") {
    if (!failed_error.empty()) out["error"] = failed_error;
    if (!failed_cause.empty()) out["cause"] = failed_cause;
    if (status != "CAUGHT_ERROR") out.erase("output");
  }
  if (level != "INFO") out["inspectionData"] = std::move(inspection);
  return out;
}

}  // namespace zflow::server
