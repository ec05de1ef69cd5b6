#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "zflow/json.h"
#include "zflow/validator.h"

namespace zflow::cli {

int RunValidate(const ValidateOptions& options) {
  bool any_invalid = false;
  bool any_unreadable = false;
  json::array all;
  for (const std::string& file : options.files) {
    if (IsPipelineSpec(file)) {
      // A pipeline file: loads and compiles, or one located error.
      auto compiled = CompileSpecToFile(file);
      if (!compiled.ok()) {
        any_invalid = true;
        if (options.json) {
          all.push_back(json::object{{"file", file}, {"severity", "error"},
                                     {"code", "E_PIPELINE"},
                                     {"message", compiled.status().message()}});
        } else {
          std::cout << compiled.status().message() << "\n";
        }
      } else if (!options.json && !options.quiet) {
        std::cout << fmt::format("{}: ok (pipeline {})\n", file, compiled->name);
      }
      continue;
    }
    DefinitionCheck check = CheckDefinitionFile(file);
    if (!check.read_error.empty()) {
      std::cerr << "zflow validate: " << check.read_error << "\n";
      any_unreadable = true;
      continue;
    }
    const std::vector<Diagnostic>& diagnostics = check.report.diagnostics;
    if (HasErrors(diagnostics)) any_invalid = true;
    for (const Diagnostic& d : diagnostics) {
      if (options.json) {
        all.push_back(json::object{{"file", file},
                                   {"path", d.pointer},
                                   {"line", d.location.line},
                                   {"column", d.location.column},
                                   {"code", d.code},
                                   {"severity", d.severity == Severity::kError ? "error"
                                                                               : "warning"},
                                   {"message", d.message}});
      } else {
        std::cout << FormatDiagnostic(file, d) << "\n";
      }
    }
    if (!options.json && !options.quiet && !HasErrors(diagnostics)) {
      std::cout << fmt::format("{}: ok ({} states)\n", file,
                               CountStates(check.report.machine->top()));
    }
  }
  if (options.json) std::cout << ToJsonText(all) << "\n";
  if (any_unreadable) return kExitUsage;
  return any_invalid ? kExitInvalid : kExitOk;
}

}  // namespace zflow::cli
