// zflow/runtime.h: runs an ASL state machine locally with AWS Step Functions semantics.
//
//   zflow::runtime::IntegrationRegistry tasks;
//   tasks.RegisterFunction("arn:aws:states:::lambda:invoke", [](const TaskRequest& r) {
//     return TaskResult::Success(json::object{{"Payload", r.input}});
//   });
//   zflow::runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
//   zflow::Result<ExecutionResult> r = engine.Run(machine, {.input = input});
//   // r->status, r->output, r->error, r->cause, r->history
//
//   // Continue it after a crash from the history its EventSink stored, or re-run it after a
//   // failure: engine.Resume(*prepared, stored, r->info) / engine.Redrive(...).
//
// Executions run on an event loop (the caller's thread for Engine; see zflow/executor.h for
// many executions on one thread); Task handlers run on a worker pool (or inline when they say
// they are cheap), so Parallel branches and Map iterations overlap their tasks without a thread
// per branch. Under virtual time, Wait states and retry backoffs complete instantly: when
// nothing can run and no task is in flight, the clock jumps to the next timer.
#ifndef ZFLOW_RUNTIME_H_
#define ZFLOW_RUNTIME_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zflow/clock.h"
#include "zflow/json.h"
#include "zflow/limits.h"
#include "zflow/state_machine.h"
#include "zflow/validator.h"
#include "zflow/status.h"

namespace zflow::runtime {

enum class ExecutionStatus : std::uint8_t { kRunning, kSucceeded, kFailed, kTimedOut, kAborted };
// "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"
std::string_view ExecutionStatusName(ExecutionStatus s);

// The history event types the engine records, named as AWS names them.
enum class EventType : std::uint8_t {
  kExecutionStarted, kExecutionSucceeded, kExecutionFailed, kExecutionTimedOut,
  kExecutionAborted, kExecutionRedriven,
  kPassStateEntered, kPassStateExited, kTaskStateEntered, kTaskStateExited,
  kChoiceStateEntered, kChoiceStateExited, kWaitStateEntered, kWaitStateExited,
  kSucceedStateEntered, kSucceedStateExited, kFailStateEntered,
  kParallelStateEntered, kParallelStateExited, kMapStateEntered, kMapStateExited,
  kTaskScheduled, kTaskStarted, kTaskSucceeded, kTaskFailed, kTaskTimedOut,
  kParallelStateStarted, kParallelStateSucceeded, kParallelStateFailed, kParallelStateAborted,
  kMapStateStarted, kMapStateSucceeded, kMapStateFailed, kMapStateAborted,
  kMapIterationStarted, kMapIterationSucceeded, kMapIterationFailed, kMapIterationAborted,
  kEvaluationFailed,  // a JSONata expression failed (evaluationFailedEventDetails)
};
// "ExecutionStarted", "TaskStateEntered", ... (static storage).
std::string_view EventTypeName(EventType t);
// The inverse of EventTypeName; nullopt for a type the engine does not record.
std::optional<EventType> ParseEventType(std::string_view name);
// *StateEntered events carry the state's input; ExecutionStarted the execution's.
bool IsStateEntered(EventType t);
bool IsStateExited(EventType t);

// AWS's quota on an execution's input, a state's input or output and a task's answer.
using zflow::kMaxPayloadBytes;

// The JSON text of a history event's payload: a view into the execution's History (valid while
// a copy of that History lives). False when the payload was not recorded.
class PayloadText {
 public:
  PayloadText() = default;
  explicit PayloadText(std::string_view text) : text_(text) {}
  explicit operator bool() const { return text_.data() != nullptr; }
  std::string_view view() const { return text_; }

 private:
  std::string_view text_;
};

// One entry of the execution history, as AWS's GetExecutionHistory returns it: a view into the
// History it came from (its strings and details live there). ToJson renders the AWS shape.
struct HistoryEvent {
  std::int64_t id = 0;
  std::int64_t previous_event_id = 0;
  TimePoint timestamp;
  EventType kind = EventType::kExecutionStarted;
  std::string_view type;        // EventTypeName(kind)
  std::string_view state_name;  // "name" of StateEntered/StateExited/MapIteration* events
  std::int64_t index = -1;      // "index" of MapIteration* events
  // The JSON text of the event's payload: "input" of ExecutionStarted and *StateEntered,
  // "output" of *StateExited, TaskSucceeded and ExecutionSucceeded. False when not recorded.
  PayloadText payload;
  // The other fields of "<type>EventDetails" (camelCase, as AWS names them); never null.
  const json::object* details = nullptr;

  // {"id", "previousEventId", "timestamp", "type", "<detailsKey>": {...}}
  json::value ToJson() const;
};

// The events of one execution, in order (event i has id i + 1). Stored compactly: fixed-size
// records in chunks that never move, payload texts packed into shared blocks (a state's exit
// and the next state's entry share one text). Copies share the (immutable) events.
class History {
 public:
  // A forward iterator yielding events by value (views), with a distance.
  class Iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = HistoryEvent;
    using difference_type = std::ptrdiff_t;
    using reference = HistoryEvent;
    Iterator() = default;
    HistoryEvent operator*() const { return (*history_)[index_]; }
    Iterator& operator++() { ++index_; return *this; }
    Iterator operator++(int) { Iterator old = *this; ++index_; return old; }
    friend difference_type operator-(const Iterator& a, const Iterator& b) {
      return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }

   private:
    friend class History;
    Iterator(const History* h, std::size_t i) : history_(h), index_(i) {}
    const History* history_ = nullptr;
    std::size_t index_ = 0;
  };

  History();
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  HistoryEvent operator[](std::size_t i) const;
  HistoryEvent front() const { return (*this)[0]; }
  HistoryEvent back() const { return (*this)[size() - 1]; }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

  // {"events": [event.ToJson(), ...]}, as GetExecutionHistory returns it.
  json::value ToJson() const;
  // Loads a stored history: {"events": [...]} (GetExecutionHistory's shape, as ToJson and
  // `zflow run --history` write it) or the bare array. The result owns its text; it needs
  // no state machine. kInvalidArgument, naming the event, for anything that is not a history
  // this engine wrote (unknown type, ids out of order, a payload that is not JSON text).
  static Result<History> FromJson(const json::value& events);

  struct Data;  // see src/runtime/history.h

 private:
  friend class HistoryWriter;
  std::shared_ptr<Data> data_;
};

class PreparedMachine;
struct ExecutionOptions;
struct ExecutionResult;
class ExecutionHost;

// What a Task handler returns: an output, or an error name and cause (which Retry/Catch match).
struct TaskResult {
  std::optional<json::value> output;
  std::string error;
  std::string cause;

  static TaskResult Success(json::value v) { return {std::move(v), {}, {}}; }
  static TaskResult Failure(std::string error, std::string cause) {
    return {std::nullopt, std::move(error), std::move(cause)};
  }
  // The answer comes later through TaskRequest::complete, from an execution on the same host
  // (a nested execution): the engine's virtual clock may move on while it runs.
  static TaskResult Hosted() {
    TaskResult r;
    r.hosted = true;
    return r;
  }
  bool ok() const { return output.has_value(); }
  bool hosted = false;
  // What the task printed (its log: a Lambda function's prints, a job's output), kept apart from
  // the result; the last 64 KiB. Goes to EngineOptions::on_task_log.
  std::string log;
};

// What a Task handler receives.
struct TaskRequest {
  std::string resource;    // the Task's Resource ARN
  std::string state_name;
  json::value input;       // the effective parameters (after InputPath and Parameters)
  json::value context;     // the context object ($$); Execution.Input only when the state
                           // itself reads "$$" (pass what a handler needs through Parameters)
  int retry_count = 0;     // 0 on the first attempt
  std::optional<std::chrono::seconds> timeout;  // TimeoutSeconds, if any
  // Set when the engine no longer wants the result (the task timed out, its branch was aborted,
  // the execution ended). Long-running handlers should poll it and stop; never null.
  std::shared_ptr<const std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  // With HeartbeatSeconds, the task fails with States.HeartbeatTimeout unless this is called at
  // least that often (SendTaskHeartbeat). Thread-safe; a no-op without HeartbeatSeconds.
  std::function<void()> heartbeat = [] {};
  // The executor running the task: a handler may start executions on it (nested executions:
  // same clock, same handlers, no thread of their own). Null outside an executor.
  ExecutionHost* host = nullptr;
  // For a handler that returns TaskResult::Hosted(): the task's answer, later, from any thread
  // (once). Set by the engine for tasks on the worker pool.
  std::function<void(TaskResult)> complete;
  // Which attempt of which task this is: the execution's ARN and the id of the last event
  // before the dispatch. A task dispatched again because its execution resumed after a crash
  // carries the same pair, so a handler that recorded the attempt's outcome can give it back
  // instead of running the work twice. Empty / 0 outside an execution.
  std::string execution_arn;
  std::int64_t attempt_event = 0;
};

// Serves the Task states whose Resource it is registered for. Invoke may be called from several
// threads at once.
class TaskHandler {
 public:
  virtual ~TaskHandler() = default;
  virtual TaskResult Invoke(const TaskRequest& request) = 0;
  // True when Invoke is cheap and never blocks (echo, mocks, small in-process functions): the
  // engine then calls it on its loop thread instead of the worker pool.
  virtual bool inline_safe() const { return false; }
};

// Maps a Task's Resource to its handler: an exact match first, then the longest registered
// prefix that ends in '*' ("arn:aws:states:::lambda:*"), then the fallback.
class IntegrationRegistry {
 public:
  void Register(std::string resource, std::shared_ptr<TaskHandler> handler);
  // An in-process function; `inline_safe` as in TaskHandler.
  void RegisterFunction(std::string resource, std::function<TaskResult(const TaskRequest&)> fn,
                        bool inline_safe = false);
  void SetFallback(std::shared_ptr<TaskHandler> handler);
  // The handler for `resource`, or null.
  TaskHandler* Find(std::string_view resource) const;

 private:
  std::map<std::string, std::shared_ptr<TaskHandler>, std::less<>> handlers_;
  std::shared_ptr<TaskHandler> fallback_;
};

// Objects addressed like S3 (bucket, key), for a distributed Map's ItemReader and ResultWriter.
// Implementations must be thread-safe.
class ObjectStore {
 public:
  struct ObjectInfo {
    std::string key;
    std::int64_t size = 0;
    std::string etag;           // "\"<md5 hex>\"", as S3 reports it
    std::int64_t last_modified = 0;  // seconds since the epoch
  };
  virtual ~ObjectStore() = default;
  // kNotFound when the object does not exist; kInvalidArgument for a bad bucket or key.
  virtual Result<std::string> Get(std::string_view bucket, std::string_view key) = 0;
  // The bucket's objects whose key starts with `prefix`, in key order.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view bucket, std::string_view prefix) = 0;
  virtual Status Put(std::string_view bucket, std::string_view key, std::string_view data) = 0;
};

// What identifies one execution and fixes its choices. Resume and Redrive need the same values
// the execution started with (stored next to its history: `zflow run --history` writes them in
// the file, the server in its store).
struct ExecutionInfo {
  std::string name;                        // $$.Execution.Name
  std::string state_machine_name = "Machine";
  std::string region = "us-east-1";
  std::string account = "123456789012";
  // The execution's secret: its task tokens, retry jitter and generated ids are derived from it
  // (and from event ids), so a resumed execution makes the same choices. Keep it private:
  // whoever knows it can compute the execution's task tokens.
  std::string seed;

  std::string ExecutionArn() const;     // arn:aws:states:<region>:<account>:execution:<m>:<name>
  std::string StateMachineArn() const;  // arn:aws:states:<region>:<account>:stateMachine:<m>
  json::value ToJson() const;           // {"name", "stateMachineName", "region", "account", "seed"}
  static Result<ExecutionInfo> FromJson(const json::value& v);
};

// Receives an execution's events, in order, before their effects happen: a task is dispatched,
// a task token handed out, a timer waited for or the result returned only after the events
// that lead to it were appended. What was appended is all a resumed execution needs.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // history[first, history.size()) are new. An error stops the execution at once (its effect
  // is not carried out); the result then carries the error in `sink_status`.
  virtual Status Append(const ExecutionInfo& info, const History& history, std::size_t first) = 0;

  // Group commit. A sink whose Append only stages events (not yet durable) says so here; the
  // executor then holds back every effect of the staged events (a task dispatched, a token
  // handed out, a result returned) until Commit() succeeds, and calls Commit() once for all
  // the executions that appended since the last call: one transaction and one flush for many
  // executions. When Commit() fails, every execution staged since the last commit ends as an
  // Append error would end it, and their held effects are dropped.
  virtual bool group_commit() const { return false; }
  virtual Status Commit() { return Status::Ok(); }
};

struct ExecutionOptions {
  json::value input = json::object();
  std::string name;                        // default: a generated UUID
  std::string state_machine_name = "Machine";
  std::string region = "us-east-1";
  std::string account = "123456789012";
  std::string seed;                        // default: a fresh random one (see ExecutionInfo)
  EventSink* sink = nullptr;               // not owned; must outlive the execution
};

struct ExecutionResult {
  ExecutionStatus status = ExecutionStatus::kRunning;
  json::value output;  // on success
  std::string error;   // on failure / timeout / abort
  std::string cause;
  History history;
  std::string execution_arn;
  TimePoint start_time;
  TimePoint stop_time;
  ExecutionInfo info;
  int redrive_count = 0;
  Status sink_status;  // not OK: the sink refused events and the execution was cut short
};

struct EngineOptions {
  IntegrationRegistry* integrations = nullptr;  // null: every Task fails with States.Runtime
  Clock* clock = nullptr;                       // null: the system clock
  // Waits and backoffs jump a virtual clock (starting at clock->Now()) instead of sleeping.
  bool virtual_time = false;
  int worker_threads = 4;
  // Called on the loop thread with a task's log (TaskResult::log) when its answer is recorded:
  // the execution, the state, and the id of its TaskSucceeded / TaskFailed event.
  std::function<void(const ExecutionInfo& info, std::string_view state, std::int64_t event_id,
                     std::string_view log)>
      on_task_log;
  // Called on the loop thread for every history event as it happens (progress display); not
  // for the events a resumed execution replays.
  std::function<void(const HistoryEvent&)> on_event;
  // AWS quotas.
  std::size_t max_payload_bytes = kMaxPayloadBytes;
  std::size_t max_history_events = kMaxHistoryEvents;
  // Keep full payloads (state input/output) in history events, as AWS does. Without them an
  // execution cannot be resumed or redriven.
  bool history_payloads = true;
  // Upper bound on Parallel branches and distributed Map iterations running at once when
  // MaxConcurrency is 0 (unlimited). An inline Map runs at most 40 at once, as on AWS.
  std::size_t max_parallel_children = 1 << 20;
  // Called on the loop thread when a .waitForTaskToken task starts waiting for its token.
  std::function<void(const std::string& state, const std::string& token)> on_task_token;
  // Where a distributed Map's ItemReader reads and ResultWriter writes; null: those fail with
  // States.ItemReaderFailed / States.ResultWriterFailed.
  ObjectStore* object_store = nullptr;
};

// A validated, compiled state machine, ready to run many times. Immutable; shareable between
// threads and engines.
class PreparedMachine;

// Where an execution runs: an Engine's or an Executor's loop. Thread-safe.
class ExecutionHost {
 public:
  virtual ~ExecutionHost() = default;
  // Starts an execution next to the others; `on_done` is called on the loop thread when it
  // ends. kFailedPrecondition when the host has shut down.
  virtual Status StartExecution(std::shared_ptr<const PreparedMachine> machine,
                                ExecutionOptions options,
                                std::function<void(Result<ExecutionResult>)> on_done) = 0;
};

// Validates and compiles once (kInvalidArgument with the first diagnostic when invalid,
// kUnimplemented for what the engine does not run yet). Pass an rvalue to avoid copying the
// model; the source map is not kept.
Result<std::shared_ptr<const PreparedMachine>> Prepare(asl::StateMachine machine);
// The same for a definition asl::ValidateDefinition already validated (zflow run, the server):
// its report's machine is compiled without being validated a second time. A report with errors
// is kInvalidArgument with its first error.
Result<std::shared_ptr<const PreparedMachine>> Prepare(asl::ValidationReport report);

// Runs one execution at a time on the calling thread (see zflow/executor.h for many).
class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one execution of `machine` to the end and returns how it ended. Errors (Status) only
  // for a machine that fails validation; everything that happens inside the workflow (task
  // failures, path errors, timeouts) is in the result. Not reentrant: one Run at a time.
  Result<ExecutionResult> Run(const asl::StateMachine& machine, const ExecutionOptions& options);

  // As zflow::runtime::Prepare; Run(prepared) then skips validation and compilation.
  Result<std::shared_ptr<const PreparedMachine>> Prepare(asl::StateMachine machine);
  Result<ExecutionResult> Run(const PreparedMachine& machine, const ExecutionOptions& options);
  // The same, taking a large options.input (64 KiB of text or more) over instead of copying it
  // when no state reads $$.Execution.Input.
  Result<ExecutionResult> Run(const PreparedMachine& machine, ExecutionOptions&& options);

  // Continues an execution from its stored history (events [0, n) of an execution that was
  // stopped or killed) and runs it to the end. The machine and `info` must be the ones it
  // started with. Completed tasks are not run again; a task that was in flight is dispatched
  // again (same state, same input, same task token); Waits and retries keep their deadlines.
  // kFailedPrecondition when the history does not match the machine (naming the first event
  // that differs) or the execution had already ended; the returned history holds the stored
  // events followed by the new ones.
  Result<ExecutionResult> Resume(const PreparedMachine& machine, const History& stored,
                                 const ExecutionInfo& info, EventSink* sink = nullptr);
  // Re-runs a FAILED, TIMED_OUT or ABORTED execution from where it stopped, as AWS's
  // RedriveExecution: the state that failed (and any that were still running) runs again,
  // everything that succeeded is kept; an ExecutionRedriven event is added and
  // $$.Execution.RedriveCount counts up. kFailedPrecondition (ExecutionNotRedrivable) for an
  // execution that succeeded, is still running, or ended in a way that cannot be redriven.
  Result<ExecutionResult> Redrive(const PreparedMachine& machine, const History& stored,
                                  const ExecutionInfo& info, EventSink* sink = nullptr);

  // The answers to a .waitForTaskToken task ($$.Task.Token), from any thread while Run runs:
  // as SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat of the Step Functions API.
  // kNotFound (TaskDoesNotExist) when no task waits for the token.
  Status SendTaskSuccess(std::string_view token, json::value output);
  Status SendTaskFailure(std::string_view token, std::string error, std::string cause);
  Status SendTaskHeartbeat(std::string_view token);
  // Stops the running execution: it ends ABORTED (StopExecution). From any thread; kNotFound
  // when nothing runs.
  Status Stop(std::string error = {}, std::string cause = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_H_
