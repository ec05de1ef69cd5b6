// Reading and checking a definition file, shared by the subcommands.
#ifndef ZFLOW_CLI_DEFINITION_FILE_H_
#define ZFLOW_CLI_DEFINITION_FILE_H_

#include <string>

#include "zflow/validator.h"

namespace zflow::cli {

struct DefinitionCheck {
  std::string read_error;  // non-empty when the file could not be read
  asl::ValidationReport report;
  std::string text;
};

// Reads `file` (at most 1 MiB is read; larger files are reported as E_DEFINITION_TOO_LARGE
// without loading them) and validates it.
DefinitionCheck CheckDefinitionFile(const std::string& file);
// The same for a definition in memory.
DefinitionCheck CheckDefinitionText(std::string text);

// "file:line:column: CODE: message" (line/column omitted when unknown).
std::string FormatDiagnostic(const std::string& file, const Diagnostic& d);

// Number of states including those in Parallel branches and Map processors.
std::size_t CountStates(const asl::Branch& branch);

}  // namespace zflow::cli

#endif  // ZFLOW_CLI_DEFINITION_FILE_H_
