// The local profile: which local program stands in for which AWS resource on this machine.
// It is configuration, never part of the state machine.
//
//   # zflow.profile.yaml
//   s3_root: .zflow/s3                 # s3://bucket/key is .zflow/s3/bucket/key
//   lambda:
//     fraud-prepare:                   # a function name (FunctionName or function ARN)
//       python: jobs/prepare.py        # handler(event, context), run with /usr/bin/python3
//       handler: handler
//       timeout_seconds: 60
//     fraud-notify:
//       command: [jobs/notify.sh, --quiet]   # the event on stdin, the result on stdout
//   sagemaker:
//     images:                          # what runs for a TrainingImage
//       fraud-gbm:1.0: {python: training/train.py}      # script mode
//       other:latest: {command: [bin/train]}
//   work_dir: .zflow/work             # job directories
//   databricks:                        # a local Jobs API on 127.0.0.1:port
//     port: 8790
//     files: {"dbfs:/zflow/fraud/": jobs/}   # python_file prefixes -> local directories
//   state_machines:                    # nested executions: name -> definition file
//     score-batch: machines/score.asl.json
//   connections:                       # EventBridge connections: headers HTTP Tasks send
//     "arn:aws:events:us-east-1:123456789012:connection/dbx/1": {headers: {Authorization: Bearer x}}
//
// Relative paths are relative to the profile's directory.
#ifndef ZFLOW_INTEGRATIONS_PROFILE_H_
#define ZFLOW_INTEGRATIONS_PROFILE_H_

#include <map>
#include <optional>
#include <string>

#include "integrations/databricks.h"
#include "integrations/lambda.h"
#include "integrations/sagemaker.h"
#include "zflow/status.h"

namespace zflow::integrations {

struct Profile {
  std::string file;
  std::string s3_root;   // empty: not set
  std::string work_dir;  // where jobs get their directories; empty: not set
  std::map<std::string, LambdaFunctionSpec> lambda;
  std::map<std::string, ImageSpec> images;  // SageMaker image -> local command
  std::optional<DatabricksOptions> databricks;  // the Jobs API stand-in, when configured
  // State machine name -> local definition file, for nested executions (startExecution).
  std::map<std::string, std::string> state_machines;
  // EventBridge connection ARN -> headers HTTP Tasks send (local stand-in for its auth).
  std::map<std::string, std::map<std::string, std::string>> connections;
};

// kInvalidArgument with "file:line:column: what is wrong" for a malformed profile.
Result<Profile> LoadProfile(const std::string& path);
// The profile at `path`; without one, ./zflow.profile.yaml when it exists, else an empty
// profile.
Result<Profile> FindProfile(const std::string& path);
// `flag` when given, else the profile's work_dir, else .zflow/work; made absolute.
std::string WorkDirOf(const std::string& flag, const Profile& profile);
Result<Profile> ParseProfile(std::string_view text, const std::string& file);

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_PROFILE_H_
