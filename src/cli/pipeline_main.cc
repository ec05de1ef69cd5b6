// zflow::Main: validate / compile / graph / run for a C++ pipeline, through the same code paths
// as the zflow command on the compiled definition.
#include "zflow/main.h"

#include <iostream>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "zflow/asl_serializer.h"
#include "zflow/cloud.h"
#include "zflow/graph.h"

namespace zflow {
namespace {

int Run(int argc, char** argv, const Pipeline& pipeline, const MainOptions& main_options) {
  CLI::App app{fmt::format("{}: a zflow pipeline", pipeline.name())};
  app.require_subcommand(1);
  CLI::App* validate = app.add_subcommand("validate", "Compile and validate the pipeline");
  std::string out_dir;
  CLI::App* compile = app.add_subcommand(
      "compile", "Write statemachine.asl.json, template.json, template.yaml and graph.svg");
  compile->add_option("-o,--output", out_dir, "Directory to write to")->required();
  std::string format = "dot";
  std::string level = "steps";
  CLI::App* graph = app.add_subcommand("graph", "Draw the pipeline's steps, or its state machine");
  graph->add_option("--format", format, "dot, mermaid or svg")
      ->check(CLI::IsMember({"dot", "mermaid", "svg"}));
  graph->add_option("--level", level, "steps (the default) or states (the compiled state machine)")
      ->check(CLI::IsMember({"steps", "states"}));
  std::string graph_output;
  graph->add_option("-o,--output", graph_output, "Write to FILE instead of stdout");
  cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run the compiled state machine locally");
  cli::AddRunOptions(run_cmd, run);
  cli::DeployOptions deploy;
  CLI::App* deploy_cmd = app.add_subcommand(
      "deploy", "Create or update the pipeline, with its schedule, on zflow serve (--local)");
  cli::AddDeployOptions(deploy_cmd, deploy);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli::kExitUsage;
  }

  auto say = [&](std::string_view message) {
    std::cerr << (main_options.locate ? main_options.locate(message)
                                      : fmt::format("{}: {}", pipeline.name(), message))
              << "\n";
  };
  auto compiled = pipeline.CompileAll();
  if (!compiled.ok()) {
    say(compiled.status().message());
    return cli::kExitInvalid;
  }
  const asl::StateMachine* machine = &compiled->machine;
  std::string text = asl::SerializeStateMachine(*machine);
  if (app.got_subcommand(validate)) {
    // What ships: the states, the schedule, and what the execution role may do.
    auto statements = cloud::ExecutionPolicyStatements(compiled->definition, {});
    if (!statements.ok()) {
      say(statements.status().message());
      return cli::kExitInvalid;
    }
    for (const std::string& w : compiled->warnings) say("warning: " + w);
    std::set<std::string> actions;
    for (const auto& st : *statements) {
      if (st.at("Sid") == "LogDelivery") continue;
      for (const auto& a : st.at("Action").as_array()) actions.emplace(a.as_string());
    }
    std::string schedule = pipeline.options().schedule.empty()
                               ? "no schedule"
                               : "schedule " + pipeline.options().schedule;
    std::cout << fmt::format("ok: {}: {} states, {}, IAM: {}\n", pipeline.name(),
                             cli::CountStates(machine->top()), schedule,
                             fmt::join(actions, ", "));
    return cli::kExitOk;
  }
  if (app.got_subcommand(deploy_cmd)) {
    deploy.file = pipeline.name();
    deploy.pipeline = &pipeline;
    deploy.locate = main_options.locate;
    return cli::RunDeploy(deploy);
  }
  if (app.got_subcommand(compile)) {
    return cli::WriteCompiled(pipeline, *compiled, out_dir, main_options.locate);
  }
  // Local runs bind the externals ("${Name}") to their local values.
  text = SubstituteLocal(text, pipeline);
  if (app.got_subcommand(graph)) {
    if (level == "steps") {
      return cli::RunStepGraph(pipeline,
                               {.file = pipeline.name(), .format = format, .output = graph_output});
    }
    return cli::RunGraph(
        {.file = pipeline.name(), .text = text, .format = format, .output = graph_output});
  }
  run.definition = pipeline.name();
  run.definition_text = text;
  run.validated = compiled->local();
  run.parameters = pipeline.ParameterNames();
  for (const auto& entry : main_options.functions) {
    LocalFunction fn = entry.second;  // captured by copy (clang cannot capture bindings)
    run.functions[entry.first] = [fn](const json::value& event) -> runtime::TaskResult {
      auto fail = [](std::string type, std::string message) {
        json::object payload{{"errorMessage", message}, {"errorType", type}};
        return runtime::TaskResult::Failure(std::move(type), ToJsonText(json::value(payload)));
      };
      try {
        return runtime::TaskResult::Success(fn(event));
      } catch (const FunctionError& e) {
        return fail(e.type(), e.what());
      } catch (const std::exception& e) {
        return fail("Exception", e.what());
      }
    };
  }
  for (const auto& [name, fn] : main_options.task_functions) run.functions[name] = fn;
  run.state_machine_name = pipeline.name();
  return cli::RunRun(run);
}

}  // namespace

int Main(int argc, char** argv, const Pipeline& pipeline, const MainOptions& options) {
  try {
    return Run(argc, argv, pipeline, options);
  } catch (const std::exception& e) {
    std::cerr << pipeline.name() << ": internal error: " << e.what() << "\n";
    return 4;
  }
}

}  // namespace zflow
