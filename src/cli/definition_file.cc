#include "cli/definition_file.h"

#include <fmt/format.h>

#include "common/file.h"

namespace zflow::cli {

namespace {

// "A=1,B=2", or a JSON file {"A": "1", "B": "2"}.
Result<std::vector<std::pair<std::string, std::string>>> ReadSubstitutions(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  if (spec.empty()) return out;
  if (spec.find('=') == std::string::npos) {
    auto contents = ReadFileCapped(spec, asl::kMaxDefinitionBytes);
    if (!contents.ok()) return contents.status();
    auto doc = ParseJson(contents->data);
    if (!doc.ok() || !doc->value.is_object()) {
      return InvalidArgumentError(fmt::format(
          "--substitutions {}: expected KEY=VALUE,... or a JSON file holding an object", spec));
    }
    for (const auto& kv : doc->value.get_object()) {
      out.emplace_back(std::string(kv.key()),
                       kv.value().is_string() ? std::string(kv.value().get_string())
                                              : ToJsonText(kv.value()));
    }
    return out;
  }
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError(
          fmt::format("--substitutions: \"{}\" is not KEY=VALUE", item));
    }
    out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

void Check(DefinitionCheck& out, std::string text, const DefinitionRules& rules) {
  if (rules.type != "STANDARD" && rules.type != "EXPRESS") {
    out.read_error = fmt::format("--type {}: use STANDARD or EXPRESS", rules.type);
    return;
  }
  auto values = ReadSubstitutions(rules.substitutions);
  if (!values.ok()) {
    out.read_error = values.status().message();
    return;
  }
  if (!values->empty()) {
    auto substituted = asl::ApplyDefinitionSubstitutions(text, *values);
    if (!substituted.ok()) {
      out.read_error = substituted.status().message();
      return;
    }
    text = std::move(*substituted);
  }
  out.report = asl::ValidateDefinition(text, {.strict_placeholders = rules.strict});
  if (rules.type == "EXPRESS" && out.report.machine) {
    for (Diagnostic& d : asl::CheckWorkflowType(*out.report.machine, asl::WorkflowType::kExpress)) {
      out.report.diagnostics.push_back(std::move(d));
    }
  }
  out.text = std::move(text);
}

}  // namespace

DefinitionCheck CheckDefinitionFile(const std::string& file, const DefinitionRules& rules) {
  DefinitionCheck out;
  auto contents = ReadFileCapped(file, asl::kMaxDefinitionBytes);
  if (!contents.ok()) {
    out.read_error = contents.status().message();
    return out;
  }
  if (contents->truncated) {
    out.report.diagnostics.push_back(Diagnostic{
        Severity::kError, std::string(diag::kDefinitionTooLarge),
        fmt::format("the definition is {} bytes; AWS Step Functions accepts at most {} bytes. "
                    "Split it into nested state machines or move data out of it",
                    contents->size, asl::kMaxDefinitionBytes),
        "", SourceLocation{1, 1}});
    return out;
  }
  Check(out, std::move(contents->data), rules);
  return out;
}

DefinitionCheck CheckDefinitionText(std::string text, const DefinitionRules& rules) {
  DefinitionCheck out;
  Check(out, std::move(text), rules);
  return out;
}

std::string FormatDiagnostic(const std::string& file, const Diagnostic& d) {
  std::string where = d.location.known()
                          ? fmt::format("{}:{}:{}", file, d.location.line, d.location.column)
                          : file;
  return fmt::format("{}: {}{}: {}", where, d.severity == Severity::kWarning ? "warning: " : "",
                     d.code, d.message);
}

std::size_t CountStates(const asl::Branch& branch) {
  std::size_t n = 0;
  for (const asl::State& s : branch.states) {
    ++n;
    for (const asl::Branch& b : s.parallel().branches) n += CountStates(b);
    if (s.map().item_processor) n += CountStates(*s.map().item_processor);
  }
  return n;
}

}  // namespace zflow::cli
