// The `zflow` subcommands. Each returns the process exit code.
#ifndef ZFLOW_CLI_COMMANDS_H_
#define ZFLOW_CLI_COMMANDS_H_

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/definition_file.h"
#include "zflow/json.h"
#include "zflow/runtime.h"
#include "zflow/pipeline.h"
#include "zflow/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace zflow::cli {

// Exit codes shared by the subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;  // invalid input (definition, JSON)
inline constexpr int kExitUsage = 2;    // bad flags, unreadable files, invalid definition
inline constexpr int kExitTimedOut = 3; // run: TIMED_OUT or ABORTED

struct ValidateOptions {
  std::vector<std::string> files;
  DefinitionRules rules;  // --type, --substitutions, --strict
  bool json = false;   // print [{"file","path","line","column","code","message"}]
  bool quiet = false;  // print only problems
  bool process_exits = false;  // the process ends after this command: keep, do not free
};
int RunValidate(const ValidateOptions& options);

struct FmtOptions {
  std::vector<std::string> files;
  bool write = false;  // rewrite the files in place
  bool check = false;  // exit 1 when a file is not canonically formatted
};
int RunFmt(const FmtOptions& options);

struct EvalOptions {
  std::string expression;
  std::string input_file;  // JSON input ('-' reads stdin); none: no input
  std::string input;       // JSON input given inline
  bool jsonpath = false;   // a JSONPath or an intrinsic function instead of JSONata
  bool plain = false;      // JSONata's own library, without the Step Functions functions
};
int RunEval(const EvalOptions& options);
// The expression, indented, with a caret under the character `position` (0-based, in
// characters): for JSONata errors in `eval` and `run`.
void PrintWithCaret(std::ostream& out, std::string_view text, std::size_t position);

// --type, --substitutions and --strict, for validate and run.
void AddDefinitionRules(CLI::App* cmd, DefinitionRules& rules);

struct RunOptions {
  std::string definition;
  DefinitionRules rules;  // --type, --substitutions, --strict
  std::string input_json;   // --input
  std::string input_file;   // --input-file
  bool virtual_clock = false;
  std::string mock_config;  // --mock-config FILE
  std::string test_case;    // --test-case NAME
  std::string state_machine_name;  // --state-machine-name (default: file name)
  std::string execution_name;      // --name (default: a generated UUID)
  std::string history_file;  // --history FILE: the AWS-shaped history as JSON, as it happens
  std::string resume_file;   // --resume FILE: continue the run recorded in FILE
  std::string redrive_file;  // --redrive FILE: re-run the failed run recorded in FILE
  bool result_json = false;  // last stdout line: {"status","output","error","cause"}
  bool echo_tasks = false;   // every Task returns its effective input
  bool progress = false;     // force live progress even when stdout is not a terminal
  bool quiet = false;        // no progress, no summary
  bool logs = false;         // print each task's output as the task ends
  std::vector<std::string> commands;  // --task RESOURCE=COMMAND ... (argv split on spaces)
  std::string s3_root;  // --s3-root: s3://bucket/key is <s3_root>/bucket/key
  std::string profile;  // --profile: local stand-ins (default ./zflow.profile.yaml if present)
  std::string work_dir;  // --work-dir: job directories and endpoints (overrides the profile)
  // Lambda functions implemented in the calling program (zflow::Main); they win over the profile.
  std::map<std::string, std::function<runtime::TaskResult(const json::value& event)>> functions;
  // The definition itself (zflow::Main: the compiled pipeline); `definition` then names it.
  std::optional<std::string> definition_text;
  // Its model, already validated (a compiled pipeline): run without parsing the text again.
  std::optional<asl::StateMachine> validated;
  // A pipeline's parameters: the input must be an object naming only these (checked before
  // the run starts; their types are checked by the state machine itself).
  std::optional<std::vector<std::string>> parameters;
  // The process ends after this run (the zflow command): the machine and the run's history are
  // not freed, which for a large machine is a tenth of the command's time.
  bool process_exits = false;
};
int RunRun(const RunOptions& options);
// The run options, for `zflow run` and the run subcommand of zflow::Main.
void AddRunOptions(CLI::App* cmd, RunOptions& run);

struct GraphOptions {
  std::string file;
  std::optional<std::string> text;  // the definition in memory; `file` then names it
  std::string format = "dot";  // dot | mermaid | svg
  std::string output;          // -o FILE (default: stdout)
  std::string level;           // steps | states; empty: steps for a pipeline, else states
};
int RunGraph(const GraphOptions& options);
// A pipeline's step graph (--level steps), written as RunGraph writes.
int RunStepGraph(const Pipeline& pipeline, const GraphOptions& options);

struct EndpointsOptions {
  std::string action;        // list | invoke | delete
  std::string name;          // invoke, delete
  std::string body_file;     // invoke --body
  std::string content_type = "text/csv";
  std::string profile;       // where the work directory is (default ./zflow.profile.yaml)
  std::string work_dir;      // --work-dir overrides the profile
};
int RunEndpoints(const EndpointsOptions& options);

struct TaskTokenOptions {
  std::string action;  // succeed | fail | heartbeat
  std::string token;
  std::string output;  // succeed --output JSON
  std::string error;   // fail --error
  std::string cause;   // fail --cause
  std::string profile;
  std::string work_dir;
};
int RunTaskToken(const TaskTokenOptions& options);

// What `compile` writes for a pipeline: statemachine.asl.json, template.json, template.yaml and
// graph.svg (name, contents), and the warnings about it (quotas it gets close to, results it
// does not keep).
struct CompiledFiles {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> warnings;
};
Result<CompiledFiles> BuildCompiledFiles(const Pipeline& pipeline,
                                         const Pipeline::Compiled& compiled);
// Writes them into `out_dir`, or nothing when any of them fails.
Status WriteCompiledFiles(const CompiledFiles& files, const std::string& out_dir);
// Both, saying what it wrote and each warning on the terminal (placed by `locate` when given,
// e.g. "file:line: warning: ...").
int WriteCompiled(const Pipeline& pipeline, const Pipeline::Compiled& compiled,
                  const std::string& out_dir,
                  const std::function<std::string(std::string_view)>& locate = {});

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8083;
  std::string data_dir = ".zflow/server";
  std::string profile;
  std::string s3_root;  // overrides the profile's
  std::string region = "us-east-1";
  std::string account = "123456789012";
  std::string access_key_id;      // default: $AWS_ACCESS_KEY_ID
  std::string secret_access_key;  // default: $AWS_SECRET_ACCESS_KEY
  bool no_auth = false;           // ignore the environment's credentials
  std::string tls_certificate;
  std::string tls_private_key;
  bool log_requests = false;
};
int RunServe(const ServeOptions& options);

// zflow executions list|describe|history|stop|redrive: a client of zflow serve.
struct ExecutionsOptions {
  std::string action;
  std::string endpoint;        // default: $ZFLOW_ENDPOINT or http://127.0.0.1:8083
  std::string account = "123456789012";
  std::string state_machine;   // list: a name or ARN (default: every machine)
  std::string status;          // list: RUNNING, SUCCEEDED, ...
  int max_results = 100;
  std::string execution;       // ARN or machine:name
  bool reverse = false;        // history: newest first
  std::string error, cause;    // stop
  std::string input = "{}";    // start: the input (JSON), or
  std::string input_file;      // start: a file holding it
  std::string name;            // start: the execution's name (default: a new id)
  bool wait = false;           // start: until it ends; the exit code says how
  bool json = false;
};
int RunExecutions(const ExecutionsOptions& options);

// zflow deploy --local FILE: compile a pipeline (or take an ASL file) and create or update it
// on zflow serve, with its schedule.
struct DeployOptions {
  std::string file;
  bool local = false;
  std::string endpoint;
  std::string account = "123456789012";
  std::string name;        // default: the pipeline's name / the file's
  std::string schedule;    // default: the pipeline's
  std::string time_zone = "UTC";
  std::string input = "{}";  // what scheduled executions get
  // A pipeline in memory (zflow::Main), deployed instead of `file`; `locate` places its
  // messages.
  const Pipeline* pipeline = nullptr;
  std::function<std::string(std::string_view)> locate;
};
int RunDeploy(const DeployOptions& options);
// The deploy options, for `zflow deploy` and the deploy subcommand of zflow::Main.
void AddDeployOptions(CLI::App* cmd, DeployOptions& deploy);

// The state machine name for a definition file: its name without .asl.json / .json.
std::string MachineNameFor(const std::string& path);

struct CompileOptions {
  std::string file;      // a pipeline spec (.yaml/.yml) or an ASL definition (.json)
  std::string output;    // -o DIR
  std::string schedule;  // --schedule, for ASL files
  std::string query_language;  // --query-language JSONPath|JSONata; default: as written
};
int RunCompile(const CompileOptions& options);

// Pipeline YAML files (.yaml, .yml) for validate, run and graph: compiled in memory, externals
// bound to their local values.
bool IsPipelineSpec(const std::string& file);
struct CompiledSpec {
  std::string name;
  std::vector<std::string> parameters;
  asl::StateMachine machine;  // validated, externals bound to their local values
  std::string text;  // the state machine, as it runs locally
  std::vector<std::string> warnings;  // "file:line:column: step \"x\" ..."
};
Result<CompiledSpec> CompileSpec(const std::string& file);

// "file:line:column: message" (column optional) split into its parts; line and column are 0
// and `message` the whole text when it does not start with `file`.
struct LocatedMessage {
  int line = 0;
  int column = 0;
  std::string message;
};
LocatedMessage SplitLocated(const std::string& file, std::string_view text);

}  // namespace zflow::cli

#endif  // ZFLOW_CLI_COMMANDS_H_
