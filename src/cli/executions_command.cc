// zflow executions list|describe|history|stop|redrive and zflow deploy --local: clients of a
// running zflow serve.
#include <chrono>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/server_client.h"
#include "common/file.h"
#include "common/percent_encoding.h"
#include "zflow/validator.h"
#include "zflow/asl_serializer.h"
#include "zflow/spec.h"

namespace zflow::cli {
namespace {

constexpr std::string_view kRegion = "us-east-1";

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string When(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return "-";
  auto ms = static_cast<std::int64_t>(v->to_number<double>() * 1000);
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

int Fail(const Status& st) {
  fmt::print(stderr, "zflow: {}\n", st.message());
  return st.code() == StatusCode::kUnavailable ? kExitUsage : kExitInvalid;
}

// "machine:name" or a full ARN.
std::string ExecutionArn(const ExecutionsOptions& o, std::string_view id) {
  if (id.starts_with("arn:")) return std::string(id);
  std::size_t colon = id.find(':');
  if (colon == std::string_view::npos) return std::string(id);
  return fmt::format("arn:aws:states:{}:{}:execution:{}:{}", kRegion, o.account,
                     id.substr(0, colon), id.substr(colon + 1));
}

std::string MachineArn(const ExecutionsOptions& o, std::string_view id) {
  if (id.starts_with("arn:")) return std::string(id);
  return fmt::format("arn:aws:states:{}:{}:stateMachine:{}", kRegion, o.account, id);
}

int List(const ServerClient& client, const ExecutionsOptions& o) {
  std::vector<std::string> machines;
  if (!o.state_machine.empty()) {
    machines.push_back(MachineArn(o, o.state_machine));
  } else {
    auto listed = client.Call("ListStateMachines", {{"maxResults", 1000}});
    if (!listed.ok()) return Fail(listed.status());
    for (const json::value& m : listed->at("stateMachines").as_array()) {
      machines.push_back(Str(m.as_object(), "stateMachineArn"));
    }
  }
  json::array all;
  for (const std::string& machine : machines) {
    json::object request{{"stateMachineArn", machine}, {"maxResults", o.max_results}};
    if (!o.status.empty()) request["statusFilter"] = o.status;
    auto page = client.Call("ListExecutions", request);
    if (!page.ok()) return Fail(page.status());
    for (json::value& e : page->at("executions").as_array()) all.push_back(std::move(e));
  }
  if (o.json) {
    fmt::print("{}\n", ToJsonText(all));
    return kExitOk;
  }
  fmt::print("{:<40} {:<24} {:<10} {:<24} {}\n", "NAME", "STATE MACHINE", "STATUS", "STARTED",
             "STOPPED");
  for (const json::value& v : all) {
    const json::object& e = v.as_object();
    std::string machine = Str(e, "stateMachineArn");
    machine = machine.substr(machine.rfind(':') + 1);
    fmt::print("{:<40} {:<24} {:<10} {:<24} {}\n", Str(e, "name"), machine, Str(e, "status"),
               When(e, "startDate"), When(e, "stopDate"));
  }
  return kExitOk;
}

int History(const ServerClient& client, const ExecutionsOptions& o) {
  json::array events;
  std::string token;
  do {
    json::object request{{"executionArn", ExecutionArn(o, o.execution)}, {"maxResults", 1000},
                         {"reverseOrder", o.reverse}};
    if (!token.empty()) request["nextToken"] = token;
    auto page = client.Call("GetExecutionHistory", request);
    if (!page.ok()) return Fail(page.status());
    for (json::value& e : page->at("events").as_array()) events.push_back(std::move(e));
    token = Str(*page, "nextToken");
  } while (!token.empty());
  if (o.json) {
    fmt::print("{}\n", ToJsonText(events));
    return kExitOk;
  }
  for (const json::value& v : events) {
    const json::object& e = v.as_object();
    std::string detail;
    for (const auto& [key, value] : e) {
      if (!key.ends_with("EventDetails") || !value.is_object()) continue;
      const json::object& d = value.as_object();
      detail = Str(d, "name");
      if (std::string error = Str(d, "error"); !error.empty()) {
        detail += fmt::format("{}{}: {}", detail.empty() ? "" : " ", error, Str(d, "cause"));
      }
    }
    fmt::print("{:>5} {:<24} {:<28} {}\n", e.at("id").to_number<std::int64_t>(), When(e, "timestamp"),
               Str(e, "type"), detail);
  }
  return kExitOk;
}

int Logs(const ServerClient& client, const ExecutionsOptions& o) {
  const std::string arn = ExecutionArn(o, o.execution);
  auto reply = client.Rest("GET", fmt::format("/zflow/task-logs?executionArn={}", PercentEncode(arn)),
                           "");
  if (!reply.ok()) return Fail(reply.status());
  if (o.json) {
    fmt::print("{}\n", ToJsonText(*reply));
    return kExitOk;
  }
  for (const json::value& v : reply->at("logs").as_array()) {
    const json::object& l = v.as_object();
    fmt::print("== {} (event {})\n{}", Str(l, "stateName"), l.at("eventId").to_number<std::int64_t>(),
               Str(l, "log"));
    if (!Str(l, "log").ends_with("\n")) fmt::print("\n");
  }
  return kExitOk;
}

int Start(const ServerClient& client, const ExecutionsOptions& o) {
  std::string input = o.input;
  if (!o.input_file.empty()) {
    auto text = ReadFileCapped(o.input_file, kMaxPayloadBytes);
    if (!text.ok()) return Fail(text.status());
    input = std::move(text->data);
  }
  json::object request{{"stateMachineArn", MachineArn(o, o.state_machine)}, {"input", input}};
  if (!o.name.empty()) request["name"] = o.name;
  auto started = client.Call("StartExecution", request);
  if (!started.ok()) return Fail(started.status());
  const std::string arn = Str(*started, "executionArn");
  if (o.json && !o.wait) {
    fmt::print("{}\n", ToJsonText(*started));
    return kExitOk;
  }
  fmt::print("Started {}\n  {}/ui/executions/{}\n", arn, client.endpoint(), PercentEncode(arn, ":"));
  std::fflush(stdout);
  if (!o.wait) return kExitOk;
  while (true) {
    auto described = client.Call("DescribeExecution", {{"executionArn", arn}});
    if (!described.ok()) return Fail(described.status());
    const std::string status = Str(*described, "status");
    if (status != "RUNNING") {
      if (o.json) {
        fmt::print("{}\n", ToJsonText(*described));
      } else {
        fmt::print("{}", status);
        if (std::string error = Str(*described, "error"); !error.empty()) {
          fmt::print(": {} {}", error, Str(*described, "cause").substr(0, 2000));
        }
        fmt::print("\n");
      }
      if (status == "SUCCEEDED") return kExitOk;
      return status == "FAILED" ? kExitInvalid : kExitTimedOut;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

int RunExecutions(const ExecutionsOptions& o) {
  auto client = ServerClient::Connect(o.endpoint.empty() ? DefaultEndpoint() : o.endpoint);
  if (!client.ok()) return Fail(client.status());
  if (o.action == "list") return List(*client, o);
  if (o.action == "history") return History(*client, o);
  if (o.action == "logs") return Logs(*client, o);
  if (o.action == "start") return Start(*client, o);
  const std::string arn = ExecutionArn(o, o.execution);
  Result<json::object> reply = Status::Ok();
  if (o.action == "describe") {
    reply = client->Call("DescribeExecution", {{"executionArn", arn}});
  } else if (o.action == "stop") {
    json::object request{{"executionArn", arn}};
    if (!o.error.empty()) request["error"] = o.error;
    if (!o.cause.empty()) request["cause"] = o.cause;
    reply = client->Call("StopExecution", request);
  } else if (o.action == "redrive") {
    reply = client->Call("RedriveExecution", {{"executionArn", arn}});
  } else {
    fmt::print(stderr, "zflow executions: say list, start, describe, history, logs, stop or redrive\n");
    return kExitUsage;
  }
  if (!reply.ok()) return Fail(reply.status());
  if (o.json || o.action == "describe") {
    fmt::print("{}\n", ToJsonText(*reply));
  } else {
    fmt::print("{} {}\n", o.action == "stop" ? "Stopped" : "Redriven", arn);
  }
  return kExitOk;
}

void AddDeployOptions(CLI::App* cmd, DeployOptions& deploy) {
  cmd->add_flag("--local", deploy.local, "Deploy to a local zflow serve")->required();
  cmd->add_option("--endpoint-url", deploy.endpoint,
                  "zflow serve's URL (default: $ZFLOW_ENDPOINT or http://127.0.0.1:8083)");
  cmd->add_option("--name", deploy.name, "State machine name (default: the pipeline's)");
  cmd->add_option("--schedule", deploy.schedule, "Schedule expression (default: the pipeline's)");
  cmd->add_option("--time-zone", deploy.time_zone, "Of the schedule")->capture_default_str();
  cmd->add_option("--input", deploy.input, "Input of scheduled executions (JSON)")
      ->capture_default_str();
}

int RunDeploy(const DeployOptions& o) {
  if (!o.local) {
    fmt::print(stderr, "zflow deploy: only --local is supported here; deploy to AWS with the "
                       "CloudFormation template `zflow compile` writes\n");
    return kExitUsage;
  }
  auto client = ServerClient::Connect(o.endpoint.empty() ? DefaultEndpoint() : o.endpoint);
  if (!client.ok()) return Fail(client.status());
  std::string name = o.name;
  std::string definition;
  std::string schedule = o.schedule;
  std::map<std::string, std::string> tags;
  std::string step_graph;  // a pipeline's, for the web UI
  std::optional<spec::LoadedPipeline> loaded;
  const Pipeline* pipeline = o.pipeline;
  std::function<std::string(std::string_view)> locate = o.locate;
  if (pipeline == nullptr && IsPipelineSpec(o.file)) {
    auto read = spec::LoadPipelineFile(o.file);
    if (!read.ok()) return Fail(read.status());
    loaded.emplace(std::move(*read));
    pipeline = &loaded->pipeline();
    locate = [&loaded](std::string_view m) { return loaded->Locate(m); };
  }
  if (pipeline != nullptr) {
    auto machine = pipeline->Compile();
    if (!machine.ok()) {
      return Fail(InvalidArgumentError(locate ? locate(machine.status().message())
                                              : std::string(machine.status().message())));
    }
    definition = SubstituteLocal(asl::SerializeStateMachine(*machine), *pipeline);
    if (name.empty()) name = pipeline->name();
    if (schedule.empty()) schedule = pipeline->options().schedule;
    tags = pipeline->options().tags;
    step_graph = ToJsonText(pipeline->StepGraph());
  } else {
    auto text = ReadFileCapped(o.file, asl::kMaxDefinitionBytes);
    if (!text.ok()) return Fail(text.status());
    definition = std::move(text->data);
    if (name.empty()) name = MachineNameFor(o.file);
  }
  const std::string role = fmt::format("arn:aws:iam::{}:role/zflow-{}", o.account, name);
  json::array tag_list;
  for (const auto& [k, v] : tags) tag_list.push_back(json::object{{"key", k}, {"value", v}});
  const std::string arn =
      fmt::format("arn:aws:states:{}:{}:stateMachine:{}", kRegion, o.account, name);
  std::string verb = "created";
  auto existing = client->Call("DescribeStateMachine", {{"stateMachineArn", arn}});
  if (existing.ok()) {
    verb = Str(*existing, "definition") == definition ? "unchanged" : "updated";
    if (verb == "updated") {
      auto updated = client->Call("UpdateStateMachine", {{"stateMachineArn", arn},
                                                         {"definition", definition}});
      if (!updated.ok()) return Fail(updated.status());
    }
  } else if (existing.status().code() == StatusCode::kNotFound) {
    auto created = client->Call("CreateStateMachine", {{"name", name},
                                                       {"definition", definition},
                                                       {"roleArn", role},
                                                       {"tags", tag_list}});
    if (!created.ok()) return Fail(created.status());
  } else {
    return Fail(existing.status());
  }
  fmt::print("Deployed {} to {} ({}): {}\n", name, client->endpoint(), verb, arn);
  if (!step_graph.empty()) {
    auto put = client->Rest("PUT", fmt::format("/zflow/pipelines/{}", name), step_graph);
    if (!put.ok()) return Fail(put.status());
  }
  if (!schedule.empty()) {
    json::object body{{"ScheduleExpression", schedule},
                      {"ScheduleExpressionTimezone", o.time_zone},
                      {"FlexibleTimeWindow", json::object{{"Mode", "OFF"}}},
                      {"Target", json::object{{"Arn", arn}, {"RoleArn", role}, {"Input", o.input}}}};
    const std::string path = fmt::format("/schedules/{}", name);
    auto put = client->Rest("PUT", path, ToJsonText(body));
    if (!put.ok() && put.status().code() == StatusCode::kNotFound) {
      put = client->Rest("POST", path, ToJsonText(body));
    }
    if (!put.ok()) return Fail(put.status());
    fmt::print("Schedule {} ({}) starts it: aws scheduler --endpoint-url {} get-schedule --name {}\n",
               schedule, o.time_zone, client->endpoint(), name);
  }
  fmt::print("Run it: aws stepfunctions --endpoint-url {} start-execution --state-machine-arn {}\n",
             client->endpoint(), arn);
  return kExitOk;
}

}  // namespace zflow::cli
