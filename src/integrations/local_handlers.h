// Task handlers that need no AWS service: echo, local commands, and AWS Step Functions Local
// mock configurations.
#ifndef ZFLOW_INTEGRATIONS_LOCAL_HANDLERS_H_
#define ZFLOW_INTEGRATIONS_LOCAL_HANDLERS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zflow/json.h"
#include "zflow/runtime.h"
#include "zflow/status.h"

namespace zflow::integrations {

// The resource a definition can name to get an echo task.
inline constexpr std::string_view kEchoResource = "arn:aws:states:::zflow:echo";

// Returns the task's effective input as its result (for testing control and data flow).
std::shared_ptr<runtime::TaskHandler> MakeEchoHandler();

// Runs `argv` (no shell) with the task's effective input as JSON on stdin; the result is the JSON
// on stdout. A non-zero exit fails the task: when stdout or stderr holds a Lambda-style
// {"errorType", "errorMessage"} object, those are the error and cause (as Lambda reports them);
// otherwise the error is States.TaskFailed and the cause the process's stderr. Output that is
// not JSON also fails with States.TaskFailed.
std::shared_ptr<runtime::TaskHandler> MakeCommandHandler(std::vector<std::string> argv);

// Answers Task states from an AWS Step Functions Local mock configuration:
//   {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
//    "MockedResponses": {"<response>": {"0": {"Return": ...}, "1-2": {"Throw": {"Error",
//    "Cause"}}}}}
// Attempt keys count the state's invocations in the execution from 0 (retries included); past
// the last key the last response repeats. States the test case does not mock go to `fallback`
// (may be null: then they fail with States.Runtime).
class MockHandler final : public runtime::TaskHandler {
 public:
  // kInvalidArgument with what is wrong (unknown machine or test case, malformed responses).
  static Result<std::shared_ptr<MockHandler>> Create(const json::value& config,
                                                     std::string_view machine_name,
                                                     std::string_view test_case,
                                                     std::shared_ptr<runtime::TaskHandler> fallback);

  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override;
  bool inline_safe() const override { return fallback_ == nullptr || fallback_->inline_safe(); }

 private:
  struct Response {
    std::int64_t first = 0;
    std::int64_t last = 0;
    std::optional<json::value> value;  // Return
    std::string error, cause;          // Throw
  };
  std::map<std::string, std::vector<Response>, std::less<>> by_state_;
  std::shared_ptr<runtime::TaskHandler> fallback_;
  std::mutex mu_;
  std::map<std::string, std::int64_t> invocations_;  // execution id + state -> count; guarded
};

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_LOCAL_HANDLERS_H_
