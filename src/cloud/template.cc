// The CloudFormation template of a state machine, with an IAM policy derived from the Task
// resources its definition uses.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "zflow/cloud.h"

namespace zflow::cloud {
namespace {

constexpr std::string_view kArnPrefix = "arn:${AWS::Partition}";

std::string RegionalArn(std::string_view service, std::string_view resource) {
  return fmt::format("{}:{}:${{AWS::Region}}:${{AWS::AccountId}}:{}", kArnPrefix, service,
                     resource);
}

// A CloudFormation string: Fn::Sub when it holds ${...} (pseudo parameters, template
// parameters), else the literal.
json::value Sub(const std::string& s) {
  if (s.find("${") == std::string::npos) return json::value(s);
  return json::object{{"Fn::Sub", s}};
}

// A Task parameter: its literal text, or its expression ("K.$" in JSONPath, "{% ... %}" in
// JSONata).
struct Field {
  enum Kind { kAbsent, kLiteral, kExpression } kind = kAbsent;
  std::string text;
};

Field GetField(const json::object* params, std::string_view key) {
  if (params == nullptr) return {};
  if (const json::value* v = params->if_contains(key); v != nullptr && v->is_string()) {
    std::string_view text = v->get_string();
    if (text.starts_with("{%") && text.ends_with("%}") && text.size() >= 4) {
      text = text.substr(2, text.size() - 4);
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
      return {Field::kExpression, std::string(text)};
    }
    return {Field::kLiteral, std::string(text)};
  }
  if (const json::value* v = params->if_contains(std::string(key) + ".$");
      v != nullptr && v->is_string()) {
    return {Field::kExpression, std::string(v->as_string())};
  }
  return {};
}

// A nested parameter: GetPath(params, {"TrainingJobDefinition", "RoleArn"}).
Field GetPath(const json::object* params, const std::vector<std::string_view>& keys) {
  const json::object* o = params;
  for (std::size_t i = 0; i + 1 < keys.size() && o != nullptr; ++i) {
    const json::value* v = o->if_contains(keys[i]);
    o = v != nullptr ? v->if_object() : nullptr;
  }
  return GetField(o, keys.back());
}

// The literal start of a States.Format('prefix{}...', ...) expression, or of a JSONata
// concatenation ("prefix" & ...), unescaped; nullopt for any other expression.
std::optional<std::string> FormatPrefix(std::string_view expr) {
  constexpr std::string_view kFormat = "States.Format('";
  if (std::string_view e = expr.starts_with('(') ? expr.substr(1) : expr; e.starts_with('"')) {
    // A JSON string literal, then '&'.
    std::size_t end = 1;
    while (end < e.size() && e[end] != '"') end += e[end] == '\\' ? 2 : 1;
    if (end >= e.size()) return std::nullopt;
    std::string_view rest = e.substr(end + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    auto literal = ParseJson(e.substr(0, end + 1));
    if (!rest.starts_with('&') || !literal.ok() || !literal->value.is_string()) {
      return std::nullopt;
    }
    return std::string(literal->value.get_string());
  }
  if (!expr.starts_with(kFormat)) return std::nullopt;
  std::string out;
  for (std::size_t i = kFormat.size(); i < expr.size(); ++i) {
    char c = expr[i];
    if (c == '\\' && i + 1 < expr.size()) {
      out.push_back(expr[++i]);
    } else if (c == '{' || c == '\'') {
      return out;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A SageMaker resource name pattern for an IAM resource: the exact (lower-cased, as SageMaker
// writes its ARNs) name, "<prefix>*" for a formatted name, "*" when unknown. Template
// placeholders become "*": their values' case is unknown.
std::string SageMakerName(const Field& f) {
  std::string name;
  if (f.kind == Field::kLiteral) {
    name = f.text;
  } else if (f.kind == Field::kExpression) {
    name = FormatPrefix(f.text).value_or("") + "*";
  } else {
    return "*";
  }
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name.compare(i, 2, "${") == 0) {
      std::size_t close = name.find('}', i);
      if (close == std::string::npos) break;
      if (out.empty() || out.back() != '*') out.push_back('*');
      i = close;
      continue;
    }
    char c = name[i];
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// ':' separators of an ARN, not counting those inside ${AWS::Region}-style placeholders.
int ColonsOutsidePlaceholders(std::string_view arn) {
  int n = 0;
  bool inside = false;
  for (std::size_t i = 0; i < arn.size(); ++i) {
    if (arn.compare(i, 2, "${") == 0) inside = true;
    if (inside && arn[i] == '}') inside = false;
    if (!inside && arn[i] == ':') ++n;
  }
  return n;
}

struct Statement {
  std::set<std::string> actions;
  std::set<std::string> resources;
  json::value condition;  // null: none
};

class PolicyBuilder {
 public:
  void Add(const std::string& sid, std::initializer_list<std::string_view> actions,
           const std::string& resource, json::value condition = nullptr) {
    Statement& s = statements_[sid];
    for (auto a : actions) s.actions.emplace(a);
    s.resources.insert(resource);
    if (!condition.is_null()) s.condition = std::move(condition);
  }
  // Conditions whose values accumulate (HTTP methods and endpoints).
  void AddConditionValue(const std::string& sid, const char* op, const char* key,
                         const std::string& value) {
    condition_values_[sid][op][key].insert(value);
  }

  json::array Build() {
    json::array out;
    for (auto& [sid, s] : statements_) {
      json::array actions;
      for (const auto& a : s.actions) actions.emplace_back(a);
      json::array resources;
      for (const auto& r : s.resources) resources.push_back(Sub(r));
      json::object st{{"Sid", sid}, {"Effect", "Allow"}, {"Action", std::move(actions)},
                      {"Resource", std::move(resources)}};
      json::value condition = s.condition;
      if (auto it = condition_values_.find(sid); it != condition_values_.end()) {
        json::object c;
        for (const auto& [op, keys] : it->second) {
          json::object k;
          for (const auto& [key, values] : keys) {
            json::array a;
            for (const auto& v : values) a.push_back(Sub(v));
            k[key] = std::move(a);
          }
          c[op] = std::move(k);
        }
        condition = std::move(c);
      }
      if (!condition.is_null()) st["Condition"] = std::move(condition);
      out.push_back(std::move(st));
    }
    return out;
  }

 private:
  std::map<std::string, Statement> statements_;
  std::map<std::string, std::map<std::string, std::map<std::string, std::set<std::string>>>>
      condition_values_;
};

void VisitTasks(const json::object& states,
                const std::function<void(const std::string&, const json::object&)>& fn) {
  for (const auto& [name, v] : states) {
    const json::object* s = v.if_object();
    if (s == nullptr) continue;
    if (const json::value* t = s->if_contains("Type"); t != nullptr && *t == "Task") {
      fn(std::string(name), *s);
    }
    if (const json::value* b = s->if_contains("Branches"); b != nullptr && b->is_array()) {
      for (const auto& branch : b->as_array()) {
        if (const json::value* st = branch.is_object() ? branch.as_object().if_contains("States")
                                                       : nullptr;
            st != nullptr && st->is_object()) {
          VisitTasks(st->as_object(), fn);
        }
      }
    }
    for (const char* key : {"ItemProcessor", "Iterator"}) {
      const json::value* p = s->if_contains(key);
      if (p == nullptr || !p->is_object()) continue;
      if (const json::value* st = p->as_object().if_contains("States"); st && st->is_object()) {
        VisitTasks(st->as_object(), fn);
      }
    }
  }
}

struct SageMakerJob {
  const char* create;  // the integration's action, e.g. createTrainingJob
  const char* kind;    // IAM resource type, e.g. training-job
  const char* name_field;
  std::vector<const char*> actions;       // with .sync
  std::vector<const char*> sync_actions;  // added with .sync
  const char* rule;                       // managed rule with .sync
  std::vector<std::vector<std::string_view>> role_fields;
};

const std::vector<SageMakerJob>& SageMakerJobs() {
  static const std::vector<SageMakerJob> jobs = {
      {"createTrainingJob", "training-job", "TrainingJobName", {"sagemaker:CreateTrainingJob"},
       {"sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"},
       "StepFunctionsGetEventsForSageMakerTrainingJobsRule", {{"RoleArn"}}},
      {"createProcessingJob", "processing-job", "ProcessingJobName",
       {"sagemaker:CreateProcessingJob"},
       {"sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"},
       "StepFunctionsGetEventsForSageMakerProcessingJobsRule", {{"RoleArn"}}},
      {"createTransformJob", "transform-job", "TransformJobName", {"sagemaker:CreateTransformJob"},
       {"sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"},
       "StepFunctionsGetEventsForSageMakerTransformJobsRule", {}},
      {"createHyperParameterTuningJob", "hyper-parameter-tuning-job",
       "HyperParameterTuningJobName", {"sagemaker:CreateHyperParameterTuningJob"},
       {"sagemaker:DescribeHyperParameterTuningJob", "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob"},
       "StepFunctionsGetEventsForSageMakerTuningJobsRule", {{"TrainingJobDefinition", "RoleArn"}}},
      {"createModel", "model", "ModelName", {"sagemaker:CreateModel"}, {}, nullptr,
       {{"ExecutionRoleArn"}}},
      {"createEndpointConfig", "endpoint-config", "EndpointConfigName",
       {"sagemaker:CreateEndpointConfig"}, {}, nullptr, {}},
  };
  return jobs;
}

Status Unscoped(const std::string& state, std::string_view field, std::string_view what) {
  return InvalidArgumentError(fmt::format(
      "state \"{}\": {} is computed at run time, so the IAM policy cannot name {}; use a literal "
      "or a template parameter (an External)",
      state, field, what));
}

}  // namespace

Result<json::array> ExecutionPolicyStatements(const json::value& definition,
                                              const TemplateOptions& options) {
  const json::object* top = definition.if_object();
  const json::value* states = top != nullptr ? top->if_contains("States") : nullptr;
  if (states == nullptr || !states->is_object()) {
    return InvalidArgumentError("the definition has no States object");
  }
  PolicyBuilder policy;
  Status error;
  auto pass_role = [&](const std::string& state, const Field& role) {
    if (role.kind == Field::kAbsent) return;
    if (role.kind == Field::kExpression) {
      if (error.ok()) error = Unscoped(state, "the role ARN", "the role to pass");
      return;
    }
    policy.Add("PassRoleToSageMaker", {"iam:PassRole"}, role.text,
               json::object{{"StringEquals",
                             json::object{{"iam:PassedToService", "sagemaker.amazonaws.com"}}}});
  };
  auto sagemaker_arn = [](std::string_view kind, const std::string& name) {
    return RegionalArn("sagemaker", fmt::format("{}/{}", kind, name));
  };
  auto events_rule = [&](const char* rule) {
    policy.Add("ManagedRulesForSyncTasks",
               {"events:PutTargets", "events:PutRule", "events:DescribeRule"},
               RegionalArn("events", fmt::format("rule/{}", rule)));
  };
  VisitTasks(states->as_object(), [&](const std::string& name, const json::object& s) {
    const json::value* r = s.if_contains("Resource");
    if (r == nullptr || !r->is_string()) return;
    std::string resource(r->as_string());
    const json::value* pv = s.if_contains("Parameters");
    if (pv == nullptr) pv = s.if_contains("Arguments");  // JSONata
    const json::object* params = pv != nullptr ? pv->if_object() : nullptr;
    constexpr std::string_view kStates = "arn:aws:states:::";
    if (resource.starts_with("arn:aws:lambda:") || resource.starts_with("arn:${AWS::Partition}:lambda:")) {
      policy.Add("InvokeLambdaFunctions", {"lambda:InvokeFunction"}, resource);
      return;
    }
    if (!resource.starts_with(kStates)) {
      if (resource.find(":activity:") != std::string::npos) return;  // workers poll; no grant
      if (error.ok()) {
        error = InvalidArgumentError(fmt::format(
            "state \"{}\": no IAM mapping for Resource \"{}\"", name, resource));
      }
      return;
    }
    std::string integration = resource.substr(kStates.size());
    std::string pattern;
    if (std::size_t dot = integration.find('.'); dot != std::string::npos) {
      pattern = integration.substr(dot + 1);
      integration.resize(dot);
    }
    bool sync = pattern.starts_with("sync");
    if (integration == "lambda:invoke") {
      Field fn = GetField(params, "FunctionName");
      if (fn.kind != Field::kLiteral) {
        if (error.ok()) error = Unscoped(name, "FunctionName", "the function");
        return;
      }
      // A name ("fraud", "fraud:live"), a partial ARN ("123456789012:function:fraud") or an ARN.
      std::string arn = fn.text.starts_with("arn:")
                            ? fn.text
                        : fn.text.find(":function:") != std::string::npos
                            ? fmt::format("{}:lambda:${{AWS::Region}}:{}", kArnPrefix, fn.text)
                            : RegionalArn("lambda", fmt::format("function:{}", fn.text));
      policy.Add("InvokeLambdaFunctions", {"lambda:InvokeFunction"}, arn);
      // Versions and aliases of the function, unless the name already has a qualifier.
      if (ColonsOutsidePlaceholders(arn) < 7) {
        policy.Add("InvokeLambdaFunctions", {"lambda:InvokeFunction"}, arn + ":*");
      }
      return;
    }
    if (integration.starts_with("sagemaker:")) {
      std::string action = integration.substr(10);
      for (const SageMakerJob& job : SageMakerJobs()) {
        if (action != job.create) continue;
        std::string arn = sagemaker_arn(job.kind, SageMakerName(GetField(params, job.name_field)));
        std::string sid = fmt::format("SageMaker{}", job.create + 6);  // "TrainingJob", ...
        for (const char* a : job.actions) policy.Add(sid, {a}, arn);
        policy.Add(sid, {"sagemaker:AddTags", "sagemaker:ListTags"}, arn);
        if (sync) {
          for (const char* a : job.sync_actions) policy.Add(sid, {a}, arn);
          if (job.rule != nullptr) events_rule(job.rule);
        }
        for (const auto& path : job.role_fields) pass_role(name, GetPath(params, path));
        return;
      }
      if (action == "createEndpoint" || action == "updateEndpoint") {
        std::string endpoint = sagemaker_arn("endpoint", SageMakerName(GetField(params, "EndpointName")));
        std::string config = sagemaker_arn("endpoint-config",
                                           SageMakerName(GetField(params, "EndpointConfigName")));
        const char* iam = action == "createEndpoint" ? "sagemaker:CreateEndpoint"
                                                     : "sagemaker:UpdateEndpoint";
        policy.Add("SageMakerEndpoints", {iam}, endpoint);
        policy.Add("SageMakerEndpoints", {iam}, config);
        policy.Add("SageMakerEndpoints", {"sagemaker:AddTags", "sagemaker:ListTags"}, endpoint);
        return;
      }
    }
    if (integration.starts_with("aws-sdk:")) {
      // arn:aws:states:::aws-sdk:<service>:<apiAction>: the IAM action is <service>:<ApiAction>.
      std::string rest = integration.substr(8);
      std::size_t colon = rest.find(':');
      if (colon == std::string::npos || colon + 1 >= rest.size()) {
        if (error.ok()) error = InvalidArgumentError(fmt::format("state \"{}\": malformed AWS SDK resource \"{}\"", name, resource));
        return;
      }
      std::string service = rest.substr(0, colon);
      std::string api = rest.substr(colon + 1);
      api[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(api[0])));
      std::string iam = fmt::format("{}:{}", service, api);
      std::string target = "*";
      if (service == "sagemaker" && api.ends_with("Endpoint")) {
        target = sagemaker_arn("endpoint", SageMakerName(GetField(params, "EndpointName")));
      }
      policy.Add(fmt::format("Sdk{}{}", char(std::toupper(service[0])), service.substr(1)),
                 {iam}, target);
      return;
    }
    if (integration == "http:invoke") {
      Field endpoint = GetField(params, "ApiEndpoint");
      Field method = GetField(params, "Method");
      std::string url = endpoint.kind == Field::kLiteral
                            ? endpoint.text
                            : FormatPrefix(endpoint.text).value_or("") + "*";
      policy.AddConditionValue("InvokeHttpEndpoints", "StringLike", "states:HTTPEndpoint", url);
      if (method.kind == Field::kLiteral) {
        policy.AddConditionValue("InvokeHttpEndpoints", "StringEquals", "states:HTTPMethod",
                                 method.text);
      }
      policy.Add("InvokeHttpEndpoints", {"states:InvokeHTTPEndpoint"}, "__STATE_MACHINE__");
      Field connection = GetPath(params, {"Authentication", "ConnectionArn"});
      if (connection.kind == Field::kAbsent) {
        connection = GetPath(params, {"InvocationConfig", "ConnectionArn"});
      }
      if (connection.kind != Field::kLiteral) {
        if (error.ok()) error = Unscoped(name, "the connection ARN", "the connection");
        return;
      }
      policy.Add("HttpConnections", {"events:RetrieveConnectionCredentials"}, connection.text);
      // The connection's secret: events!connection/<name>/<id> in Secrets Manager.
      std::string secret = "events!connection/*";
      if (std::size_t c = connection.text.find(":connection/"); c != std::string::npos &&
                                                                connection.text.find("${") == std::string::npos) {
        std::string rest = connection.text.substr(c + 12);
        secret = fmt::format("events!connection/{}/*", rest.substr(0, rest.find('/')));
      }
      policy.Add("HttpConnectionSecrets",
                 {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
                 RegionalArn("secretsmanager", fmt::format("secret:{}", secret)));
      return;
    }
    if (integration == "states:startExecution") {
      Field target = GetField(params, "StateMachineArn");
      if (target.kind != Field::kLiteral) {
        if (error.ok()) error = Unscoped(name, "StateMachineArn", "the state machine to start");
        return;
      }
      policy.Add("NestedExecutions", {"states:StartExecution"}, target.text);
      if (sync) {
        std::string exec = target.text;
        if (std::size_t p = exec.find(":stateMachine:"); p != std::string::npos) {
          exec.replace(p, 14, ":execution:");
        }
        policy.Add("NestedExecutions", {"states:DescribeExecution", "states:StopExecution"},
                   exec + ":*");
        events_rule("StepFunctionsGetEventsForStepFunctionsExecutionRule");
      }
      return;
    }
    if (error.ok()) {
      error = InvalidArgumentError(fmt::format(
          "state \"{}\": Resource \"{}\" has no IAM mapping{}", name, resource,
          integration.starts_with("zflow:") ? " (it runs only locally)" : ""));
    }
  });
  if (!error.ok()) return error;
  if (options.log_level != "OFF") {
    for (const char* a : {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                          "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
                          "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                          "logs:DescribeLogGroups"}) {
      policy.Add("LogDelivery", {a}, "*");  // these actions take no resource
    }
  }
  if (options.tracing) {
    for (const char* a : {"xray:PutTraceSegments", "xray:PutTelemetryRecords",
                          "xray:GetSamplingRules", "xray:GetSamplingTargets"}) {
      policy.Add("Tracing", {a}, "*");
    }
  }
  return policy.Build();
}

namespace {

json::object Role(std::string_view service, std::string policy_name, json::array statements) {
  return json::object{
      {"Type", "AWS::IAM::Role"},
      {"Properties",
       json::object{
           {"AssumeRolePolicyDocument",
            json::object{{"Version", "2012-10-17"},
                         {"Statement",
                          json::array{json::object{
                              {"Effect", "Allow"},
                              {"Principal", json::object{{"Service", service}}},
                              {"Action", "sts:AssumeRole"},
                              {"Condition",
                               json::object{{"StringEquals",
                                             json::object{{"aws:SourceAccount",
                                                           json::object{{"Ref",
                                                                         "AWS::AccountId"}}}}}}}}}}}},
           {"Policies", json::array{json::object{
                            {"PolicyName", std::move(policy_name)},
                            {"PolicyDocument", json::object{{"Version", "2012-10-17"},
                                                            {"Statement", std::move(statements)}}}}}}}}};
}

}  // namespace

Result<json::value> BuildTemplate(const json::value& definition, const TemplateOptions& options) {
  ZFLOW_ASSIGN_OR_RETURN(json::array statements, ExecutionPolicyStatements(definition, options));
  static const std::set<int> kRetention = {1,   3,   5,   7,    14,   30,   60,   90,   120,
                                           150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                                           2557, 2922, 3288, 3653};
  if (!kRetention.count(options.log_retention_days)) {
    return InvalidArgumentError(fmt::format(
        "log retention of {} days is not one CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, "
        "..., 3653)",
        options.log_retention_days));
  }
  static const std::set<std::string> kLevels = {"ALL", "ERROR", "FATAL", "OFF"};
  if (!kLevels.count(options.log_level)) {
    return InvalidArgumentError(fmt::format(
        "log level \"{}\": expected ALL, ERROR, FATAL or OFF", options.log_level));
  }
  if (options.rollout != "ALL_AT_ONCE" && options.rollout != "CANARY" &&
      options.rollout != "LINEAR") {
    return InvalidArgumentError(fmt::format(
        "rollout \"{}\": expected ALL_AT_ONCE, CANARY or LINEAR", options.rollout));
  }
  // The HTTP statement is scoped to this state machine: a separate policy that can name it
  // without a dependency cycle (role -> state machine -> role).
  json::array role_statements;
  json::array http_statements;
  for (auto& st : statements) {
    if (st.at("Sid") == "InvokeHttpEndpoints") {
      st.as_object()["Resource"] = json::array{json::object{{"Ref", "StateMachine"}}};
      http_statements.push_back(std::move(st));
    } else {
      role_statements.push_back(std::move(st));
    }
  }

  json::object parameters;
  json::object substitutions;
  for (const auto& p : options.parameters) {
    parameters[p.name] = json::object{{"Type", "String"}, {"Description", p.description}};
    substitutions[p.name] = json::object{{"Ref", p.name}};
  }
  json::array tags;
  for (const auto& [k, v] : options.tags) tags.push_back(json::object{{"Key", k}, {"Value", v}});

  json::object resources;
  std::string policy_name = fmt::format("{}-execution", options.name);
  resources["StateMachineRole"] = Role("states.amazonaws.com", policy_name,
                                       std::move(role_statements));
  if (!http_statements.empty()) {
    resources["StateMachineHttpPolicy"] = json::object{
        {"Type", "AWS::IAM::Policy"},
        {"Properties",
         json::object{{"PolicyName", fmt::format("{}-http", options.name)},
                      {"Roles", json::array{json::object{{"Ref", "StateMachineRole"}}}},
                      {"PolicyDocument", json::object{{"Version", "2012-10-17"},
                                                      {"Statement", std::move(http_statements)}}}}}};
  }
  resources["StateMachineLogGroup"] = json::object{
      {"Type", "AWS::Logs::LogGroup"},
      {"Properties",
       json::object{{"LogGroupName",
                     json::object{{"Fn::Sub", fmt::format("/aws/vendedlogs/states/${{AWS::StackName}}-{}",
                                                          options.name)}}},
                    {"RetentionInDays", options.log_retention_days}}}};
  json::object machine{
      {"RoleArn", json::object{{"Fn::GetAtt", json::array{"StateMachineRole", "Arn"}}}},
      {"StateMachineType", "STANDARD"},
      {"Definition", definition}};
  if (!substitutions.empty()) machine["DefinitionSubstitutions"] = std::move(substitutions);
  machine["LoggingConfiguration"] = json::object{
      {"Level", options.log_level},
      {"IncludeExecutionData", true},
      {"Destinations",
       json::array{json::object{
           {"CloudWatchLogsLogGroup",
            json::object{{"LogGroupArn",
                          json::object{{"Fn::GetAtt",
                                        json::array{"StateMachineLogGroup", "Arn"}}}}}}}}}};
  machine["TracingConfiguration"] = json::object{{"Enabled", options.tracing}};
  if (!tags.empty()) machine["Tags"] = tags;
  resources["StateMachine"] = json::object{{"Type", "AWS::StepFunctions::StateMachine"},
                                           {"Properties", std::move(machine)}};
  resources["StateMachineVersion"] = json::object{
      {"Type", "AWS::StepFunctions::StateMachineVersion"},
      {"Properties",
       json::object{{"StateMachineArn", json::object{{"Ref", "StateMachine"}}},
                    {"StateMachineRevisionId",
                     json::object{{"Fn::GetAtt",
                                   json::array{"StateMachine", "StateMachineRevisionId"}}}},
                    {"Description", "Published by zflow compile"}}}};
  json::object preference{{"StateMachineVersionArn", json::object{{"Ref", "StateMachineVersion"}}},
                          {"Type", options.rollout}};
  if (options.rollout != "ALL_AT_ONCE") {
    preference["Percentage"] = options.rollout_percentage;
    preference["Interval"] = options.rollout_interval_minutes;
    preference["Alarms"] = json::array{json::object{{"Ref", "FailedExecutionsAlarm"}}};
  }
  resources["StateMachineAlias"] = json::object{
      {"Type", "AWS::StepFunctions::StateMachineAlias"},
      {"Properties", json::object{{"Name", options.alias},
                                  {"Description", "The version that runs"},
                                  {"DeploymentPreference", std::move(preference)}}}};
  resources["FailedExecutionsAlarm"] = json::object{
      {"Type", "AWS::CloudWatch::Alarm"},
      {"Properties",
       json::object{
           {"AlarmDescription",
            fmt::format("An execution of {} failed", options.name)},
           {"Namespace", "AWS/States"},
           {"MetricName", "ExecutionsFailed"},
           {"Dimensions", json::array{json::object{{"Name", "StateMachineArn"},
                                                   {"Value", json::object{{"Ref", "StateMachine"}}}}}},
           {"Statistic", "Sum"},
           {"Period", 300},
           {"EvaluationPeriods", 1},
           {"Threshold", 1},
           {"ComparisonOperator", "GreaterThanOrEqualToThreshold"},
           {"TreatMissingData", "notBreaching"}}}};
  json::object outputs{
      {"StateMachineArn", json::object{{"Description", "The state machine"},
                                       {"Value", json::object{{"Ref", "StateMachine"}}}}},
      {"StateMachineAliasArn", json::object{{"Description", "Start executions here"},
                                            {"Value", json::object{{"Ref", "StateMachineAlias"}}}}},
      {"StateMachineRoleArn",
       json::object{{"Description", "The execution role"},
                    {"Value", json::object{{"Fn::GetAtt", json::array{"StateMachineRole", "Arn"}}}}}},
      {"LogGroupName", json::object{{"Description", "Execution logs"},
                                    {"Value", json::object{{"Ref", "StateMachineLogGroup"}}}}}};
  if (!options.schedule.empty()) {
    ZFLOW_RETURN_IF_ERROR(ValidateScheduleExpression(options.schedule));
    resources["ScheduleRole"] = Role(
        "scheduler.amazonaws.com", fmt::format("{}-schedule", options.name),
        json::array{json::object{{"Sid", "StartScheduledExecutions"},
                                 {"Effect", "Allow"},
                                 {"Action", json::array{"states:StartExecution"}},
                                 {"Resource", json::array{json::object{{"Ref", "StateMachineAlias"}}}}}});
    json::object schedule{
        {"Description", fmt::format("Runs {} on {}", options.name, options.schedule)},
        {"ScheduleExpression", options.schedule},
        {"FlexibleTimeWindow", json::object{{"Mode", "OFF"}}},
        {"State", "ENABLED"},
        {"Target", json::object{{"Arn", json::object{{"Ref", "StateMachineAlias"}}},
                                {"RoleArn", json::object{{"Fn::GetAtt",
                                                          json::array{"ScheduleRole", "Arn"}}}},
                                {"Input", ToJsonText(options.schedule_input)}}}};
    if (!options.schedule_timezone.empty()) {
      schedule["ScheduleExpressionTimezone"] = options.schedule_timezone;
    }
    resources["Schedule"] = json::object{{"Type", "AWS::Scheduler::Schedule"},
                                         {"Properties", std::move(schedule)}};
    outputs["ScheduleName"] = json::object{{"Description", "The schedule"},
                                           {"Value", json::object{{"Ref", "Schedule"}}}};
  }
  json::object t{{"AWSTemplateFormatVersion", "2010-09-09"},
                 {"Description", options.description.empty()
                                     ? fmt::format("zflow pipeline {}", options.name)
                                     : options.description}};
  if (!parameters.empty()) t["Parameters"] = std::move(parameters);
  t["Resources"] = std::move(resources);
  t["Outputs"] = std::move(outputs);
  return json::value(std::move(t));
}

Result<json::value> PipelineTemplate(const Pipeline& pipeline) {
  ZFLOW_ASSIGN_OR_RETURN(json::value definition, pipeline.CompileJson());
  return PipelineTemplate(pipeline, definition);
}

Result<json::value> PipelineTemplate(const Pipeline& pipeline, const json::value& definition) {
  TemplateOptions options;
  // CloudFormation and IAM names: letters, digits, '-' and '_'.
  for (char c : pipeline.name()) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    options.name.push_back(ok ? c : '-');
  }
  options.description = pipeline.options().comment;
  options.schedule = pipeline.options().schedule;
  options.tags = pipeline.options().tags;
  for (const auto& e : pipeline.externals()) options.parameters.push_back({e.name, e.description});
  return BuildTemplate(definition, options);
}

}  // namespace zflow::cloud
