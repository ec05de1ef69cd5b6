// `compile`: a pipeline (C++ or YAML) or an ASL file -> statemachine.asl.json, template.json,
// template.yaml, graph.svg. Everything is built in memory first; nothing is written unless all
// of it compiled.
#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "common/file.h"
#include "zflow/asl_convert.h"
#include "zflow/asl_parser.h"
#include "zflow/asl_serializer.h"
#include "zflow/cloud.h"
#include "zflow/graph.h"
#include "zflow/spec.h"
#include "zflow/validator.h"

namespace zflow::cli {
namespace {

namespace fs = std::filesystem;

struct Outputs {
  std::vector<std::pair<std::string, std::string>> files;  // name, contents
};

Status WriteAll(const Outputs& out, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgumentError(fmt::format("cannot create {}: {}", dir, ec.message()));
  // Everything goes to a staging directory first; only when all of it is written are the files
  // moved into place, so a full disk leaves the old outputs as they were.
  std::string staging = (fs::path(dir) / ".zflow-compile-XXXXXX").string();
  if (::mkdtemp(staging.data()) == nullptr) {
    return InvalidArgumentError(fmt::format("cannot write to {}: {}", dir, std::strerror(errno)));
  }
  auto cleanup = [&] { fs::remove_all(staging, ec); };
  for (const auto& [name, contents] : out.files) {
    Status s = WriteFileAtomically((fs::path(staging) / name).string(), contents);
    if (!s.ok()) {
      cleanup();
      return s;
    }
  }
  for (const auto& [name, contents] : out.files) {
    fs::rename(fs::path(staging) / name, fs::path(dir) / name, ec);
    if (ec) {
      cleanup();
      return InvalidArgumentError(
          fmt::format("cannot move {} into {}: {}", name, dir, ec.message()));
    }
  }
  cleanup();
  return Status::Ok();
}

int WriteAllAndSay(const Outputs& out, const std::string& dir) {
  Status s = WriteAll(out, dir);
  if (!s.ok()) {
    std::cerr << s.message() << "\n";
    return kExitUsage;
  }
  std::string names;
  for (const auto& [name, contents] : out.files) names += (names.empty() ? "" : ", ") + name;
  std::cout << fmt::format("wrote {} to {}\n", names, dir);
  return kExitOk;
}

// Warnings about AWS quotas a definition gets close to (errors are the validator's).
void LimitWarnings(const asl::StateMachine& machine, std::size_t definition_bytes,
                   std::vector<std::string>& warnings) {
  if (definition_bytes > 768 * 1024) {
    warnings.push_back(fmt::format("the definition is {} KiB, close to the 1 MiB quota",
                                   definition_bytes / 1024));
  }
  std::size_t states = CountStates(machine.top());
  if (states * 2 > kMaxHistoryEvents) {
    warnings.push_back(fmt::format(
        "{} states: one pass through them records over 25,000 history events, the quota of a "
        "standard execution",
        states));
  }
  std::function<void(const asl::Branch&)> walk = [&](const asl::Branch& b) {
    for (const auto& s : b.states) {
      if (s.type == asl::StateType::kMap) {
        bool distributed = s.map().item_processor && s.map().item_processor->mode &&
                           *s.map().item_processor->mode == asl::ProcessorMode::kDistributed;
        const json::value* mc = s.map().max_concurrency ? &*s.map().max_concurrency : nullptr;
        bool unbounded = mc == nullptr || !mc->is_number() || mc->to_number<double>() == 0 ||
                         mc->to_number<double>() > 40;
        if (!distributed && !s.map().max_concurrency_path && unbounded) {
          warnings.push_back(fmt::format(
              "Map state \"{}\" runs at most 40 inline iterations at a time on AWS, and keeps "
              "every item's result in the execution's data (256 KiB quota); set MaxConcurrency "
              "(max_concurrency) to at most 40",
              s.name));
        }
      }
      for (const auto& branch : s.parallel().branches) walk(branch);
      if (s.map().item_processor) walk(*s.map().item_processor);
    }
  };
  walk(machine.top());
}

// The execution's data keeps every step's result (256 KiB quota, States.DataLimitExceeded):
// a rough estimate from the definition, and a warning for Map results that grow with the input.
void DataSizeWarnings(const json::value& definition, std::vector<std::string>& warnings) {
  std::size_t lambda = 0;
  std::size_t service = 0;
  std::vector<std::string> maps;
  std::function<void(const json::value&, bool)> walk = [&](const json::value& states, bool top) {
    const json::object* o = states.if_object();
    if (o == nullptr) return;
    for (const auto& [name, v] : *o) {
      const json::object* s = v.if_object();
      if (s == nullptr) continue;
      const json::value* rp = s->if_contains("ResultPath");
      bool kept = rp != nullptr && rp->is_string() && rp->as_string().starts_with("$.steps[");
      const json::value* type = s->if_contains("Type");
      if (kept && type != nullptr && *type == "Task" && top) {
        const json::value* r = s->if_contains("Resource");
        bool is_lambda = r != nullptr && r->is_string() &&
                         r->as_string().find("lambda") != json::string::npos;
        ++(is_lambda ? lambda : service);
      }
      if (kept && type != nullptr && *type == "Map") maps.emplace_back(name);
      if (const json::value* b = s->if_contains("Branches"); b && b->is_array()) {
        for (const auto& br : b->as_array()) {
          if (br.is_object() && br.as_object().contains("States")) walk(br.at("States"), top);
        }
      }
    }
  };
  if (const json::value* states = definition.as_object().if_contains("States")) walk(*states, true);
  std::size_t estimate = lambda * 2048 + service * 1024;
  if (estimate > 128 * 1024) {
    warnings.push_back(fmt::format(
        "the execution's data keeps {} step results (about {} KiB, assuming 2 KiB per Lambda "
        "result and 1 KiB per service result); AWS fails an execution whose data exceeds 256 "
        "KiB (States.DataLimitExceeded)",
        lambda + service, estimate / 1024));
  }
  for (const auto& m : maps) {
    warnings.push_back(fmt::format(
        "\"{}\" keeps one result per item in the execution's data; with many items it can "
        "exceed the 256 KiB quota",
        m));
  }
}

Result<Outputs> BuildOutputs(const asl::StateMachine& machine,
                             const Result<json::value>& template_json) {
  if (!template_json.ok()) return template_json.status();
  Outputs out;
  out.files.emplace_back("statemachine.asl.json", asl::SerializeStateMachine(machine));
  out.files.emplace_back("template.json", ToJsonText(*template_json) + "\n");
  out.files.emplace_back("template.yaml", cloud::ToYaml(*template_json));
  ZFLOW_ASSIGN_OR_RETURN(std::string svg, asl::RenderSvg(machine));
  out.files.emplace_back("graph.svg", std::move(svg));
  return out;
}

}  // namespace

Result<CompiledFiles> BuildCompiledFiles(const Pipeline& pipeline,
                                         const Pipeline::Compiled& compiled) {
  const asl::StateMachine& machine = compiled.machine;
  ZFLOW_ASSIGN_OR_RETURN(Outputs outputs,
                         BuildOutputs(machine,
                                      cloud::PipelineTemplate(pipeline, compiled.definition)));
  CompiledFiles out;
  out.warnings = compiled.warnings;
  LimitWarnings(machine, outputs.files[0].second.size(), out.warnings);
  DataSizeWarnings(compiled.definition, out.warnings);
  out.files = std::move(outputs.files);
  return out;
}

Status WriteCompiledFiles(const CompiledFiles& files, const std::string& out_dir) {
  return WriteAll(Outputs{files.files}, out_dir);
}

int WriteCompiled(const Pipeline& pipeline, const Pipeline::Compiled& compiled,
                  const std::string& out_dir,
                  const std::function<std::string(std::string_view)>& locate) {
  auto files = BuildCompiledFiles(pipeline, compiled);
  if (!files.ok()) {
    std::cerr << pipeline.name() << ": " << files.status().message() << "\n";
    return kExitInvalid;
  }
  for (const std::string& w : files->warnings) {
    std::cerr << (locate ? locate("warning: " + w) : pipeline.name() + ": warning: " + w)
              << "\n";
  }
  return WriteAllAndSay(Outputs{files->files}, out_dir);
}

int RunCompile(const CompileOptions& options) {
  const std::string& file = options.file;
  if (IsPipelineSpec(file)) {
    auto spec = spec::LoadPipelineFile(file);
    if (!spec.ok()) {
      std::cerr << spec.status().message() << "\n";
      return kExitInvalid;
    }
    CompileLimits limits;
    if (!options.query_language.empty()) {
      limits.query_language = options.query_language == "JSONata" ? asl::QueryLanguage::kJsonata
                                                                  : asl::QueryLanguage::kJsonPath;
    }
    auto compiled = spec->pipeline().CompileAll(limits);
    if (!compiled.ok()) {
      std::cerr << spec->Locate(compiled.status().message()) << "\n";
      return kExitInvalid;
    }
    return WriteCompiled(spec->pipeline(), *compiled, options.output,
                         [&](std::string_view m) { return spec->Locate(m); });
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
  // The model validated above; the JSON document for the template's Definition.
  const asl::StateMachine* machine = &*check.report.machine;
  json::value definition = ParseJson(check.text, {.record_locations = false})->value;
  std::optional<asl::StateMachine> converted;
  if (options.query_language == "JSONata") {
    auto jsonata = asl::ConvertToJsonata(definition);
    if (!jsonata.ok()) {
      std::cerr << file << ": no JSONata form: " << jsonata.status().message() << "\n";
      return kExitInvalid;
    }
    asl::ParseReport parsed = asl::ParseStateMachineValue(*jsonata);
    std::vector<Diagnostic> diagnostics = parsed.diagnostics;
    if (parsed.machine && !HasErrors(diagnostics)) {
      diagnostics = asl::ValidateStateMachine(*parsed.machine);
    }
    for (const Diagnostic& d : diagnostics) {
      if (d.severity != Severity::kError) continue;
      std::cerr << file << ": the JSONata form is not valid (please report this): "
                << d.message << " at " << d.pointer << "\n";
      return kExitInvalid;
    }
    definition = std::move(*jsonata);
    converted = std::move(*parsed.machine);
    machine = &*converted;
  }
  auto outputs = BuildOutputs(*machine, cloud::BuildTemplate(definition, t));
  if (!outputs.ok()) {
    std::cerr << file << ": " << outputs.status().message() << "\n";
    return kExitInvalid;
  }
  std::vector<std::string> warnings;
  LimitWarnings(*machine, check.text.size(), warnings);
  for (const std::string& w : warnings) std::cerr << file << ": warning: " << w << "\n";
  return WriteAllAndSay(*outputs, options.output);
}

bool IsPipelineSpec(const std::string& file) {
  return file.ends_with(".yaml") || file.ends_with(".yml");
}

Result<CompiledSpec> CompileSpec(const std::string& file) {
  ZFLOW_ASSIGN_OR_RETURN(spec::LoadedPipeline loaded, spec::LoadPipelineFile(file));
  auto compiled = loaded.pipeline().CompileAll();
  if (!compiled.ok()) return InvalidArgumentError(loaded.Locate(compiled.status().message()));
  CompiledSpec out;
  out.name = loaded.pipeline().name();
  out.parameters = loaded.pipeline().ParameterNames();
  out.text = SubstituteLocal(asl::SerializeStateMachine(compiled->machine), loaded.pipeline());
  out.machine = std::move(compiled->local_machine ? *compiled->local_machine : compiled->machine);
  for (const std::string& w : compiled->warnings) out.warnings.push_back(loaded.Locate(w));
  return out;
}

}  // namespace zflow::cli
