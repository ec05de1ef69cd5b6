// Reading and checking a definition file, shared by the subcommands.
#ifndef ZFLOW_CLI_DEFINITION_FILE_H_
#define ZFLOW_CLI_DEFINITION_FILE_H_

#include <memory>
#include <string>
#include <vector>

#include "zflow/validator.h"

namespace zflow::cli {

struct DefinitionCheck {
  std::string read_error;  // non-empty when the file could not be read
  asl::ValidationReport report;
  std::string text;
};

// What validate and run check beyond the definition itself.
struct DefinitionRules {
  std::string type = "STANDARD";  // --type STANDARD|EXPRESS
  // --substitutions: "KEY=VALUE,KEY=VALUE" or a JSON file of {"KEY": "VALUE"}, applied to the
  // text first as CloudFormation's DefinitionSubstitutions are.
  std::string substitutions;
  bool strict = false;  // --strict: unresolved ${...} placeholders are errors
};

// Reads `file` (at most 1 MiB is read; larger files are reported as E_DEFINITION_TOO_LARGE
// without loading them) and validates it. Bad rules (an unreadable substitutions file, an
// unknown type) are a read_error.
DefinitionCheck CheckDefinitionFile(const std::string& file, const DefinitionRules& rules = {});
// The same for a definition in memory.
DefinitionCheck CheckDefinitionText(std::string text, const DefinitionRules& rules = {});

// "file:line:column: CODE: message" (line/column omitted when unknown).
std::string FormatDiagnostic(const std::string& file, const Diagnostic& d);

// Keeps `value` alive until the process ends, never freed: for commands of the zflow command,
// whose process ends when they return, freeing a large machine is a tenth of the command's
// time. Reachable from a global, so leak checkers agree.
template <typename T>
void KeepUntilExit(T&& value) {
  static auto* kept = new std::vector<std::shared_ptr<const void>>();
  kept->push_back(std::make_shared<std::decay_t<T>>(std::forward<T>(value)));
}

// Number of states including those in Parallel branches and Map processors.
std::size_t CountStates(const asl::Branch& branch);

}  // namespace zflow::cli

#endif  // ZFLOW_CLI_DEFINITION_FILE_H_
