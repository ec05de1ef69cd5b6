// zflow run: one local execution of a state machine.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "cli/local_profile.h"
#include "common/file.h"
#include "integrations/local_handlers.h"
#include "integrations/object_store.h"
#include "integrations/databricks.h"
#include "integrations/http_task.h"
#include "integrations/nested.h"
#include "integrations/profile.h"
#include "runtime/history_file.h"
#include "zflow/runtime.h"

namespace zflow::cli {
namespace {

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

}  // namespace

int RunRun(const RunOptions& options) {
  DefinitionCheck check = CheckDefinitionFile(options.definition);
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
  std::string machine_name = options.state_machine_name.empty()
                                 ? MachineNameFor(options.definition)
                                 : options.state_machine_name;
  if (stored) machine_name = stored->info.state_machine_name;
  auto prepared = runtime::Prepare(std::move(*check.report.machine));
  if (!prepared.ok()) {
    std::cerr << "zflow run: " << prepared.status().message() << "\n";
    return kExitUsage;
  }
  // Task handlers.
  // The local profile: which local programs stand in for Lambda functions, where S3 lives.
  auto loaded = LoadLocalProfile(options.profile);
  if (!loaded.ok()) {
    std::cerr << "zflow run: " << loaded.status().message() << "\n";
    return kExitUsage;
  }
  integrations::Profile profile = std::move(*loaded);
  const std::string work_dir = WorkDirOf(options.work_dir, profile);
  // s3:// objects (a distributed Map's ItemReader / ResultWriter) live under --s3-root.
  std::string s3_root = options.s3_root.empty() ? profile.s3_root : options.s3_root;
  if (s3_root.empty()) {
    const char* env = std::getenv("ZFLOW_S3_ROOT");
    s3_root = env != nullptr && *env != '\0' ? env : ".zflow/s3";
  }
  integrations::LocalObjectStore object_store(s3_root);
  // The Databricks Jobs API stand-in lives as long as this run.
  std::unique_ptr<integrations::DatabricksServer> databricks;
  if (profile.databricks) {
    integrations::DatabricksOptions o = *profile.databricks;
    o.s3_root = std::filesystem::absolute(s3_root).string();
    o.log_dir = (std::filesystem::path(work_dir) / "databricks").string();
    auto started = integrations::DatabricksServer::Start(std::move(o));
    if (!started.ok()) {
      std::cerr << "zflow run: " << started.status().message() << "\n";
      return kExitUsage;
    }
    databricks = std::move(*started);
  }
  runtime::IntegrationRegistry registry;
  registry.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
  registry.Register("arn:aws:states:::http:invoke",
                    std::make_shared<integrations::HttpTaskHandler>(profile.connections));
  // Nested executions run with the final handlers (set once they are all in place).
  auto nested = std::make_shared<integrations::NestedExecutionHandler>(profile.state_machines,
                                                                       options.virtual_clock);
  for (const char* resource : {"arn:aws:states:::states:startExecution",
                               "arn:aws:states:::states:startExecution.sync",
                               "arn:aws:states:::states:startExecution.sync:2"}) {
    registry.Register(resource, nested);
  }
  if (!profile.images.empty()) {
    auto sagemaker = std::make_shared<integrations::SageMakerHandler>(profile.images,
                                                                      &object_store, work_dir);
    for (const char* action : {"createTrainingJob", "createTrainingJob.sync", "createModel",
                               "createProcessingJob", "createProcessingJob.sync",
                               "createHyperParameterTuningJob",
                               "createHyperParameterTuningJob.sync",
                               "createEndpointConfig", "createEndpoint", "updateEndpoint",
                               "createTransformJob", "createTransformJob.sync"}) {
      registry.Register(fmt::format("arn:aws:states:::sagemaker:{}", action), sagemaker);
    }
    registry.Register("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", sagemaker);
  }
  for (const auto& [name, spec] : options.functions) profile.lambda[name] = spec;
  if (!profile.lambda.empty()) {
    auto lambda = std::make_shared<integrations::LambdaHandler>(profile.lambda);
    registry.Register("arn:aws:states:::lambda:invoke", lambda);
    registry.Register("arn:aws:lambda:*", lambda);
  }
  for (const std::string& spec : options.commands) {
    std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      std::cerr << "zflow run: --task wants RESOURCE=COMMAND, got \"" << spec << "\"\n";
      return kExitUsage;
    }
    std::vector<std::string> argv;
    std::istringstream words(spec.substr(eq + 1));
    for (std::string w; words >> w;) argv.push_back(w);
    registry.Register(spec.substr(0, eq), integrations::MakeCommandHandler(std::move(argv)));
  }
  if (options.echo_tasks) registry.SetFallback(integrations::MakeEchoHandler());
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
    // Mocks answer first; states the test case does not mock go to the other handlers.
    class RegistryHandler final : public runtime::TaskHandler {
     public:
      explicit RegistryHandler(runtime::IntegrationRegistry r) : registry_(std::move(r)) {}
      runtime::TaskResult Invoke(const runtime::TaskRequest& request) override {
        runtime::TaskHandler* h = registry_.Find(request.resource);
        if (h == nullptr) {
          return runtime::TaskResult::Failure(
              "States.Runtime", fmt::format("The test case does not mock the state '{}' and no "
                                            "local handler serves '{}'",
                                            request.state_name, request.resource));
        }
        return h->Invoke(request);
      }

     private:
      runtime::IntegrationRegistry registry_;
    };
    auto mock = integrations::MockHandler::Create(
        config->value, machine_name, options.test_case,
        std::make_shared<RegistryHandler>(std::move(registry)));
    if (!mock.ok()) {
      std::cerr << "zflow run: " << mock.status().message() << "\n";
      return kExitUsage;
    }
    registry = runtime::IntegrationRegistry();
    registry.SetFallback(*mock);
  }

  nested->set_registry(&registry);
  bool show_progress = !options.quiet && (options.progress || ::isatty(STDERR_FILENO) != 0);
  Progress progress(show_progress);

  runtime::EngineOptions engine_options;
  engine_options.integrations = &registry;
  engine_options.object_store = &object_store;
  engine_options.virtual_time = options.virtual_clock;
  engine_options.on_event = [&progress](const runtime::HistoryEvent& e) { progress(e); };
  engine_options.on_task_token = [&options](const std::string& state, const std::string& token) {
    if (options.quiet) return;
    std::cerr << fmt::format("  ⧗ {} waits for its task token: zflow task-token succeed {} "
                             "--output '{{...}}' (or fail, heartbeat)\n",
                             state, token);
  };
  runtime::Engine engine(std::move(engine_options));
  // Answers from `zflow task-token` arrive as files in <work_dir>/task-tokens/.
  std::string token_dir = (std::filesystem::path(work_dir) / "task-tokens").string();
  std::atomic<bool> run_done{false};
  // Only machines with .waitForTaskToken tasks need the watcher. (Tasks of nested executions run
  // on engines of their own, which it does not reach.)
  bool tokens_possible = check.text.find(".waitForTaskToken") != std::string::npos;
  std::thread token_watcher([&] {
    namespace fs = std::filesystem;
    while (tokens_possible && !run_done) {
      std::error_code ec;
      for (auto it = fs::directory_iterator(token_dir, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        const fs::path& path = it->path();
        if (path.extension() != ".json") continue;
        auto text = ReadFileCapped(path.string(), 1 << 20);
        auto answer = text.ok() ? ParseJson(text->data, {.record_locations = false})
                                : Result<ParsedJson>(text.status());
        if (!answer.ok() || !answer->value.is_object()) continue;  // still being written
        const json::object& a = answer->value.get_object();
        std::string tok = a.contains("token") && a.at("token").is_string()
                              ? std::string(a.at("token").get_string())
                              : "";
        std::string action = a.contains("action") && a.at("action").is_string()
                                 ? std::string(a.at("action").get_string())
                                 : "";
        Status st = Status::Ok();
        if (action == "succeed") {
          st = engine.SendTaskSuccess(tok, a.contains("output") ? a.at("output") : json::object());
        } else if (action == "fail") {
          auto text_of = [&](const char* k) {
            return a.contains(k) && a.at(k).is_string() ? std::string(a.at(k).get_string()) : "";
          };
          st = engine.SendTaskFailure(tok, text_of("error"), text_of("cause"));
        } else {
          st = engine.SendTaskHeartbeat(tok);
        }
        if (!st.ok()) (void)WriteFileAtomically(path.string() + ".error", st.message());
        fs::remove(path, ec);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
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
      run_done = true;
      token_watcher.join();
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
  run_done = true;
  token_watcher.join();
  nested->Wait();
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
  switch (result->status) {
    case runtime::ExecutionStatus::kSucceeded: return kExitOk;
    case runtime::ExecutionStatus::kFailed: return kExitInvalid;
    default: return kExitTimedOut;
  }
}

void AddRunOptions(CLI::App* cmd, RunOptions& run) {
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
}

}  // namespace zflow::cli
