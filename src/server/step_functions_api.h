// The AWS Step Functions JSON API (awsJson1_0: POST /, X-Amz-Target: AWSStepFunctions.<Action>)
// over the store and the execution service, independent of the HTTP server that carries it:
// Handle(action, body) returns the HTTP status and the JSON body AWS would send, errors in
// AWS's shape ({"__type": "...#ExecutionDoesNotExist", "message": "..."}).
#ifndef ZFLOW_SERVER_STEP_FUNCTIONS_API_H_
#define ZFLOW_SERVER_STEP_FUNCTIONS_API_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/execution_service.h"
#include "store/store.h"
#include "zflow/json.h"

namespace zflow::server {

struct ApiError {
  std::string type;  // ValidationException, StateMachineDoesNotExist, ...
  std::string message;
  int http_status = 400;
};

struct ApiResponse {
  int http_status = 200;
  std::string body;  // JSON text
  std::string error_type;  // set for errors (for logs and metrics)
};

// The JSON body of an AWS error.
ApiResponse ErrorResponse(const ApiError& error);

// A handler's answer: a JSON object, or an AWS error.
class Answer {
 public:
  Answer(json::object body) : body_(std::move(body)) {}  // NOLINT: implicit on purpose
  Answer(ApiError error) : error_(std::move(error)) {}   // NOLINT
  bool ok() const { return !error_.has_value(); }
  json::object& body() { return body_; }
  const ApiError& error() const { return *error_; }

 private:
  json::object body_;
  std::optional<ApiError> error_;
};

struct ApiOptions {
  std::string region = "us-east-1";
  std::string account = "123456789012";
};

class StepFunctionsApi {
 public:
  StepFunctionsApi(ApiOptions options, store::Store& store, ExecutionService& executions);

  // Thread-safe. `action` is what follows "AWSStepFunctions." in X-Amz-Target.
  ApiResponse Handle(std::string_view action, std::string_view body);

  // The actions this API answers, in alphabetical order.
  static const std::vector<std::string_view>& Actions();

  // ---- the actions (public for in-process callers: the CLI, the scheduler, tests) ----
  Answer CreateStateMachine(const json::object& in);
  Answer DescribeStateMachine(const json::object& in);
  Answer UpdateStateMachine(const json::object& in);
  Answer DeleteStateMachine(const json::object& in);
  Answer ListStateMachines(const json::object& in);
  Answer PublishStateMachineVersion(const json::object& in);
  Answer ListStateMachineVersions(const json::object& in);
  Answer DeleteStateMachineVersion(const json::object& in);
  Answer CreateStateMachineAlias(const json::object& in);
  Answer DescribeStateMachineAlias(const json::object& in);
  Answer UpdateStateMachineAlias(const json::object& in);
  Answer DeleteStateMachineAlias(const json::object& in);
  Answer ListStateMachineAliases(const json::object& in);
  Answer ValidateStateMachineDefinition(const json::object& in);
  Answer TagResource(const json::object& in);
  Answer UntagResource(const json::object& in);
  Answer ListTagsForResource(const json::object& in);

  Answer StartExecution(const json::object& in);
  Answer StartSyncExecution(const json::object& in);
  Answer StopExecution(const json::object& in);
  Answer DescribeExecution(const json::object& in);
  // `window` (a zflow extension for the web UI, not in the AWS API): only executions started
  // in [started_after_ms, started_before_ms); 0 leaves a side open.
  struct StartWindow {
    std::int64_t started_after_ms = 0;
    std::int64_t started_before_ms = 0;
  };
  Answer ListExecutions(const json::object& in) { return ListExecutions(in, StartWindow{}); }
  Answer ListExecutions(const json::object& in, const StartWindow& window);
  Answer GetExecutionHistory(const json::object& in);
  Answer RedriveExecution(const json::object& in);
  Answer DescribeStateMachineForExecution(const json::object& in);
  Answer SendTaskSuccess(const json::object& in);
  Answer SendTaskFailure(const json::object& in);
  Answer SendTaskHeartbeat(const json::object& in);
  Answer CreateActivity(const json::object& in);
  Answer DescribeActivity(const json::object& in);
  Answer DeleteActivity(const json::object& in);
  Answer ListActivities(const json::object& in);
  Answer GetActivityTask(const json::object& in);
  Answer TestState(const json::object& in);

  // A zflow extension: what the execution's tasks printed.
  ApiResponse TaskLogs(std::string_view execution_arn);

  // The ARN of the state machine `name` in this API's region and account.
  std::string MachineArn(std::string_view name) const;

 private:
  std::int64_t NowMs() const;

  ApiOptions options_;
  store::Store& store_;
  ExecutionService& executions_;
};

}  // namespace zflow::server

#endif  // ZFLOW_SERVER_STEP_FUNCTIONS_API_H_
