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
      auto compiled = CompileSpec(file);
      auto report = [&](std::string_view text, bool error) {
        if (!options.json) {
          std::cout << text << "\n";
          return;
        }
        LocatedMessage m = SplitLocated(file, text);
        all.push_back(json::object{{"file", file},
                                   {"path", ""},
                                   {"line", m.line},
                                   {"column", m.column},
                                   {"code", error ? "E_PIPELINE" : "W_PIPELINE"},
                                   {"severity", error ? "error" : "warning"},
                                   {"message", m.message}});
      };
      if (!compiled.ok()) {
        any_invalid = true;
        report(compiled.status().message(), true);
        continue;
      }
      for (const std::string& w : compiled->warnings) {
        LocatedMessage m = SplitLocated(file, w);
        report(options.json ? w
                            : (m.line > 0 ? fmt::format("{}:{}:{}: warning: {}", file, m.line,
                                                        m.column, m.message)
                                          : fmt::format("{}: warning: {}", file, m.message)),
               false);
      }
      if (!options.json && !options.quiet) {
        std::cout << fmt::format("{}: ok (pipeline {})\n", file, compiled->name);
      }
      continue;
    }
    DefinitionCheck check = CheckDefinitionFile(file, options.rules);
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
    if (options.process_exits) KeepUntilExit(std::move(check));
  }
  if (options.json) std::cout << ToJsonText(all) << "\n";
  if (any_unreadable) return kExitUsage;
  return any_invalid ? kExitInvalid : kExitOk;
}

LocatedMessage SplitLocated(const std::string& file, std::string_view text) {
  LocatedMessage out{0, 0, std::string(text)};
  if (!text.starts_with(file) || text.size() <= file.size() || text[file.size()] != ':') {
    return out;
  }
  std::string_view rest = text.substr(file.size() + 1);
  auto number = [&rest](int& n) {
    std::size_t digits = 0;
    n = 0;
    while (digits < rest.size() && digits < 9 && rest[digits] >= '0' && rest[digits] <= '9') {
      n = n * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 0 || digits >= rest.size() || rest[digits] != ':') return false;
    rest.remove_prefix(digits + 1);
    return true;
  };
  int line = 0;
  int column = 0;
  if (!number(line)) {
    if (rest.starts_with(" ")) out.message = std::string(rest.substr(1));
    return out;
  }
  std::string_view after_line = rest;
  if (!number(column)) {
    column = 0;
    rest = after_line;
  }
  out.line = line;
  out.column = column;
  out.message = std::string(rest.starts_with(" ") ? rest.substr(1) : rest);
  return out;
}

}  // namespace zflow::cli
