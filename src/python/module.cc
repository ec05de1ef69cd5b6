// zflow._core: the C++ core behind the `zflow` Python package. The package's Python layer
// (python/zflow/) turns a pipeline declared in Python into the document a YAML pipeline file
// holds; this module loads it with the YAML loader's rules (spec::LoadPipelineDocument) and
// compiles, draws and runs it with the same code as the zflow command. Nothing here keeps a
// Python object beyond a call except the function invoker of a run, which is released with the
// GIL held.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "pipeline/spec_fields.h"
#include "pipeline/step_graph.h"
#include "zflow/asl_serializer.h"
#include "zflow/cloud.h"
#include "zflow/graph.h"
#include "zflow/local_services.h"
#include "zflow/main.h"
#include "zflow/runtime.h"
#include "zflow/spec.h"

namespace py = pybind11;

namespace zflow::python {
namespace {

// Raises zflow.PipelineError(message) (defined by the package, which parses the place).
[[noreturn]] void RaisePipelineError(const std::string& message) {
  py::object cls = py::module_::import("zflow._errors").attr("PipelineError");
  py::object error = cls(message);
  PyErr_SetObject(cls.ptr(), error.ptr());
  throw py::error_already_set();
}

json::value ParseOrRaise(const std::string& text, const char* what) {
  auto parsed = ParseJson(text, {.record_locations = false});
  if (!parsed.ok()) throw py::value_error(fmt::format("{}: {}", what, parsed.status().message()));
  return std::move(parsed->value);
}

// A Python callable shared with the engine's worker threads: released with the GIL held,
// whichever thread drops the last reference.
class PyHandle {
 public:
  explicit PyHandle(py::object o) : object_(o.release().ptr()) {}
  ~PyHandle() {
    py::gil_scoped_acquire gil;
    Py_XDECREF(object_);
  }
  PyHandle(const PyHandle&) = delete;
  PyHandle& operator=(const PyHandle&) = delete;
  py::handle get() const { return object_; }

 private:
  PyObject* object_;
};

// Calls the package's invoker for an in-process Lambda function: invoker(name, event_json)
// returns (None, result_json, log) or (error_type, cause_json, log).
runtime::TaskResult CallFunction(const std::shared_ptr<PyHandle>& invoker, const std::string& name,
                                 const json::value& event) {
  std::string event_text = ToJsonText(event);
  py::gil_scoped_acquire gil;
  try {
    py::tuple r = invoker->get()(name, event_text);
    std::string log = r[2].cast<std::string>();
    runtime::TaskResult result;
    if (r[0].is_none()) {
      auto parsed = ParseJson(r[1].cast<std::string>(), {.record_locations = false});
      if (!parsed.ok()) {
        result = runtime::TaskResult::Failure(
            "Runtime.MarshalError",
            fmt::format("function {} returned what is not JSON: {}", name,
                        parsed.status().message()));
      } else {
        result = runtime::TaskResult::Success(std::move(parsed->value));
      }
    } else {
      result = runtime::TaskResult::Failure(r[0].cast<std::string>(), r[1].cast<std::string>());
    }
    result.log = std::move(log);
    return result;
  } catch (py::error_already_set& e) {
    // The invoker itself failed (it catches the function's exceptions): report, do not crash.
    std::string what = e.what();
    return runtime::TaskResult::Failure("Runtime.InvokerError", what);
  }
}

class Declared {
 public:
  explicit Declared(spec::LoadedPipeline loaded) : loaded_(std::move(loaded)) {}

  const Pipeline& pipeline() const { return loaded_.pipeline(); }

  // The compiled pipeline, or PipelineError located at the declaring line.
  const Pipeline::Compiled& Compiled() {
    if (!compiled_) {
      auto c = pipeline().CompileAll();
      if (!c.ok()) RaisePipelineError(loaded_.Locate(c.status().message()));
      compiled_ = std::make_unique<Pipeline::Compiled>(std::move(*c));
    }
    return *compiled_;
  }

  std::string Locate(const std::string& message) const { return loaded_.Locate(message); }

  std::string Definition() { return asl::SerializeStateMachine(Compiled().machine); }

  // The files `zflow compile` writes and the warnings, built once; written into `out_dir` too
  // when it is not empty (all or nothing).
  py::dict Files(const std::string& out_dir) {
    auto files = cli::BuildCompiledFiles(pipeline(), Compiled());
    if (!files.ok()) RaisePipelineError(loaded_.Locate(files.status().message()));
    if (!out_dir.empty()) {
      Status s = cli::WriteCompiledFiles(*files, out_dir);
      if (!s.ok()) throw py::value_error(std::string(s.message()));
    }
    py::dict out;
    py::dict contents;
    for (const auto& [name, text] : files->files) contents[py::str(name)] = py::bytes(text);
    py::list warnings;
    for (const auto& w : files->warnings) warnings.append(loaded_.Locate("warning: " + w));
    out["files"] = contents;
    out["warnings"] = warnings;
    return out;
  }

  py::dict Summary() {
    const Pipeline::Compiled& c = Compiled();
    auto statements = cloud::ExecutionPolicyStatements(c.definition, {});
    if (!statements.ok()) RaisePipelineError(loaded_.Locate(statements.status().message()));
    std::set<std::string> actions;
    for (const auto& st : *statements) {
      if (st.at("Sid") == "LogDelivery") continue;
      for (const auto& a : st.at("Action").as_array()) actions.emplace(a.as_string());
    }
    py::dict out;
    out["states"] = cli::CountStates(c.machine.top());
    out["schedule"] = pipeline().options().schedule;
    out["actions"] = std::vector<std::string>(actions.begin(), actions.end());
    py::list warnings;
    for (const auto& w : c.warnings) warnings.append(loaded_.Locate("warning: " + w));
    out["warnings"] = warnings;
    return out;
  }

  std::string Graph(const std::string& format, const std::string& level) {
    if (format != "dot" && format != "mermaid" && format != "svg") {
      throw py::value_error(fmt::format("format: \"{}\"; expected dot, mermaid or svg", format));
    }
    if (level != "steps" && level != "states") {
      throw py::value_error(fmt::format("level: \"{}\"; expected steps or states", level));
    }
    const auto graph_format =
        format == "mermaid" ? asl::GraphFormat::kMermaid : asl::GraphFormat::kDot;
    if (level == "steps") {
      if (format != "svg") return pipeline::RenderSteps(pipeline(), graph_format);
      auto svg = pipeline::RenderStepsSvg(pipeline());
      if (!svg.ok()) throw py::value_error(std::string(svg.status().message()));
      return *svg;
    }
    const asl::StateMachine& machine = Compiled().machine;
    if (format != "svg") return asl::RenderGraph(machine, graph_format);
    auto svg = asl::RenderSvg(machine);
    if (!svg.ok()) throw py::value_error(std::string(svg.status().message()));
    return *svg;
  }

  struct RunArgs {
    std::string input;  // JSON text
    std::string name;
    std::string profile, work_dir, s3_root;
    std::string mock_config;  // JSON text
    std::string test_case;
    bool virtual_clock = false;
    bool echo_tasks = false;
    std::vector<std::string> functions;
    py::object invoker;
    py::object on_log;  // on_log(state, event_id, text) as each task ends, or None
  };

  // One local execution of the compiled machine, as `zflow run` runs it (externals bound to
  // their local values).
  py::dict Run(RunArgs args) {
    // The compiled model, validated with the externals' local values: not parsed again.
    asl::ValidationReport report;
    report.machine = Compiled().local();
    auto prepared = runtime::Prepare(std::move(report));
    if (!prepared.ok()) RaisePipelineError(std::string(prepared.status().message()));
    LocalServicesOptions local{.profile = args.profile,
                               .work_dir = args.work_dir,
                               .s3_root = args.s3_root,
                               .echo_tasks = args.echo_tasks,
                               .test_case = args.test_case,
                               .state_machine_name = pipeline().name()};
    if (!args.mock_config.empty()) local.mock_config = ParseOrRaise(args.mock_config, "mocks");
    auto invoker = std::make_shared<PyHandle>(args.invoker);
    for (const std::string& fn : args.functions) {
      local.functions[fn] = [invoker, fn](const json::value& event) {
        return CallFunction(invoker, fn, event);
      };
    }
    json::value input = ParseOrRaise(args.input, "input");
    std::shared_ptr<PyHandle> on_log =
        args.on_log.is_none() ? nullptr : std::make_shared<PyHandle>(args.on_log);
    struct Log {
      std::string state;
      std::int64_t event_id;
      std::string text;
    };
    std::vector<Log> logs;
    Result<runtime::ExecutionResult> result = InternalError("not run");
    bool interrupted = false;  // the Python error (KeyboardInterrupt) stays set until thrown
    {
      py::gil_scoped_release released;
      auto services = LocalServices::Start(std::move(local));
      if (!services.ok()) {
        result = services.status();
      } else {
        runtime::EngineOptions options = (*services)->Engine({.virtual_time = args.virtual_clock});
        options.on_task_log = [&](const runtime::ExecutionInfo&, std::string_view state,
                                  std::int64_t event_id, std::string_view log) {
          if (log.empty()) return;
          logs.push_back({std::string(state), event_id, std::string(log)});
          if (on_log) {
            py::gil_scoped_acquire gil;
            try {
              on_log->get()(std::string(state), event_id, py::str(log.data(), log.size()));
            } catch (py::error_already_set&) {
              // A failing log callback must not stop the run.
            }
          }
        };
        runtime::Engine engine(std::move(options));
        runtime::ExecutionOptions exec;
        exec.input = std::move(input);
        exec.state_machine_name = pipeline().name();
        exec.name = args.name;
        // The run goes on in a thread of its own so that this one can notice Ctrl-C (a
        // notebook's interrupt): the execution is then stopped (ABORTED) and
        // KeyboardInterrupt raised once it has ended.
        std::promise<void> finished;
        std::future<void> done = finished.get_future();
        std::thread runner([&] {
          result = engine.Run(**prepared, std::move(exec));
          finished.set_value();
        });
        while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
          bool stop = false;
          {
            py::gil_scoped_acquire gil;
            stop = !interrupted && PyErr_CheckSignals() != 0;
          }
          // Without the GIL: the engine's threads may be waiting for it (a Python function).
          if (stop) {
            interrupted = true;
            (void)engine.Stop("KeyboardInterrupt", "interrupted from Python");
          }
        }
        runner.join();
      }
    }
    if (interrupted) throw py::error_already_set();
    if (!result.ok()) throw py::value_error(std::string(result.status().message()));
    py::dict out;
    out["status"] = std::string(runtime::ExecutionStatusName(result->status));
    out["output"] = result->status == runtime::ExecutionStatus::kSucceeded
                        ? ToJsonText(result->output)
                        : std::string("null");
    out["error"] = result->error;
    out["cause"] = result->cause;
    out["history"] = ToJsonText(result->history.ToJson());
    out["execution_arn"] = result->execution_arn;
    out["name"] = result->info.name;
    py::list log_list;
    for (const Log& l : logs) {
      log_list.append(py::make_tuple(l.state, l.event_id, py::str(l.text.data(), l.text.size())));
    }
    out["logs"] = log_list;
    return out;
  }

  // The zflow command line for this pipeline (validate, compile, graph, run), as zflow::Main.
  int Main(const std::vector<std::string>& argv, const std::vector<std::string>& functions,
           const py::object& invoker) {
    MainOptions options;
    auto handle = std::make_shared<PyHandle>(invoker);
    for (const std::string& fn : functions) {
      options.task_functions[fn] = [handle, fn](const json::value& event) {
        return CallFunction(handle, fn, event);
      };
    }
    options.locate = [this](std::string_view message) {
      return loaded_.Locate(std::string(message));
    };
    std::vector<std::string> args = argv;
    std::vector<char*> raw;
    for (std::string& a : args) raw.push_back(a.data());
    raw.push_back(nullptr);
    py::gil_scoped_release released;
    return zflow::Main(static_cast<int>(args.size()), raw.data(), pipeline(), options);
  }

  py::tuple StepPlace(const std::string& step) const {
    spec::LoadedPipeline::Place p = loaded_.StepPlace(step);
    return py::make_tuple(p.file, p.line);
  }

 private:
  spec::LoadedPipeline loaded_;
  std::unique_ptr<Pipeline::Compiled> compiled_;
};

std::shared_ptr<Declared> Load(const std::string& document, const std::string& file,
                               int pipeline_line, const std::map<std::string, int>& step_lines) {
  json::value doc = ParseOrRaise(document, "the pipeline document");
  spec::DeclaredPlaces places{.pipeline_line = pipeline_line, .steps = step_lines};
  auto loaded = spec::LoadPipelineDocument(doc, file, places);
  if (!loaded.ok()) RaisePipelineError(std::string(loaded.status().message()));
  return std::make_shared<Declared>(std::move(*loaded));
}

}  // namespace
}  // namespace zflow::python

PYBIND11_MODULE(_core, m) {
  using zflow::python::Declared;
  m.doc() = "The C++ core of the zflow package (use the zflow module, not this one).";
  py::class_<Declared, std::shared_ptr<Declared>>(m, "Declared")
      .def("definition", &Declared::Definition)
      .def("files", &Declared::Files, py::arg("out_dir"))
      .def("summary", &Declared::Summary)
      .def("graph", &Declared::Graph, py::arg("format"), py::arg("level"))
      .def("locate", &Declared::Locate, py::arg("message"))
      .def("step_place", &Declared::StepPlace, py::arg("step"))
      .def(
          "run",
          [](Declared& d, std::string input, std::string name, std::string profile,
             std::string work_dir, std::string s3_root, std::string mock_config,
             std::string test_case, bool virtual_clock, bool echo_tasks,
             std::vector<std::string> functions, py::object invoker, py::object on_log) {
            return d.Run({.input = std::move(input),
                          .name = std::move(name),
                          .profile = std::move(profile),
                          .work_dir = std::move(work_dir),
                          .s3_root = std::move(s3_root),
                          .mock_config = std::move(mock_config),
                          .test_case = std::move(test_case),
                          .virtual_clock = virtual_clock,
                          .echo_tasks = echo_tasks,
                          .functions = std::move(functions),
                          .invoker = std::move(invoker),
                          .on_log = std::move(on_log)});
          },
          py::arg("input"), py::arg("name"), py::arg("profile"), py::arg("work_dir"),
          py::arg("s3_root"), py::arg("mock_config"), py::arg("test_case"),
          py::arg("virtual_clock"), py::arg("echo_tasks"), py::arg("functions"),
          py::arg("invoker"), py::arg("on_log"))
      .def("main", &Declared::Main, py::arg("argv"), py::arg("functions"), py::arg("invoker"));
  // The step kinds' fields (the YAML loader's table), for tests and tools.
  m.def("step_kinds", [] {
    py::list kinds;
    auto fields = [](const std::vector<zflow::spec::FieldInfo>& list) {
      py::list out;
      for (const auto& f : list) {
        out.append(py::dict(py::arg("key") = std::string(f.key),
                            py::arg("required") = f.required,
                            py::arg("type") = std::string(f.type),
                            py::arg("default") = std::string(f.fallback),
                            py::arg("doc") = std::string(f.doc)));
      }
      return out;
    };
    for (const auto& k : zflow::spec::StepKinds()) {
      kinds.append(py::dict(py::arg("kind") = std::string(k.kind),
                            py::arg("python") = std::string(k.python),
                            py::arg("fields") = fields(k.fields)));
    }
    return py::make_tuple(kinds, fields(zflow::spec::CommonStepFields()));
  });
  m.def("load", &zflow::python::Load, py::arg("document"), py::arg("file"),
        py::arg("pipeline_line"), py::arg("step_lines"));
}
