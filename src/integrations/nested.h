// Nested executions run locally: arn:aws:states:::states:startExecution (returns at once, the
// child runs in the background), .sync (waits; Input and Output as JSON text) and .sync:2
// (waits; as JSON). The StateMachineArn's name selects a local definition file (the profile's
// state_machines); the child runs on its own engine with the same task handlers.
#ifndef ZFLOW_INTEGRATIONS_NESTED_H_
#define ZFLOW_INTEGRATIONS_NESTED_H_

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "zflow/runtime.h"

namespace zflow::integrations {

class NestedExecutionHandler final : public runtime::TaskHandler {
 public:
  // `machines`: state machine name -> definition file. `registry` serves the children's tasks
  // (it may be set later; it must outlive the handler's executions).
  explicit NestedExecutionHandler(std::map<std::string, std::string> machines,
                                  bool virtual_time = false)
      : machines_(std::move(machines)), virtual_time_(virtual_time) {}
  ~NestedExecutionHandler() override;
  void set_registry(runtime::IntegrationRegistry* registry) { registry_ = registry; }
  // Waits for the children started without .sync (call before the registry goes away).
  void Wait();
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override;

 private:
  std::map<std::string, std::string> machines_;
  bool virtual_time_;
  runtime::IntegrationRegistry* registry_ = nullptr;
  std::mutex mu_;
  std::set<std::string> names_;        // execution names in use, per state machine; guarded
  std::vector<std::thread> background_;  // request/response children; guarded
};

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_NESTED_H_
