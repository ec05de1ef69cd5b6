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
  // Everything goes to a staging directory first; only when all of it is written are the files
  // moved into place, so a full disk leaves the old outputs as they were.
  std::string staging = (fs::path(dir) / ".zflow-compile-XXXXXX").string();
  if (::mkdtemp(staging.data()) == nullptr) {
    std::cerr << fmt::format("cannot write to {}: {}\n", dir, std::strerror(errno));
    return kExitUsage;
  }
  auto cleanup = [&] { fs::remove_all(staging, ec); };
  for (const auto& [name, contents] : out.files) {
    Status s = WriteFileAtomically((fs::path(staging) / name).string(), contents);
    if (!s.ok()) {
      std::cerr << s.message() << "\n";
      cleanup();
      return kExitUsage;
    }
  }
  for (const auto& [name, contents] : out.files) {
    fs::rename(fs::path(staging) / name, fs::path(dir) / name, ec);
    if (ec) {
      std::cerr << fmt::format("cannot move {} into {}: {}\n", name, dir, ec.message());
      cleanup();
      return kExitUsage;
    }
  }
  cleanup();
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

// The execution's data keeps every step's result (256 KiB quota, States.DataLimitExceeded):
// a rough estimate from the definition, and a warning for Map results that grow with the input.
void DataSizeWarnings(const json::value& definition, const std::string& who) {
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
    std::cerr << fmt::format(
        "{}: warning: the execution's data keeps {} step results (about {} KiB, assuming 2 KiB "
        "per Lambda result and 1 KiB per service result); AWS fails an execution whose data "
        "exceeds 256 KiB (States.DataLimitExceeded)\n",
        who, lambda + service, estimate / 1024);
  }
  for (const auto& m : maps) {
    std::cerr << fmt::format(
        "{}: warning: \"{}\" keeps one result per item in the execution's data; with many "
        "items it can exceed the 256 KiB quota\n",
        who, m);
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

int WriteCompiled(const Pipeline& pipeline, const Pipeline::Compiled& compiled,
                  const std::string& out_dir) {
  const asl::StateMachine& machine = compiled.machine;
  auto outputs = BuildOutputs(machine,
                              cloud::PipelineTemplate(pipeline, compiled.definition));
  if (!outputs.ok()) {
    std::cerr << pipeline.name() << ": " << outputs.status().message() << "\n";
    return kExitInvalid;
  }
  LimitWarnings(machine, outputs->files[0].second.size(), pipeline.name());
  DataSizeWarnings(compiled.definition, pipeline.name());
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
  // The model validated above; the JSON document for the template's Definition.
  const asl::StateMachine& machine = *check.report.machine;
  json::value definition = ParseJson(check.text, {.record_locations = false})->value;
  auto outputs = BuildOutputs(machine, cloud::BuildTemplate(definition, t));
  if (!outputs.ok()) {
    std::cerr << file << ": " << outputs.status().message() << "\n";
    return kExitInvalid;
  }
  LimitWarnings(machine, check.text.size(), file);
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
