// The event loop behind Executor and Engine: many executions, one loop thread, a shared worker
// pool for blocking task handlers, one timer heap, one inbox for everything other threads send.
#ifndef ZFLOW_RUNTIME_EXECUTOR_CORE_H_
#define ZFLOW_RUNTIME_EXECUTOR_CORE_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/execution.h"
#include "runtime/worker_pool.h"
#include "zflow/executor.h"

namespace zflow::runtime {

class ExecutorCore final : public ExecutionHost {
 public:
  explicit ExecutorCore(EngineOptions options);
  ~ExecutorCore() override;

  const EngineOptions& options() const { return options_; }
  TimePoint Now() const { return clock_->Now(); }
  bool virtual_time() const { return options_.virtual_time; }
  // Virtual time never runs behind a resumed execution's recorded events.
  void CatchUp(TimePoint t) {
    if (virtual_clock_ != nullptr) virtual_clock_->AdvanceTo(t);
  }

  // ---- from any thread ----
  ExecutionId NewId() { return next_id_++; }
  // Runs `command` on the loop thread.
  Status Post(std::function<void()> command);
  void PostCompletion(Completion c);
  Status SendToken(std::string_view token, std::optional<TaskResult> result);
  void Shutdown();
  std::size_t running() const { return running_.load(); }
  // ExecutionHost: Launch, from any thread.
  Status StartExecution(std::shared_ptr<const PreparedMachine> machine, ExecutionOptions options,
                        std::function<void(Result<ExecutionResult>)> on_done) override;

  // ---- loop thread ----
  // Creates and registers an execution (counted as running until it completes).
  Execution* Add(ExecutionId id, std::shared_ptr<const PreparedMachine> machine,
                 ExecutionInfo info, EventSink* sink, DoneCallback on_done);
  // Starts a new execution at once; the caller is on the loop thread (or drives the loop next).
  void Launch(ExecutionId id, std::shared_ptr<const PreparedMachine> machine,
                      const ExecutionOptions& options, json::value* owned_input,
                      DoneCallback on_done);
  void ResumeExecution(ExecutionId id, std::shared_ptr<const PreparedMachine> machine,
                       History stored, ExecutionInfo info, EventSink* sink, bool redrive,
                       DoneCallback on_done);
  void StopExecution(ExecutionId id, std::string error, std::string cause);
  // Drives the loop; with `serve`, until Shutdown, waiting for work when idle; without, until
  // no execution is left.
  void Loop(bool serve);

  // ---- for executions ----
  void MarkReady(Execution* e);
  void MarkDirty(Execution* e);
  void AddTimer(const Timer& t) { timers_.push(t); }
  std::uint64_t NextTimerSeq() { return timer_seq_++; }
  void InFlightChanged(std::ptrdiff_t delta) { in_flight_ += delta; }
  void PostJob(std::function<void()> job) { pool_->Post(std::move(job)); }
  // Group commit: `e` staged events on its group-commit sink (see EventSink::group_commit).
  void Staged(Execution* e, EventSink* sink);
  // Runs `effect` once what the executions staged is committed (at once when nothing is
  // staged). With `execution`, the effect is dropped if that execution is gone or its events
  // could not be committed.
  void AfterCommit(std::function<void()> effect, ExecutionId execution = 0);
  void IssueToken(const std::string& token, ExecutionId id);
  void RevokeToken(const std::string& token);
  // The execution ended: its done callback runs and it is forgotten.
  void Finished(Execution* e);

 private:
  bool DrainInbox();
  void RunReady();
  void FlushDirty();
  // Commits the staged sinks and releases the effects held for them.
  void CommitStaged();
  Execution* Find(ExecutionId id);

  EngineOptions options_;
  SystemClock system_clock_;
  std::unique_ptr<ManualClock> virtual_clock_;
  Clock* clock_;
  std::unique_ptr<WorkerPool> pool_;
  std::atomic<ExecutionId> next_id_{1};
  std::atomic<std::size_t> running_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Completion> completions_;              // guarded by mu_
  std::deque<std::function<void()>> commands_;      // guarded by mu_
  std::unordered_map<std::string, ExecutionId> live_tokens_;  // guarded by mu_
  bool shutdown_ = false;                           // guarded by mu_

  // Loop thread only.
  std::unordered_map<ExecutionId, std::unique_ptr<Execution>> executions_;
  std::deque<ExecutionId> ready_;
  std::vector<ExecutionId> dirty_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::uint64_t timer_seq_ = 0;
  std::ptrdiff_t in_flight_ = 0;  // tasks on the pool or waiting for a token, all executions
  struct HeldEffect {
    ExecutionId execution;  // 0: runs whatever happens to the executions
    std::function<void()> run;
  };
  std::vector<EventSink*> staged_sinks_;
  std::vector<std::pair<ExecutionId, EventSink*>> staged_;
  std::vector<HeldEffect> held_;
};

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_EXECUTOR_CORE_H_
