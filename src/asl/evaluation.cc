#include "asl/evaluation.h"

#include <array>

namespace zflow::errors {

bool IsPredefinedError(std::string_view name) {
  static constexpr std::array<std::string_view, 17> kNames = {
      kAll,         kRuntime,           kTimeout,          kHeartbeatTimeout,
      kTaskFailed,  kPermissions,       kDataLimitExceeded, kResultPathMatchFailure,
      kParameterPathFailure, kBranchFailed, kNoChoiceMatched, kIntrinsicFailure,
      kExceedToleratedFailureThreshold, kItemReaderFailed, kResultWriterFailed,
      kQueryEvaluationError, kHttpSocket};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace zflow::errors
