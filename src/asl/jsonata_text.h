// Pieces of JSONata text for the JSONPath-to-JSONata conversion (jsonata_conversion.cc), shared
// with the paths and intrinsic calls that write themselves as JSONata.
#ifndef ZFLOW_ASL_JSONATA_TEXT_H_
#define ZFLOW_ASL_JSONATA_TEXT_H_

#include <string>
#include <string_view>

#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::asl {

// A JSON value as JSONata text (JSON literals are JSONata literals).
std::string JsonataLiteral(const json::value& v);
// A field name as a JSONata path step: the name itself when it reads as one, else in backquotes.
// Fails for a name holding a backquote, which JSONata cannot quote.
Result<std::string> JsonataName(std::string_view name);

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_JSONATA_TEXT_H_
