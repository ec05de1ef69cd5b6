// zflow/asl_serializer.h: the typed model back to ASL JSON, in a canonical field order, so that
// parse → serialize → parse gives an equal model and formatting is stable for code review.
//
//   std::string text = zflow::asl::SerializeStateMachine(machine);   // pretty, 2-space indent
#ifndef ZFLOW_ASL_SERIALIZER_H_
#define ZFLOW_ASL_SERIALIZER_H_

#include <string>

#include "zflow/json.h"
#include "zflow/state_machine.h"

namespace zflow::asl {

enum class JsonStyle : std::uint8_t { kPretty, kCompact };

// The definition as a JSON value. Field order: Comment, QueryLanguage, StartAt, TimeoutSeconds,
// Version, States; within a state: Type, Comment, QueryLanguage, type fields, I/O fields,
// Retry, Catch, Next/End. States keep their document order.
json::value StateMachineToJson(const StateMachine& machine);
std::string SerializeStateMachine(const StateMachine& machine,
                                  JsonStyle style = JsonStyle::kPretty);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_SERIALIZER_H_
