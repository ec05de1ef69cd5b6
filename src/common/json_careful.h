// The careful JSON parser on its own, without the fast path that ParseJsonOrError tries first.
// Internal: tests and the JSON fuzzer check that both give the same documents.
#ifndef ZFLOW_COMMON_JSON_CAREFUL_H_
#define ZFLOW_COMMON_JSON_CAREFUL_H_

#include <string_view>

#include "zflow/json.h"

namespace zflow {

JsonParseOutcome ParseJsonCarefully(std::string_view text, const JsonParseOptions& options = {});

}  // namespace zflow

#endif  // ZFLOW_COMMON_JSON_CAREFUL_H_
