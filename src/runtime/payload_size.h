// The size of a JSON value as compact UTF-8 text, computed without building the text: the
// measure AWS applies to payloads (256 KiB per state input/output and task result).
#ifndef ZFLOW_RUNTIME_PAYLOAD_SIZE_H_
#define ZFLOW_RUNTIME_PAYLOAD_SIZE_H_

#include <cstddef>

#include "zflow/json.h"

namespace zflow::runtime {

std::size_t PayloadSize(const json::value& v);

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_PAYLOAD_SIZE_H_
