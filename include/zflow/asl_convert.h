// zflow/asl_convert.h: JSONPath-mode definitions rewritten as JSONata-mode ones.
//
//   Result<json::value> jsonata = zflow::asl::ConvertToJsonata(definition);
//
// Every JSONPath state becomes a JSONata state that computes the same data: Parameters become
// Arguments (or a Map's ItemSelector); InputPath, ResultSelector, ResultPath and OutputPath fold
// into one Output expression; *Path fields become expressions in the field without "Path";
// Choice rules become Conditions; intrinsic functions become JSONata functions ($merge, $string,
// $parse, $partition, $range, $hash, $uuid, ...). The definition gains "QueryLanguage":
// "JSONata"; states that were JSONata already are kept as they are.
//
// Where JSONata cannot say the same thing, conversion fails and the error names the state and
// the field: unions of names and slices from the end in paths, States.Format with a format
// string read at run time, ResultPath with an index. The known differences on data the
// JSONPath definition would also accept are listed in docs/jsonata.md (an array inside
// States.Array nested in another call is spliced; States.Format writes objects as JSON).
#ifndef ZFLOW_ASL_CONVERT_H_
#define ZFLOW_ASL_CONVERT_H_

#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::asl {

// The definition must be a JSON object; it is not validated first (validate the result).
Result<json::value> ConvertToJsonata(const json::value& definition);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_CONVERT_H_
