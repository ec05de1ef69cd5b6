// Engine throughput, side by side with the aws-local-stepfunctions oracle.
//
//   build/bench/engine_bench compare [--oracle tests/node_modules] [--processes 3]  # ratios
//   build/bench/engine_bench run DEFINITION.json INPUT.json           # one run, JSON line
//   build/bench/engine_bench sink                                     # cost of an event sink
//   build/bench/engine_bench parse [DEFINITION.json]   # parse + validate: time, peak memory
//   build/bench/engine_bench phases DEFINITION.json [N]  # what `zflow run` does, in process:
//                                                        # validate, prepare, run; best of N
//
// Workloads (issue 3): (a) a 100,000-state Pass chain with Parameters and ResultPath,
// (b) a Map over 100,000 items whose body is a Choice and two Pass states, (c) a Parallel with
// 1,000 branches. Each side runs in its own process so peak RSS is per side (wait4).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "zflow/asl_parser.h"
#include "zflow/runtime.h"
#include "zflow/validator.h"

namespace {

namespace fs = std::filesystem;
using zflow::json::value;

std::string PassChain(int n) {
  std::string s = R"({"StartAt": "S0", "States": {)";
  for (int i = 0; i < n; ++i) {
    s += fmt::format(
        R"("S{}": {{"Type": "Pass", "Parameters": {{"step": {}, "prev.$": "$.last.step"}}, )"
        R"("ResultPath": "$.last", )",
        i, i);
    s += i + 1 < n ? fmt::format(R"("Next": "S{}"}},)", i + 1) : R"("End": true})";
  }
  return s + "}}";
}

std::string MapChoice() {
  return R"({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
    "ItemProcessor": {"StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericGreaterThan": 50,
            "Next": "High"}], "Default": "Low"},
      "High": {"Type": "Pass", "Parameters": {"high.$": "$.v"}, "End": true},
      "Low": {"Type": "Pass", "Parameters": {"low.$": "$.v"}, "End": true}}},
    "ResultPath": null, "End": true}}})";
}

std::string MapInput(int n) {
  std::string s = R"({"items": [)";
  for (int i = 0; i < n; ++i) s += fmt::format(R"({}{{"v": {}}})", i ? "," : "", i % 100);
  return s + "]}";
}

std::string ParallelBranches(int n) {
  std::string s = R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "ResultPath": null,
    "End": true, "Branches": [)";
  for (int i = 0; i < n; ++i) {
    s += fmt::format(R"({}{{"StartAt": "B{}", "States": {{"B{}": {{"Type": "Pass", )"
                     R"("Parameters": {{"b": {}}}, "End": true}}}}}})",
                     i ? "," : "", i, i, i);
  }
  return s + "]}}}";
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An event sink that only counts what it is given (the engine's side of a sink's cost).
class CountingSink final : public zflow::runtime::EventSink {
 public:
  zflow::Status Append(const zflow::runtime::ExecutionInfo&, const zflow::runtime::History& h,
                       std::size_t first) override {
    events += h.size() - first;
    ++batches;
    return zflow::Status::Ok();
  }
  std::size_t events = 0;
  std::size_t batches = 0;
};

// Runs one execution in this process; prints {"seconds", "transitions", "status"}. With
// ZFLOW_BENCH_SINK=count, a counting event sink is attached.
int RunOnce(const std::string& def_path, const std::string& input_path) {
  zflow::asl::ParseOptions options;
  options.max_definition_bytes = std::size_t{1} << 30;  // the benchmark chain is ~10 MB
  auto report = zflow::asl::ParseStateMachineText(Read(def_path), options);
  if (!report.machine) return 2;
  auto input = zflow::ParseJson(Read(input_path));
  if (!input.ok()) return 2;
  zflow::runtime::EngineOptions eo;
  eo.virtual_time = true;
  eo.max_payload_bytes = std::size_t{1} << 30;      // the Map input is ~1 MB
  eo.max_history_events = std::size_t{1} << 30;    // far past AWS's 25,000
  zflow::runtime::Engine engine(std::move(eo));
  // Validation and compilation happen once per deployed machine; time the execution alone,
  // as the oracle side does.
  auto prepared = engine.Prepare(std::move(*report.machine));
  if (!prepared.ok()) {
    std::cerr << prepared.status().ToString() << "\n";
    return 2;
  }
  // Best of three runs of the same prepared machine (ZFLOW_BENCH_RUNS=N for more, to profile).
  const char* runs_env = std::getenv("ZFLOW_BENCH_RUNS");
  const int runs = runs_env ? std::max(1, std::atoi(runs_env)) : 3;
  double seconds = 1e9;
  zflow::Result<zflow::runtime::ExecutionResult> r = zflow::InternalError("not run");
  for (int i = 0; i < runs; ++i) {
    r = zflow::InternalError("not run");  // the previous run's history is freed untimed
    // The input is handed over as the oracle's is: parsed beforehand, not copied in the timing.
    zflow::runtime::ExecutionOptions execution{.input = input->value};
    CountingSink sink;
    if (const char* mode = std::getenv("ZFLOW_BENCH_SINK"); mode && std::string(mode) == "count") {
      execution.sink = &sink;
    }
    auto start = std::chrono::steady_clock::now();
    r = engine.Run(**prepared, std::move(execution));
    seconds = std::min(
        seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!r.ok()) {
      std::cerr << r.status().ToString() << "\n";
      return 2;
    }
  }
  // Transitions are counted from the history afterwards (an on_event observer would cost the
  // zflow side work the oracle does not do).
  std::size_t transitions = 0;
  for (const zflow::runtime::HistoryEvent& e : r->history) {
    transitions += e.type.ends_with("StateEntered");
  }
  std::cout << fmt::format(R"({{"seconds": {:.6f}, "transitions": {}, "status": "{}"}})", seconds,
                           transitions, zflow::runtime::ExecutionStatusName(r->status))
            << std::endl;
  return 0;
}

struct Measured {
  double wall = 0;
  long max_rss_kb = 0;
  std::string out;
  int exit_code = -1;
};

Measured Spawn(const std::vector<std::string>& argv) {
  Measured m;
  int pipefd[2];
  if (pipe(pipefd) != 0) return m;
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) m.out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  m.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.max_rss_kb = ru.ru_maxrss;
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return m;
}

double Field(const std::string& json_line, const std::string& key) {
  auto pos = json_line.find("\"" + key + "\":");
  if (pos == std::string::npos) return -1;
  return std::atof(json_line.c_str() + pos + key.size() + 3);
}

int Compare(const std::string& self, const std::string& node_modules, int processes) {
  fs::path dir = fs::temp_directory_path() / ("zflow-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  struct Workload {
    std::string name, definition, input;
  };
  std::vector<Workload> loads = {
      {"a: Pass chain, 100,000 states", PassChain(100000), R"({"last": {"step": -1}})"},
      {"b: Map over 100,000 items (Choice + Pass)", MapChoice(), MapInput(100000)},
      {"c: Parallel, 1,000 branches", ParallelBranches(1000), "{}"},
  };
  // The oracle runner: aws-local-stepfunctions in-process, timing only the execution; best of
  // three runs of the same machine, as on the zflow side.
  fs::path oracle = dir / "oracle.mjs";
  std::ofstream(oracle) << "import fs from 'node:fs';\n"
                           "if (!Promise.withResolvers) Promise.withResolvers = () => { let a, b;"
                           " const p = new Promise((x, y) => { a = x; b = y; }); return {promise: p,"
                           " resolve: a, reject: b}; };\n"
                           "const { StateMachine } = await import('"
                        << (fs::absolute(node_modules) / "aws-local-stepfunctions/build/main.node.esm.js").string()
                        << "');\n"
                           "const def = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));\n"
                           "const input = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));\n"
                           "const sm = new StateMachine(def, { validationOptions: { checkPaths: "
                           "false, checkArn: false } });\n"
                           "let status = 'SUCCEEDED', best = Infinity;\n"
                           "for (let i = 0; i < 3; i++) {\n"
                           "  const t0 = performance.now();\n"
                           "  try { await sm.run(input).result; } catch (e) { status = 'FAILED: ' +"
                           " e.message; }\n"
                           "  best = Math.min(best, (performance.now() - t0) / 1000);\n"
                           "}\n"
                           "console.log(JSON.stringify({seconds: best, status}));\n";
  std::cout << fmt::format("{:<44} {:>10} {:>12} {:>10} {:>12} {:>9} {:>9} {:>9}\n", "workload",
                           "zflow s", "trans/s", "oracle s", "trans/s", "ratio", "zflow MB",
                           "node MB");
  for (const Workload& w : loads) {
    fs::path def = dir / "def.json", in = dir / "in.json";
    std::ofstream(def) << w.definition;
    std::ofstream(in) << w.input;
    // Each side runs in `processes` processes, alternating, and its best time counts: on a
    // shared machine one CPU can be much slower than the other for a while, and a process
    // stays where it started.
    Measured z, o;
    double zs = 1e9, os = 1e9;
    for (int i = 0; i < processes; ++i) {
      Measured zi = Spawn({self, "run", def.string(), in.string()});
      Measured oi = Spawn({"node", "--max-old-space-size=8192", "--stack-size=65500",
                           oracle.string(), def.string(), in.string()});
      double zt = Field(zi.out, "seconds"), ot = Field(oi.out, "seconds");
      if (i == 0 || (zt > 0 && zt < zs)) zs = zt;
      if (i == 0 || (ot > 0 && ot < os)) os = ot;
      zi.max_rss_kb = std::max(zi.max_rss_kb, z.max_rss_kb);
      oi.max_rss_kb = std::max(oi.max_rss_kb, o.max_rss_kb);
      z = std::move(zi);
      o = std::move(oi);
      if (z.exit_code != 0 || o.exit_code != 0) break;
    }
    double trans = Field(z.out, "transitions");
    std::string ostatus = o.exit_code == 0 ? "" : fmt::format(" (oracle exit {})", o.exit_code);
    std::cout << fmt::format("{:<44} {:>10.3f} {:>12.0f} {:>10.3f} {:>12.0f} {:>8.1f}x {:>9.1f} "
                             "{:>9.1f}{}\n",
                             w.name, zs, trans / zs, os, os > 0 ? trans / os : 0.0,
                             os > 0 ? os / zs : 0.0, static_cast<double>(z.max_rss_kb) / 1024,
                             static_cast<double>(o.max_rss_kb) / 1024, ostatus);
    if (z.out.find("SUCCEEDED") == std::string::npos) {
      std::cout << "  zflow (exit " << z.exit_code << "): " << z.out << "\n";
    }
    if (o.out.find("SUCCEEDED") == std::string::npos) {
      std::cout << "  oracle (exit " << o.exit_code << "): " << o.out.substr(0, 300) << "\n";
    }
  }
  fs::remove_all(dir);
  return 0;
}

}  // namespace

// The cost of an event sink: workloads (a) and (b) in this process, without a sink and with one
// that only counts, alternating, best of 7 each.
int SinkCost() {
  struct Workload {
    std::string name, definition, input;
  };
  std::string tasks = R"({"StartAt": "T0", "States": {)";
  constexpr int kTasks = 20000;
  for (int i = 0; i < kTasks; ++i) {
    tasks += fmt::format(R"({}"T{}": {{"Type": "Task", "Resource": "arn:aws:states:::zflow:echo", )"
                         R"("Parameters": {{"step": {}}}, "ResultPath": "$.last", )",
                         i > 0 ? "," : "", i, i);
    tasks += i + 1 < kTasks ? fmt::format(R"("Next": "T{}"}})", i + 1) : R"("End": true})";
  }
  tasks += "}}";
  std::vector<Workload> workloads = {
      {"a: Pass chain, 100,000 states", PassChain(100000), R"({"last": {"step": -1}})"},
      {"b: Map over 100,000 items", MapChoice(), MapInput(100000)},
      {"d: Task chain, 20,000 inline tasks", tasks, "{}"}};
  zflow::runtime::IntegrationRegistry registry;
  registry.RegisterFunction(
      "arn:aws:states:::zflow:echo",
      [](const zflow::runtime::TaskRequest& r) { return zflow::runtime::TaskResult::Success(r.input); },
      /*inline_safe=*/true);
  std::cout << fmt::format("{:<34} {:>12} {:>12} {:>8} {:>10}\n", "workload", "no sink s",
                           "counting s", "cost", "batches");
  for (const Workload& w : workloads) {
    zflow::asl::ParseOptions options;
    options.max_definition_bytes = std::size_t{1} << 30;
    auto report = zflow::asl::ParseStateMachineText(w.definition, options);
    auto input = zflow::ParseJson(w.input);
    if (!report.machine || !input.ok()) return 2;
    zflow::runtime::EngineOptions eo;
    eo.virtual_time = true;
    eo.integrations = &registry;
    eo.max_payload_bytes = std::size_t{1} << 30;
    eo.max_history_events = std::size_t{1} << 30;
    zflow::runtime::Engine engine(std::move(eo));
    auto prepared = engine.Prepare(std::move(*report.machine));
    if (!prepared.ok()) return 2;
    double best[2] = {1e9, 1e9};
    std::size_t batches = 0;
    for (int round = 0; round < 14; ++round) {
      const int with_sink = round % 2;
      CountingSink sink;
      zflow::runtime::ExecutionOptions execution{.input = input->value};
      if (with_sink) execution.sink = &sink;
      auto start = std::chrono::steady_clock::now();
      auto r = engine.Run(**prepared, std::move(execution));
      double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!r.ok() || r->status != zflow::runtime::ExecutionStatus::kSucceeded) {
        std::cerr << w.name << ": " << (r.ok() ? r->cause : r.status().ToString()) << "\n";
        return 2;
      }
      if (with_sink && sink.events != r->history.size()) return 2;
      if (with_sink) batches = sink.batches;
      best[with_sink] = std::min(best[with_sink], t);
    }
    std::cout << fmt::format("{:<34} {:>12.4f} {:>12.4f} {:>7.1f}% {:>10}\n", w.name, best[0],
                             best[1], 100.0 * (best[1] / best[0] - 1), batches);
  }
  return 0;
}

// Parses and validates one definition (default: workload (a)'s 100,000-state chain, about
// 12 MB) and prints the time and the process's peak resident memory, the text included.
int ParseOnce(const std::string& def_path) {
  std::string text = def_path.empty() ? PassChain(100000) : Read(def_path);
  struct rusage before {};
  getrusage(RUSAGE_SELF, &before);
  zflow::asl::ParseOptions options;
  options.max_definition_bytes = std::size_t{1} << 30;
  auto start = std::chrono::steady_clock::now();
  zflow::asl::ValidationReport report = zflow::asl::ValidateDefinition(text, options);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  struct rusage after {};
  getrusage(RUSAGE_SELF, &after);
  if (!report.ok()) {
    std::cerr << "the definition is invalid\n";
    return 2;
  }
  std::cout << fmt::format(
                   R"({{"bytes": {}, "seconds": {:.4f}, "mb_per_s": {:.1f}, "peak_rss_mb": {:.1f}, )"
                   R"("rss_before_mb": {:.1f}}})",
                   text.size(), seconds, static_cast<double>(text.size()) / seconds / 1e6,
                   static_cast<double>(after.ru_maxrss) / 1024,
                   static_cast<double>(before.ru_maxrss) / 1024)
            << std::endl;
  return 0;
}

// The phases of `zflow run FILE` in this process, each the best of `runs`: the figures behind
// the whole-process command (which adds start-up and reading the file).
int Phases(const std::string& def_path, int runs) {
  const std::string text = Read(def_path);
  double validate = 1e9, prepare = 1e9, run = 1e9;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    zflow::asl::ValidationReport report = zflow::asl::ValidateDefinition(text);
    auto t1 = std::chrono::steady_clock::now();
    if (!report.ok()) {
      std::cerr << "the definition is invalid\n";
      return 2;
    }
    auto prepared = zflow::runtime::Prepare(std::move(report));
    auto t2 = std::chrono::steady_clock::now();
    if (!prepared.ok()) {
      std::cerr << prepared.status().ToString() << "\n";
      return 2;
    }
    zflow::runtime::Engine engine({});
    auto result = engine.Run(**prepared, {.input = zflow::json::object()});
    auto t3 = std::chrono::steady_clock::now();
    if (!result.ok()) {
      std::cerr << result.status().ToString() << "\n";
      return 2;
    }
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    validate = std::min(validate, ms(t0, t1));
    prepare = std::min(prepare, ms(t1, t2));
    run = std::min(run, ms(t2, t3));
  }
  std::cout << fmt::format(
                   R"({{"bytes": {}, "validate_ms": {:.2f}, "prepare_ms": {:.2f}, "run_ms": {:.2f}, )"
                   R"("total_ms": {:.2f}}})",
                   text.size(), validate, prepare, run, validate + prepare + run)
            << std::endl;
  return 0;
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "compare";
  if (mode == "phases" && argc >= 3) return Phases(argv[2], argc > 3 ? std::atoi(argv[3]) : 10);
  if (mode == "parse") return ParseOnce(argc > 2 ? argv[2] : "");
  if (mode == "run" && argc == 4) return RunOnce(argv[2], argv[3]);
  if (mode == "sink") return SinkCost();
  std::string node_modules = "tests/node_modules";
  int processes = 3;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--oracle") node_modules = argv[i + 1];
    if (std::string(argv[i]) == "--processes") processes = std::max(1, std::atoi(argv[i + 1]));
  }
  return Compare(fs::canonical("/proc/self/exe").string(), node_modules, processes);
}
