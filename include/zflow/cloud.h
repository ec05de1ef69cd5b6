// zflow/cloud.h: the CloudFormation stack that deploys a state machine.
//
//   zflow::Result<zflow::json::value> t = zflow::cloud::PipelineTemplate(pipeline);
//   std::string yaml = zflow::cloud::ToYaml(*t);
//
// The template holds: the state machine (the definition as compiled, "${Name}" placeholders
// bound by DefinitionSubstitutions to template parameters, no hard-coded region or account), its
// IAM role with a policy derived from the Task resources the definition actually uses (least
// privilege: named actions only, resources scoped to the job-name prefixes, functions, roles and
// endpoints the definition names; iam:PassRole only for the roles it passes; the EventBridge
// managed rules that .sync integrations need), a log group with logging configuration, an alarm
// on failed executions, a published version and an alias with a deployment preference, the
// schedule (EventBridge Scheduler) with its own role when one is set, and outputs.
#ifndef ZFLOW_CLOUD_H_
#define ZFLOW_CLOUD_H_

#include <map>
#include <string>
#include <vector>

#include "zflow/json.h"
#include "zflow/pipeline.h"
#include "zflow/status.h"

namespace zflow::cloud {

struct TemplateParameter {
  std::string name;  // also the "${name}" placeholder in the definition
  std::string description;
};

struct TemplateOptions {
  std::string name;  // the state machine's base name; the deployed name is <stack>-<name>
  std::string description;
  std::string schedule;                // EventBridge expression; empty: no schedule
  std::string schedule_timezone;       // e.g. "Europe/Berlin"; empty: UTC
  json::value schedule_input = json::object();
  std::map<std::string, std::string> tags;
  std::vector<TemplateParameter> parameters;
  std::string log_level = "ERROR";  // ALL | ERROR | FATAL | OFF
  int log_retention_days = 30;
  bool tracing = false;
  std::string alias = "live";
  std::string rollout = "ALL_AT_ONCE";  // ALL_AT_ONCE | CANARY | LINEAR
  int rollout_percentage = 10;          // CANARY / LINEAR
  int rollout_interval_minutes = 10;    // CANARY / LINEAR
};

// The IAM policy statements a definition needs (the "Statement" array), or kInvalidArgument
// naming the state whose Task cannot be scoped (a dynamic role to pass, a local-only resource).
Result<json::array> ExecutionPolicyStatements(const json::value& definition,
                                              const TemplateOptions& options);

// The whole template, as JSON.
Result<json::value> BuildTemplate(const json::value& definition, const TemplateOptions& options);

// The template of a pipeline: its compiled definition, externals as parameters, its schedule,
// tags and comment.
Result<json::value> PipelineTemplate(const Pipeline& pipeline);
// The same, for the definition the pipeline compiled to (Pipeline::CompileAll).
Result<json::value> PipelineTemplate(const Pipeline& pipeline, const json::value& definition);

// Block-style YAML for a JSON document (CloudFormation reads both; intrinsic functions stay in
// their long "Fn::" form). Deterministic.
std::string ToYaml(const json::value& doc);

}  // namespace zflow::cloud

#endif  // ZFLOW_CLOUD_H_
