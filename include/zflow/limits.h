// zflow/limits.h: the AWS Step Functions quotas zflow enforces, each spelled once.
#ifndef ZFLOW_LIMITS_H_
#define ZFLOW_LIMITS_H_

#include <cstddef>

namespace zflow {

// A state machine definition (CreateStateMachine's "definition"): 1 MiB.
inline constexpr std::size_t kMaxDefinitionBytes = std::size_t{1} << 20;
// An execution's input, a state's input or output, a task's result: 256 KiB.
inline constexpr std::size_t kMaxPayloadBytes = 256 * 1024;
// The events of one standard execution's history.
inline constexpr std::size_t kMaxHistoryEvents = 25000;

}  // namespace zflow

#endif  // ZFLOW_LIMITS_H_
