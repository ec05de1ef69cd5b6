#include "cli/definition_file.h"

#include <fmt/format.h>

#include "common/file.h"

namespace zflow::cli {

DefinitionCheck CheckDefinitionFile(const std::string& file) {
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
  out.report = asl::ValidateDefinition(contents->data);
  out.text = std::move(contents->data);
  return out;
}

DefinitionCheck CheckDefinitionText(std::string text) {
  DefinitionCheck out;
  out.report = asl::ValidateDefinition(text);
  out.text = std::move(text);
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
