// zflow/diagnostic.h: a problem found in a definition, with a code, a message that says what to
// do, and where it is (JSON pointer and line:column).
//
//   for (const zflow::Diagnostic& d : report.diagnostics)
//     std::cerr << file << ":" << d.location.line << ":" << d.location.column << ": "
//               << d.code << ": " << d.message << "\n";
#ifndef ZFLOW_DIAGNOSTIC_H_
#define ZFLOW_DIAGNOSTIC_H_

#include <string>
#include <string_view>
#include <vector>

#include "zflow/json.h"

namespace zflow {

enum class Severity : std::uint8_t { kError, kWarning };

// Diagnostic codes. Stable strings: tools and tests match on them.
namespace diag {
inline constexpr std::string_view kJsonSyntax = "E_JSON_SYNTAX";  // not JSON (incl. bad UTF-8,
                                                                  // duplicate member, too deep)
inline constexpr std::string_view kDefinitionTooLarge = "E_DEFINITION_TOO_LARGE";  // > 1 MiB
inline constexpr std::string_view kType = "E_TYPE";                  // wrong JSON type for a field
inline constexpr std::string_view kMissingField = "E_MISSING_FIELD";  // a required field is absent
inline constexpr std::string_view kUnknownField = "E_UNKNOWN_FIELD";  // no such field in ASL here
inline constexpr std::string_view kFieldNotAllowed =
    "E_FIELD_NOT_ALLOWED";  // an ASL field not allowed on this state type / query language
inline constexpr std::string_view kInvalidValue = "E_INVALID_VALUE";  // bad enum value or range
inline constexpr std::string_view kUnknownState = "E_UNKNOWN_STATE";  // a transition target
inline constexpr std::string_view kUnreachableState = "E_UNREACHABLE_STATE";
inline constexpr std::string_view kNoTerminalState = "E_NO_TERMINAL_STATE";
inline constexpr std::string_view kDuplicateStateName = "E_DUPLICATE_STATE_NAME";
inline constexpr std::string_view kTransition = "E_TRANSITION";  // Next/End missing or both
inline constexpr std::string_view kStatesAllPosition = "E_STATES_ALL_POSITION";
inline constexpr std::string_view kInvalidErrorName = "E_INVALID_ERROR_NAME";
inline constexpr std::string_view kInvalidReferencePath = "E_INVALID_REFERENCE_PATH";
inline constexpr std::string_view kInvalidJsonPath = "E_INVALID_JSONPATH";
inline constexpr std::string_view kInvalidIntrinsic = "E_INVALID_INTRINSIC";
inline constexpr std::string_view kInvalidChoiceRule = "E_INVALID_CHOICE_RULE";
inline constexpr std::string_view kStateNameTooLong = "E_STATE_NAME_TOO_LONG";
inline constexpr std::string_view kInvalidTimestamp = "E_INVALID_TIMESTAMP";
inline constexpr std::string_view kInvalidJsonata = "E_INVALID_JSONATA";
inline constexpr std::string_view kQuota = "E_QUOTA";  // an AWS quota is exceeded
}  // namespace diag

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;     // one of diag::k*
  std::string message;  // what is wrong and what to do
  std::string pointer;  // RFC 6901 JSON pointer into the definition ("" = the whole document)
  SourceLocation location;

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

// True when any diagnostic is an error.
bool HasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace zflow

#endif  // ZFLOW_DIAGNOSTIC_H_
