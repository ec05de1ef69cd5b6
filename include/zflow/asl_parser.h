// zflow/asl_parser.h: JSON text → the typed ASL model, with located diagnostics.
//
//   zflow::asl::ParseReport r = zflow::asl::ParseStateMachineText(text);
//   if (zflow::HasErrors(r.diagnostics)) { ... print r.diagnostics ... }
//
// The parser reports structural problems (not JSON, wrong types, unknown, misplaced or missing
// fields, bad enum values); ValidateStateMachine (zflow/validator.h) adds the semantic rules.
// ValidateDefinition there runs both and is what most callers want.
#ifndef ZFLOW_ASL_PARSER_H_
#define ZFLOW_ASL_PARSER_H_

#include <optional>
#include <string_view>
#include <vector>

#include "zflow/diagnostic.h"
#include "zflow/state_machine.h"
#include "zflow/status.h"

namespace zflow::asl {

struct ParseReport {
  // Set unless the text is not JSON (or not an object). Partially filled when there are
  // structural errors: a field with a wrong type is left at its default.
  std::optional<StateMachine> machine;
  std::vector<Diagnostic> diagnostics;  // each with pointer and line:column
};

struct ParseOptions {
  // Larger definitions are refused before parsing (AWS: 1,048,576 bytes).
  std::size_t max_definition_bytes = std::size_t{1} << 20;
  std::size_t max_depth = 512;
  // CloudFormation placeholders ("${CheckPriceFnArn}", replaced from the stack's
  // DefinitionSubstitutions when it deploys) left in ARN fields: warnings by default (AWS never
  // sees them), errors when set.
  bool strict_placeholders = false;
};

// Never fails outright: every problem is a diagnostic. Thread-safe (no shared state).
ParseReport ParseStateMachineText(std::string_view text, const ParseOptions& options = {});

// Builds the model from an already-parsed JSON value (no line:column in diagnostics unless
// `locations` is given; it is copied into the machine).
ParseReport ParseStateMachineValue(const json::value& definition,
                                   const SourceMap* locations = nullptr);

// Convenience: the model, or kInvalidArgument naming the first structural error.
Result<StateMachine> ParseStateMachine(std::string_view text);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_PARSER_H_
