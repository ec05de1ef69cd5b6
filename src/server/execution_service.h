// The server's side of running executions: one Executor (one loop thread) whose executions
// write their events to the store's group-commit sink, prepared machines cached by definition,
// activity task queues, and recovery of every execution the store says is running.
#ifndef ZFLOW_SERVER_EXECUTION_SERVICE_H_
#define ZFLOW_SERVER_EXECUTION_SERVICE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "store/store.h"
#include "zflow/executor.h"
#include "zflow/local_services.h"
#include "zflow/runtime.h"

namespace zflow::server {

struct ExecutionServiceOptions {
  std::string region = "us-east-1";
  std::string account = "123456789012";
  bool virtual_time = false;
  Clock* clock = nullptr;  // null: the system clock
  int worker_threads = 8;
};

// A task an activity worker picks up with GetActivityTask.
struct ActivityTask {
  std::string token;
  std::string input;  // JSON text
};

class ExecutionService {
 public:
  // `services` and `store` must outlive the service.
  ExecutionService(ExecutionServiceOptions options, store::Store& store, LocalServices& services);
  ~ExecutionService();  // stops the loop; running executions stay in the store, to resume
  ExecutionService(const ExecutionService&) = delete;
  ExecutionService& operator=(const ExecutionService&) = delete;

  // The machine for a definition, validated and compiled once (kInvalidArgument with the
  // first diagnostic).
  Result<std::shared_ptr<const runtime::PreparedMachine>> Machine(const std::string& definition);

  // Runs the execution `record` describes (already in the store). `on_done` (optional) is called
  // on the loop thread with the result.
  Status Start(const store::ExecutionRecord& record,
               runtime::Executor::DoneCallback on_done = {});
  // Continues every execution the store says is running; returns how many.
  Result<std::size_t> Recover();
  // Ends a running execution ABORTED; kNotFound when it does not run here.
  Status Stop(const std::string& execution_arn, std::string error, std::string cause);
  // Redrives a FAILED / TIMED_OUT / ABORTED execution from its stored history. Returns once the
  // redrive has started (or was refused: kFailedPrecondition, ExecutionNotRedrivable).
  Status Redrive(const store::ExecutionRecord& record);

  Status SendTaskSuccess(const std::string& token, json::value output);
  Status SendTaskFailure(const std::string& token, std::string error, std::string cause);
  Status SendTaskHeartbeat(const std::string& token);

  // Long poll: the next task for the activity, or nullopt after `wait`.
  std::optional<ActivityTask> GetActivityTask(const std::string& activity_arn,
                                              std::chrono::milliseconds wait);

  // Runs one execution to its end on the calling thread, on virtual time, outside the store
  // (TestState).
  Result<runtime::ExecutionResult> RunDetached(const runtime::PreparedMachine& machine,
                                               json::value input);

  std::size_t running() const { return executor_->running(); }
  std::size_t activity_tasks_waiting();
  TimePoint Now() const;

 private:
  struct ActivityQueue;
  class ActivityHandler;
  struct PendingActivity {
    std::function<void(runtime::TaskResult)> complete;
    std::function<void()> heartbeat;
    std::shared_ptr<const std::atomic<bool>> cancelled;  // the engine no longer waits
  };
  runtime::ExecutionInfo InfoOf(const store::ExecutionRecord& record) const;
  void Track(const std::string& arn, runtime::ExecutionId id);
  runtime::Executor::DoneCallback Untrack(const std::string& arn,
                                         runtime::Executor::DoneCallback then);
  runtime::TaskResult EnqueueActivity(const runtime::TaskRequest& request);
  std::optional<PendingActivity> TakeActivity(const std::string& token, bool remove);

  ExecutionServiceOptions options_;
  store::Store& store_;
  LocalServices& services_;
  SystemClock system_clock_;
  std::unique_ptr<runtime::Executor> executor_;
  std::thread loop_;

  std::mutex machines_mu_;
  std::unordered_map<std::string, std::shared_ptr<const runtime::PreparedMachine>>
      machines_;  // guarded by machines_mu_, by definition text hash

  std::mutex running_mu_;
  std::unordered_map<std::string, runtime::ExecutionId> running_;  // guarded by running_mu_

  std::mutex activities_mu_;
  std::condition_variable activities_cv_;
  std::map<std::string, std::deque<ActivityTask>> activity_queues_;  // guarded
  std::unordered_map<std::string, PendingActivity> activity_tasks_;  // guarded, by token
  std::uint64_t activity_seq_ = 0;                                   // guarded
  bool stopping_ = false;                                            // guarded
};

}  // namespace zflow::server

#endif  // ZFLOW_SERVER_EXECUTION_SERVICE_H_
