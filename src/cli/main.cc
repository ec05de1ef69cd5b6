// The zflow command-line tool.
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "zflow/spec.h"

namespace {

// A pipeline declared in Python runs in the Python interpreter, with zflow's Python module,
// so that its Python functions can serve its Lambda steps: `zflow run pipeline.py ...` is
// `python3 -m zflow run pipeline.py ...` (the module calls the same code as zflow::Main), with
// the file first after the command. Returns only when that cannot start.
int RunPythonPipeline(const std::string& file, int argc, char** argv) {
  namespace fs = std::filesystem;
  const char* python = std::getenv("ZFLOW_PYTHON");
  if (python == nullptr || *python == '\0') python = ZFLOW_PYTHON_EXECUTABLE;
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  std::string path;
  // The build tree keeps the package in <build>/python; `make install` in the prefix's
  // ZFLOW_PYTHON_INSTALL_DIR.
  for (const fs::path& dir : {exe_dir / "python", exe_dir / ".." / ZFLOW_PYTHON_INSTALL_DIR}) {
    if (fs::exists(dir / "zflow" / "__init__.py", ec)) {
      path += (path.empty() ? "" : ":") + dir.lexically_normal().string();
    }
  }
  if (const char* old = std::getenv("PYTHONPATH"); old != nullptr && *old != '\0') {
    path += (path.empty() ? "" : ":") + std::string(old);
  }
  if (!path.empty()) ::setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<std::string> args = {python, "-m", "zflow", argv[1], file};
  bool dropped = false;
  for (int i = 2; i < argc; ++i) {
    if (!dropped && file == argv[i]) {
      dropped = true;
      continue;
    }
    args.emplace_back(argv[i]);
  }
  std::vector<char*> raw;
  for (std::string& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  ::execv(python, raw.data());
  std::cerr << "zflow: a pipeline declared in Python runs with Python 3 and zflow's Python module; "
            << "cannot start " << python << ": " << std::strerror(errno)
            << " (set ZFLOW_PYTHON to the interpreter)\n";
  return 2;
}

bool IsPythonFile(const std::string& file) { return file.size() > 3 && file.ends_with(".py"); }

// Subcommands accept their parent's options (fallthrough); their --help lists them too.
void ShowParentOptions(CLI::App* parent, std::initializer_list<CLI::App*> subs) {
  std::string footer = "Options of " + parent->get_name() + " (also accepted here):\n";
  for (const CLI::Option* o : parent->get_options()) {
    if (o->get_name() == "--help" || o->get_name() == "-h,--help") continue;
    std::string name = o->get_name();
    if (!o->get_type_name().empty() && o->get_type_size() != 0) name += " " + o->get_type_name();
    footer += "  " + name + std::string(name.size() < 28 ? 28 - name.size() : 1, ' ') +
              o->get_description() + "\n";
  }
  for (CLI::App* sub : subs) {
    sub->fallthrough();
    sub->footer(footer);
  }
}

// For a command whose process ends when it returns (validate, run; not serve, whose memory
// should go back to the system after a peak): large blocks (a definition's document arena, a
// machine's compiled states) come from the heap rather than fresh mappings and stay there when
// freed, so what the parser's document used is reused by what follows instead of being faulted
// in anew (a fifth fewer page faults for a 10,000-state machine).
void ForOneShotCommand() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

int Run(int argc, char** argv) {
  CLI::App app{
      "zflow: ML pipelines (YAML, Python or C++) and AWS Step Functions state machines: validate, "
      "compile to ASL and CloudFormation, draw, run locally, serve"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "zflow 0.1.0");

  zflow::cli::ValidateOptions validate;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate", "Check state machine definitions the way AWS does when they are created");
  validate_cmd->add_option("files", validate.files,
                           "ASL JSON files ('-' reads stdin) or pipeline YAML files")
      ->required();
  validate_cmd->add_flag("--json", validate.json,
                         "Print diagnostics as a JSON array of "
                         "{file,path,line,column,code,severity,message}");
  validate_cmd->add_flag("-q,--quiet", validate.quiet, "Print only problems");
  zflow::cli::AddDefinitionRules(validate_cmd, validate.rules);

  zflow::cli::FmtOptions fmt;
  CLI::App* fmt_cmd =
      app.add_subcommand("fmt", "Print definitions in canonical ASL formatting");
  fmt_cmd->add_option("files", fmt.files, "ASL JSON files")->required();
  fmt_cmd->add_flag("-w,--write", fmt.write, "Rewrite the files in place");
  fmt_cmd->add_flag("--check", fmt.check, "Exit 1 when a file is not canonically formatted");

  zflow::cli::EvalOptions eval;
  CLI::App* eval_cmd = app.add_subcommand(
      "eval", "Evaluate a JSONata expression (or, with --jsonpath, a JSONPath or intrinsic "
              "function) against an input, as a state would");
  eval_cmd->add_option("expression", eval.expression,
                       "JSONata, with or without {% %}: '$sum($states.input.items.price)'")
      ->required();
  eval_cmd->add_option("--input-file", eval.input_file, "JSON input file ('-' reads stdin)");
  eval_cmd->add_option("--input", eval.input, "JSON input, inline");
  eval_cmd->add_flag("--jsonpath", eval.jsonpath,
                     "A JSONPath ($.a.b) or intrinsic function (States.Format(...)) instead");
  eval_cmd->add_flag("--plain", eval.plain,
                     "JSONata's own function library ($eval, no $partition/$uuid/...)");

  zflow::cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run a state machine locally with AWS Step Functions semantics");
  run_cmd->add_option("definition", run.definition, "ASL JSON file or pipeline YAML file")->required();
  zflow::cli::AddRunOptions(run_cmd, run);

  zflow::cli::GraphOptions graph;
  CLI::App* graph_cmd =
      app.add_subcommand("graph", "Draw a pipeline or a state machine (Graphviz DOT, Mermaid, or SVG)");
  graph_cmd->add_option("file", graph.file, "Pipeline spec (.yaml) or ASL file (.json)")
      ->required();
  graph_cmd->add_option("--level", graph.level,
                        "steps (a pipeline's steps and dependencies; the default for a pipeline) "
                        "or states (the compiled state machine)")
      ->check(CLI::IsMember({"steps", "states"}));
  graph_cmd->add_option("--format", graph.format, "dot, mermaid or svg")
      ->check(CLI::IsMember({"dot", "mermaid", "svg"}));
  graph_cmd->add_option("-o,--output", graph.output, "Write to FILE instead of stdout");

  zflow::cli::CompileOptions compile;
  CLI::App* compile_cmd = app.add_subcommand(
      "compile",
      "Compile a pipeline (.yaml) or an ASL file (.json) into statemachine.asl.json, "
      "template.json, template.yaml and graph.svg");
  compile_cmd->add_option("file", compile.file, "Pipeline YAML file or ASL JSON file")->required();
  compile_cmd->add_option("-o,--output", compile.output, "Directory to write to")->required();
  compile_cmd->add_option("--schedule", compile.schedule,
                          "Schedule expression for an ASL file (pipelines declare their own)");
  compile_cmd
      ->add_option("--query-language", compile.query_language,
                   "Write the state machine in JSONata (converted from JSONPath, computing the "
                   "same data) or JSONPath")
      ->check(CLI::IsMember({"JSONPath", "JSONata"}));

  zflow::cli::EndpointsOptions endpoints;
  CLI::App* endpoints_cmd =
      app.add_subcommand("endpoints", "Local endpoints that pipelines deployed");
  endpoints_cmd->require_subcommand(1);
  endpoints_cmd->add_option("--profile", endpoints.profile, "Profile with the work directory");
  endpoints_cmd->add_option("--work-dir", endpoints.work_dir, "Work directory (default .zflow/work)");
  CLI::App* ep_list = endpoints_cmd->add_subcommand("list", "List endpoints and their status");
  CLI::App* ep_invoke = endpoints_cmd->add_subcommand("invoke", "POST a body to /invocations");
  ep_invoke->add_option("name", endpoints.name, "Endpoint name")->required();
  ep_invoke->add_option("--body", endpoints.body_file, "File with the request body")->required();
  ep_invoke->add_option("--content-type", endpoints.content_type, "Content type (text/csv)");
  CLI::App* ep_delete = endpoints_cmd->add_subcommand("delete", "Stop and remove an endpoint");
  ep_delete->add_option("name", endpoints.name, "Endpoint name")->required();
  ShowParentOptions(endpoints_cmd, {ep_list, ep_invoke, ep_delete});

  zflow::cli::TaskTokenOptions token;
  CLI::App* token_cmd = app.add_subcommand(
      "task-token", "Answer a .waitForTaskToken task of a running `zflow run`");
  token_cmd->require_subcommand(1);
  token_cmd->add_option("--profile", token.profile, "Profile with the work directory");
  token_cmd->add_option("--work-dir", token.work_dir, "Work directory of the run");
  CLI::App* tk_succeed = token_cmd->add_subcommand("succeed", "SendTaskSuccess");
  tk_succeed->add_option("token", token.token, "The task token")->required();
  tk_succeed->add_option("--output", token.output, "The task's output (JSON; default {})");
  CLI::App* tk_fail = token_cmd->add_subcommand("fail", "SendTaskFailure");
  tk_fail->add_option("token", token.token, "The task token")->required();
  tk_fail->add_option("--error", token.error, "Error name");
  tk_fail->add_option("--cause", token.cause, "Cause");
  CLI::App* tk_beat = token_cmd->add_subcommand("heartbeat", "SendTaskHeartbeat");
  tk_beat->add_option("token", token.token, "The task token")->required();
  ShowParentOptions(token_cmd, {tk_succeed, tk_fail, tk_beat});

  zflow::cli::ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Run the local Step Functions server (AWS API, durable executions, schedules)");
  serve_cmd->add_option("--host", serve.host, "Address to listen on")->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "Port (0: any free port)")->capture_default_str();
  serve_cmd->add_option("--data-dir", serve.data_dir, "Where the store and job files live")
      ->capture_default_str();
  serve_cmd->add_option("--profile", serve.profile, "Local services profile (zflow.profile.yaml)");
  serve_cmd->add_option("--s3-root", serve.s3_root,
                        "Directory holding s3://bucket/key (overrides the profile's)");
  serve_cmd->add_option("--region", serve.region, "Region in ARNs")->capture_default_str();
  serve_cmd->add_option("--account", serve.account, "Account id in ARNs")->capture_default_str();
  serve_cmd->add_option("--access-key-id", serve.access_key_id,
                        "Require SigV4 signatures with this key (default: $AWS_ACCESS_KEY_ID)");
  serve_cmd->add_option("--secret-access-key", serve.secret_access_key,
                        "The key's secret (default: $AWS_SECRET_ACCESS_KEY)");
  serve_cmd->add_flag("--no-auth", serve.no_auth,
                      "Ignore credentials in the environment: loopback only, any client");
  serve_cmd->add_option("--tls-cert", serve.tls_certificate, "PEM certificate: serve HTTPS");
  serve_cmd->add_option("--tls-key", serve.tls_private_key, "PEM private key of --tls-cert");
  serve_cmd->add_flag("--log-requests", serve.log_requests, "One line per request on stderr");

  zflow::cli::ExecutionsOptions executions;
  CLI::App* executions_cmd =
      app.add_subcommand("executions", "Executions on a running zflow serve");
  executions_cmd->require_subcommand(1);
  executions_cmd->add_option("--endpoint-url", executions.endpoint,
                             "zflow serve's URL (default: $ZFLOW_ENDPOINT or "
                             "http://127.0.0.1:8083)");
  executions_cmd->add_flag("--json", executions.json, "Print the API's JSON");
  CLI::App* ex_list = executions_cmd->add_subcommand("list", "List executions, newest first");
  ex_list->add_option("--state-machine", executions.state_machine, "A name or ARN");
  ex_list->add_option("--status", executions.status, "RUNNING, SUCCEEDED, FAILED, ...");
  ex_list->add_option("--max", executions.max_results, "Per state machine")->capture_default_str();
  CLI::App* ex_start = executions_cmd->add_subcommand(
      "start", "Start an execution; prints its ARN and the URL of its page in the web UI");
  ex_start->add_option("state_machine", executions.state_machine, "A name or ARN")->required();
  ex_start->add_option("--input", executions.input, "The input (JSON)")->capture_default_str();
  ex_start->add_option("--input-file", executions.input_file, "A file holding the input")
      ->excludes("--input");
  ex_start->add_option("--name", executions.name, "The execution's name (default: a new id)");
  ex_start->add_flag("--wait", executions.wait,
                     "Wait until it ends; exit 0 only when it succeeded");
  CLI::App* ex_describe = executions_cmd->add_subcommand("describe", "DescribeExecution");
  CLI::App* ex_history = executions_cmd->add_subcommand("history", "The execution's events");
  ex_history->add_flag("--reverse", executions.reverse, "Newest first");
  CLI::App* ex_logs =
      executions_cmd->add_subcommand("logs", "What the execution's tasks printed");
  CLI::App* ex_stop = executions_cmd->add_subcommand("stop", "Stop a running execution");
  ex_stop->add_option("--error", executions.error, "Error name recorded");
  ex_stop->add_option("--cause", executions.cause, "Cause recorded");
  CLI::App* ex_redrive =
      executions_cmd->add_subcommand("redrive", "Re-run a failed execution from where it failed");
  for (CLI::App* sub : {ex_describe, ex_history, ex_logs, ex_stop, ex_redrive}) {
    sub->add_option("execution", executions.execution, "Execution ARN or MACHINE:NAME")
        ->required();
  }
  ShowParentOptions(executions_cmd,
                    {ex_list, ex_start, ex_describe, ex_history, ex_logs, ex_stop, ex_redrive});

  zflow::cli::DeployOptions deploy;
  CLI::App* deploy_cmd = app.add_subcommand(
      "deploy", "Compile a pipeline and create or update it on zflow serve (--local)");
  deploy_cmd->add_option("file", deploy.file, "Pipeline (.yaml, .py) or ASL file (.json)")
      ->required();
  zflow::cli::AddDeployOptions(deploy_cmd, deploy);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return zflow::cli::kExitUsage;
  }
  // Pipelines declared in Python: the file is the command's positional argument.
  {
    std::string file;
    if (app.got_subcommand(validate_cmd)) {
      for (const std::string& f : validate.files) {
        if (!IsPythonFile(f)) continue;
        if (validate.files.size() > 1) {
          std::cerr << "zflow validate: " << f
                    << " is a Python pipeline; validate it on its own (zflow validate " << f
                    << ")\n";
          return zflow::cli::kExitUsage;
        }
        file = f;
      }
    } else if (app.got_subcommand(compile_cmd)) {
      file = compile.file;
    } else if (app.got_subcommand(graph_cmd)) {
      file = graph.file;
    } else if (app.got_subcommand(run_cmd)) {
      file = run.definition;
    } else if (app.got_subcommand(deploy_cmd)) {
      file = deploy.file;
    }
    if (IsPythonFile(file)) return RunPythonPipeline(file, argc, argv);
  }
  if (app.got_subcommand(validate_cmd)) {
    ForOneShotCommand();
    validate.process_exits = true;
    return zflow::cli::RunValidate(validate);
  }
  if (app.got_subcommand(fmt_cmd)) return zflow::cli::RunFmt(fmt);
  if (app.got_subcommand(eval_cmd)) return zflow::cli::RunEval(eval);
  if (app.got_subcommand(compile_cmd)) return zflow::cli::RunCompile(compile);
  if (app.got_subcommand(serve_cmd)) return zflow::cli::RunServe(serve);
  if (app.got_subcommand(executions_cmd)) {
    for (CLI::App* sub : executions_cmd->get_subcommands()) executions.action = sub->get_name();
    return zflow::cli::RunExecutions(executions);
  }
  if (app.got_subcommand(deploy_cmd)) return zflow::cli::RunDeploy(deploy);
  if (app.got_subcommand(token_cmd)) {
    token.action = token_cmd->got_subcommand(tk_succeed) ? "succeed"
                   : token_cmd->got_subcommand(tk_fail)  ? "fail"
                                                         : "heartbeat";
    return zflow::cli::RunTaskToken(token);
  }
  if (app.got_subcommand(endpoints_cmd)) {
    endpoints.action = endpoints_cmd->got_subcommand(ep_list)     ? "list"
                       : endpoints_cmd->got_subcommand(ep_invoke) ? "invoke"
                       : endpoints_cmd->got_subcommand(ep_delete) ? "delete"
                                                                   : "";
    return zflow::cli::RunEndpoints(endpoints);
  }
  // A pipeline file draws as its steps unless --level states asks for the state machine.
  if (app.got_subcommand(graph_cmd) && zflow::cli::IsPipelineSpec(graph.file) &&
      graph.level != "states") {
    auto loaded = zflow::spec::LoadPipelineFile(graph.file);
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      return zflow::cli::kExitInvalid;
    }
    return zflow::cli::RunStepGraph(loaded->pipeline(), graph);
  }
  // A pipeline file runs (and draws at --level states) as its compiled state machine.
  std::string& file = app.got_subcommand(run_cmd) ? run.definition : graph.file;
  std::optional<zflow::cli::CompiledSpec> spec;
  if (zflow::cli::IsPipelineSpec(file)) {
    auto compiled = zflow::cli::CompileSpec(file);
    if (!compiled.ok()) {
      std::cerr << compiled.status().message() << "\n";
      return zflow::cli::kExitInvalid;
    }
    spec.emplace(std::move(*compiled));
    run.definition_text = spec->text;
    run.parameters = spec->parameters;
    run.validated = std::move(spec->machine);
    graph.text = spec->text;
    if (run.state_machine_name.empty()) run.state_machine_name = spec->name;
  }
  if (app.got_subcommand(run_cmd)) {
    ForOneShotCommand();
    run.process_exits = true;
    return zflow::cli::RunRun(run);
  }
  if (app.got_subcommand(graph_cmd)) {
    if (spec) graph.level.clear();  // the compiled pipeline: states, as asked
    return zflow::cli::RunGraph(graph);
  }
  return zflow::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // zflow code reports errors as Status; this catches only what a library underneath may throw
  // (std::bad_alloc, say) so the user sees a message instead of an abort.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "zflow: internal error: " << e.what() << "\n";
    return 4;
  }
}
