// zflow run: one local execution of a state machine.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "asl/suggestion.h"
#include "common/file.h"
#include "runtime/history_file.h"
#include "zflow/local_services.h"
#include "zflow/runtime.h"

namespace zflow::cli {

std::string MachineNameFor(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (std::string_view ext : {".asl.json", ".json", ".asl"}) {
    if (name.size() > ext.size() && name.ends_with(ext)) {
      name.resize(name.size() - ext.size());
      break;
    }
  }
  return name.empty() || name == "-" ? "Machine" : name;
}

namespace {

// Live progress on a terminal: one line per state entered / left, retries and failures.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}

  void operator()(const runtime::HistoryEvent& e) {
    if (!enabled_) return;
    if (start_ == TimePoint{}) start_ = e.timestamp;
    double t = std::chrono::duration<double>(e.timestamp - start_).count();
    auto name = [&]() -> std::string { return std::string(e.state_name); };
    if (e.type.ends_with("StateEntered")) {
      std::string n = name();
      entered_[n] = e.timestamp;
      std::string type(e.type.substr(0, e.type.size() - 12));
      std::cerr << fmt::format("{:>8.2f}s  \u25b8 {:<32} {}\n", t, n, type);
    } else if (e.type.ends_with("StateExited")) {
      std::string n = name();
      double took = std::chrono::duration<double>(e.timestamp - entered_[n]).count();
      std::cerr << fmt::format("{:>8.2f}s  \u2713 {:<32} {:.2f}s\n", t, n, took);
    } else if (e.type == "TaskScheduled" && failed_events_.count(e.previous_event_id) != 0) {
      // A task scheduled right after its own failure is a retry.
      std::cerr << fmt::format("{:>8.2f}s  \u21bb retry\n", t);
    } else if (e.type == "TaskFailed" || e.type == "TaskTimedOut") {
      failed_events_.insert(e.id);
      const json::value* err = e.details->if_contains("error");
      std::cerr << fmt::format("{:>8.2f}s  \u2717 task failed: {}\n", t,
                               err != nullptr && err->is_string()
                                   ? std::string_view(err->get_string())
                                   : std::string_view("?"));
    } else if (e.type == "MapStateStarted") {
      const json::value* len = e.details->if_contains("length");
      std::cerr << fmt::format("{:>8.2f}s    map over {} items\n", t,
                               len != nullptr ? ToJsonText(*len) : "?");
    }
  }

 private:
  bool enabled_;
  std::set<std::int64_t> failed_events_;
  TimePoint start_{};
  std::map<std::string, TimePoint> entered_;
};

struct TaskLogRecord {
  std::string execution;
  std::string state;
  std::int64_t event_id = 0;
  std::string log;
};

// Writes each task's output to <work_dir>/logs/<execution>/<event>-<state>.log; returns the
// directory (empty when nothing was printed or it cannot be written).
std::string SaveTaskLogs(const std::string& work_dir, const std::vector<TaskLogRecord>& logs) {
  if (logs.empty()) return "";
  std::string name = logs.front().execution;
  for (char& c : name) {
    if (c == '/' || c == '\0') c = '_';
  }
  const std::filesystem::path dir = std::filesystem::path(work_dir) / "logs" / name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "";
  for (const TaskLogRecord& r : logs) {
    std::string file = fmt::format("{:05}-{}.log", r.event_id, r.state);
    for (char& c : file) {
      if (c == '/' || c == ' ' || c == ':') c = '_';
    }
    (void)WriteFileAtomically((dir / file).string(), r.log);
  }
  return dir.string();
}

// The last lines a failed task printed, when the run failed: what an author looks at first.
void ShowFailedTaskLog(const runtime::History& history, const std::vector<TaskLogRecord>& logs,
                       const std::string& log_dir) {
  for (auto it = logs.rbegin(); it != logs.rend(); ++it) {
    const auto index = static_cast<std::size_t>(it->event_id - 1);
    if (index >= history.size() || history[index].type != "TaskFailed") continue;
    std::vector<std::string_view> lines;
    std::string_view rest = it->log;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      lines.push_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    const std::size_t from = lines.size() > 10 ? lines.size() - 10 : 0;
    std::cerr << fmt::format("── the last {} lines {} printed (all of it: {}):\n",
                             lines.size() - from, it->state, log_dir);
    for (std::size_t i = from; i < lines.size(); ++i) std::cerr << "   " << lines[i] << "\n";
    return;
  }
}

// A JSONata expression that failed (the last EvaluationFailed event): the state, the field, and
// the expression with a caret under where it failed.
void ShowEvaluationFailure(const runtime::History& history) {
  for (std::size_t i = history.size(); i-- > 0;) {
    const runtime::HistoryEvent e = history[i];
    if (e.type != "EvaluationFailed") continue;
    auto text = [&](std::string_view key) -> std::string_view {
      const json::value* v = e.details->if_contains(key);
      return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : "";
    };
    const std::string_view cause = text("cause");
    constexpr std::string_view kOpen = "The JSONata expression '";
    const std::string field = fmt::format("' specified for the field '{}'", text("location"));
    const std::size_t open = cause.find(kOpen);
    const std::size_t close = cause.rfind(field);
    const json::value* position = e.details->if_contains("position");
    std::cerr << fmt::format("── state \"{}\", field '{}'", text("state"), text("location"));
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
      std::cerr << "\n";
      return;
    }
    const std::string_view expression =
        cause.substr(open + kOpen.size(), close - open - kOpen.size());
    if (position != nullptr && position->is_number()) {
      const auto at = position->to_number<std::int64_t>();
      std::cerr << fmt::format(", character {}:\n", at);
      PrintWithCaret(std::cerr, expression, at > 0 ? static_cast<std::size_t>(at - 1) : 0);
    } else {
      std::cerr << ":\n  " << expression << "\n";
    }
    return;
  }
}

}  // namespace

int RunRun(const RunOptions& options) {
  DefinitionCheck check;
  if (options.validated) {
    check.report.machine = *options.validated;
  } else {
    check = options.definition_text ? CheckDefinitionText(*options.definition_text, options.rules)
                                    : CheckDefinitionFile(options.definition, options.rules);
  }
  if (!check.read_error.empty()) {
    std::cerr << "zflow run: " << check.read_error << "\n";
    return kExitUsage;
  }
  if (!check.report.ok()) {
    for (const Diagnostic& d : check.report.diagnostics) {
      std::cerr << FormatDiagnostic(options.definition, d) << "\n";
    }
    std::cerr << "zflow run: the definition is invalid; nothing was run\n";
    return kExitUsage;
  }
  // A run to continue: its identity, input and events come from its history file.
  if (!options.resume_file.empty() && !options.redrive_file.empty()) {
    std::cerr << "zflow run: use --resume or --redrive, not both\n";
    return kExitUsage;
  }
  const bool redrive = !options.redrive_file.empty();
  const std::string& continue_file = redrive ? options.redrive_file : options.resume_file;
  std::optional<runtime::StoredExecution> stored;
  if (!continue_file.empty()) {
    if (!options.input_json.empty() || !options.input_file.empty() ||
        !options.execution_name.empty()) {
      std::cerr << "zflow run: --" << (redrive ? "redrive" : "resume")
                << " takes the input and the name from the history; drop --input, "
                   "--input-file and --name\n";
      return kExitUsage;
    }
    auto loaded = runtime::LoadHistoryFile(continue_file);
    if (!loaded.ok()) {
      std::cerr << "zflow run: " << loaded.status().message() << "\n";
      return kExitUsage;
    }
    stored = std::move(*loaded);
  }
  // Input.
  json::value input = json::object();
  if (!options.input_json.empty() && !options.input_file.empty()) {
    std::cerr << "zflow run: use --input or --input-file, not both\n";
    return kExitUsage;
  }
  std::string input_text = options.input_json;
  std::string input_name = "--input";
  if (!options.input_file.empty()) {
    auto contents = ReadFileCapped(options.input_file, std::size_t{64} << 20);
    if (!contents.ok()) {
      std::cerr << "zflow run: " << contents.status().message() << "\n";
      return kExitUsage;
    }
    input_text = std::move(contents->data);
    input_name = options.input_file;
  }
  if (!input_text.empty()) {
    auto parsed = ParseJson(input_text);
    if (!parsed.ok()) {
      std::cerr << "zflow run: " << input_name << ": " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    input = std::move(parsed->value);
  }
  if (options.parameters && !stored) {
    if (!input.is_object()) {
      std::cerr << "zflow run: " << input_name << ": a pipeline's input is an object of its "
                << "parameters, not " << ToJsonText(input).substr(0, 80) << "\n";
      return kExitUsage;
    }
    const std::vector<std::string>& names = *options.parameters;
    for (const auto& [key, value] : input.as_object()) {
      if (std::find(names.begin(), names.end(), key) != names.end()) continue;
      std::vector<std::string_view> candidates(names.begin(), names.end());
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      std::cerr << fmt::format("zflow run: {}: \"{}\" is not a parameter of the pipeline{}; "
                               "{}; nothing was run\n",
                               input_name, std::string_view(key),
                               asl::DidYouMean(key, candidates),
                               list.empty() ? "it has none"
                                            : "its parameters are " + list);
      return kExitUsage;
    }
  }
  std::string machine_name = options.state_machine_name.empty()
                                 ? MachineNameFor(options.definition)
                                 : options.state_machine_name;
  if (stored) machine_name = stored->info.state_machine_name;
  auto prepared = runtime::Prepare(std::move(check.report));
  if (!prepared.ok()) {
    std::cerr << "zflow run: " << prepared.status().message() << "\n";
    return kExitUsage;
  }
  // The local services: the profile's stand-ins, --task commands, mocks.
  LocalServicesOptions local{.profile = options.profile,
                             .work_dir = options.work_dir,
                             .s3_root = options.s3_root,
                             .functions = options.functions,
                             .echo_tasks = options.echo_tasks,
                             .test_case = options.test_case,
                             .state_machine_name = machine_name};
  for (const std::string& spec : options.commands) {
    std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      std::cerr << "zflow run: --task wants RESOURCE=COMMAND, got \"" << spec << "\"\n";
      return kExitUsage;
    }
    std::vector<std::string> argv;
    std::istringstream words(spec.substr(eq + 1));
    for (std::string w; words >> w;) argv.push_back(w);
    local.commands.emplace_back(spec.substr(0, eq), std::move(argv));
  }
  if (!options.mock_config.empty()) {
    if (options.test_case.empty()) {
      std::cerr << "zflow run: --mock-config needs --test-case NAME\n";
      return kExitUsage;
    }
    auto text = ReadFileCapped(options.mock_config, std::size_t{64} << 20);
    if (!text.ok()) {
      std::cerr << "zflow run: " << text.status().message() << "\n";
      return kExitUsage;
    }
    auto config = ParseJson(text->data);
    if (!config.ok()) {
      std::cerr << "zflow run: " << options.mock_config << ": " << config.status().message()
                << "\n";
      return kExitUsage;
    }
    local.mock_config = std::move(config->value);
  }
  auto services = LocalServices::Start(std::move(local));
  if (!services.ok()) {
    std::cerr << "zflow run: " << services.status().message() << "\n";
    return kExitUsage;
  }
  bool show_progress = !options.quiet && (options.progress || ::isatty(STDERR_FILENO) != 0);
  Progress progress(show_progress);
  runtime::EngineOptions engine_options = (*services)->Engine(
      {.virtual_time = options.virtual_clock,
       .on_event = [&progress](const runtime::HistoryEvent& e) { progress(e); },
       .on_task_token = [&options](const std::string& state, const std::string& token) {
         if (options.quiet) return;
         std::cerr << fmt::format("  ⧗ {} waits for its task token: zflow task-token succeed {} "
                                  "--output '{{...}}' (or fail, heartbeat)\n",
                                  state, token);
       }});
  // What each task printed: kept under <work_dir>/logs/<execution>/, streamed with --logs, and
  // the failed task's last lines shown when the run fails.
  std::vector<TaskLogRecord> task_logs;  // the engine's loop thread, then this one
  engine_options.on_task_log = [&](const runtime::ExecutionInfo& info, std::string_view state,
                                   std::int64_t event_id, std::string_view log) {
    if (log.empty()) return;
    task_logs.push_back({info.name, std::string(state), event_id, std::string(log)});
    if (options.logs && !options.quiet) {
      std::cerr << fmt::format("── {} (event {}) printed:\n{}{}", state, event_id, log,
                               log.ends_with('\n') ? "" : "\n");
    }
  };
  runtime::Engine engine(std::move(engine_options));
  // Answers from `zflow task-token` arrive as files in <work_dir>/task-tokens/; only machines
  // with .waitForTaskToken tasks need the watcher.
  std::unique_ptr<LocalServices::TokenWatcher> token_watcher;
  if (check.text.find(".waitForTaskToken") != std::string::npos ||
      (options.definition_text &&
       options.definition_text->find(".waitForTaskToken") != std::string::npos)) {
    token_watcher = (*services)->WatchTaskTokens([&engine](const LocalServices::TokenAnswer& a) {
      if (a.action == "succeed") return engine.SendTaskSuccess(a.token, a.output);
      if (a.action == "fail") return engine.SendTaskFailure(a.token, a.error, a.cause);
      return engine.SendTaskHeartbeat(a.token);
    });
  }
  // The history file, written as the execution runs (each commit flushed before its effect).
  // A continued run goes on writing the file it came from, unless --history names another.
  std::unique_ptr<runtime::HistoryFileSink> sink;
  const std::string history_path = options.history_file.empty() ? continue_file
                                                                 : options.history_file;
  if (!history_path.empty()) {
    auto opened = stored ? runtime::HistoryFileSink::Continue(history_path, stored->info,
                                                              stored->history)
                         : runtime::HistoryFileSink::Create(history_path);
    if (!opened.ok()) {
      std::cerr << "zflow run: " << opened.status().message() << "\n";
      return kExitUsage;
    }
    sink = std::move(*opened);
  }
  Result<runtime::ExecutionResult> result = InternalError("not run");
  if (stored) {
    if (!options.quiet) {
      std::cerr << fmt::format("{} {} from its {} events in {}{}\n",
                               redrive ? "redriving" : "resuming", stored->info.name,
                               stored->history.size(), continue_file,
                               stored->dropped_lines > 0 ? " (a torn last line was dropped)"
                                                         : "");
    }
    result = redrive ? engine.Redrive(**prepared, stored->history, stored->info, sink.get())
                     : engine.Resume(**prepared, stored->history, stored->info, sink.get());
  } else {
    runtime::ExecutionOptions exec;
    exec.input = std::move(input);
    exec.state_machine_name = machine_name;
    exec.name = options.execution_name;
    exec.sink = sink.get();
    result = engine.Run(**prepared, std::move(exec));
  }
  token_watcher.reset();
  if (options.process_exits) KeepUntilExit(*prepared);
  if (!result.ok()) {
    std::cerr << "zflow run: " << result.status().message() << "\n";
    return kExitUsage;
  }
  if (!result->sink_status.ok()) {
    std::cerr << "zflow run: the history could not be written (" << result->sink_status.message()
              << "); the run stopped at the last event written\n";
    return kExitUsage;
  }
  if (sink != nullptr) {
    Status closed = sink->Close();
    if (!closed.ok()) std::cerr << "zflow run: " << closed.message() << "\n";
  }
  const std::string log_dir = SaveTaskLogs((*services)->work_dir(), task_logs);
  double seconds =
      std::chrono::duration<double>(result->stop_time - result->start_time).count();
  std::string_view status = runtime::ExecutionStatusName(result->status);
  if (!options.quiet) {
    if (result->status == runtime::ExecutionStatus::kSucceeded) {
      std::cerr << fmt::format("{} in {:.2f} s{}, {} events\n", status, seconds,
                               options.virtual_clock ? " (virtual)" : "",
                               result->history.size());
      if (!options.result_json) std::cout << ToPrettyJsonText(result->output) << "\n";
    } else {
      std::cerr << fmt::format("{} in {:.2f} s{}: {}: {}\n", status, seconds,
                               options.virtual_clock ? " (virtual)" : "", result->error,
                               result->cause);
      ShowFailedTaskLog(result->history, task_logs, log_dir);
      ShowEvaluationFailure(result->history);
    }
  }
  if (options.result_json) {
    json::object r{{"status", status}};
    if (result->status == runtime::ExecutionStatus::kSucceeded) {
      r["output"] = result->output;
    } else {
      r["error"] = result->error;
      r["cause"] = result->cause;
    }
    std::cout << ToJsonText(r) << "\n";
  }
  if (options.process_exits) KeepUntilExit(std::move(result->history));
  switch (result->status) {
    case runtime::ExecutionStatus::kSucceeded: return kExitOk;
    case runtime::ExecutionStatus::kFailed: return kExitInvalid;
    default: return kExitTimedOut;
  }
}

void AddDefinitionRules(CLI::App* cmd, DefinitionRules& rules) {
  cmd->add_option("--type", rules.type,
                  "Workflow type the definition is created as: STANDARD (default) or EXPRESS "
                  "(no .sync, .waitForTaskToken or activities)");
  cmd->add_option("--substitutions", rules.substitutions,
                  "CloudFormation DefinitionSubstitutions applied first: KEY=VALUE,... or a JSON "
                  "file {\"KEY\": \"VALUE\"}");
  cmd->add_flag("--strict", rules.strict,
                "Unresolved ${...} placeholders are errors (warnings by default)");
}

void AddRunOptions(CLI::App* cmd, RunOptions& run) {
  AddDefinitionRules(cmd, run.rules);
  auto* input_opt = cmd->add_option("--input", run.input_json, "Execution input (JSON text)");
  cmd->add_option("--input-file", run.input_file, "Execution input file (JSON)")
      ->excludes(input_opt);
  cmd->add_flag("--virtual-clock", run.virtual_clock,
                    "Waits and retry backoffs take no real time");
  cmd->add_option("--mock-config", run.mock_config,
                      "AWS Step Functions Local mock configuration (JSON)");
  cmd->add_option("--test-case", run.test_case, "Test case of the mock configuration");
  cmd->add_option("--state-machine-name", run.state_machine_name,
                      "Name of the state machine (default: the file name)");
  cmd->add_option("--history", run.history_file,
                      "Write the execution history to FILE as it happens (GetExecutionHistory "
                      "shape; --resume continues from it)");
  cmd->add_option("--resume", run.resume_file,
                  "Continue the run recorded in FILE (written by --history) after it was "
                  "stopped or killed: finished tasks are not run again");
  cmd->add_option("--redrive", run.redrive_file,
                  "Re-run the FAILED, TIMED_OUT or ABORTED run recorded in FILE from where it "
                  "stopped, as RedriveExecution does");
  cmd->add_flag("--result-json", run.result_json,
                    "Print {\"status\",\"output\",\"error\",\"cause\"} as the last line");
  cmd->add_flag("--echo-tasks", run.echo_tasks,
                    "Task states without a handler return their effective input");
  cmd->add_option("--task", run.commands,
                      "RESOURCE=COMMAND: serve a Task resource with a local command (input "
                      "JSON on stdin, result JSON on stdout)");
  cmd->add_option("--name", run.execution_name,
                      "Execution name ($$.Execution.Name; default: a generated UUID)");
  cmd->add_option("--profile", run.profile,
                      "Local stand-ins for Lambda functions and S3 (default: ./zflow.profile.yaml "
                      "when present)");
  cmd->add_option("--work-dir", run.work_dir,
                      "Job directories and local endpoints (default: the profile's, or "
                      ".zflow/work)");
  cmd->add_option("--s3-root", run.s3_root,
                      "Directory standing in for S3: s3://bucket/key is DIR/bucket/key "
                      "(default $ZFLOW_S3_ROOT or .zflow/s3)");
  cmd->add_flag("--progress", run.progress, "Show progress even when not on a terminal");
  cmd->add_flag("-q,--quiet", run.quiet, "No progress and no summary");
  cmd->add_flag("--logs", run.logs,
                "Print what each task printed (a Lambda function's output, a job's log) as it "
                "ends; they are also kept under <work dir>/logs/<execution>/");
}

}  // namespace zflow::cli
