// zflow/executor.h: many executions in one process, each able to stop and resume.
//
//   zflow::runtime::Executor executor({.integrations = &tasks});
//   auto machine = zflow::runtime::Prepare(std::move(model)).value();
//   executor.Start(machine, {.input = input, .sink = &store},
//                  [](zflow::Result<ExecutionResult> r) { ... });   // on the loop thread
//   std::thread loop([&] { executor.Serve(); });                     // or RunUntilIdle()
//   ...
//   executor.Shutdown();
//   loop.join();
//
// One event loop thread drives every execution; Task handlers run on a shared worker pool. An
// execution that waits (a Wait state, a retry backoff, a task token, a long task) holds memory
// only: no thread. Every event goes to the execution's EventSink before its effect, so an
// execution cut short (Stop, a crash, a killed process) continues with Resume from what the
// sink stored, and a failed one re-runs with Redrive.
#ifndef ZFLOW_EXECUTOR_H_
#define ZFLOW_EXECUTOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "zflow/json.h"
#include "zflow/runtime.h"
#include "zflow/status.h"

namespace zflow::runtime {

using ExecutionId = std::uint64_t;

class ExecutorCore;

class Executor {
 public:
  // Called once per execution, on the loop thread, when it ends (succeeded, failed, timed
  // out, aborted) with its result, or with the error that kept a Resume/Redrive from starting.
  using DoneCallback = std::function<void(Result<ExecutionResult>)>;

  explicit Executor(EngineOptions options);
  // Executions still running are dropped as they are (their sinks hold what they need to
  // resume); running task handlers are asked to stop.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Each of these is thread-safe and returns at once; the loop does the work. The returned id
  // names the execution in Stop. kFailedPrecondition after Shutdown.
  Result<ExecutionId> Start(std::shared_ptr<const PreparedMachine> machine,
                            ExecutionOptions options, DoneCallback on_done = {});
  // See Engine::Resume and Engine::Redrive. `stored` is shared with the caller, unchanged.
  Result<ExecutionId> Resume(std::shared_ptr<const PreparedMachine> machine, History stored,
                             ExecutionInfo info, EventSink* sink, DoneCallback on_done = {});
  Result<ExecutionId> Redrive(std::shared_ptr<const PreparedMachine> machine, History stored,
                              ExecutionInfo info, EventSink* sink, DoneCallback on_done = {});
  // Ends the execution ABORTED (ExecutionAborted with `error` and `cause` when given).
  // kNotFound when no such execution runs.
  Status Stop(ExecutionId id, std::string error = {}, std::string cause = {});

  // The answers to .waitForTaskToken tasks, from any thread. kNotFound (TaskDoesNotExist) when
  // no task waits for the token.
  Status SendTaskSuccess(std::string_view token, json::value output);
  Status SendTaskFailure(std::string_view token, std::string error, std::string cause);
  Status SendTaskHeartbeat(std::string_view token);

  // Blocks until the loop has carried out every Start, Resume, Redrive and Stop posted before
  // this call (a resumed execution then waits for its task tokens again). Needs a thread in
  // Serve(); kFailedPrecondition after Shutdown.
  Status WaitForPosted();

  // Drives the executions on the calling thread until none is left (or Shutdown is called).
  void RunUntilIdle();
  // Drives the executions on the calling thread until Shutdown, waiting for work when idle.
  void Serve();
  // Makes Serve / RunUntilIdle return; thread-safe.
  void Shutdown();

  // Executions started and not yet ended. Thread-safe.
  std::size_t running() const;

 private:
  Result<ExecutionId> Continue(std::shared_ptr<const PreparedMachine> machine, History stored,
                               ExecutionInfo info, EventSink* sink, DoneCallback on_done,
                               bool redrive);
  std::unique_ptr<ExecutorCore> core_;
};

}  // namespace zflow::runtime

#endif  // ZFLOW_EXECUTOR_H_
