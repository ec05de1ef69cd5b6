// zflow/errors.h: the error names AWS Step Functions defines ("States.*"), as Retry and Catch
// match them and as executions report them.
//
//   if (result.error == zflow::errors::kTaskFailed) ...
//   retrier.errors = {std::string(zflow::errors::kTimeout)};
#ifndef ZFLOW_ERRORS_H_
#define ZFLOW_ERRORS_H_

#include <string_view>

namespace zflow::errors {

inline constexpr std::string_view kAll = "States.ALL";
inline constexpr std::string_view kRuntime = "States.Runtime";
inline constexpr std::string_view kTimeout = "States.Timeout";
inline constexpr std::string_view kHeartbeatTimeout = "States.HeartbeatTimeout";
inline constexpr std::string_view kTaskFailed = "States.TaskFailed";
inline constexpr std::string_view kPermissions = "States.Permissions";
inline constexpr std::string_view kDataLimitExceeded = "States.DataLimitExceeded";
inline constexpr std::string_view kResultPathMatchFailure = "States.ResultPathMatchFailure";
inline constexpr std::string_view kParameterPathFailure = "States.ParameterPathFailure";
inline constexpr std::string_view kBranchFailed = "States.BranchFailed";
inline constexpr std::string_view kNoChoiceMatched = "States.NoChoiceMatched";
inline constexpr std::string_view kIntrinsicFailure = "States.IntrinsicFailure";
inline constexpr std::string_view kExceedToleratedFailureThreshold =
    "States.ExceedToleratedFailureThreshold";
inline constexpr std::string_view kItemReaderFailed = "States.ItemReaderFailed";
inline constexpr std::string_view kResultWriterFailed = "States.ResultWriterFailed";
inline constexpr std::string_view kQueryEvaluationError = "States.QueryEvaluationError";
inline constexpr std::string_view kHttpSocket = "States.Http.Socket";

// True for a name above (the validator rejects other "States.*" names in ErrorEquals).
bool IsPredefinedError(std::string_view name);

}  // namespace zflow::errors

#endif  // ZFLOW_ERRORS_H_
