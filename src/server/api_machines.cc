// The Step Functions API: dispatch, and the actions on state machines, versions, aliases and
// definitions.
#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "common/ids.h"
#include "server/api_fields.h"
#include "server/step_functions_api.h"
#include "zflow/validator.h"

namespace zflow::server {
namespace {

using Handler = Answer (StepFunctionsApi::*)(const json::object&);

const std::map<std::string_view, Handler>& Handlers() {
  static const auto* handlers = new std::map<std::string_view, Handler>{
      {"CreateActivity", &StepFunctionsApi::CreateActivity},
      {"CreateStateMachine", &StepFunctionsApi::CreateStateMachine},
      {"CreateStateMachineAlias", &StepFunctionsApi::CreateStateMachineAlias},
      {"DeleteActivity", &StepFunctionsApi::DeleteActivity},
      {"DeleteStateMachine", &StepFunctionsApi::DeleteStateMachine},
      {"DeleteStateMachineAlias", &StepFunctionsApi::DeleteStateMachineAlias},
      {"DeleteStateMachineVersion", &StepFunctionsApi::DeleteStateMachineVersion},
      {"DescribeActivity", &StepFunctionsApi::DescribeActivity},
      {"DescribeExecution", &StepFunctionsApi::DescribeExecution},
      {"DescribeStateMachine", &StepFunctionsApi::DescribeStateMachine},
      {"DescribeStateMachineAlias", &StepFunctionsApi::DescribeStateMachineAlias},
      {"DescribeStateMachineForExecution", &StepFunctionsApi::DescribeStateMachineForExecution},
      {"GetActivityTask", &StepFunctionsApi::GetActivityTask},
      {"GetExecutionHistory", &StepFunctionsApi::GetExecutionHistory},
      {"ListActivities", &StepFunctionsApi::ListActivities},
      {"ListExecutions", &StepFunctionsApi::ListExecutions},
      {"ListStateMachineAliases", &StepFunctionsApi::ListStateMachineAliases},
      {"ListStateMachineVersions", &StepFunctionsApi::ListStateMachineVersions},
      {"ListStateMachines", &StepFunctionsApi::ListStateMachines},
      {"ListTagsForResource", &StepFunctionsApi::ListTagsForResource},
      {"PublishStateMachineVersion", &StepFunctionsApi::PublishStateMachineVersion},
      {"RedriveExecution", &StepFunctionsApi::RedriveExecution},
      {"SendTaskFailure", &StepFunctionsApi::SendTaskFailure},
      {"SendTaskHeartbeat", &StepFunctionsApi::SendTaskHeartbeat},
      {"SendTaskSuccess", &StepFunctionsApi::SendTaskSuccess},
      {"StartExecution", &StepFunctionsApi::StartExecution},
      {"StartSyncExecution", &StepFunctionsApi::StartSyncExecution},
      {"StopExecution", &StepFunctionsApi::StopExecution},
      {"TagResource", &StepFunctionsApi::TagResource},
      {"TestState", &StepFunctionsApi::TestState},
      {"UntagResource", &StepFunctionsApi::UntagResource},
      {"UpdateStateMachine", &StepFunctionsApi::UpdateStateMachine},
      {"UpdateStateMachineAlias", &StepFunctionsApi::UpdateStateMachineAlias},
      {"ValidateStateMachineDefinition", &StepFunctionsApi::ValidateStateMachineDefinition},
  };
  return *handlers;
}


// AWS's diagnostic codes for ours.
std::string_view AwsDiagnosticCode(std::string_view code) {
  if (code == diag::kJsonSyntax) return "INVALID_JSON_DESCRIPTION";
  if (code == diag::kUnknownState) return "MISSING_TRANSITION_TARGET";
  if (code == diag::kDefinitionTooLarge) return "DEFINITION_TOO_LARGE";
  return "SCHEMA_VALIDATION_FAILED";
}

// The definition's errors as CreateStateMachine reports them, or nullopt when it is valid.
std::optional<ApiError> CheckDefinition(std::string_view definition) {
  asl::ValidationReport report = asl::ValidateDefinition(definition);
  if (report.ok()) return std::nullopt;
  std::vector<std::string> problems;
  for (const Diagnostic& d : report.diagnostics) {
    if (d.severity != Severity::kError) continue;
    problems.push_back(fmt::format("{}: {} at {}", AwsDiagnosticCode(d.code), d.message,
                                   d.pointer.empty() ? "/" : d.pointer));
  }
  return Error("InvalidDefinition", fmt::format("Invalid State Machine Definition: '{}'",
                                                fmt::join(problems, ", ")));
}

json::value JsonOf(std::string_view text, json::value fallback = json::object()) {
  auto parsed = ParseJson(text);
  return parsed.ok() ? std::move(parsed->value) : std::move(fallback);
}

// loggingConfiguration / tracingConfiguration as stored, with AWS's defaults.
std::string LoggingText(const json::object* logging) {
  json::object out{{"level", "OFF"}, {"includeExecutionData", false}};
  if (logging != nullptr) {
    for (const auto& [k, v] : *logging) out[k] = v;
  }
  return ToJsonText(out);
}

std::string TracingText(const json::object* tracing) {
  json::object out{{"enabled", false}};
  if (tracing != nullptr) {
    for (const auto& [k, v] : *tracing) out[k] = v;
  }
  return ToJsonText(out);
}

// DescribeStateMachine's answer for a machine or a version record.
template <typename Record>
json::object Described(const Record& r, std::string_view name) {
  json::object out{{"stateMachineArn", r.arn},
                   {"name", name},
                   {"status", "ACTIVE"},
                   {"definition", r.definition},
                   {"roleArn", r.role_arn},
                   {"type", r.type},
                   {"creationDate", Date(r.creation_ms)},
                   {"loggingConfiguration", JsonOf(r.logging_configuration)},
                   {"tracingConfiguration", JsonOf(r.tracing_configuration)},
                   {"revisionId", r.revision_id}};
  if (!r.description.empty()) out["description"] = r.description;
  return out;
}

}  // namespace

ApiResponse ErrorResponse(const ApiError& error) {
  json::object body{{"__type", fmt::format("com.amazonaws.swf.service.v2.model#{}", error.type)},
                    {"message", ValidUtf8(error.message)}};
  return ApiResponse{error.http_status, ToJsonText(body), error.type};
}

StepFunctionsApi::StepFunctionsApi(ApiOptions options, store::Store& store,
                                   ExecutionService& executions)
    : options_(std::move(options)), store_(store), executions_(executions) {}

const std::vector<std::string_view>& StepFunctionsApi::Actions() {
  static const auto* actions = [] {
    auto* out = new std::vector<std::string_view>;
    for (const auto& [name, handler] : Handlers()) out->push_back(name);
    return out;
  }();
  return *actions;
}

ApiResponse StepFunctionsApi::Handle(std::string_view action, std::string_view body) {
  auto it = Handlers().find(action);
  if (it == Handlers().end()) {
    return ErrorResponse(Error("UnknownOperationException",
                               fmt::format("Unknown operation: '{}'", action.substr(0, 128))));
  }
  JsonParseOptions parse{.max_bytes = 8 << 20, .record_locations = false,
                         .reject_duplicate_keys = false};
  auto parsed = ParseJson(body.empty() ? std::string_view("{}") : body, parse);
  if (!parsed.ok()) {
    return ErrorResponse(Error("SerializationException",
                               fmt::format("The request body is not JSON: {}",
                                           parsed.status().message())));
  }
  const json::object* in = parsed->value.if_object();
  if (in == nullptr) {
    return ErrorResponse(Error("SerializationException", "The request body must be a JSON object"));
  }
  Answer answer = (this->*(it->second))(*in);
  if (!answer.ok()) return ErrorResponse(answer.error());
  return ApiResponse{200, ToJsonText(answer.body()), {}};
}

std::string StepFunctionsApi::MachineArn(std::string_view name) const {
  return fmt::format("arn:aws:states:{}:{}:stateMachine:{}", options_.region, options_.account,
                     name);
}

std::int64_t StepFunctionsApi::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             executions_.Now().time_since_epoch())
      .count();
}

// ---- state machines ----

Answer StepFunctionsApi::CreateStateMachine(const json::object& in) {
  Fields f(in);
  std::string name = f.Required("name", 80);
  std::string definition = f.Required("definition", kMaxDefinitionBytes);
  std::string role = f.Required("roleArn", 256);
  std::string type = f.Enum("type", {"STANDARD", "EXPRESS"}).value_or("STANDARD");
  const json::object* logging = f.Object("loggingConfiguration");
  const json::object* tracing = f.Object("tracingConfiguration");
  auto tags = ReadTags(f, "tags");
  bool publish = f.Bool("publish").value_or(false);
  std::string version_description = f.Optional("versionDescription", 256).value_or("");
  if (!f.ok()) return *f.error;
  if (auto bad = CheckName(name)) return *bad;
  if (!role.starts_with("arn:")) return InvalidArn(role, fmt::format("Invalid Role Arn: {}", role));
  if (auto bad = CheckDefinition(definition)) return *bad;
  if (!publish && !version_description.empty()) {
    return Validation("Version description can only be set when publish is true");
  }
  std::int64_t now = NowMs();
  store::StateMachineRecord record{.arn = MachineArn(name),
                                   .name = name,
                                   .definition = definition,
                                   .role_arn = role,
                                   .type = type,
                                   .revision_id = RandomUuid(),
                                   .logging_configuration = LoggingText(logging),
                                   .tracing_configuration = TracingText(tracing),
                                   .creation_ms = now,
                                   .update_ms = now};
  Status st = store_.CreateStateMachine(record);
  if (st.code() == StatusCode::kAlreadyExists) {
    // Idempotent: the same request again returns the machine that exists.
    auto existing = store_.GetStateMachine(record.arn);
    if (existing.ok() && existing->definition == definition && existing->role_arn == role &&
        existing->type == type) {
      json::object out{{"stateMachineArn", existing->arn},
                       {"creationDate", Date(existing->creation_ms)}};
      return out;
    }
    return Error("StateMachineAlreadyExists",
                 fmt::format("State Machine Already Exists: '{}'", record.arn));
  }
  if (!st.ok()) return Internal(st);
  if (tags && !tags->empty()) {
    if (Status t = store_.TagResource(record.arn, *tags); !t.ok()) return Internal(t);
  }
  json::object out{{"stateMachineArn", record.arn}, {"creationDate", Date(now)}};
  if (publish) {
    auto version = store_.PublishVersion(record.arn, version_description, now);
    if (!version.ok()) return Internal(version.status());
    out["stateMachineVersionArn"] = version->arn;
  }
  return out;
}

Answer StepFunctionsApi::DescribeStateMachine(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineArn", 256);
  if (!f.ok()) return *f.error;
  std::optional<StatesArn> parsed = ParseStatesArn(arn);
  if (!parsed) return InvalidArn(arn, "");
  if (parsed->kind != "stateMachine") {
    return InvalidArn(arn, fmt::format("Resource type not valid in this context: {}", parsed->kind));
  }
  if (!parsed->qualifier.empty()) {
    auto version = store_.GetVersion(arn);
    if (!version.ok()) return MachineMissing(arn);
    return Described(*version, parsed->name);
  }
  auto machine = store_.GetStateMachine(arn);
  if (!machine.ok()) {
    if (machine.status().code() == StatusCode::kNotFound) return MachineMissing(arn);
    return Internal(machine.status());
  }
  return Described(*machine, machine->name);
}

Answer StepFunctionsApi::UpdateStateMachine(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineArn", 256);
  std::optional<std::string> definition = f.Optional("definition", kMaxDefinitionBytes);
  std::optional<std::string> role = f.Optional("roleArn", 256);
  const json::object* logging = f.Object("loggingConfiguration");
  const json::object* tracing = f.Object("tracingConfiguration");
  bool publish = f.Bool("publish").value_or(false);
  std::string version_description = f.Optional("versionDescription", 256).value_or("");
  if (!f.ok()) return *f.error;
  std::optional<StatesArn> parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "stateMachine" || !parsed->qualifier.empty()) {
    return InvalidArn(arn, "");
  }
  if (!definition && !role && logging == nullptr && tracing == nullptr && !publish) {
    return Error("MissingRequiredParameter",
                 "Either the definition, the role ARN, the logging configuration or the tracing "
                 "configuration must be specified");
  }
  if (definition) {
    if (auto bad = CheckDefinition(*definition)) return *bad;
  }
  auto machine = store_.GetStateMachine(arn);
  if (!machine.ok()) return MachineMissing(arn);
  bool changed = false;
  if (definition && *definition != machine->definition) {
    machine->definition = *definition;
    changed = true;
  }
  if (role && *role != machine->role_arn) {
    machine->role_arn = *role;
    changed = true;
  }
  if (logging != nullptr) {
    machine->logging_configuration = LoggingText(logging);
    changed = true;
  }
  if (tracing != nullptr) {
    machine->tracing_configuration = TracingText(tracing);
    changed = true;
  }
  std::int64_t now = NowMs();
  if (changed) {
    machine->revision_id = RandomUuid();
    machine->update_ms = now;
    if (Status st = store_.UpdateStateMachine(*machine); !st.ok()) return Internal(st);
  }
  json::object out{{"updateDate", Date(machine->update_ms)},
                   {"revisionId", machine->revision_id}};
  if (publish) {
    auto version = store_.PublishVersion(arn, version_description, now);
    if (!version.ok()) return Internal(version.status());
    out["stateMachineVersionArn"] = version->arn;
  }
  return out;
}

Answer StepFunctionsApi::DeleteStateMachine(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineArn", 256);
  if (!f.ok()) return *f.error;
  std::optional<StatesArn> parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "stateMachine") return InvalidArn(arn, "");
  if (!parsed->qualifier.empty()) {
    return Validation("To delete a version or an alias, use DeleteStateMachineVersion or "
                      "DeleteStateMachineAlias");
  }
  if (Status st = store_.DeleteStateMachine(arn); !st.ok()) return Internal(st);
  return json::object{};
}

Answer StepFunctionsApi::ListStateMachines(const json::object& in) {
  Fields f(in);
  int limit = ReadMaxResults(f);
  std::optional<std::string> after = ReadPageToken(f);
  if (!f.ok()) return *f.error;
  auto machines = store_.ListStateMachines(after.value_or(""), limit + 1);
  if (!machines.ok()) return Internal(machines.status());
  json::array list;
  for (std::size_t i = 0; i < machines->size() && i < static_cast<std::size_t>(limit); ++i) {
    const auto& m = (*machines)[i];
    list.push_back(json::object{{"stateMachineArn", m.arn},
                                {"name", m.name},
                                {"type", m.type},
                                {"creationDate", Date(m.creation_ms)}});
  }
  json::object out{{"stateMachines", std::move(list)}};
  if (machines->size() > static_cast<std::size_t>(limit)) {
    out["nextToken"] = PageToken((*machines)[static_cast<std::size_t>(limit) - 1].name);
  }
  return out;
}

// ---- versions ----

Answer StepFunctionsApi::PublishStateMachineVersion(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineArn", 256);
  std::optional<std::string> revision = f.Optional("revisionId", 256);
  std::string description = f.Optional("description", 256).value_or("");
  if (!f.ok()) return *f.error;
  std::optional<StatesArn> parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "stateMachine" || !parsed->qualifier.empty()) {
    return InvalidArn(arn, "");
  }
  auto machine = store_.GetStateMachine(arn);
  if (!machine.ok()) return MachineMissing(arn);
  if (revision && *revision != machine->revision_id) {
    return Error("ConflictException",
                 fmt::format("Failed to publish the State Machine version: the revision id {} is "
                             "not the current revision {}",
                             *revision, machine->revision_id));
  }
  auto version = store_.PublishVersion(arn, description, NowMs());
  if (!version.ok()) return Internal(version.status());
  return json::object{{"creationDate", Date(version->creation_ms)},
                      {"stateMachineVersionArn", version->arn}};
}

Answer StepFunctionsApi::ListStateMachineVersions(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineArn", 256);
  int limit = ReadMaxResults(f);
  std::optional<std::string> cursor = ReadPageToken(f);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "stateMachine" || !parsed->qualifier.empty()) {
    return InvalidArn(arn, "");
  }
  auto versions = store_.ListVersions(arn);
  if (!versions.ok()) return Internal(versions.status());
  std::size_t start = 0;
  if (cursor) start = static_cast<std::size_t>(std::max(0, std::atoi(cursor->c_str())));
  json::array list;
  std::size_t i = start;
  for (; i < versions->size() && list.size() < static_cast<std::size_t>(limit); ++i) {
    list.push_back(json::object{{"stateMachineVersionArn", (*versions)[i].arn},
                                {"creationDate", Date((*versions)[i].creation_ms)}});
  }
  json::object out{{"stateMachineVersions", std::move(list)}};
  if (i < versions->size()) out["nextToken"] = PageToken(std::to_string(i));
  return out;
}

Answer StepFunctionsApi::DeleteStateMachineVersion(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineVersionArn", 256);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "stateMachine" || parsed->qualifier.empty() ||
      parsed->qualifier.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArn(arn, "");
  }
  auto aliases = store_.ListAliases(parsed->machine_arn());
  if (!aliases.ok()) return Internal(aliases.status());
  for (const auto& alias : *aliases) {
    if (alias.routing.find(fmt::format("\"{}\"", arn)) != std::string::npos) {
      return Error("ConflictException",
                   fmt::format("Version to be deleted must not be referenced by an alias. Current "
                               "list of aliases referencing this version: [{}]",
                               alias.arn));
    }
  }
  if (Status st = store_.DeleteVersion(arn); !st.ok()) return Internal(st);
  return json::object{};
}

// ---- aliases ----

namespace {

// routingConfiguration: one or two versions of the alias's machine, weights summing to 100.
std::optional<ApiError> CheckRouting(store::Store& store, const json::array& routing,
                                     const std::string& machine_arn) {
  if (routing.empty() || routing.size() > 2) {
    return Validation("1 validation error detected: Value at 'routingConfiguration' failed to "
                      "satisfy constraint: Member must have length between 1 and 2");
  }
  std::int64_t total = 0;
  std::vector<std::string> seen;
  for (const json::value& r : routing) {
    const json::object* o = r.if_object();
    const json::value* arn = o != nullptr ? o->if_contains("stateMachineVersionArn") : nullptr;
    const json::value* weight = o != nullptr ? o->if_contains("weight") : nullptr;
    if (arn == nullptr || !arn->is_string() || weight == nullptr || !weight->is_number()) {
      return Validation("Each routing entry needs a stateMachineVersionArn and a weight");
    }
    auto parsed = ParseStatesArn(arn->as_string());
    if (!parsed || parsed->kind != "stateMachine" || parsed->qualifier.empty()) {
      return InvalidArn(arn->as_string(), "");
    }
    if (parsed->machine_arn() != machine_arn) {
      return Validation("Routing configuration versions must belong to the same state machine");
    }
    if (!store.GetVersion(arn->as_string()).ok()) {
      return Error("ResourceNotFound",
                   fmt::format("Resource not found: '{}'", std::string_view(arn->as_string())));
    }
    std::string key(arn->as_string());
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return Validation("Routing configuration must contain distinct version ARNs");
    }
    seen.push_back(key);
    std::int64_t w = weight->is_int64() ? weight->as_int64() : -1;
    if (w < 0 || w > 100) return Validation("Routing weights must be between 0 and 100");
    total += w;
  }
  if (total != 100) return Validation("Sum of routing configuration weights must equal 100");
  return std::nullopt;
}

}  // namespace

Answer StepFunctionsApi::CreateStateMachineAlias(const json::object& in) {
  Fields f(in);
  std::string name = f.Required("name", 80);
  std::string description = f.Optional("description", 256).value_or("");
  const json::array* routing = f.Array("routingConfiguration");
  if (f.ok() && routing == nullptr) {
    f.error = Validation("1 validation error detected: Value null at 'routingConfiguration' "
                         "failed to satisfy constraint: Member must not be null");
  }
  if (!f.ok()) return *f.error;
  if (auto bad = CheckName(name)) return *bad;
  if (name.find_first_not_of("0123456789") == std::string::npos) {
    return Error("InvalidName", fmt::format("Invalid Name: '{}' (an alias name cannot be a number)",
                                            name));
  }
  const json::object* first = (*routing).empty() ? nullptr : (*routing)[0].if_object();
  const json::value* version_arn = first != nullptr ? first->if_contains("stateMachineVersionArn")
                                                    : nullptr;
  if (version_arn == nullptr || !version_arn->is_string()) {
    return Validation("Each routing entry needs a stateMachineVersionArn and a weight");
  }
  auto parsed = ParseStatesArn(version_arn->as_string());
  if (!parsed) return InvalidArn(version_arn->as_string(), "");
  std::string machine_arn = parsed->machine_arn();
  if (auto bad = CheckRouting(store_, *routing, machine_arn)) return *bad;
  std::int64_t now = NowMs();
  store::AliasRecord record{.arn = fmt::format("{}:{}", machine_arn, name),
                            .machine_arn = machine_arn,
                            .name = name,
                            .description = description,
                            .routing = ToJsonText(*routing),
                            .creation_ms = now,
                            .update_ms = now};
  Status st = store_.CreateAlias(record);
  if (st.code() == StatusCode::kAlreadyExists) {
    auto existing = store_.GetAlias(record.arn);
    if (existing.ok() && existing->routing == record.routing &&
        existing->description == description) {
      return json::object{{"stateMachineAliasArn", existing->arn},
                          {"creationDate", Date(existing->creation_ms)}};
    }
    return Error("ConflictException",
                 fmt::format("Failed to create alias because an alias with the same name and a "
                             "different routing configuration already exists: '{}'",
                             record.arn));
  }
  if (!st.ok()) return Internal(st);
  return json::object{{"stateMachineAliasArn", record.arn}, {"creationDate", Date(now)}};
}

Answer StepFunctionsApi::DescribeStateMachineAlias(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineAliasArn", 256);
  if (!f.ok()) return *f.error;
  auto alias = store_.GetAlias(arn);
  if (!alias.ok()) {
    return Error("ResourceNotFound", fmt::format("Resource not found: '{}'", arn));
  }
  json::object out{{"stateMachineAliasArn", alias->arn},
                   {"name", alias->name},
                   {"routingConfiguration", JsonOf(alias->routing, json::array())},
                   {"creationDate", Date(alias->creation_ms)},
                   {"updateDate", Date(alias->update_ms)}};
  if (!alias->description.empty()) out["description"] = alias->description;
  return out;
}

Answer StepFunctionsApi::UpdateStateMachineAlias(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineAliasArn", 256);
  std::optional<std::string> description = f.Optional("description", 256);
  const json::array* routing = f.Array("routingConfiguration");
  if (!f.ok()) return *f.error;
  if (!description && routing == nullptr) {
    return Error("MissingRequiredParameter",
                 "Either the description or the routing configuration must be specified");
  }
  auto alias = store_.GetAlias(arn);
  if (!alias.ok()) return Error("ResourceNotFound", fmt::format("Resource not found: '{}'", arn));
  if (routing != nullptr) {
    if (auto bad = CheckRouting(store_, *routing, alias->machine_arn)) return *bad;
    alias->routing = ToJsonText(*routing);
  }
  if (description) alias->description = *description;
  alias->update_ms = NowMs();
  if (Status st = store_.UpdateAlias(*alias); !st.ok()) return Internal(st);
  return json::object{{"updateDate", Date(alias->update_ms)}};
}

Answer StepFunctionsApi::DeleteStateMachineAlias(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineAliasArn", 256);
  if (!f.ok()) return *f.error;
  if (!store_.GetAlias(arn).ok()) {
    return Error("ResourceNotFound", fmt::format("Resource not found: '{}'", arn));
  }
  if (Status st = store_.DeleteAlias(arn); !st.ok()) return Internal(st);
  return json::object{};
}

Answer StepFunctionsApi::ListStateMachineAliases(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("stateMachineArn", 256);
  int limit = ReadMaxResults(f);
  std::optional<std::string> cursor = ReadPageToken(f);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "stateMachine") return InvalidArn(arn, "");
  if (!store_.GetStateMachine(parsed->machine_arn()).ok()) return MachineMissing(arn);
  auto aliases = store_.ListAliases(parsed->machine_arn());
  if (!aliases.ok()) return Internal(aliases.status());
  json::array list;
  std::size_t i = 0;
  for (; i < aliases->size(); ++i) {
    const auto& a = (*aliases)[i];
    if (cursor && a.name <= *cursor) continue;
    if (list.size() == static_cast<std::size_t>(limit)) break;
    // A version ARN lists the aliases that route to it.
    if (!parsed->qualifier.empty() &&
        a.routing.find(fmt::format("\"{}\"", arn)) == std::string::npos) {
      continue;
    }
    list.push_back(json::object{{"stateMachineAliasArn", a.arn},
                                {"creationDate", Date(a.creation_ms)}});
  }
  json::object out{{"stateMachineAliases", std::move(list)}};
  if (i < aliases->size()) out["nextToken"] = PageToken((*aliases)[i - 1].name);
  return out;
}

// ---- definitions ----

Answer StepFunctionsApi::ValidateStateMachineDefinition(const json::object& in) {
  Fields f(in);
  std::string definition = f.Required("definition", kMaxDefinitionBytes);
  f.Enum("type", {"STANDARD", "EXPRESS"});
  std::string severity = f.Enum("severity", {"ERROR", "WARNING"}).value_or("ERROR");
  int limit = static_cast<int>(f.Int("maxResults", 0, 100).value_or(0));
  if (limit == 0) limit = 100;
  if (!f.ok()) return *f.error;
  asl::ValidationReport report = asl::ValidateDefinition(definition);
  json::array diagnostics;
  bool failed = false;
  bool truncated = false;
  for (const Diagnostic& d : report.diagnostics) {
    const bool error = d.severity == Severity::kError;
    failed |= error;
    if (!error && severity == "ERROR") continue;
    if (diagnostics.size() == static_cast<std::size_t>(limit)) {
      truncated = true;
      continue;
    }
    json::object item{{"severity", error ? "ERROR" : "WARNING"},
                      {"code", AwsDiagnosticCode(d.code)},
                      {"message", ValidUtf8(d.message)}};
    if (!d.pointer.empty()) item["location"] = d.pointer;
    diagnostics.push_back(std::move(item));
  }
  if (!report.machine) failed = true;
  return json::object{{"result", failed ? "FAIL" : "OK"},
                      {"diagnostics", std::move(diagnostics)},
                      {"truncated", truncated}};
}

}  // namespace zflow::server
