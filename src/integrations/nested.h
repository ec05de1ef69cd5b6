// Nested executions run locally: arn:aws:states:::states:startExecution (returns at once, the
// child runs in the background), .sync (waits; Input and Output as JSON text) and .sync:2
// (waits; as JSON). The StateMachineArn's name selects a local definition file (the profile's
// state_machines); the child runs on the executor that runs its parent (same handlers, same
// clock), without a thread of its own.
#ifndef ZFLOW_INTEGRATIONS_NESTED_H_
#define ZFLOW_INTEGRATIONS_NESTED_H_

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "zflow/runtime.h"

namespace zflow::integrations {

class NestedExecutionHandler final : public runtime::TaskHandler {
 public:
  // `machines`: state machine name -> definition file.
  explicit NestedExecutionHandler(std::map<std::string, std::string> machines)
      : machines_(std::move(machines)) {}
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override;

 private:
  std::map<std::string, std::string> machines_;
  std::mutex mu_;
  std::set<std::string> names_;  // execution names in use, per state machine; guarded by mu_
};

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_NESTED_H_
