// One execution of a state machine: its frames (one per running branch or Map iteration),
// variable scopes, timers and history. It decides (events), records (the sink) and then acts
// (dispatches tasks, arms timers) through the ExecutorCore that drives it and many others.
//
// Everything here runs on the executor's loop thread. See docs/design/runtime.md.
#ifndef ZFLOW_RUNTIME_EXECUTION_H_
#define ZFLOW_RUNTIME_EXECUTION_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "asl/evaluation.h"
#include "runtime/compiled_machine.h"
#include "runtime/history.h"
#include "runtime/value_pool.h"
#include "zflow/executor.h"
#include "zflow/runtime.h"

namespace zflow::runtime {

class PreparedMachine : public std::enable_shared_from_this<PreparedMachine> {
 public:
  asl::StateMachine machine;
  std::unique_ptr<CompiledMachine> compiled;
};

using FrameId = std::uint64_t;
using asl::WorkflowError;

// Variables visible to a frame: its own, then its parent's (read-only from inside).
struct Scope {
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, json::value> vars;

  const json::value* Find(std::string_view name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
      auto it = s->vars.find(std::string(name));
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
};

// The children a Parallel or Map state is waiting for.
struct ChildGroup {
  FrameId owner = 0;
  bool is_map = false;
  std::vector<json::value> items;  // Map: each iteration's input
  const json::array* source = nullptr;  // ... or the items in place, copied as iterations start
  bool keep_results = true;  // false when nothing reads the results (ResultPath null)
  std::vector<json::value> results;
  // With a ResultWriter: each iteration's input and whether it failed (tolerated failures).
  std::vector<json::value> inputs;
  std::vector<char> failed_flags;
  std::vector<FrameId> children;   // started children, by index (0 = not started)
  std::size_t next_to_start = 0;
  std::size_t running = 0;
  std::size_t finished = 0;
  std::size_t failed = 0;
  std::size_t max_concurrency = 0;  // 0 = unlimited
  std::optional<std::int64_t> tolerated_count;
  std::optional<double> tolerated_percentage;
  std::optional<WorkflowError> first_error;
};

enum class FrameStatus : std::uint8_t { kRunnable, kWaiting, kSucceeded, kFailed, kAborted };

// What a runnable frame does next.
enum class Pending : std::uint8_t {
  kNone,          // nothing: a bug if the frame is runnable
  kEnter,         // enter the current state
  kRetry,         // run the current state's work again (no Entered event)
  kFinishResult,  // the task/branches/iterations produced pending_value
  kExitWait,      // a Wait is over; pending_value is the output
  kHandleError,   // pending_error happened in the current state
};

// What a waiting frame waits for.
enum class Wake : std::uint8_t { kNone, kWait, kRetry, kTask, kChildren };

struct Frame {
  FrameId id = 0;
  const CompiledBranch* branch = nullptr;
  int state = 0;
  json::value input;  // raw input of the current state
  FrameId parent = 0;
  std::size_t index = 0;  // position in the parent's group
  std::shared_ptr<Scope> scope;
  bool owns_scope = true;  // false while a child frame still reads its parent's scope
  FrameStatus status = FrameStatus::kRunnable;
  Pending pending = Pending::kEnter;
  Wake wake = Wake::kNone;
  json::value pending_value;
  WorkflowError pending_error;
  bool error_from_children = false;  // pending_error is a Parallel/Map group's failure
  std::uint64_t generation = 0;  // bumps invalidate outstanding timers and task completions
  std::int64_t last_event = 0;
  TimePoint entered_time;
  std::int64_t entered_event = 0;
  std::string task_token;              // .waitForTaskToken: this attempt's token ($$.Task.Token)
  std::int64_t heartbeat_seconds = 0;  // of the running task; 0 = none
  TimePoint heartbeat_deadline;        // the task fails unless it beats before this
  std::optional<TimePoint> task_deadline;  // TimeoutSeconds of the running task
  TimePoint wake_at;                   // Wake::kWait / kRetry
  // Replay: the task this frame dispatched, to be dispatched again when the execution goes
  // live without its completion on record.
  std::unique_ptr<TaskRequest> replay_request;
  json::object assigned_for_event;  // variables the current state assigned, for StateExited
  PayloadText exit_payload;  // the last state's output text (= the next state's input)
  bool exit_payload_valid = false;  // true between a StateExited and the next StateEntered
  std::vector<std::int64_t> retry_attempts;  // per retrier, for the current state
  int retry_count = 0;
  json::value effective_input;  // Task/Parallel/Map: input after InputPath + Parameters
  bool effective_is_input = false;  // ... or the raw input itself (not copied)
  std::unique_ptr<ChildGroup> children;
  json::value output;
  WorkflowError error;
};

// Stores `v` in `slot` with v's own storage. (Assigning a Boost.JSON value copies it into the
// target's storage when the two differ; frames hold values from the execution's pool, from task
// handlers and from the caller.)
inline void Rebind(json::value& slot, json::value&& v) {
  if (*slot.storage() == *v.storage()) {
    slot = std::move(v);
    return;
  }
  std::destroy_at(&slot);
  std::construct_at(&slot, std::move(v));
}

// A Task/Parallel/Map state's effective input (after InputPath and Parameters).
inline const json::value& Effective(const Frame& f) {
  return f.effective_is_input ? f.input : f.effective_input;
}

enum class TimerKind : std::uint8_t {
  kWaitDone, kRetry, kTaskTimeout, kHeartbeatTimeout, kExecutionTimeout
};

struct Timer {
  TimePoint when;
  std::uint64_t seq;
  TimerKind kind;
  ExecutionId execution;
  FrameId frame;
  std::uint64_t generation;
  bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
};

// A task's answer, posted to the loop from a worker or from SendTask*.
struct Completion {
  ExecutionId execution = 0;
  FrameId frame = 0;
  std::uint64_t generation = 0;
  TaskResult result;
  bool heartbeat = false;  // only a sign of life from the task, not its result
  std::string token;       // set: an answer sent for a task token (SendTask*), not a handler's
  bool hosted = false;     // the handler returned Hosted(): the answer comes later
};

// A task running on the pool (or answered later by an execution on the same host).
struct OutstandingTask {
  std::shared_ptr<std::atomic<bool>> cancel;
  bool hosted = false;  // does not hold back the virtual clock
};

// The frames ready to step, first in first out. (A std::deque allocates on construction;
// 100,000 waiting executions should not pay for one each.)
class FrameQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  FrameId front() const { return items_[head_]; }
  void pop_front() {
    if (++head_ == items_.size()) clear();
  }
  void push_back(FrameId id) {
    if (head_ > 0 && head_ * 2 >= items_.size()) {  // reuse the room already popped
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(id);
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }
  bool contains(FrameId id) const {
    return std::find(items_.begin() + static_cast<std::ptrdiff_t>(head_), items_.end(), id) !=
           items_.end();
  }

 private:
  std::vector<FrameId> items_;
  std::size_t head_ = 0;
};

// Retry jitter: SplitMix64 from the execution's seed, 8 bytes of state; the same numbers on
// every platform, so a replay makes the same choices.
class Jitter {
 public:
  void Seed(std::uint64_t seed) { state_ = seed; }
  // Uniform in [0, 1).
  double Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_ = 0;
};

class ExecutorCore;

using DoneCallback = std::function<void(Result<ExecutionResult>)>;

class Execution {
 public:
  Execution(ExecutorCore& core, ExecutionId id, std::shared_ptr<const PreparedMachine> machine,
            ExecutionInfo info, EventSink* sink, DoneCallback on_done);
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  ExecutionId id() const { return id_; }
  bool finished() const { return finished_; }
  bool has_work() const { return !runnable_.empty() || !inbox_.empty(); }
  const ExecutionInfo& info() const { return info_; }

  // A new execution: ExecutionStarted, the first state runnable. `owned_input`, when set, is
  // the caller's input, which may be taken over instead of copied.
  void Start(const json::value& input, json::value* owned_input);
  // Rebuilds the execution from `stored` by replaying it: the machine makes the same decisions
  // and the recorded events stand for the tasks' answers and the timers that fired. `cuts`
  // name the failures redrives re-ran (see RedriveCut), one per ExecutionRedriven in the
  // record; with `redrive_at_end` the last cut is a new redrive, after the record. kRunning:
  // the record is used up and the execution went live (in-flight tasks dispatched again,
  // timers armed); kEnded: it ended at event cursor() (a redrive may follow in the record).
  // kFailedPrecondition when the history does not fit the machine.
  enum class ReplayOutcome { kRunning, kEnded };
  Result<ReplayOutcome> Replay(const History& stored, std::vector<std::int64_t> cuts,
                               bool redrive_at_end);
  std::size_t cursor() const { return cursor_; }
  ExecutionStatus status() const { return result_.status; }
  // Where a redrive of this ended execution re-runs it: the ordinal of its last leaf failure
  // (FAILED), -1 at its terminal event (TIMED_OUT, ABORTED), 0 when it cannot be redriven.
  std::int64_t RedriveCut() const;
  void set_on_done(DoneCallback on_done) { on_done_ = std::move(on_done); }

  // Runs runnable frames, at most `budget` steps.
  void RunSteps(int budget);
  void Deliver(Completion&& c);
  void Fire(const Timer& t);
  void Stop(std::string error, std::string cause);
  // Fails the execution with States.Runtime (the loop found it stuck).
  void FailStuck();
  // Appends the events not yet committed to the sink. On error the execution ends.
  Status Flush();
  // Hands a task's log to EngineOptions::on_task_log.
  void ReportLog(const CompiledState& s, std::int64_t event_id, const std::string& log);
  // The sink could not record what the execution did: it ends here, in memory only.
  void LoseRecord(const Status& st);
  // Called once finished: flushes and hands the result to the done callback.
  void Complete();

 private:
  friend class ExecutorCore;
  using Payload = PayloadText;

  // ---- time ----
  TimePoint Now() const;
  // The time of the last recorded event: the base of every deadline, so a replay computes the
  // same deadlines from the recorded timestamps.
  TimePoint DecisionTime() const;
  TimePoint After(double seconds) const;

  // ---- frames ----
  Frame* Get(FrameId id);
  Frame* NewFrame(Frame* parent, const CompiledBranch* branch, json::value input);
  void DropFrame(FrameId id);
  void Resume(Frame* f, Pending p);
  const CompiledState& CurrentState(const Frame* f) const {
    return f->branch->states[static_cast<std::size_t>(f->state)];
  }

  // ---- history ----
  std::int64_t Emit(Frame* frame, EventType type, json::object details,
                    std::string_view state_name = {}, Payload payload = {},
                    std::int64_t index = -1);
  void EmitIteration(Frame* child, EventType type, std::string_view map_state);
  json::value PayloadJson(const json::value& v);
  Payload PayloadOf(const json::value& v);
  Payload ExitPayload(Frame* f, const json::value& output);
  Payload EnterPayload(Frame* f);
  Payload ExitText(Frame* f, const CompiledState& s, const json::value& output);
  json::object ExitedDetails(Frame* f);
  // Derived ids: tokens, Map run ids; the same in a replay.
  std::string Derive(std::string_view purpose, std::int64_t event_id, std::size_t hex_digits);

  // ---- context object ----
  const json::value* Context(const Frame& f, const CompiledState& s, const json::value* map_value,
                             std::size_t map_index);
  static json::value StateContext(const Frame& f, const CompiledState& s);
  json::value TaskContext(const Frame& f, const CompiledState& s);
  asl::EvaluationContext Eval(const Frame& f, const json::value& input,
                              const json::value* ctx) const;
  void SetRedriveCount(int n);

  // ---- state semantics (execution_states.cc) ----
  void Step(FrameId id);
  void RunState(Frame* f, bool entering);
  bool WaitTooLong(TimePoint until) const;
  WorkflowError WaitTooLongError(const CompiledState& s) const;
  // JSONata states (execution_jsonata.cc).
  asl::JsonataScope JsonataScopeOf(const Frame& f, const json::value& input,
                                   const json::value* ctx) const;
  void RunJsonataState(Frame* f, const CompiledState& s);
  void RunJsonataChoice(Frame* f, const CompiledState& s, const json::value* ctx);
  void RunJsonataWait(Frame* f, const CompiledState& s, const json::value* ctx);
  void RunJsonataFail(Frame* f, const CompiledState& s, const json::value* ctx);
  void FinishJsonata(Frame* f, const CompiledState& s, json::value result);
  // Output and Assign (evaluated together, both seeing the variables from before the state),
  // then exit with the output. `result` is $states.result, `error_output` $states.errorOutput.
  void ExitJsonata(Frame* f, const CompiledState& s, const std::optional<asl::JsonataTemplate>& output,
                   const std::optional<asl::JsonataTemplate>& assign, json::value&& fallback,
                   const json::value* result, const json::value* error_output, int next);
  void CatchJsonata(Frame* f, const CompiledState& s, std::size_t catcher,
                    const WorkflowError& error);
  // AWS's EvaluationFailed event, for a JSONata expression of `s` that failed.
  void EmitEvaluationFailed(Frame* f, const CompiledState& s, const WorkflowError& error);
  asl::Outcome<json::value> ApplyInputPath(const Frame& f, const CompiledState& s,
                                           const json::value& input, const json::value* ctx);
  asl::Outcome<json::value> ApplyOutputPath(const Frame& f, const CompiledState& s,
                                            json::value output, const json::value* ctx);
  WorkflowError Named(WorkflowError e, const CompiledState& s) const;
  void FinishResult(Frame* f, const CompiledState& s, json::value result);
  void CompleteState(Frame* f, const CompiledState& s, json::value&& result,
                     const json::value* ctx);
  void AssignVariables(Frame* f, json::value assigned);
  void ExitState(Frame* f, const CompiledState& s, json::value&& output);
  WorkflowError DataLimit(const CompiledState& s) const;
  template <typename Take>
  void RunPass(Frame* f, const CompiledState& s, const json::value& effective, Take&& take,
               const json::value* ctx);
  void RunChoice(Frame* f, const CompiledState& s, json::value effective, const json::value* ctx);
  void RunWait(Frame* f, const CompiledState& s, json::value effective, const json::value* ctx);
  void RunFail(Frame* f, const CompiledState& s, const json::value* ctx);
  void HandleError(Frame* f, const CompiledState& s, WorkflowError error);
  void FailFrame(Frame* f, WorkflowError error);
  void FinishExecution(ExecutionStatus status, json::value output, WorkflowError error);

  // ---- Parallel / Map (execution_states.cc) ----
  void StartParallel(Frame* f, const CompiledState& s);
  void StartMap(Frame* f, const CompiledState& s);
  void StartMoreIterations(Frame* f);
  void FrameDone(Frame* child);
  bool WithinTolerance(const ChildGroup& g) const;
  void AbortChildren(ChildGroup& g, bool emit_iterations, const std::string& state_name);
  void AbortFrame(Frame* f);
  void CompleteGroup(Frame* f);

  // ---- tasks, tokens and timers (execution_tasks.cc) ----
  void StartTask(Frame* f, const CompiledState& s);
  void ArmTaskTimers(Frame* f);
  void Dispatch(Frame* f, TaskHandler* handler, TaskRequest request);
  void AnnounceToken(Frame* f);
  void SyncInFlight();
  void TakeAnswers();
  void TaskDone(Frame* f, TaskResult r);
  void FinishTask(Frame* f, TaskResult r);
  void WaitForToken(Frame* f);
  void IssueToken(Frame* f);
  void ForgetToken(Frame* f);
  void AbandonTask(Frame* f);
  void AbandonAllTasks();
  void AddTimer(TimePoint when, TimerKind kind, Frame* f);
  void TaskTimedOut(Frame* f, std::string_view error);
  static bool WaitsForToken(const CompiledState& s);

  // ---- replay (execution_replay.cc) ----
  void ApplyRecorded();
  void ApplyAnswer(Frame* f, const HistoryEvent& e);
  static Result<TaskResult> RecordedAnswer(const HistoryEvent& e);
  Frame* WaitingFrame(std::int64_t previous_event_id);
  void Diverge(Status status);
  bool CutHere(Frame* f);
  bool CutAtTerminal();
  void Cut();
  void GoLive();
  void Park(Frame* f);
  void Redriven();

  // ---- state ----
  ExecutorCore& core_;
  const ExecutionId id_;
  std::shared_ptr<const PreparedMachine> prepared_;
  const CompiledMachine* machine_;
  ExecutionInfo info_;
  EventSink* sink_;
  DoneCallback on_done_;

  // The execution's JSON values (see value_pool.h), and its storage_ptr for building them.
  std::unique_ptr<ValuePool> value_pool_;
  json::storage_ptr storage_;
  ExecutionResult result_;
  // Live frames in slots; an id is (reuse count << 32 | slot + 1), so a stale id never finds a
  // newer frame that reuses its slot.
  std::vector<std::unique_ptr<Frame>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::unique_ptr<Frame>> spare_frames_;  // dropped frames, reset, for reuse
  std::vector<std::uint32_t> slot_reuse_;
  FrameQueue runnable_;
  FrameId root_ = 0;
  // Tasks running on the pool whose result is still wanted, by (frame, generation); the flag
  // tells the handler to stop. A task that timed out or was aborted leaves this map at once.
  std::map<std::pair<FrameId, std::uint64_t>, OutstandingTask> outstanding_;
  std::size_t hosted_tasks_ = 0;  // of outstanding_
  // Tasks waiting for their token (.waitForTaskToken): token -> frame, generation.
  std::map<std::string, std::pair<FrameId, std::uint64_t>> tokens_;
  std::map<std::string, Completion> early_answers_;  // sent while the handler still ran
  std::ptrdiff_t reported_in_flight_ = 0;  // what the core counts for this execution
  std::vector<Completion> inbox_;  // answers delivered, taken when no frame is runnable
  bool queued_ = false;  // in the core's ready queue
  bool dirty_ = false;   // has events the sink has not seen
  TimePoint timeout_base_;  // TimeoutSeconds counts from here (the start or the last redrive)
  std::uint64_t timeout_generation_ = 0;
  bool finished_ = false;
  bool finishing_ = false;
  bool completed_ = false;  // the done callback ran
  std::string scratch_;  // serialization buffer reused across events
  TimePoint last_now_{};     // the clock at the last event, and rounded to milliseconds
  TimePoint last_now_ms_{};
  HistoryWriter history_;  // appends to result_.history
  std::size_t committed_ = 0;  // events handed to the sink
  std::int64_t current_entered_event_ = 0;  // of the state being run (for error causes)
  // $$.Execution without Input, and $$.StateMachine, per run.
  json::value context_execution_;
  json::value context_machine_;
  json::value execution_input_;  // $$.Execution.Input, when some state reads "$$"
  // The context object of the state being evaluated ("$$"), built on first use and then only
  // updated: State, Task and Map change.
  json::value shared_context_;
  bool shared_context_ready_ = false;
  Jitter rng_;  // retry jitter, seeded from the execution's seed

  // Replay.
  bool replaying_ = false;
  std::size_t cursor_ = 0;             // recorded events matched so far
  std::size_t replay_end_ = 0;
  Status divergence_;                  // set when the replay does not match the record
  std::unordered_map<std::int64_t, FrameId> waiting_by_event_;  // last_event -> waiting frame
  // Redrive points: the ordinal of the leaf failure (a state that failed with nothing to
  // catch it) each earlier redrive re-ran, -1 for an execution that timed out or was aborted.
  std::vector<std::int64_t> cuts_;
  std::size_t next_cut_ = 0;
  std::int64_t leaf_failures_ = 0;
  std::int64_t last_leaf_failure_ = -1;  // ordinal of the most recent leaf failure
  bool cut_pending_ = false;        // parked frames wait for the ExecutionRedriven event
  bool redrive_at_end_ = false;     // this replay redrives when the record ends
  std::vector<FrameId> parked_;
  int redrive_count_ = 0;
};

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_EXECUTION_H_
