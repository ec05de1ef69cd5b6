// `compile`: a pipeline (C++ or YAML) or an ASL file -> statemachine.asl.json, template.json,
// template.yaml, graph.svg. Everything is built in memory first; nothing is written unless all
// of it compiled.
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "common/file.h"
#include "zflow/asl_parser.h"
#include "zflow/asl_serializer.h"
#include "zflow/cloud.h"
#include "zflow/graph.h"
#include "zflow/spec.h"

namespace zflow::cli {
namespace {

namespace fs = std::filesystem;

struct Outputs {
  std::vector<std::pair<std::string, std::string>> files;  // name, contents
};

int WriteAll(const Outputs& out, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << fmt::format("cannot create {}: {}\n", dir, ec.message());
    return kExitUsage;
  }
  for (const auto& [name, contents] : out.files) {
    Status s = WriteFileAtomically((fs::path(dir) / name).string(), contents);
    if (!s.ok()) {
      std::cerr << s.message() << "\n";
      return kExitUsage;
    }
  }
  std::string names;
  for (const auto& [name, contents] : out.files) names += (names.empty() ? "" : ", ") + name;
  std::cout << fmt::format("wrote {} to {}\n", names, dir);
  return kExitOk;
}

// Warnings about AWS quotas a definition gets close to (errors are the validator's).
void LimitWarnings(const asl::StateMachine& machine, std::size_t definition_bytes,
                   const std::string& who) {
  if (definition_bytes > 768 * 1024) {
    std::cerr << fmt::format("{}: warning: the definition is {} KiB, close to the 1 MiB quota\n",
                             who, definition_bytes / 1024);
  }
  std::size_t states = CountStates(machine.top());
  if (states * 2 > 25000) {
    std::cerr << fmt::format(
        "{}: warning: {} states: one pass through them records over 25,000 history events, the "
        "quota of a standard execution\n",
        who, states);
  }
  std::function<void(const asl::Branch&)> walk = [&](const asl::Branch& b) {
    for (const auto& s : b.states) {
      if (s.type == asl::StateType::kMap) {
        bool distributed = s.item_processor && s.item_processor->mode &&
                           *s.item_processor->mode == asl::ProcessorMode::kDistributed;
        const json::value* mc = s.max_concurrency ? &*s.max_concurrency : nullptr;
        bool unbounded = mc == nullptr || !mc->is_number() || mc->to_number<double>() == 0 ||
                         mc->to_number<double>() > 40;
        if (!distributed && !s.max_concurrency_path && unbounded) {
          std::cerr << fmt::format(
              "{}: warning: Map state \"{}\" runs at most 40 inline iterations at a time on "
              "AWS, and keeps every item's result in the execution's data (256 KiB quota); "
              "set MaxConcurrency (max_concurrency) to at most 40\n",
              who, s.name);
        }
      }
      for (const auto& branch : s.branches) walk(branch);
      if (s.item_processor) walk(*s.item_processor);
    }
  };
  walk(machine.top());
}

Result<Outputs> BuildOutputs(const asl::StateMachine& machine, const json::value& definition,
                             const Result<json::value>& template_json) {
  if (!template_json.ok()) return template_json.status();
  Outputs out;
  out.files.emplace_back("statemachine.asl.json", asl::SerializeStateMachine(machine));
  out.files.emplace_back("template.json", ToJsonText(*template_json) + "\n");
  out.files.emplace_back("template.yaml", cloud::ToYaml(*template_json));
  ZFLOW_ASSIGN_OR_RETURN(std::string svg, asl::RenderSvg(machine));
  out.files.emplace_back("graph.svg", std::move(svg));
  (void)definition;
  return out;
}

}  // namespace

int WriteCompiled(const Pipeline& pipeline, const Pipeline::Compiled& compiled,
                  const std::string& out_dir) {
  const asl::StateMachine& machine = compiled.machine;
  auto outputs = BuildOutputs(machine, compiled.definition,
                              cloud::PipelineTemplate(pipeline, compiled.definition));
  if (!outputs.ok()) {
    std::cerr << pipeline.name() << ": " << outputs.status().message() << "\n";
    return kExitInvalid;
  }
  LimitWarnings(machine, outputs->files[0].second.size(), pipeline.name());
  return WriteAll(*outputs, out_dir);
}

int RunCompile(const CompileOptions& options) {
  const std::string& file = options.file;
  if (IsPipelineSpec(file)) {
    auto spec = spec::LoadPipelineFile(file);
    if (!spec.ok()) {
      std::cerr << spec.status().message() << "\n";
      return kExitInvalid;
    }
    auto compiled = spec->pipeline().CompileAll();
    if (!compiled.ok()) {
      std::cerr << spec->Locate(compiled.status().message()) << "\n";
      return kExitInvalid;
    }
    return WriteCompiled(spec->pipeline(), *compiled, options.output);
  }
  // An ASL file: its "${Name}" placeholders become template parameters.
  DefinitionCheck check = CheckDefinitionFile(file);
  if (!check.read_error.empty()) {
    std::cerr << check.read_error << "\n";
    return kExitUsage;
  }
  if (!check.report.ok()) {
    for (const Diagnostic& d : check.report.diagnostics) {
      std::cerr << FormatDiagnostic(file, d) << "\n";
    }
    return kExitInvalid;
  }
  cloud::TemplateOptions t;
  t.name = fs::path(file).filename().string();
  for (const char* ext : {".asl.json", ".json"}) {
    if (t.name.ends_with(ext)) {
      t.name.resize(t.name.size() - std::string_view(ext).size());
      break;
    }
  }
  for (char& c : t.name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) c = '-';
  }
  std::set<std::string> placeholders;
  for (std::size_t p = check.text.find("${"); p != std::string::npos;
       p = check.text.find("${", p + 2)) {
    std::size_t close = check.text.find('}', p);
    if (close == std::string::npos) break;
    std::string name = check.text.substr(p + 2, close - p - 2);
    if (!name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos) {
      placeholders.insert(name);
    }
  }
  for (const auto& p : placeholders) t.parameters.push_back({p, "Substituted into the definition"});
  t.schedule = options.schedule;
  auto machine = asl::ParseStateMachine(check.text);
  if (!machine.ok()) {
    std::cerr << machine.status().message() << "\n";
    return kExitInvalid;
  }
  json::value definition = ParseJson(check.text)->value;
  auto outputs = BuildOutputs(*machine, definition, cloud::BuildTemplate(definition, t));
  if (!outputs.ok()) {
    std::cerr << file << ": " << outputs.status().message() << "\n";
    return kExitInvalid;
  }
  LimitWarnings(*machine, check.text.size(), file);
  return WriteAll(*outputs, options.output);
}

bool IsPipelineSpec(const std::string& file) {
  return file.ends_with(".yaml") || file.ends_with(".yml");
}

CompiledSpec::CompiledSpec(CompiledSpec&& other) noexcept
    : name(std::move(other.name)), definition_file(std::move(other.definition_file)) {
  other.definition_file.clear();
}

CompiledSpec::~CompiledSpec() {
  if (definition_file.empty()) return;
  std::error_code ec;
  fs::remove_all(fs::path(definition_file).parent_path(), ec);
}

Result<CompiledSpec> CompileSpecToFile(const std::string& file) {
  ZFLOW_ASSIGN_OR_RETURN(spec::LoadedPipeline loaded, spec::LoadPipelineFile(file));
  auto machine = loaded.pipeline().Compile();
  if (!machine.ok()) return InvalidArgumentError(loaded.Locate(machine.status().message()));
  std::string text = SubstituteLocal(asl::SerializeStateMachine(*machine), loaded.pipeline());
  std::string dir_template = (fs::temp_directory_path() / "zflow-spec-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    return UnavailableError("cannot create a temporary directory");
  }
  CompiledSpec out;
  out.name = loaded.pipeline().name();
  out.definition_file = (fs::path(dir_template) / "statemachine.asl.json").string();
  ZFLOW_RETURN_IF_ERROR(WriteFileAtomically(out.definition_file, text));
  return out;
}

}  // namespace zflow::cli
