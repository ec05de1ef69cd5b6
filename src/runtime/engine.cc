// The local execution engine: one event loop per Run, frames for branches and iterations,
// handlers on a worker pool, timers on a (possibly virtual) clock.
#include "zflow/runtime.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "asl/choice_evaluator.h"
#include "asl/evaluation.h"
#include "common/ids.h"
#include "runtime/compiled_machine.h"
#include "runtime/history.h"
#include "runtime/payload_size.h"
#include "runtime/value_pool.h"
#include "zflow/validator.h"

namespace zflow::runtime {

std::string_view ExecutionStatusName(ExecutionStatus s) {
  switch (s) {
    case ExecutionStatus::kRunning: return "RUNNING";
    case ExecutionStatus::kSucceeded: return "SUCCEEDED";
    case ExecutionStatus::kFailed: return "FAILED";
    case ExecutionStatus::kTimedOut: return "TIMED_OUT";
    case ExecutionStatus::kAborted: return "ABORTED";
  }
  return "UNKNOWN";
}

void IntegrationRegistry::Register(std::string resource, std::shared_ptr<TaskHandler> handler) {
  handlers_.insert_or_assign(std::move(resource), std::move(handler));
}

namespace {
class FunctionHandler final : public TaskHandler {
 public:
  FunctionHandler(std::function<TaskResult(const TaskRequest&)> fn, bool inline_ok)
      : fn_(std::move(fn)), inline_(inline_ok) {}
  TaskResult Invoke(const TaskRequest& r) override { return fn_(r); }
  bool inline_safe() const override { return inline_; }

 private:
  std::function<TaskResult(const TaskRequest&)> fn_;
  bool inline_;
};
}  // namespace

void IntegrationRegistry::RegisterFunction(std::string resource,
                                           std::function<TaskResult(const TaskRequest&)> fn,
                                           bool inline_safe) {
  Register(std::move(resource), std::make_shared<FunctionHandler>(std::move(fn), inline_safe));
}

void IntegrationRegistry::SetFallback(std::shared_ptr<TaskHandler> handler) {
  fallback_ = std::move(handler);
}

TaskHandler* IntegrationRegistry::Find(std::string_view resource) const {
  auto it = handlers_.find(resource);
  if (it != handlers_.end()) return it->second.get();
  std::size_t best = 0;
  TaskHandler* found = nullptr;
  for (const auto& [key, handler] : handlers_) {
    if (key.size() > 1 && key.back() == '*' &&
        resource.starts_with(std::string_view(key).substr(0, key.size() - 1)) &&
        key.size() > best) {
      best = key.size();
      found = handler.get();
    }
  }
  return found != nullptr ? found : fallback_.get();
}

class PreparedMachine : public std::enable_shared_from_this<PreparedMachine> {
 public:
  asl::StateMachine machine;
  std::unique_ptr<CompiledMachine> compiled;
};

// ---------------------------------------------------------------------------------------------

namespace {

using asl::WorkflowError;
using FrameId = std::uint64_t;

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
  json::value pending_value;
  WorkflowError pending_error;
  std::uint64_t generation = 0;  // bumps invalidate outstanding timers and task completions
  std::int64_t last_event = 0;
  TimePoint entered_time;
  std::int64_t entered_event = 0;
  std::string task_token;              // .waitForTaskToken: this attempt's token ($$.Task.Token)
  std::int64_t heartbeat_seconds = 0;  // of the running task; 0 = none
  TimePoint heartbeat_deadline;        // the task fails unless it beats before this
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

enum class TimerKind : std::uint8_t {
  kWaitDone, kRetry, kTaskTimeout, kHeartbeatTimeout, kExecutionTimeout
};

struct Timer {
  TimePoint when;
  std::uint64_t seq;
  TimerKind kind;
  FrameId frame;
  std::uint64_t generation;
  bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
};

struct Completion {
  FrameId frame;
  std::uint64_t generation;
  TaskResult result;
  std::uint64_t run_id;
  bool heartbeat = false;  // only a sign of life from the task, not its result
  std::string token;       // set: an answer sent for a task token (SendTask*), not a handler's
};

// A small fixed pool of worker threads for blocking task handlers.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < std::max(1, threads); ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

// arn:aws:states:::lambda:invoke -> ("lambda", "invoke"); arn:aws:lambda:r:a:function:f ->
// ("lambda", the ARN). As AWS reports them in Task* history events.
std::string ResourceType(std::string_view resource, std::string* name) {
  if (resource.starts_with("arn:aws:states:::")) {
    std::string_view rest = resource.substr(17);
    std::size_t colon = rest.find(':');
    *name = std::string(colon == std::string_view::npos ? rest : rest.substr(colon + 1));
    return std::string(colon == std::string_view::npos ? rest : rest.substr(0, colon));
  }
  *name = std::string(resource);
  std::size_t a = resource.find(':', 4);
  std::size_t b = a == std::string_view::npos ? a : resource.find(':', a + 1);
  if (b == std::string_view::npos) return "unknown";
  return std::string(resource.substr(a + 1, b - a - 1));
}

// AWS: "In Inline mode, the Map state supports up to 40 concurrent iterations."
constexpr std::size_t kInlineMapConcurrency = 40;

// Stores `v` in `slot` with v's own storage. (Assigning a Boost.JSON value copies it into the
// target's storage when the two differ; frames hold values from the execution's pool, from task
// handlers and from the caller.)
void Rebind(json::value& slot, json::value&& v) {
  if (*slot.storage() == *v.storage()) {
    slot = std::move(v);
    return;
  }
  std::destroy_at(&slot);
  std::construct_at(&slot, std::move(v));
}

}  // namespace

struct Engine::Impl {
  explicit Impl(EngineOptions o)
      : options(std::move(o)), pool(std::make_unique<WorkerPool>(options.worker_threads)) {}
  // Join the workers first: they post into `completions`.
  ~Impl() { pool.reset(); }

  EngineOptions options;
  std::unique_ptr<WorkerPool> pool;
  SystemClock system_clock;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Completion> completions;  // guarded by mu
  std::uint64_t run_id = 0;

  // ---- per-run state ----
  // The execution's JSON values (see value_pool.h), and its storage_ptr for building them.
  std::unique_ptr<ValuePool> value_pool;
  json::storage_ptr storage;
  const CompiledMachine* machine = nullptr;
  const ExecutionOptions* exec = nullptr;
  std::unique_ptr<ManualClock> virtual_clock;
  Clock* clock = nullptr;
  ExecutionResult result;
  // Live frames in slots; an id is (reuse count << 32 | slot + 1), so a stale id never finds a
  // newer frame that reuses its slot.
  std::vector<std::unique_ptr<Frame>> slots;
  std::vector<std::uint32_t> free_slots;
  std::vector<std::unique_ptr<Frame>> spare_frames;  // dropped frames, reset, for reuse
  std::vector<std::uint32_t> slot_reuse;
  std::deque<FrameId> runnable;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::uint64_t timer_seq = 0;
  // Tasks running on the pool whose result is still wanted, by (frame, generation); the flag
  // tells the handler to stop. A task that timed out or was aborted leaves this map at once, so
  // it neither holds back the virtual clock nor delays the end of the execution.
  std::map<std::pair<FrameId, std::uint64_t>, std::shared_ptr<std::atomic<bool>>> outstanding;
  std::size_t in_flight = 0;  // == outstanding.size() + tokens.size()
  // Tasks waiting for their token (.waitForTaskToken): token -> frame, generation.
  std::map<std::string, std::pair<FrameId, std::uint64_t>> tokens;
  std::set<std::string> live_tokens;  // tokens of running token tasks, for SendTask*; guarded by mu
  std::map<std::string, Completion> early_answers;  // sent while the handler still ran
  bool finished = false;
  bool finishing = false;
  std::string scratch;  // serialization buffer reused across events
  HistoryWriter history;  // appends to result.history
  std::int64_t current_entered_event = 0;  // of the state being run (for error causes)
  // $$.Execution without Input, and $$.StateMachine, per run.
  json::value context_execution;
  json::value context_machine;
  // The context object of the state being evaluated ("$$"), built on first use in a run (it
  // holds a copy of the execution input) and then only updated: State, Task and Map change.
  json::value shared_context;
  bool shared_context_ready = false;
  std::mt19937_64 rng{0x5eed};

  TimePoint Now() const { return clock->Now(); }
  // now + seconds, saturating far in the future instead of overflowing 64-bit nanoseconds.
  TimePoint After(double seconds) const {
    constexpr double kMaxSeconds = 9e9;  // past 2262 the clock cannot represent the instant
    double now_s = std::chrono::duration<double>(Now().time_since_epoch()).count();
    if (seconds < 0) seconds = 0;
    if (now_s + seconds > kMaxSeconds) return TimePoint(std::chrono::seconds(9'000'000'000));
    return Now() + std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::duration<double>(seconds));
  }
  Frame* Get(FrameId id) {
    std::size_t slot = static_cast<std::uint32_t>(id) - 1;
    if (slot >= slots.size() || slots[slot] == nullptr || slots[slot]->id != id) return nullptr;
    return slots[slot].get();
  }
  void DropFrame(FrameId id) {
    if (Get(id) == nullptr) return;
    std::uint32_t slot = static_cast<std::uint32_t>(id) - 1;
    // The frame's memory is kept for the next one (a Map starts one per iteration): destroyed
    // and default-constructed in place (cheaper than assigning a fresh frame member by member).
    Frame* frame = slots[slot].get();
    std::destroy_at(frame);
    std::construct_at(frame);
    spare_frames.push_back(std::move(slots[slot]));
    free_slots.push_back(slot);
  }

  void Resume(Frame* f, Pending p) {
    f->pending = p;
    f->status = FrameStatus::kRunnable;
    runnable.push_back(f->id);
  }

  // ---- history ----
  using Payload = PayloadText;

  std::int64_t Emit(Frame* frame, std::string_view type, json::object details,
                    std::string_view state_name = {}, Payload payload = {},
                    std::int64_t index = -1) {
    if (finished) return 0;
    const auto previous = frame != nullptr ? frame->last_event
                                           : static_cast<std::int64_t>(history.size());
    const std::int64_t id =
        history.Append(type, previous, Now(), state_name, payload, index, &details);
    if (frame != nullptr) frame->last_event = id;
    if (options.on_event) options.on_event(history.Event(static_cast<std::size_t>(id - 1)));
    // Leave room for the closing ExecutionFailed: AWS never records more than the limit.
    if (history.size() + 1 >= options.max_history_events && !finishing) {
      FinishExecution(ExecutionStatus::kFailed, {},
                      WorkflowError{std::string(asl::errors::kRuntime),
                                    fmt::format("The execution reached the maximum number of "
                                                "history events ({}).",
                                                options.max_history_events)});
    }
    return id;
  }

  // MapIteration* events: {"name": the Map state, "index": the iteration's}.
  void EmitIteration(Frame* child, std::string_view type, std::string_view map_state) {
    Emit(child, type, json::object{}, map_state, {}, static_cast<std::int64_t>(child->index));
  }

  json::value PayloadJson(const json::value& v) {
    if (!options.history_payloads) return nullptr;
    scratch.clear();  // reused buffer: one allocation per payload text, not several
    AppendJsonText(v, scratch);
    return json::string(scratch);
  }

  // Serialized straight into the history's text block; a text longer than the room left there
  // is written aside first and then stored.
  Payload PayloadOf(const json::value& v) {
    if (!options.history_payloads) return {};
    char* room = history.Reserve(kPayloadRoom);
    std::string_view text = WriteJsonText(v, room, history.room(), scratch);
    return text.data() == room ? history.Commit(text.size()) : history.StoreText(text);
  }
  static constexpr std::size_t kPayloadRoom = 4096;

  // A state's output text is the next state's input text: serialized once, shared by both.
  Payload ExitPayload(Frame* f, const json::value& output) {
    f->exit_payload = PayloadOf(output);
    f->exit_payload_valid = true;
    return f->exit_payload;
  }
  Payload EnterPayload(Frame* f) {
    if (f->exit_payload_valid) {
      f->exit_payload_valid = false;
      return std::move(f->exit_payload);
    }
    return PayloadOf(f->input);
  }


  static const json::value& Effective(const Frame& f) {
    return f.effective_is_input ? f.input : f.effective_input;
  }

  // ---- context object ----
  // "$$" for evaluating a field of state `s` in frame `f` (with $$.Map.Item when map_value is
  // set). Valid until the next call: evaluate with it at once, copy it to keep it.
  const json::value* Context(const Frame& f, const CompiledState& s, const json::value* map_value,
                             std::size_t map_index) {
    if (!shared_context_ready) {
      shared_context_ready = true;
      json::object execution;
      for (const auto& kv : context_execution.get_object()) {
        execution.emplace(kv.key(), kv.value());
        if (kv.key() == "Id") execution.emplace("Input", exec->input);  // AWS's key order
      }
      shared_context = json::object{{"Execution", std::move(execution)},
                                    {"StateMachine", context_machine}};
    }
    json::object& ctx = shared_context.as_object();
    ctx.erase("Map");  // the last keys: erasing them keeps the others in order
    ctx.erase("Task");
    ctx["State"] = StateContext(f, s);
    if (!f.task_token.empty() && s.type == asl::StateType::kTask) {
      ctx["Task"] = json::object{{"Token", f.task_token}};
    }
    if (map_value != nullptr) {
      ctx["Map"] = json::object{
          {"Item", json::object{{"Index", static_cast<std::int64_t>(map_index)},
                                {"Value", *map_value}}}};
    }
    return &shared_context;
  }

  static json::value StateContext(const Frame& f, const CompiledState& s) {
    return json::object{{"EnteredTime", FormatTimestamp(f.entered_time)},
                        {"Name", s.name},
                        {"RetryCount", f.retry_count}};
  }

  // The context a Task handler receives: a copy, with Execution.Input only when the state itself
  // reads "$$" (the input may be large; pass what a handler needs through Parameters).
  json::value TaskContext(const Frame& f, const CompiledState& s) {
    if (s.uses_context) return *Context(f, s, nullptr, 0);
    json::object ctx{{"Execution", context_execution}, {"StateMachine", context_machine},
                     {"State", StateContext(f, s)}};
    if (!f.task_token.empty()) ctx["Task"] = json::object{{"Token", f.task_token}};
    return ctx;
  }

  asl::EvaluationContext Eval(const Frame& f, const json::value& input,
                              const json::value* ctx) const {
    asl::EvaluationContext e;
    e.input = &input;
    e.context = ctx;
    e.storage = storage;
    // No lookup function while no variable is defined (the common case): reading one is an
    // error either way.
    const Scope* scope = f.scope.get();
    for (const Scope* s = scope; s != nullptr; s = s->parent.get()) {
      if (!s->vars.empty()) {
        e.variables = [scope](std::string_view name) { return scope->Find(name); };
        break;
      }
    }
    return e;
  }

  // ---- the run ----
  // `owned_input`: the caller's input (opts.input), which the run may take over instead of
  // copying when no state reads $$.Execution.Input.
  // `names_owner` keeps the state names the history points at alive.
  Result<ExecutionResult> Run(const CompiledMachine& compiled, const ExecutionOptions& opts,
                              json::value* owned_input, std::shared_ptr<const void> names_owner) {
    ++run_id;
    machine = &compiled;
    exec = &opts;
    Clock* base = options.clock != nullptr ? options.clock : &system_clock;
    if (options.virtual_time) {
      virtual_clock = std::make_unique<ManualClock>(base->Now());
      clock = virtual_clock.get();
    } else {
      virtual_clock.reset();
      clock = base;
    }
    result = ExecutionResult{};
    history.Start(result.history, std::move(names_owner));
    slots.clear();
    free_slots.clear();
    slot_reuse.clear();
    runnable.clear();
    timers = {};
    AbandonAllTasks();
    finished = false;
    finishing = false;
    std::string name = opts.name.empty() ? NewExecutionName() : opts.name;
    std::string machine_arn = fmt::format("arn:aws:states:{}:{}:stateMachine:{}", opts.region,
                                          opts.account, opts.state_machine_name);
    result.execution_arn = fmt::format("arn:aws:states:{}:{}:execution:{}:{}", opts.region,
                                       opts.account, opts.state_machine_name, name);
    result.start_time = Now();
    std::string role = fmt::format("arn:aws:iam::{}:role/zflow-local", opts.account);
    context_execution = json::object{{"Id", result.execution_arn},
                                     {"Name", name},
                                     {"RoleArn", role},
                                     {"StartTime", FormatTimestamp(result.start_time)},
                                     {"RedriveCount", 0}};
    context_machine = json::object{{"Id", machine_arn}, {"Name", opts.state_machine_name}};
    shared_context = nullptr;
    shared_context_ready = false;

    // The execution's input text is also the first state's.
    Payload input_text = PayloadOf(opts.input);
    std::size_t input_size = input_text ? input_text.view().size() : PayloadSize(opts.input);
    // The caller's input is taken over when it may be, nothing reads it again and it is large;
    // otherwise it is copied into the execution's pool.
    value_pool = std::make_unique<ValuePool>();
    storage = json::storage_ptr(value_pool.get());
    constexpr std::size_t kTakeOverBytes = 64 * 1024;
    Frame* root = NewFrame(nullptr, &machine->top,
                           owned_input != nullptr && !compiled.uses_context &&
                                   input_size >= kTakeOverBytes
                               ? std::move(*owned_input)
                               : json::value(opts.input, storage));
    root->scope = std::make_shared<Scope>();
    root->exit_payload = input_text;
    root->exit_payload_valid = static_cast<bool>(input_text);
    Emit(nullptr, "ExecutionStarted", json::object{{"roleArn", role}}, {}, std::move(input_text));
    root->last_event = 1;
    if (input_size > options.max_payload_bytes) {
      FinishExecution(ExecutionStatus::kFailed, {},
                      WorkflowError{std::string(asl::errors::kDataLimitExceeded),
                                    fmt::format("The execution input is larger than {} bytes.",
                                                options.max_payload_bytes)});
    }
    if (machine->timeout_seconds) {
      timers.push(Timer{result.start_time + std::chrono::seconds(*machine->timeout_seconds),
                        timer_seq++, TimerKind::kExecutionTimeout, root->id, 0});
    }
    runnable.push_back(root->id);
    Loop();
    AbandonAllTasks();  // the execution is over: running handlers may stop
    ExecutionResult out = std::move(result);
    out.stop_time = Now();
    slots.clear();
    free_slots.clear();
    slot_reuse.clear();
    spare_frames.clear();
    machine = nullptr;
    storage = {};
    value_pool.reset();  // last: every value allocated from it is gone
    return out;
  }

  Frame* NewFrame(Frame* parent, const CompiledBranch* branch, json::value input) {
    std::unique_ptr<Frame> f;
    if (spare_frames.empty()) {
      f = std::make_unique<Frame>();
    } else {
      f = std::move(spare_frames.back());
      spare_frames.pop_back();
    }
    f->branch = branch;
    f->state = branch->start;
    Rebind(f->input, std::move(input));
    if (parent != nullptr) {
      f->parent = parent->id;
      f->last_event = parent->last_event;
      // Inner states read the outer variables; what they assign stays inside (the frame gets
      // its own scope on its first assignment).
      f->scope = parent->scope;
      f->owns_scope = false;
    }
    Frame* raw = f.get();
    std::uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots.size());
      slots.emplace_back();
      slot_reuse.push_back(0);
    }
    raw->id = (static_cast<FrameId>(++slot_reuse[slot]) << 32) | (slot + 1);
    slots[slot] = std::move(f);
    return raw;
  }

  // Generated names and tokens are unpredictable and differ between processes, as AWS's do
  // (the seeded `rng` is only for jitter, which tests replay).
  static std::string NewExecutionName() { return RandomUuid(); }

  void Loop() {
    while (!finished) {
      while (!runnable.empty() && !finished) {
        FrameId id = runnable.front();
        runnable.pop_front();
        Step(id);
      }
      if (finished) break;
      if (DrainCompletions()) continue;
      if (in_flight > 0) {
        // Wait for a task; in real time, not past the next timer.
        std::unique_lock<std::mutex> lock(mu);
        if (options.virtual_time || timers.empty()) {
          cv.wait(lock, [&] { return !completions.empty(); });
        } else {
          TimePoint deadline = timers.top().when;
          cv.wait_for(lock, deadline - Now(), [&] { return !completions.empty(); });
        }
        lock.unlock();
        if (DrainCompletions()) continue;
        if (options.virtual_time) continue;  // time never passes a running task
      }
      if (!timers.empty()) {
        Timer t = timers.top();
        if (Now() < t.when) {
          if (options.virtual_time) {
            virtual_clock->AdvanceTo(t.when);
          } else {
            std::this_thread::sleep_until(
                std::chrono::time_point_cast<std::chrono::system_clock::duration>(t.when));
          }
        }
        timers.pop();
        FireTimer(t);
        continue;
      }
      if (in_flight == 0) {
        FinishExecution(ExecutionStatus::kFailed, {},
                        WorkflowError{std::string(asl::errors::kRuntime),
                                      "internal error: the execution has nothing left to run"});
      }
    }
  }

  // Stops waiting for the frame's running task (if any) and asks its handler to stop.
  void AbandonTask(Frame* f) {
    ForgetToken(f);
    auto it = outstanding.find({f->id, f->generation});
    if (it == outstanding.end()) return;
    it->second->store(true);
    outstanding.erase(it);
    in_flight = outstanding.size() + tokens.size();
  }

  void AbandonAllTasks() {
    for (auto& [key, flag] : outstanding) flag->store(true);
    outstanding.clear();
    tokens.clear();
    early_answers.clear();
    {
      std::lock_guard<std::mutex> lock(mu);
      live_tokens.clear();
    }
    in_flight = 0;
  }

  static bool WaitsForToken(const CompiledState& s) {
    return s.type == asl::StateType::kTask && s.source != nullptr &&
           s.source->resource.ends_with(".waitForTaskToken");
  }

  static std::string NewToken() { return RandomHex(64); }

  void ForgetToken(Frame* f) {
    if (f->task_token.empty()) return;
    tokens.erase(f->task_token);
    early_answers.erase(f->task_token);
    {
      std::lock_guard<std::mutex> lock(mu);
      live_tokens.erase(f->task_token);
    }
    in_flight = outstanding.size() + tokens.size();
  }

  // The token is valid from the moment the task starts (its handler may pass it on at once).
  void IssueToken(Frame* f) {
    std::lock_guard<std::mutex> lock(mu);
    live_tokens.insert(f->task_token);
  }

  // The task's handler has done its part (sent the token somewhere): wait for the answer, unless
  // it came already.
  void WaitForToken(Frame* f) {
    if (auto early = early_answers.find(f->task_token); early != early_answers.end()) {
      TaskResult result = std::move(early->second.result);
      ForgetToken(f);
      return FinishTask(f, std::move(result));
    }
    f->status = FrameStatus::kWaiting;
    tokens[f->task_token] = {f->id, f->generation};
    IssueToken(f);
    in_flight = outstanding.size() + tokens.size();
    if (options.on_task_token) options.on_task_token(CurrentState(f).name, f->task_token);
  }

  // SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, from any thread.
  Status SendToken(std::string_view token, std::optional<TaskResult> result) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!live_tokens.contains(std::string(token))) {
        return NotFoundError(fmt::format("TaskDoesNotExist: no task waits for the token {}", token));
      }
      // A success or failure answers the task once: later answers are refused at once.
      if (result) live_tokens.erase(std::string(token));
      Completion c{0, 0, result ? std::move(*result) : TaskResult{}, run_id, !result.has_value()};
      c.token = std::string(token);
      completions.push_back(std::move(c));
    }
    cv.notify_one();
    return Status::Ok();
  }


  void AddTimer(TimePoint when, TimerKind kind, Frame* f) {
    timers.push(Timer{when, timer_seq++, kind, f->id, f->generation});
  }

  bool DrainCompletions() {
    std::deque<Completion> batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      batch.swap(completions);
    }
    for (Completion& c : batch) {
      if (c.run_id != run_id || finished) continue;
      if (!c.token.empty()) {
        auto it = tokens.find(c.token);
        if (it == tokens.end()) {
          // Its handler is still running: keep the answer (not a heartbeat) for when it is done.
          if (!c.heartbeat) early_answers.insert_or_assign(c.token, std::move(c));
          continue;
        }
        Frame* f = Get(it->second.first);
        if (f == nullptr || f->generation != it->second.second) continue;
        if (c.heartbeat) {
          if (f->heartbeat_seconds > 0) {
            f->heartbeat_deadline = After(static_cast<double>(f->heartbeat_seconds));
          }
          continue;
        }
        ForgetToken(f);
        FinishTask(f, std::move(c.result));
        runnable.push_back(f->id);
        continue;
      }
      if (c.heartbeat) {
        Frame* f = outstanding.contains({c.frame, c.generation}) ? Get(c.frame) : nullptr;
        if (f != nullptr && f->heartbeat_seconds > 0) {
          f->heartbeat_deadline = After(static_cast<double>(f->heartbeat_seconds));
        }
        continue;
      }
      if (outstanding.erase({c.frame, c.generation}) == 0) continue;  // abandoned already
      in_flight = outstanding.size() + tokens.size();
      Frame* f = Get(c.frame);
      // Ignore tasks that timed out or whose frame was aborted.
      if (f == nullptr || c.generation != f->generation || f->status != FrameStatus::kWaiting) {
        continue;
      }
      TaskDone(f, std::move(c.result));
      if (f->status == FrameStatus::kRunnable) runnable.push_back(f->id);
    }
    return !batch.empty();
  }

  void FireTimer(const Timer& t) {
    if (t.kind == TimerKind::kExecutionTimeout) {
      FinishExecution(ExecutionStatus::kTimedOut, {},
                      WorkflowError{std::string(asl::errors::kTimeout),
                                    "The execution timed out."});
      return;
    }
    Frame* f = Get(t.frame);
    if (f == nullptr || t.generation != f->generation || f->status != FrameStatus::kWaiting) {
      return;
    }
    switch (t.kind) {
      case TimerKind::kWaitDone: return Resume(f, Pending::kExitWait);
      case TimerKind::kRetry: return Resume(f, Pending::kRetry);
      case TimerKind::kTaskTimeout: {
        AbandonTask(f);
        ++f->generation;  // the late completion is ignored
        const CompiledState& s = CurrentState(f);
        std::string rname;
        std::string rtype = ResourceType(s.source->resource, &rname);
        Emit(f, "TaskTimedOut",
             json::object{{"resourceType", rtype}, {"resource", rname},
                          {"error", asl::errors::kTimeout}, {"cause", ""}});
        f->pending_error = WorkflowError{std::string(asl::errors::kTimeout), ""};
        return Resume(f, Pending::kHandleError);
      }
      case TimerKind::kHeartbeatTimeout: {
        if (Now() < f->heartbeat_deadline) {  // it beat since: wait for the new deadline
          timers.push(Timer{f->heartbeat_deadline, timer_seq++, TimerKind::kHeartbeatTimeout,
                            f->id, f->generation});
          return;
        }
        AbandonTask(f);
        ++f->generation;
        const CompiledState& s = CurrentState(f);
        std::string rname;
        std::string rtype = ResourceType(s.source->resource, &rname);
        Emit(f, "TaskTimedOut",
             json::object{{"resourceType", rtype}, {"resource", rname},
                          {"error", asl::errors::kHeartbeatTimeout}, {"cause", ""}});
        f->pending_error = WorkflowError{std::string(asl::errors::kHeartbeatTimeout), ""};
        return Resume(f, Pending::kHandleError);
      }
      case TimerKind::kExecutionTimeout: return;
    }
  }

  const CompiledState& CurrentState(const Frame* f) const {
    return f->branch->states[static_cast<std::size_t>(f->state)];
  }

  // ---- finishing ----
  void FinishExecution(ExecutionStatus status, json::value output, WorkflowError error) {
    if (finished || finishing) return;
    finishing = true;  // the closing event may pass the history limit; it is still written
    result.status = status;
    switch (status) {
      case ExecutionStatus::kSucceeded:
        Emit(nullptr, "ExecutionSucceeded", json::object{}, {}, PayloadOf(output));
        result.output = std::move(output);
        break;
      case ExecutionStatus::kTimedOut:
        Emit(nullptr, "ExecutionTimedOut",
             json::object{{"error", error.error}, {"cause", error.cause}});
        result.error = std::move(error.error);
        result.cause = std::move(error.cause);
        break;
      default:
        Emit(nullptr, "ExecutionFailed",
             json::object{{"error", error.error}, {"cause", error.cause}});
        result.error = std::move(error.error);
        result.cause = std::move(error.cause);
        break;
    }
    finished = true;
  }

  // ---- stepping ----
  void Step(FrameId id) {
    Frame* f = Get(id);
    if (f == nullptr) return;
    // Run the frame until it blocks or ends; bounded so siblings get turns.
    for (int budget = 0; budget < 64 && f->status == FrameStatus::kRunnable && !finished;
         ++budget) {
      Pending p = f->pending;
      f->pending = Pending::kNone;
      const CompiledState& s = CurrentState(f);
      current_entered_event = f->entered_event;
      switch (p) {
        case Pending::kEnter: RunState(f, /*entering=*/true); break;
        case Pending::kRetry: RunState(f, /*entering=*/false); break;
        case Pending::kFinishResult: FinishResult(f, s, std::move(f->pending_value)); break;
        case Pending::kExitWait: ExitState(f, s, std::move(f->pending_value)); break;
        case Pending::kHandleError: HandleError(f, s, std::move(f->pending_error)); break;
        case Pending::kNone:
          return FinishExecution(
              ExecutionStatus::kFailed, {},
              WorkflowError{std::string(asl::errors::kRuntime),
                            fmt::format("internal error: state '{}' left no next step", s.name)});
      }
    }
    if (finished) return;
    if (f->status == FrameStatus::kRunnable) {
      runnable.push_back(id);
    } else if (f->status != FrameStatus::kWaiting && f->parent != 0) {
      DropFrame(id);  // a finished or aborted child: its parent has what it needs
    }
  }

  void RunState(Frame* f, bool entering) {
    const CompiledState& s = CurrentState(f);
    if (entering) {
      f->entered_time = Now();
      f->retry_count = 0;
      f->retry_attempts.assign(s.retriers.size(), 0);
      f->entered_event = Emit(f, s.entered_event_type, json::object{}, s.name, EnterPayload(f));
      current_entered_event = f->entered_event;
      if (finished) return;
    }
    // Each attempt of a .waitForTaskToken task gets a new token.
    f->task_token = WaitsForToken(s) ? "zflow-" + NewToken() : std::string();
    const json::value* ctx = s.uses_context ? Context(*f, s, nullptr, 0) : nullptr;
    // The effective input: the raw input itself unless InputPath selects something else; it is
    // moved, not copied, where the raw input is not needed again.
    json::value selected;
    const json::value* effective = &f->input;
    if (s.input_path.mode != CompiledPath::Mode::kDefault) {
      auto v = ApplyInputPath(*f, s, f->input, ctx);
      if (!v.ok()) return HandleError(f, s, v.error());
      selected = std::move(*v);
      effective = &selected;
    }
    auto take = [&]() -> json::value {
      return effective == &f->input ? std::move(f->input) : std::move(selected);
    };
    switch (s.type) {
      case asl::StateType::kPass: return RunPass(f, s, *effective, take, ctx);
      case asl::StateType::kTask:
      case asl::StateType::kParallel:
      case asl::StateType::kMap: {
        f->effective_is_input = false;
        if (s.parameters) {
          auto p = s.parameters->Evaluate(Eval(*f, *effective, ctx), asl::errors::kRuntime);
          if (!p.ok()) return HandleError(f, s, Named(p.error(), s));
          Rebind(f->effective_input, std::move(*p));
        } else if (effective == &f->input) {
          // The raw input stays unchanged until the state ends: read it in place.
          f->effective_is_input = true;
          f->effective_input = nullptr;
        } else {
          Rebind(f->effective_input, std::move(selected));
        }
        if (s.type == asl::StateType::kTask) return StartTask(f, s);
        if (s.type == asl::StateType::kParallel) return StartParallel(f, s);
        return StartMap(f, s);
      }
      case asl::StateType::kChoice: return RunChoice(f, s, take(), ctx);
      case asl::StateType::kWait: return RunWait(f, s, take(), ctx);
      case asl::StateType::kSucceed: {
        auto out = ApplyOutputPath(*f, s, take(), ctx);
        if (!out.ok()) return HandleError(f, s, out.error());
        return ExitState(f, s, std::move(*out));
      }
      case asl::StateType::kFail: return RunFail(f, s, ctx);
    }
  }

  asl::Outcome<json::value> ApplyInputPath(const Frame& f, const CompiledState& s,
                                           const json::value& input, const json::value* ctx) {
    switch (s.input_path.mode) {
      case CompiledPath::Mode::kDefault: return input;
      case CompiledPath::Mode::kNull: return json::value(json::object());
      case CompiledPath::Mode::kPath: {
        auto v = s.input_path.path->Evaluate(Eval(f, input, ctx));
        if (!v.ok()) return Named(v.error(), s);
        return v;
      }
    }
    return input;
  }

  asl::Outcome<json::value> ApplyOutputPath(const Frame& f, const CompiledState& s,
                                            json::value output, const json::value* ctx) {
    switch (s.output_path.mode) {
      case CompiledPath::Mode::kDefault: return output;
      case CompiledPath::Mode::kNull: return json::value(json::object());
      case CompiledPath::Mode::kPath: {
        auto v = s.output_path.path->Evaluate(Eval(f, output, ctx));
        if (!v.ok()) return Named(v.error(), s);
        return v;
      }
    }
    return output;
  }

  // ResultPath: merge `result` into the raw state input.
  static asl::Outcome<json::value> ApplyResultPath(const CompiledPath& rp,
                                                   const json::value& raw_input,
                                                   json::value result) {
    switch (rp.mode) {
      case CompiledPath::Mode::kDefault: return result;
      case CompiledPath::Mode::kNull: return raw_input;
      case CompiledPath::Mode::kPath: return rp.path->Assign(raw_input, std::move(result));
    }
    return result;
  }

  // Causes name the state and the event that entered it, as AWS's do.
  WorkflowError Named(WorkflowError e, const CompiledState& s) const {
    e.cause = fmt::format("An error occurred while executing the state '{}' (entered at the event "
                          "id #{}). {}",
                          s.name, current_entered_event, e.cause);
    return e;
  }

  // After a Task/Parallel/Map produced `result`: ResultSelector, Assign, ResultPath, OutputPath.
  void FinishResult(Frame* f, const CompiledState& s, json::value result) {
    const json::value* ctx = s.uses_context ? Context(*f, s, nullptr, 0) : nullptr;
    if (s.result_selector) {
      auto sel = s.result_selector->Evaluate(Eval(*f, result, ctx), asl::errors::kRuntime);
      if (!sel.ok()) return HandleError(f, s, Named(sel.error(), s));
      result = std::move(*sel);
    }
    CompleteState(f, s, std::move(result), ctx);
  }

  // Shared tail of Pass/Task/Parallel/Map: Assign sees the result as "$" and the variables as
  // they were before the state; then ResultPath, OutputPath, exit.
  void CompleteState(Frame* f, const CompiledState& s, json::value&& result,
                     const json::value* ctx) {
    std::optional<json::value> assigned;
    if (s.assign) {
      auto a = s.assign->Evaluate(Eval(*f, result, ctx), asl::errors::kRuntime);
      if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
      assigned = std::move(*a);
    }
    // Without retriers or catchers nothing reads the raw input after this: merge into it, in
    // place, and exit with it.
    bool keep_input = !s.retriers.empty() || !s.catchers.empty();
    if (!keep_input && s.result_path.mode == CompiledPath::Mode::kPath &&
        s.output_path.mode == CompiledPath::Mode::kDefault) {
      if (auto error = s.result_path.path->AssignInPlace(f->input, std::move(result))) {
        return HandleError(f, s, Named(*std::move(error), s));
      }
      if (assigned) AssignVariables(f, std::move(*assigned));
      return ExitState(f, s, std::move(f->input));
    }
    asl::Outcome<json::value> merged =
        s.result_path.mode == CompiledPath::Mode::kPath
            ? s.result_path.path->Assign(keep_input ? f->input : std::move(f->input),
                                         std::move(result))
            : ApplyResultPath(s.result_path, f->input, std::move(result));
    if (!merged.ok()) return HandleError(f, s, Named(merged.error(), s));
    auto out = ApplyOutputPath(*f, s, std::move(*merged), ctx);
    if (!out.ok()) return HandleError(f, s, out.error());
    if (assigned) AssignVariables(f, std::move(*assigned));
    ExitState(f, s, std::move(*out));
  }

  void AssignVariables(Frame* f, json::value assigned) {
    // The StateExited event lists what the state assigned, values as JSON text (as AWS does).
    for (const auto& kv : assigned.as_object()) {
      f->assigned_for_event[kv.key()] = ToJsonText(kv.value());
    }
    if (!f->owns_scope) {
      auto own = std::make_shared<Scope>();
      own->parent = std::move(f->scope);
      f->scope = std::move(own);
      f->owns_scope = true;
    }
    for (auto& kv : assigned.as_object()) {
      f->scope->vars.insert_or_assign(std::string(kv.key()), std::move(kv.value()));
    }
  }

  // Exited events: the assigned variables, if any (name and output are stored apart).
  json::object ExitedDetails(Frame* f) {
    json::object d;
    if (!f->assigned_for_event.empty()) {
      d["assignedVariables"] = std::move(f->assigned_for_event);
      d["assignedVariablesDetails"] = json::object{{"truncated", false}};
      f->assigned_for_event = json::object();
    }
    return d;
  }

  // States whose output is their input, unchanged (no path, template or result applies).
  static bool PassesInputThrough(const CompiledState& s) {
    if (s.input_path.mode != CompiledPath::Mode::kDefault ||
        s.output_path.mode != CompiledPath::Mode::kDefault) {
      return false;
    }
    switch (s.type) {
      case asl::StateType::kChoice:
      case asl::StateType::kWait:
      case asl::StateType::kSucceed: return true;
      case asl::StateType::kPass:
        return !s.parameters && !s.result && s.result_path.mode == CompiledPath::Mode::kDefault;
      default: return false;
    }
  }

  // The exit payload text: the entered one for a state that passes its input through.
  Payload ExitText(Frame* f, const CompiledState& s, const json::value& output) {
    Payload entered =
        f->entered_event > 0 ? history.payload(static_cast<std::size_t>(f->entered_event - 1))
                             : Payload();
    if (!entered || !PassesInputThrough(s)) return ExitPayload(f, output);
    f->exit_payload = entered;
    f->exit_payload_valid = true;
    return f->exit_payload;
  }

  // `output` may be the frame's own input (a state that merged its result in place).
  void ExitState(Frame* f, const CompiledState& s, json::value&& output) {
    // The history text, when kept, is the payload as AWS measures it: no second walk.
    Payload text = ExitText(f, s, output);
    std::size_t size = text ? text.view().size() : PayloadSize(output);
    if (size > options.max_payload_bytes) {
      f->exit_payload_valid = false;
      return HandleError(f, s, DataLimit(s));  // as for a task result: States.ALL won't catch it
    }
    Emit(f, s.exited_event_type, ExitedDetails(f), s.name, std::move(text));
    if (finished) return;
    if (s.type == asl::StateType::kSucceed || s.end) {
      Rebind(f->output, std::move(output));
      f->status = FrameStatus::kSucceeded;
      return FrameDone(f);
    }
    Transition(f, s.next, std::move(output));
  }

  WorkflowError DataLimit(const CompiledState& s) const {
    return WorkflowError{std::string(asl::errors::kDataLimitExceeded),
                         fmt::format("The state/task '{}' returned a result with a size exceeding "
                                     "the maximum number of bytes service limit ({} bytes).",
                                     s.name, options.max_payload_bytes)};
  }

  // Long chains are memory-bound: the next state's data was requested one transition ago; ask
  // for the one after it now.
  static void PrefetchState(const CompiledState& n) {
    const char* line = reinterpret_cast<const char*>(&n);
    for (std::size_t i = 0; i < 512; i += 64) __builtin_prefetch(line + i);
    if (n.parameters) n.parameters->Prefetch();
    if (n.result_path.path) n.result_path.path->Prefetch();
  }

  static void Transition(Frame* f, int next, json::value&& input) {
    const auto& states = f->branch->states;
    const CompiledState& n = states[static_cast<std::size_t>(next)];
    PrefetchState(n);
    if (n.next >= 0) {
      const char* after = reinterpret_cast<const char*>(&states[static_cast<std::size_t>(n.next)]);
      for (std::size_t i = 0; i < 512; i += 64) __builtin_prefetch(after + i);
    }
    f->state = next;
    if (&input != &f->input) Rebind(f->input, std::move(input));
    f->pending = Pending::kEnter;
    f->status = FrameStatus::kRunnable;
  }

  template <typename Take>
  void RunPass(Frame* f, const CompiledState& s, const json::value& effective, Take&& take,
               const json::value* ctx) {
    // Parameters shape the input of a virtual task whose result is Result, so Result wins.
    json::value result;
    if (s.parameters) {
      auto p = s.parameters->Evaluate(Eval(*f, effective, ctx), asl::errors::kRuntime);
      if (!p.ok()) return HandleError(f, s, Named(p.error(), s));
      Rebind(result, std::move(*p));
    }
    if (s.result) {
      Rebind(result, json::value(*s.result, storage));
    } else if (!s.parameters) {
      // With the default ResultPath the raw input is not needed again. (Not a conditional
      // expression: `c ? take() : effective` is a const prvalue, which copies the input.)
      if (s.result_path.mode == CompiledPath::Mode::kDefault) {
        Rebind(result, take());
      } else {
        Rebind(result, json::value(effective));
      }
    }
    CompleteState(f, s, std::move(result), ctx);
  }

  void RunChoice(Frame* f, const CompiledState& s, json::value effective, const json::value* ctx) {
    asl::EvaluationContext e = Eval(*f, effective, ctx);
    const CompiledChoice* matched = nullptr;
    for (const CompiledChoice& c : s.choices) {
      auto m = asl::EvaluateChoiceRule(*c.rule, e);
      if (!m.ok()) return HandleError(f, s, Named(m.error(), s));
      if (*m) {
        matched = &c;
        break;
      }
    }
    int next = matched != nullptr ? matched->next : s.default_next;
    if (next < 0) {
      return HandleError(f, s,
                         WorkflowError{std::string(asl::errors::kNoChoiceMatched),
                                       fmt::format("No Choice Rule matched and no Default is "
                                                   "defined in the state '{}'.",
                                                   s.name)});
    }
    // The state's Assign, then the matched rule's (the rule wins on a name clash).
    json::object assigned;
    for (const asl::PayloadTemplate* t :
         {s.assign ? &*s.assign : nullptr,
          matched != nullptr && matched->assign ? &*matched->assign : nullptr}) {
      if (t == nullptr) continue;
      auto a = t->Evaluate(e, asl::errors::kRuntime);
      if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
      for (auto& kv : a->as_object()) assigned.insert_or_assign(kv.key(), std::move(kv.value()));
    }
    auto out = ApplyOutputPath(*f, s, std::move(effective), ctx);
    if (!out.ok()) return HandleError(f, s, out.error());
    if (!assigned.empty()) AssignVariables(f, json::value(std::move(assigned)));
    Emit(f, "ChoiceStateExited", ExitedDetails(f), s.name, ExitText(f, s, *out));
    if (finished) return;
    Transition(f, next, std::move(*out));
  }

  void RunWait(Frame* f, const CompiledState& s, json::value effective, const json::value* ctx) {
    TimePoint until = Now();
    asl::EvaluationContext e = Eval(*f, effective, ctx);
    auto at = [](const asl::Instant& t) {
      // TimePoint holds nanoseconds in 64 bits (until 2262); later instants saturate.
      constexpr std::int64_t kMaxSeconds = 9'000'000'000;
      if (t.seconds > kMaxSeconds) return TimePoint(std::chrono::seconds(kMaxSeconds));
      if (t.seconds < -kMaxSeconds) return TimePoint(std::chrono::seconds(-kMaxSeconds));
      return TimePoint(std::chrono::seconds(t.seconds) + std::chrono::nanoseconds(t.nanos));
    };
    if (s.seconds) {
      until = After(static_cast<double>(*s.seconds));
    } else if (s.timestamp) {
      until = at(*s.timestamp);
    } else if (s.seconds_path) {
      auto v = s.seconds_path->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      if (!v->is_int64() || v->get_int64() < 0) {
        return HandleError(
            f, s,
            Named(WorkflowError{std::string(asl::errors::kRuntime),
                                fmt::format("The SecondsPath '{}' must select a non-negative "
                                            "integer, not {}",
                                            s.seconds_path->text(), ToJsonText(*v))},
                  s));
      }
      until = After(static_cast<double>(v->get_int64()));
    } else if (s.timestamp_path) {
      auto v = s.timestamp_path->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      std::optional<asl::Instant> t;
      if (v->is_string()) t = asl::ParseTimestamp(v->get_string());
      if (!t) {
        return HandleError(
            f, s,
            Named(WorkflowError{std::string(asl::errors::kRuntime),
                                fmt::format("The TimestampPath '{}' must select an RFC 3339 "
                                            "timestamp, not {}",
                                            s.timestamp_path->text(), ToJsonText(*v))},
                  s));
      }
      until = at(*t);
    }
    auto out = ApplyOutputPath(*f, s, std::move(effective), ctx);
    if (!out.ok()) return HandleError(f, s, out.error());
    if (s.assign) {
      auto a = s.assign->Evaluate(e, asl::errors::kRuntime);
      if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
      AssignVariables(f, std::move(*a));
    }
    if (until <= Now()) return ExitState(f, s, std::move(*out));
    Rebind(f->pending_value, std::move(*out));
    f->status = FrameStatus::kWaiting;
    ++f->generation;
    AddTimer(until, TimerKind::kWaitDone, f);
  }

  void RunFail(Frame* f, const CompiledState& s, const json::value* ctx) {
    asl::EvaluationContext e = Eval(*f, f->input, ctx);
    auto text = [&](const CompiledText& t) -> asl::Outcome<std::string> {
      if (t.literal) return *t.literal;
      if (!t.path && !t.call) return std::string();
      asl::Outcome<json::value> v = t.path ? t.path->Evaluate(e) : t.call->Evaluate(e);
      if (!v.ok()) return v.error();
      if (!v->is_string()) {
        return WorkflowError{std::string(asl::errors::kRuntime),
                             fmt::format("The ErrorPath/CausePath must select a string, not {}",
                                         ToJsonText(*v))};
      }
      return std::string(v->get_string());
    };
    auto error = text(s.error);
    if (!error.ok()) return FailFrame(f, Named(error.error(), s));
    auto cause = text(s.cause);
    if (!cause.ok()) return FailFrame(f, Named(cause.error(), s));
    FailFrame(f, WorkflowError{std::move(*error), std::move(*cause)});
  }

  // ---- Task ----
  void StartTask(Frame* f, const CompiledState& s) {
    std::string rname;
    std::string rtype = ResourceType(s.source->resource, &rname);
    json::value ctx = TaskContext(*f, s);
    std::optional<std::int64_t> timeout = s.timeout_seconds;
    std::optional<std::int64_t> heartbeat = s.heartbeat_seconds;
    asl::EvaluationContext e = Eval(*f, f->input, &ctx);
    for (auto [path, out] : {std::pair{&s.timeout_seconds_path, &timeout},
                             std::pair{&s.heartbeat_seconds_path, &heartbeat}}) {
      if (!*path) continue;
      auto v = (*path)->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      if (!v->is_int64() || v->get_int64() <= 0) {
        return HandleError(
            f, s,
            Named(WorkflowError{std::string(asl::errors::kRuntime),
                                fmt::format("The path '{}' must select a positive integer, not {}",
                                            (*path)->text(), ToJsonText(*v))},
                  s));
      }
      *out = v->get_int64();
    }
    json::object scheduled{{"resourceType", rtype},
                           {"resource", rname},
                           {"region", exec->region},
                           {"parameters", PayloadJson(Effective(*f))}};
    if (timeout) scheduled["timeoutInSeconds"] = *timeout;
    if (heartbeat) scheduled["heartbeatInSeconds"] = *heartbeat;
    Emit(f, "TaskScheduled", std::move(scheduled));
    if (finished) return;
    Emit(f, "TaskStarted", json::object{{"resourceType", rtype}, {"resource", rname}});
    if (finished) return;
    TaskHandler* handler =
        options.integrations != nullptr ? options.integrations->Find(s.source->resource) : nullptr;
    const bool token_task = WaitsForToken(s);
    if (token_task) IssueToken(f);
    if (handler == nullptr && token_task) {
      // Nothing local sends the token: whoever answers gets it from the history or the
      // progress display (zflow task-token succeed|fail|heartbeat).
      ++f->generation;
      if (timeout) AddTimer(After(static_cast<double>(*timeout)), TimerKind::kTaskTimeout, f);
      f->heartbeat_seconds = heartbeat.value_or(0);
      if (heartbeat) {
        f->heartbeat_deadline = After(static_cast<double>(*heartbeat));
        AddTimer(f->heartbeat_deadline, TimerKind::kHeartbeatTimeout, f);
      }
      return WaitForToken(f);
    }
    if (handler == nullptr) {
      return TaskDone(f, TaskResult::Failure(
                             std::string(asl::errors::kRuntime),
                             fmt::format("No local handler serves the resource '{}' of the state "
                                         "'{}'; map it in the local profile or mock it.",
                                         s.source->resource, s.name)));
    }
    TaskRequest request;
    request.resource = s.source->resource;
    request.state_name = s.name;
    request.input = json::value(Effective(*f), json::storage_ptr());  // handlers run elsewhere
    request.context = std::move(ctx);
    request.retry_count = f->retry_count;
    if (timeout) request.timeout = std::chrono::seconds(*timeout);
    ++f->generation;
    f->status = FrameStatus::kWaiting;
    if (handler->inline_safe() && !token_task) return TaskDone(f, InvokeSafely(handler, request));
    if (timeout) AddTimer(After(static_cast<double>(*timeout)), TimerKind::kTaskTimeout, f);
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    request.cancelled = cancel;
    outstanding[{f->id, f->generation}] = std::move(cancel);
    f->heartbeat_seconds = heartbeat.value_or(0);
    if (heartbeat) {
      f->heartbeat_deadline = After(static_cast<double>(*heartbeat));
      AddTimer(f->heartbeat_deadline, TimerKind::kHeartbeatTimeout, f);
      request.heartbeat = [this, id = f->id, gen = f->generation, run = run_id] {
        {
          std::lock_guard<std::mutex> lock(mu);
          completions.push_back(Completion{id, gen, {}, run, /*heartbeat=*/true});
        }
        cv.notify_one();
      };
    }
    in_flight = outstanding.size() + tokens.size();
    pool->Post([this, handler, id = f->id, gen = f->generation, run = run_id,
               request = std::move(request)] {
      TaskResult r = InvokeSafely(handler, request);
      {
        std::lock_guard<std::mutex> lock(mu);
        completions.push_back(Completion{id, gen, std::move(r), run});
      }
      cv.notify_one();
    });
  }

  static TaskResult InvokeSafely(TaskHandler* handler, const TaskRequest& request) {
    // A handler that throws becomes States.TaskFailed with the message as the cause.
    try {
      return handler->Invoke(request);
    } catch (const std::exception& e) {
      return TaskResult::Failure(std::string(asl::errors::kTaskFailed), e.what());
    }
  }

  // The task's handler answered. A .waitForTaskToken task that was handed off waits for its
  // token; otherwise the task is done.
  void TaskDone(Frame* f, TaskResult r) {
    if (WaitsForToken(CurrentState(f))) {
      if (r.ok()) return WaitForToken(f);
      ForgetToken(f);  // the handler failed: the token is void
    }
    FinishTask(f, std::move(r));
  }

  // The task answered: record it and leave the frame runnable with what to do next.
  void FinishTask(Frame* f, TaskResult r) {
    const CompiledState& s = CurrentState(f);
    ++f->generation;  // cancels the timeout timer
    f->status = FrameStatus::kRunnable;
    std::string rname;
    std::string rtype = ResourceType(s.source->resource, &rname);
    if (!r.ok()) {
      Emit(f, "TaskFailed",
           json::object{{"resourceType", rtype}, {"resource", rname}, {"error", r.error},
                        {"cause", r.cause}});
      f->pending_error = WorkflowError{std::move(r.error), std::move(r.cause)};
      f->pending = Pending::kHandleError;
      return;
    }
    if (PayloadSize(*r.output) > options.max_payload_bytes) {
      f->pending_error = DataLimit(s);
      f->pending = Pending::kHandleError;
      return;
    }
    Emit(f, "TaskSucceeded", json::object{{"resourceType", rtype}, {"resource", rname}}, {},
         PayloadOf(*r.output));
    Rebind(f->pending_value, std::move(*r.output));
    f->pending = Pending::kFinishResult;
  }

  // ---- Parallel / Map ----
  void StartParallel(Frame* f, const CompiledState& s) {
    Emit(f, "ParallelStateStarted", json::object{});
    if (finished) return;
    auto g = std::make_unique<ChildGroup>();
    g->owner = f->id;
    g->keep_results = KeepsResults(s);
    g->results.assign(s.branches.size(), nullptr);
    g->children.assign(s.branches.size(), 0);
    for (std::size_t i = 0; i < s.branches.size(); ++i) {
      Frame* child = NewFrame(f, s.branches[i].get(), json::value(Effective(*f), storage));
      child->index = i;
      g->children[i] = child->id;
      runnable.push_back(child->id);
      ++g->running;
    }
    g->next_to_start = s.branches.size();
    f->children = std::move(g);
    f->status = FrameStatus::kWaiting;
    ++f->generation;
  }

  void StartMap(Frame* f, const CompiledState& s) {
    const json::value& effective = Effective(*f);
    asl::EvaluationContext e =
        Eval(*f, effective, s.uses_context ? Context(*f, s, nullptr, 0) : nullptr);
    // The items: read in place where a path names them (each iteration gets its own copy of its
    // item), owned when read from S3 or selected by an indefinite path.
    json::value items_owned;
    const json::value* items_value = &items_owned;
    if (s.item_reader) {
      auto read = ReadItems(s, e);
      if (!read.ok()) return HandleError(f, s, Named(read.error(), s));
      items_owned = std::move(*read);
    } else if (s.items_path) {
      const json::value* found =
          s.items_path->is_reference_path() ? s.items_path->Find(e) : nullptr;
      if (found != nullptr) {
        items_value = found;
      } else {
        auto v = s.items_path->Evaluate(e);
        if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
        items_owned = std::move(*v);
      }
    } else {
      items_value = &effective;
    }
    if (!items_value->is_array()) {
      return HandleError(
          f, s,
          Named(WorkflowError{std::string(asl::errors::kRuntime),
                              fmt::format("Map state input must be an array, but the items are {}",
                                          ToJsonText(*items_value).substr(0, 200))},
                s));
    }
    auto g = std::make_unique<ChildGroup>();
    g->owner = f->id;
    g->is_map = true;
    std::int64_t max_concurrency = s.max_concurrency;
    if (s.max_concurrency_path) {
      auto v = s.max_concurrency_path->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      if (!v->is_int64() || v->get_int64() < 0) {
        return HandleError(f, s, Named(WorkflowError{std::string(asl::errors::kRuntime),
                                                     "MaxConcurrencyPath must select a "
                                                     "non-negative integer"},
                                       s));
      }
      max_concurrency = v->get_int64();
    }
    g->max_concurrency = static_cast<std::size_t>(max_concurrency);
    g->tolerated_count = s.tolerated_failure_count;
    g->tolerated_percentage = s.tolerated_failure_percentage;
    if (s.tolerated_failure_count_path) {
      auto v = s.tolerated_failure_count_path->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      if (!v->is_int64() || v->get_int64() < 0) {
        return HandleError(f, s, Named(WorkflowError{std::string(asl::errors::kRuntime),
                                                     "ToleratedFailureCountPath must select a "
                                                     "non-negative integer"},
                                       s));
      }
      g->tolerated_count = v->get_int64();
    }
    if (s.tolerated_failure_percentage_path) {
      auto v = s.tolerated_failure_percentage_path->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      if (!v->is_number() || v->to_number<double>() < 0 || v->to_number<double>() > 100) {
        return HandleError(f, s, Named(WorkflowError{std::string(asl::errors::kRuntime),
                                                     "ToleratedFailurePercentagePath must select "
                                                     "a number from 0 to 100"},
                                       s));
      }
      g->tolerated_percentage = v->to_number<double>();
    }
    const json::array& items = items_value->get_array();
    const bool owned = items_value == &items_owned;
    g->results.assign(items.size(), nullptr);
    g->children.assign(items.size(), 0);
    g->keep_results = KeepsResults(s);
    // Each iteration's input: ItemSelector (which sees $$.Map.Item) or the item itself. Items
    // read in place are copied as their iteration starts.
    if (!s.item_selector && !owned && !s.item_batcher && !s.result_writer) {
      g->source = &items;
    } else {
      g->items.reserve(items.size());
    }
    for (std::size_t i = 0; g->source == nullptr && i < items.size(); ++i) {
      if (s.item_selector) {
        auto sel = s.item_selector->Evaluate(
            Eval(*f, effective, s.uses_context ? Context(*f, s, &items[i], i) : nullptr),
            asl::errors::kRuntime);
        if (!sel.ok()) return HandleError(f, s, Named(sel.error(), s));
        g->items.push_back(std::move(*sel));
      } else if (owned) {
        g->items.push_back(std::move(items_owned.as_array()[i]));
      } else {
        g->items.emplace_back(items[i], storage);
      }
    }
    // No $$.Map.Item past here.
    if (s.item_selector) e.context = s.uses_context ? Context(*f, s, nullptr, 0) : nullptr;
    if (s.item_batcher) {
      auto batches = Batch(s, e, std::move(g->items));
      if (!batches.ok()) return HandleError(f, s, Named(batches.error(), s));
      g->items = std::move(*batches);
      g->results.assign(g->items.size(), nullptr);
      g->children.assign(g->items.size(), 0);
    }
    if (s.result_writer) {
      g->inputs = g->items;
      g->failed_flags.assign(g->items.size(), 0);
    }
    Emit(f, "MapStateStarted", json::object{{"length", static_cast<std::int64_t>(items.size())}});
    if (finished) return;
    f->children = std::move(g);
    f->status = FrameStatus::kWaiting;
    ++f->generation;
    if (f->children->results.empty()) return CompleteGroup(f);
    StartMoreIterations(f);
  }

  // Whether a Parallel or Map state reads its branches' / iterations' results: not with
  // "ResultPath": null unless a ResultSelector, an Assign or a ResultWriter takes them.
  static bool KeepsResults(const CompiledState& s) {
    return s.result_path.mode != CompiledPath::Mode::kNull || s.result_selector || s.assign ||
           s.result_writer;
  }

  void StartMoreIterations(Frame* f) {
    ChildGroup& g = *f->children;
    const CompiledState& s = CurrentState(f);
    std::size_t limit = g.max_concurrency == 0 ? options.max_parallel_children : g.max_concurrency;
    // An inline Map runs at most 40 iterations at once on AWS, whatever its MaxConcurrency.
    if (!s.distributed) limit = std::min(limit, kInlineMapConcurrency);
    while (g.next_to_start < g.results.size() && g.running < limit && !finished) {
      std::size_t i = g.next_to_start++;
      Frame* child = NewFrame(f, s.processor.get(),
                              g.source != nullptr ? json::value((*g.source)[i], storage)
                                                  : std::move(g.items[i]));
      child->index = i;
      EmitIteration(child, "MapIterationStarted", s.name);
      g.children[i] = child->id;
      runnable.push_back(child->id);
      ++g.running;
    }
  }

  // A child frame ended (succeeded or failed).
  void FrameDone(Frame* child) {
    if (child->parent == 0) {
      if (child->status == FrameStatus::kSucceeded) {
        FinishExecution(ExecutionStatus::kSucceeded, std::move(child->output), {});
      } else {
        FinishExecution(ExecutionStatus::kFailed, {}, std::move(child->error));
      }
      return;
    }
    Frame* owner = Get(child->parent);
    if (owner == nullptr || !owner->children) return;
    ChildGroup& g = *owner->children;
    --g.running;
    ++g.finished;
    const CompiledState& s = CurrentState(owner);
    if (child->status == FrameStatus::kSucceeded) {
      if (g.keep_results) Rebind(g.results[child->index], std::move(child->output));
      if (g.is_map) {
        EmitIteration(child, "MapIterationSucceeded", s.name);
      }
    } else {
      ++g.failed;
      if (child->index < g.failed_flags.size()) g.failed_flags[child->index] = 1;
      if (g.is_map) {
        EmitIteration(child, "MapIterationFailed", s.name);
        g.results[child->index] =
            json::object{{"Error", child->error.error}, {"Cause", child->error.cause}};
      }
      if (!g.first_error) g.first_error = child->error;
      if (!WithinTolerance(g)) {
        WorkflowError err = *g.first_error;
        // A distributed Map reports any failure past its threshold (0 by default) this way.
        if (g.is_map && (g.tolerated_count || g.tolerated_percentage || s.distributed)) {
          err = WorkflowError{std::string(asl::errors::kExceedToleratedFailureThreshold),
                              fmt::format("The specified tolerated failure threshold was "
                                          "exceeded in the Map state '{}'.",
                                          s.name)};
        }
        AbortChildren(g, g.is_map ? "MapIterationAborted" : "", s.name);
        Emit(owner, g.is_map ? "MapStateFailed" : "ParallelStateFailed", json::object{});
        if (finished) return;
        owner->children.reset();
        ++owner->generation;
        owner->pending_error = std::move(err);
        return Resume(owner, Pending::kHandleError);
      }
    }
    if (g.finished == g.results.size()) return CompleteGroup(owner);
    if (g.is_map) StartMoreIterations(owner);
  }

  // The Map fails as soon as either threshold is exceeded.
  bool WithinTolerance(const ChildGroup& g) const {
    if (g.failed == 0) return true;
    if (!g.is_map || (!g.tolerated_count && !g.tolerated_percentage)) return false;
    if (g.tolerated_count && static_cast<std::int64_t>(g.failed) > *g.tolerated_count) {
      return false;
    }
    if (g.tolerated_percentage &&
        100.0 * static_cast<double>(g.failed) / static_cast<double>(g.results.size()) >
            *g.tolerated_percentage) {
      return false;
    }
    return true;
  }

  void AbortChildren(ChildGroup& g, std::string_view event, const std::string& state_name) {
    for (FrameId id : g.children) {
      Frame* c = id == 0 ? nullptr : Get(id);
      if (c == nullptr || c->status == FrameStatus::kSucceeded ||
          c->status == FrameStatus::kFailed || c->status == FrameStatus::kAborted) {
        continue;
      }
      AbortFrame(c);
      if (!event.empty()) {
        EmitIteration(c, event, state_name);
      }
    }
  }

  void AbortFrame(Frame* f) {
    AbandonTask(f);
    ++f->generation;
    f->status = FrameStatus::kAborted;
    if (f->children) {
      const CompiledState& s = CurrentState(f);
      AbortChildren(*f->children, f->children->is_map ? "MapIterationAborted" : "", s.name);
      Emit(f, f->children->is_map ? "MapStateAborted" : "ParallelStateAborted", json::object{});
      f->children.reset();
    }
    // Aborted frames waiting on a timer or a task are dropped now; queued ones when popped.
    if (std::find(runnable.begin(), runnable.end(), f->id) == runnable.end()) DropFrame(f->id);
  }

  void CompleteGroup(Frame* f) {
    ChildGroup& g = *f->children;
    const CompiledState& s = CurrentState(f);
    json::value output;
    if (g.is_map && s.result_writer) {
      auto written = WriteResults(*f, s, g);
      if (!written.ok()) {
        Emit(f, "MapStateFailed", json::object{});
        if (finished) return;
        f->children.reset();
        ++f->generation;
        f->pending_error = Named(written.error(), s);
        if (f->status == FrameStatus::kWaiting) return Resume(f, Pending::kHandleError);
        return HandleError(f, s, std::move(f->pending_error));
      }
      Rebind(output, std::move(*written));
    } else {
      json::array results(storage);
      results.reserve(g.results.size());
      for (auto& r : g.results) results.push_back(std::move(r));
      Rebind(output, json::value(std::move(results)));
    }
    Emit(f, g.is_map ? "MapStateSucceeded" : "ParallelStateSucceeded", json::object{});
    if (finished) return;
    f->children.reset();
    ++f->generation;
    Rebind(f->pending_value, std::move(output));
    if (f->status == FrameStatus::kWaiting) {
      Resume(f, Pending::kFinishResult);
    } else {
      f->pending = Pending::kFinishResult;  // an empty Map, still in its own step
    }
  }

  // ---- distributed Map: ItemReader, ItemBatcher, ResultWriter ----

  static WorkflowError ReaderError(std::string cause) {
    return WorkflowError{std::string(asl::errors::kItemReaderFailed), std::move(cause)};
  }

  // A string parameter of a reader/writer's evaluated Parameters.
  static std::optional<std::string> StringParam(const json::value& params, std::string_view key) {
    const json::object* o = params.if_object();
    const json::value* v = o != nullptr ? o->if_contains(key) : nullptr;
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
  }

  asl::Outcome<json::value> ReadItems(const CompiledState& s, const asl::EvaluationContext& e) {
    const CompiledReader& r = *s.item_reader;
    json::value params = json::object();
    if (r.parameters) {
      auto p = r.parameters->Evaluate(e, asl::errors::kRuntime);
      if (!p.ok()) return p.error();
      params = std::move(*p);
    }
    if (options.object_store == nullptr) {
      return ReaderError("no object store is configured for s3:// reads (zflow run --s3-root DIR)");
    }
    std::optional<std::string> bucket = StringParam(params, "Bucket");
    if (!bucket) return ReaderError("the ItemReader's Parameters have no string \"Bucket\"");
    std::optional<std::int64_t> max_items = r.max_items;
    if (r.max_items_path) {
      auto v = r.max_items_path->Evaluate(e);
      if (!v.ok()) return v.error();
      if (!v->is_int64() || v->get_int64() < 0) {
        return WorkflowError{std::string(asl::errors::kRuntime),
                             "MaxItemsPath must select a non-negative integer"};
      }
      max_items = v->get_int64();
    }
    json::array items;
    if (r.resource == "arn:aws:states:::s3:listObjectsV2") {
      auto list = options.object_store->List(*bucket, StringParam(params, "Prefix").value_or(""));
      if (!list.ok()) return ReaderError(list.status().message());
      for (const auto& o : *list) {
        items.push_back(json::object{{"Etag", o.etag}, {"Key", o.key},
                                     {"LastModified", o.last_modified}, {"Size", o.size},
                                     {"StorageClass", "STANDARD"}});
      }
    } else {
      std::optional<std::string> key = StringParam(params, "Key");
      if (!key) return ReaderError("the ItemReader's Parameters have no string \"Key\"");
      auto data = options.object_store->Get(*bucket, *key);
      if (!data.ok()) return ReaderError(data.status().message());
      std::string where = fmt::format("s3://{}/{}", *bucket, *key);
      if (r.input_type == "JSON") {
        auto parsed = ParseJson(*data);
        if (!parsed.ok()) return ReaderError(fmt::format("{}: {}", where, parsed.status().message()));
        if (!parsed->value.is_array()) {
          return ReaderError(fmt::format("{} holds JSON that is not an array", where));
        }
        items = std::move(parsed->value.as_array());
      } else if (r.input_type == "JSONL") {
        std::size_t line = 0;
        std::size_t start = 0;
        while (start < data->size()) {
          std::size_t end = data->find('\n', start);
          if (end == std::string::npos) end = data->size();
          ++line;
          std::string_view text(data->data() + start, end - start);
          if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
          start = end + 1;
          if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
          auto parsed = ParseJson(text);
          if (!parsed.ok()) {
            return ReaderError(fmt::format("{} line {}: {}", where, line, parsed.status().message()));
          }
          items.push_back(std::move(parsed->value));
        }
      } else {  // CSV
        auto rows = ParseCsv(*data, r.csv_delimiter);
        if (!rows.ok()) return ReaderError(fmt::format("{}: {}", where, rows.status().message()));
        std::vector<std::string> headers = r.csv_headers;
        std::size_t first = 0;
        if (r.csv_header_first_row) {
          if (rows->empty()) return ReaderError(fmt::format("{} has no header row", where));
          headers = (*rows)[0];
          first = 1;
        }
        for (std::size_t i = first; i < rows->size(); ++i) {
          const auto& row = (*rows)[i];
          if (row.size() != headers.size()) {
            return ReaderError(fmt::format("{} row {} has {} fields; the header has {}", where,
                                           i + 1, row.size(), headers.size()));
          }
          json::object o;
          for (std::size_t k = 0; k < row.size(); ++k) o[headers[k]] = row[k];
          items.push_back(std::move(o));
        }
      }
    }
    if (max_items && static_cast<std::size_t>(*max_items) < items.size() && *max_items > 0) {
      items.resize(static_cast<std::size_t>(*max_items));
    }
    return json::value(std::move(items));
  }

  // RFC 4180 CSV: quoted fields with "" escapes, CRLF or LF line ends.
  static Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, char delim) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false;
    bool any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            ++i;
          } else {
            quoted = false;
          }
        } else {
          field.push_back(c);
        }
        continue;
      }
      if (c == '"' && field.empty()) {
        quoted = true;
        any = true;
      } else if (c == delim) {
        row.push_back(std::move(field));
        field.clear();
        any = true;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        if (any || !field.empty()) {
          row.push_back(std::move(field));
          rows.push_back(std::move(row));
        }
        row.clear();
        field.clear();
        any = false;
      } else {
        field.push_back(c);
        any = true;
      }
    }
    if (quoted) return InvalidArgumentError("a quoted field is not closed");
    if (any || !field.empty()) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Groups the (selected) items into {"Items": [...], "BatchInput": ...} by count and size.
  asl::Outcome<std::vector<json::value>> Batch(const CompiledState& s, const asl::EvaluationContext& e,
                                          std::vector<json::value> items) {
    const CompiledBatcher& b = *s.item_batcher;
    auto limit = [&](const std::optional<std::int64_t>& fixed,
                     const std::optional<asl::JsonPath>& path,
                     const char* name) -> asl::Outcome<std::optional<std::int64_t>> {
      if (!path) return fixed;
      auto v = path->Evaluate(e);
      if (!v.ok()) return v.error();
      if (!v->is_int64() || v->get_int64() <= 0) {
        return WorkflowError{std::string(asl::errors::kRuntime),
                             fmt::format("{} must select a positive integer", name)};
      }
      return std::optional<std::int64_t>(v->get_int64());
    };
    auto max_items = limit(b.max_items, b.max_items_path, "MaxItemsPerBatchPath");
    if (!max_items.ok()) return max_items.error();
    auto max_bytes = limit(b.max_bytes, b.max_bytes_path, "MaxInputBytesPerBatchPath");
    if (!max_bytes.ok()) return max_bytes.error();
    std::optional<json::value> batch_input;
    if (b.batch_input) {
      auto v = b.batch_input->Evaluate(e, asl::errors::kRuntime);
      if (!v.ok()) return v.error();
      batch_input = std::move(*v);
    }
    std::size_t fixed_bytes = 12;  // {"Items":[]}
    if (batch_input) fixed_bytes += 14 + ToJsonText(*batch_input).size();  // ,"BatchInput":
    std::vector<json::value> batches;
    json::array current;
    std::size_t bytes = fixed_bytes;
    auto flush = [&] {
      json::object batch{{"Items", std::move(current)}};
      if (batch_input) batch["BatchInput"] = *batch_input;
      batches.push_back(std::move(batch));
      current = json::array();
      bytes = fixed_bytes;
    };
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::size_t item_bytes = ToJsonText(items[i]).size() + (current.empty() ? 0 : 1);
      if (*max_bytes && fixed_bytes + item_bytes > static_cast<std::size_t>(**max_bytes)) {
        return WorkflowError{std::string(asl::errors::kRuntime),
                             fmt::format("item {} alone is {} bytes, more than "
                                         "MaxInputBytesPerBatch ({})",
                                         i, item_bytes, **max_bytes)};
      }
      bool full = (*max_items && static_cast<std::int64_t>(current.size()) >= **max_items) ||
                  (*max_bytes && bytes + item_bytes > static_cast<std::size_t>(**max_bytes));
      if (full && !current.empty()) {
        flush();
        item_bytes = ToJsonText(items[i]).size();
      }
      bytes += item_bytes;
      current.push_back(std::move(items[i]));
    }
    if (!current.empty()) flush();
    return batches;
  }

  // Writes the iterations' results as S3 does for a Map run and returns the Map's output.
  asl::Outcome<json::value> WriteResults(const Frame& f, const CompiledState& s, ChildGroup& g) {
    auto fail = [](std::string cause) {
      return WorkflowError{std::string(asl::errors::kResultWriterFailed), std::move(cause)};
    };
    json::value params = json::object();
    if (s.result_writer->parameters) {
      auto p = s.result_writer->parameters->Evaluate(
          Eval(f, Effective(f), Context(f, s, nullptr, 0)), asl::errors::kRuntime);
      if (!p.ok()) return p.error();
      params = std::move(*p);
    }
    if (options.object_store == nullptr) {
      return fail("no object store is configured for s3:// writes (zflow run --s3-root DIR)");
    }
    std::optional<std::string> bucket = StringParam(params, "Bucket");
    if (!bucket) return fail("the ResultWriter's Parameters have no string \"Bucket\"");
    std::string prefix = StringParam(params, "Prefix").value_or("");
    if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
    std::string run_id = NewExecutionName();
    std::string map_run_arn = fmt::format("{}/{}:{}", ReplaceFirst(result.execution_arn,
                                                                   ":execution:", ":mapRun:"),
                                          s.name, run_id);
    std::string base = prefix + run_id + "/";
    std::string stamp = FormatTimestamp(Now());
    json::array succeeded, failed;
    for (std::size_t i = 0; i < g.results.size(); ++i) {
      bool bad = i < g.failed_flags.size() && g.failed_flags[i] != 0;
      json::object entry{
          {"ExecutionArn", fmt::format("{}:{}", ReplaceFirst(map_run_arn, ":mapRun:", ":execution:"), i)},
          {"Input", i < g.inputs.size() ? ToJsonText(g.inputs[i]) : "{}"},
          {"InputDetails", json::object{{"Included", true}}},
          {"Name", fmt::format("{}", i)},
          {"RedriveCount", 0},
          {"RedriveStatus", "NOT_REDRIVABLE"},
          {"StartDate", stamp},
          {"StateMachineArn", map_run_arn},
          {"Status", bad ? "FAILED" : "SUCCEEDED"},
          {"StopDate", stamp}};
      if (bad) {
        const json::object* r = g.results[i].if_object();
        entry["Error"] = r != nullptr && r->contains("Error") ? r->at("Error") : json::value("");
        entry["Cause"] = r != nullptr && r->contains("Cause") ? r->at("Cause") : json::value("");
        failed.push_back(std::move(entry));
      } else {
        entry["Output"] = ToJsonText(g.results[i]);
        entry["OutputDetails"] = json::object{{"Included", true}};
        succeeded.push_back(std::move(entry));
      }
    }
    json::object files{{"FAILED", json::array()}, {"PENDING", json::array()},
                       {"SUCCEEDED", json::array()}};
    for (auto [name, list] : {std::pair{"SUCCEEDED", &succeeded}, std::pair{"FAILED", &failed}}) {
      if (list->empty()) continue;
      std::string key = fmt::format("{}{}_0.json", base, name);
      std::string text = ToJsonText(json::value(std::move(*list)));
      Status st = options.object_store->Put(*bucket, key, text);
      if (!st.ok()) return fail(st.message());
      files[name].as_array().push_back(
          json::object{{"Key", key}, {"Size", static_cast<std::int64_t>(text.size())}});
    }
    std::string manifest_key = base + "manifest.json";
    json::object manifest{{"DestinationBucket", *bucket}, {"MapRunArn", map_run_arn},
                          {"ResultFiles", std::move(files)}};
    Status st = options.object_store->Put(*bucket, manifest_key, ToJsonText(json::value(manifest)));
    if (!st.ok()) return fail(st.message());
    return json::value(json::object{
        {"MapRunArn", map_run_arn},
        {"ResultWriterDetails", json::object{{"Bucket", *bucket}, {"Key", manifest_key}}}});
  }

  static std::string ReplaceFirst(std::string s, std::string_view from, std::string_view to) {
    std::size_t p = s.find(from);
    if (p != std::string::npos) s.replace(p, from.size(), to);
    return s;
  }

  // ---- errors: Retry, Catch, or fail the frame ----
  void HandleError(Frame* f, const CompiledState& s, WorkflowError error) {
    if (finished) return;
    bool handles_errors = s.type == asl::StateType::kTask ||
                          s.type == asl::StateType::kParallel || s.type == asl::StateType::kMap;
    if (handles_errors) {
      for (std::size_t i = 0; i < s.retriers.size(); ++i) {
        const CompiledRetrier& r = s.retriers[i];
        if (!r.errors.Matches(error.error)) continue;
        std::int64_t& attempts = f->retry_attempts[i];
        if (attempts >= r.max_attempts) break;  // this retrier is spent: on to Catch
        double delay = static_cast<double>(r.interval_seconds) *
                       std::pow(r.backoff_rate, static_cast<double>(attempts));
        if (r.max_delay_seconds) {
          delay = std::min(delay, static_cast<double>(*r.max_delay_seconds));
        }
        if (r.full_jitter) delay = std::uniform_real_distribution<double>(0.0, delay)(rng);
        ++attempts;
        ++f->retry_count;
        f->status = FrameStatus::kWaiting;
        ++f->generation;
        AddTimer(After(delay), TimerKind::kRetry, f);
        return;
      }
      for (const CompiledCatcher& c : s.catchers) {
        if (!c.errors.Matches(error.error)) continue;
        json::value error_output = json::object{{"Error", error.error}, {"Cause", error.cause}};
        std::optional<json::value> assigned;
        if (c.assign) {
          auto a = c.assign->Evaluate(Eval(*f, error_output, Context(*f, s, nullptr, 0)),
                                      asl::errors::kRuntime);
          if (!a.ok()) return FailFrame(f, Named(a.error(), s));
          assigned = std::move(*a);
        }
        auto merged = ApplyResultPath(c.result_path, f->input, std::move(error_output));
        if (!merged.ok()) return FailFrame(f, Named(merged.error(), s));
        if (assigned) AssignVariables(f, std::move(*assigned));
        Emit(f, s.exited_event_type, ExitedDetails(f), s.name, PayloadOf(*merged));
        if (finished) return;
        Transition(f, c.next, std::move(*merged));
        return;
      }
    }
    FailFrame(f, std::move(error));
  }

  void FailFrame(Frame* f, WorkflowError error) {
    if (finished) return;
    f->error = std::move(error);
    f->status = FrameStatus::kFailed;
    FrameDone(f);
  }
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::~Engine() = default;

Result<std::shared_ptr<const PreparedMachine>> Engine::Prepare(asl::StateMachine machine) {
  std::vector<Diagnostic> diagnostics = asl::ValidateStateMachine(machine);
  if (HasErrors(diagnostics)) {
    const Diagnostic& d = diagnostics.front();
    return InvalidArgumentError(fmt::format("the state machine is invalid: {}:{}: {}: {}",
                                            d.location.line, d.location.column, d.code,
                                            d.message));
  }
  auto prepared = std::make_shared<PreparedMachine>();
  machine.set_source_map({});  // locations are for diagnostics, not for running
  prepared->machine = std::move(machine);  // the compiled states point into this one
  ZFLOW_ASSIGN_OR_RETURN(prepared->compiled, CompileMachine(prepared->machine));
  return std::shared_ptr<const PreparedMachine>(std::move(prepared));
}

Status Engine::SendTaskSuccess(std::string_view token, json::value output) {
  return impl_->SendToken(token, TaskResult::Success(std::move(output)));
}

Status Engine::SendTaskFailure(std::string_view token, std::string error, std::string cause) {
  return impl_->SendToken(token, TaskResult::Failure(std::move(error), std::move(cause)));
}

Status Engine::SendTaskHeartbeat(std::string_view token) {
  return impl_->SendToken(token, std::nullopt);
}

Result<ExecutionResult> Engine::Run(const PreparedMachine& machine,
                                    const ExecutionOptions& options) {
  return impl_->Run(*machine.compiled, options, nullptr, machine.shared_from_this());
}

Result<ExecutionResult> Engine::Run(const PreparedMachine& machine, ExecutionOptions&& options) {
  return impl_->Run(*machine.compiled, options, &options.input, machine.shared_from_this());
}

Result<ExecutionResult> Engine::Run(const asl::StateMachine& machine,
                                    const ExecutionOptions& options) {
  ZFLOW_ASSIGN_OR_RETURN(auto prepared, Prepare(machine));
  return Run(*prepared, options);
}

}  // namespace zflow::runtime
