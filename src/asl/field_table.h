// The description of every state field of ASL, in one table: its name, the state types and
// query languages that allow it, what it holds, where it lives in the model, and whether its
// value can read the context object ("$$"). The parser reads fields by it, the serializer
// writes them in its order, the validator and the engine ask it which fields read "$$".
// Adding a field: a row here (and, when its value needs checks of its own, a case in the
// parser's ReadSpecialField and the validator).
#ifndef ZFLOW_ASL_FIELD_TABLE_H_
#define ZFLOW_ASL_FIELD_TABLE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "zflow/state_machine.h"

namespace zflow::asl {

enum class FieldLanguage : std::uint8_t { kBoth, kJsonPathOnly, kJsonataOnly };

// What a field holds. It decides how the field is read and written, and whether it can read
// the context object.
enum class FieldShape : std::uint8_t {
  kStructure,      // read and written by dedicated code: Type, Next, Retry, Choices, Branches...
  kText,           // a string kept as written (Comment, Label)
  kReferencePath,  // a string holding a path over the input or "$$" (the ...Path fields)
  kPathOrIntrinsic,  // like kReferencePath, or an intrinsic function (ErrorPath, CausePath)
  kIoPath,         // InputPath, OutputPath, ResultPath: a path, or null
  kTemplate,       // a payload template: "key.$" members hold paths (also "$$") or intrinsics
  kConfig,         // an object of settings with a template inside (ItemReader, ItemBatcher, ...)
  kCount,          // an integer (at least FieldSpec::min), or a JSONata expression
  kJson,           // JSON kept as written; in JSONPath mode it reads nothing
};

// Where a field's value lives in a State (one member set, by shape).
struct FieldSlot {
  FieldSlot(Boxed<std::string>& t) : text(&t) {}  // NOLINT(google-explicit-constructor)
  FieldSlot(Boxed<json::value>& j) : json(&j) {}  // NOLINT(google-explicit-constructor)
  FieldSlot(PathField& p) : path(&p) {}           // NOLINT(google-explicit-constructor)
  Boxed<std::string>* text = nullptr;
  Boxed<json::value>* json = nullptr;
  PathField* path = nullptr;
};
struct ConstFieldSlot {
  ConstFieldSlot(const Boxed<std::string>& t) : text(&t) {}  // NOLINT(google-explicit-constructor)
  ConstFieldSlot(const Boxed<json::value>& j) : json(&j) {}  // NOLINT(google-explicit-constructor)
  ConstFieldSlot(const PathField& p) : path(&p) {}           // NOLINT(google-explicit-constructor)
  const Boxed<std::string>* text = nullptr;
  const Boxed<json::value>* json = nullptr;
  const PathField* path = nullptr;
};

struct FieldSpec {
  std::string_view name;
  std::uint8_t types;  // bit (1 << StateType)
  FieldLanguage language;
  FieldShape shape;
  std::int8_t min = 0;  // kCount: the smallest integer allowed
  // Null for kStructure fields. `slot` creates the state type's fields when needed (parsing);
  // `const_slot` reads (empty fields for a state of another type).
  FieldSlot (*slot)(State&) = nullptr;
  ConstFieldSlot (*const_slot)(const State&) = nullptr;

  bool AllowedOn(StateType t) const { return (types >> static_cast<int>(t)) & 1U; }
  bool AllowedIn(QueryLanguage q) const {
    return language == FieldLanguage::kBoth ||
           (language == FieldLanguage::kJsonPathOnly) == (q == QueryLanguage::kJsonPath);
  }
};

// Every state field, in the order the serializer writes them.
std::span<const FieldSpec> StateFields();
// The spec of a state-level field, or null when ASL has no such state field.
const FieldSpec* FindStateField(std::string_view name);
// Every field allowed on `type` in `language` (for suggestions).
std::vector<std::string_view> AllowedFieldNames(StateType type, QueryLanguage language);

// True when some field of `s` (a JSONPath-mode state) can read the context object "$$": a path
// or template field that mentions it, a Choice rule's variable or path operand, a catcher's
// or rule's Assign. Conservative: a "$$" anywhere in such a value counts.
bool ReadsContext(const State& s);
// True when some string in `v` mentions "$$".
bool MentionsContext(const json::value& v);

// RFC 3339 as AWS accepts it in Timestamp fields and Timestamp* comparisons
// (e.g. "2026-01-31T09:00:00Z", "2026-01-31T09:00:00.123+01:00"; uppercase T and Z).
bool IsRfc3339Timestamp(std::string_view s);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_FIELD_TABLE_H_
