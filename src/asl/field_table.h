// Which state fields exist in ASL, on which state types, and in which query language.
#ifndef ZFLOW_ASL_FIELD_TABLE_H_
#define ZFLOW_ASL_FIELD_TABLE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "zflow/state_machine.h"

namespace zflow::asl {

enum class FieldLanguage : std::uint8_t { kBoth, kJsonPathOnly, kJsonataOnly };

struct FieldSpec {
  std::string_view name;
  std::uint8_t types;  // bit (1 << StateType)
  FieldLanguage language;

  bool AllowedOn(StateType t) const { return (types >> static_cast<int>(t)) & 1U; }
  bool AllowedIn(QueryLanguage q) const {
    return language == FieldLanguage::kBoth ||
           (language == FieldLanguage::kJsonPathOnly) == (q == QueryLanguage::kJsonPath);
  }
};

// The spec of a state-level field, or null when ASL has no such state field.
const FieldSpec* FindStateField(std::string_view name);
// Every field allowed on `type` in `language` (for suggestions).
std::vector<std::string_view> AllowedFieldNames(StateType type, QueryLanguage language);

// RFC 3339 as AWS accepts it in Timestamp fields and Timestamp* comparisons
// (e.g. "2026-01-31T09:00:00Z", "2026-01-31T09:00:00.123+01:00"; uppercase T and Z).
bool IsRfc3339Timestamp(std::string_view s);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_FIELD_TABLE_H_
