// zflow/validator.h: the checks AWS Step Functions applies when a state machine is created
// (CreateStateMachine / ValidateStateMachineDefinition), with located diagnostics.
//
//   zflow::asl::ValidationReport r = zflow::asl::ValidateDefinition(text);
//   if (!r.ok()) for (const zflow::Diagnostic& d : r.diagnostics) Print(d);
//   else Run(*r.machine);
//
// Rules: StartAt and every Next/Default/Catch target exist in their scope; every state is
// reachable; each scope has a terminal state; state names are unique machine-wide and at most
// 80 characters; Next/End exactly one; fields allowed per state type and query language;
// States.ALL alone and last; known States.* error names; reference paths where only reference
// paths are allowed; JSONPath, intrinsic-function and Choice-rule syntax; RFC 3339 timestamps;
// Map modes; AWS quotas (definition size, numeric limits, label length).
#ifndef ZFLOW_VALIDATOR_H_
#define ZFLOW_VALIDATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <optional>
#include <string_view>
#include <vector>

#include "zflow/asl_parser.h"
#include "zflow/diagnostic.h"
#include "zflow/limits.h"
#include "zflow/state_machine.h"

namespace zflow::asl {

// AWS quotas the validator enforces.
inline constexpr std::size_t kMaxStateNameLength = 80;
using zflow::kMaxDefinitionBytes;
inline constexpr std::int64_t kMaxIntegerField = 99999999;  // seconds/attempts fields
inline constexpr std::int64_t kMaxDelaySecondsLimit = 31622400;
inline constexpr std::size_t kMaxMapLabelLength = 40;
inline constexpr int kMaxIntrinsicCallsPerField = 10;

// Semantic checks of a parsed model. Diagnostics carry line:column when the machine has a
// source map. Thread-safe; does not modify the machine.
std::vector<Diagnostic> ValidateStateMachine(const StateMachine& machine);

class JsonPathCache;  // internal: the paths the checks compiled, for the engine to reuse

// The same, compiling each distinct path once into `paths` (internal; may be null).
std::vector<Diagnostic> ValidateStateMachine(const StateMachine& machine, JsonPathCache* paths);

struct ValidationReport {
  std::optional<StateMachine> machine;  // set when the text parsed to a model
  std::vector<Diagnostic> diagnostics;
  // The paths the checks compiled; runtime::Prepare takes them instead of compiling again.
  std::shared_ptr<JsonPathCache> compiled_paths;
  bool ok() const { return machine.has_value() && !HasErrors(diagnostics); }
};

// Parse + structural checks + semantic checks: what `zflow validate` runs. Semantic checks run
// only when the structure is sound, so one mistake does not cascade into many diagnostics.
ValidationReport ValidateDefinition(std::string_view text, const ParseOptions& options = {});

// The workflow type a state machine is created as. Express workflows refuse .sync and
// .waitForTaskToken integrations and activities (AWS checks this at CreateStateMachine).
enum class WorkflowType : std::uint8_t { kStandard, kExpress };
// Errors for what `type` does not allow (none for kStandard), with pointers and locations.
std::vector<Diagnostic> CheckWorkflowType(const StateMachine& machine, WorkflowType type);

// The definition text with every "${Name}" replaced by values[Name], as CloudFormation applies
// a stack's DefinitionSubstitutions (values are inserted as they are, inside the JSON text).
// Placeholders without a value stay. Errors (kInvalidArgument): a key that is not a name.
Result<std::string> ApplyDefinitionSubstitutions(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace zflow::asl

#endif  // ZFLOW_VALIDATOR_H_
