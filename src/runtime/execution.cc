// An execution's frame, history and context-object bookkeeping; its start, stop and end.
#include "runtime/execution.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/ids.h"
#include "runtime/executor_core.h"
#include "runtime/payload_size.h"

namespace zflow::runtime {

namespace {
// AWS reports event times in milliseconds; the engine records them so, and bases deadlines on
// them, so a replay of a stored history computes the same deadlines.
TimePoint Millis(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

std::uint64_t SeedHash(std::string_view seed) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : seed) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}
}  // namespace

Execution::Execution(ExecutorCore& core, ExecutionId id,
                     std::shared_ptr<const PreparedMachine> machine, ExecutionInfo info,
                     EventSink* sink, DoneCallback on_done)
    : core_(core),
      id_(id),
      prepared_(std::move(machine)),
      machine_(prepared_->compiled.get()),
      info_(std::move(info)),
      sink_(sink),
      on_done_(std::move(on_done)) {
  if (info_.name.empty()) info_.name = RandomUuid();
  if (info_.seed.empty()) info_.seed = RandomHex(32);
  rng_.Seed(SeedHash(info_.seed));
  value_pool_ = std::make_unique<ValuePool>();
  storage_ = json::storage_ptr(value_pool_.get());
  result_.execution_arn = info_.ExecutionArn();
  context_machine_ = json::object{{"Id", info_.StateMachineArn()},
                                  {"Name", info_.state_machine_name}};
}

Execution::~Execution() {
  AbandonAllTasks();
  // Frames hold values from the pool: they go first.
  slots_.clear();
  spare_frames_.clear();
  runnable_.clear();
  shared_context_ = nullptr;
  execution_input_ = nullptr;
}

// ---- time ----

TimePoint Execution::Now() const {
  // In a replay, the time of the last event matched: what the clock read when the live run
  // made the same decision (the next event's time would be the future to it).
  if (replaying_) return history_.timestamp(cursor_ > 0 ? cursor_ - 1 : 0);
  return core_.Now();
}

TimePoint Execution::DecisionTime() const {
  std::size_t n = replaying_ ? cursor_ : history_.size();
  return n > 0 ? history_.timestamp(n - 1) : Millis(Now());
}

TimePoint Execution::After(double seconds) const {
  constexpr double kMaxSeconds = 9e9;  // past 2262 the clock cannot represent the instant
  TimePoint base = DecisionTime();
  double base_s = std::chrono::duration<double>(base.time_since_epoch()).count();
  if (seconds < 0) seconds = 0;
  if (base_s + seconds > kMaxSeconds) return TimePoint(std::chrono::seconds(9'000'000'000));
  return base + std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::duration<double>(seconds));
}

// ---- frames ----

Frame* Execution::Get(FrameId id) {
  std::size_t slot = static_cast<std::uint32_t>(id) - 1;
  if (slot >= slots_.size() || slots_[slot] == nullptr || slots_[slot]->id != id) return nullptr;
  return slots_[slot].get();
}

void Execution::DropFrame(FrameId id) {
  if (Get(id) == nullptr) return;
  std::uint32_t slot = static_cast<std::uint32_t>(id) - 1;
  // The frame's memory is kept for the next one (a Map starts one per iteration): destroyed
  // and default-constructed in place (cheaper than assigning a fresh frame member by member).
  Frame* frame = slots_[slot].get();
  std::destroy_at(frame);
  std::construct_at(frame);
  spare_frames_.push_back(std::move(slots_[slot]));
  free_slots_.push_back(slot);
}

Frame* Execution::NewFrame(Frame* parent, const CompiledBranch* branch, json::value input) {
  std::unique_ptr<Frame> f;
  if (spare_frames_.empty()) {
    f = std::make_unique<Frame>();
  } else {
    f = std::move(spare_frames_.back());
    spare_frames_.pop_back();
  }
  f->branch = branch;
  f->state = branch->start;
  if (*f->input.storage() == *input.storage()) {
    f->input = std::move(input);
  } else {
    std::destroy_at(&f->input);
    std::construct_at(&f->input, std::move(input));
  }
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
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    slot_reuse_.push_back(0);
  }
  raw->id = (static_cast<FrameId>(++slot_reuse_[slot]) << 32) | (slot + 1);
  slots_[slot] = std::move(f);
  return raw;
}

void Execution::Resume(Frame* f, Pending p) {
  f->pending = p;
  f->status = FrameStatus::kRunnable;
  f->wake = Wake::kNone;
  runnable_.push_back(f->id);
}

// ---- history ----

std::int64_t Execution::Emit(Frame* frame, EventType type, json::object details,
                             std::string_view state_name, Payload payload, std::int64_t index) {
  if (finished_) return 0;
  if (replaying_ && cursor_ >= replay_end_ && !cut_pending_) GoLive();
  if (replaying_) {
    const auto previous =
        frame != nullptr ? frame->last_event : static_cast<std::int64_t>(cursor_);
    HistoryEvent r = history_.Event(cursor_);
    if (r.kind != type || r.previous_event_id != previous || r.state_name != state_name ||
        r.index != index) {
      divergence_ = FailedPreconditionError(fmt::format(
          "the history does not match the state machine at event {}: recorded {} \"{}\" "
          "(previous event {}), the machine makes {} \"{}\" (previous event {})",
          r.id, r.type, r.state_name, r.previous_event_id, EventTypeName(type), state_name,
          previous));
      finished_ = true;
      return 0;
    }
    std::int64_t id = static_cast<std::int64_t>(++cursor_);
    if (frame != nullptr) frame->last_event = id;
    return id;
  }
  const auto previous =
      frame != nullptr ? frame->last_event : static_cast<std::int64_t>(history_.size());
  // Under virtual time the clock rarely moves: round it to milliseconds only when it has.
  TimePoint now = Now();
  if (now != last_now_) {
    last_now_ = now;
    last_now_ms_ = Millis(now);
  }
  const std::int64_t id = history_.Append(type, previous, last_now_ms_, state_name, payload,
                                          index, &details);
  if (frame != nullptr) frame->last_event = id;
  if (!dirty_ && sink_ != nullptr) core_.MarkDirty(this);
  if (core_.options().on_event) {
    core_.options().on_event(history_.Event(static_cast<std::size_t>(id - 1)));
  }
  // Leave room for the closing ExecutionFailed: AWS never records more than the limit.
  if (history_.size() + 1 >= core_.options().max_history_events && !finishing_) {
    FinishExecution(ExecutionStatus::kFailed, {},
                    WorkflowError{std::string(asl::errors::kRuntime),
                                  fmt::format("The execution reached the maximum number of "
                                              "history events ({}).",
                                              core_.options().max_history_events)});
  }
  return id;
}

// MapIteration* events: {"name": the Map state, "index": the iteration's}.
void Execution::EmitIteration(Frame* child, EventType type, std::string_view map_state) {
  Emit(child, type, json::object{}, map_state, {}, static_cast<std::int64_t>(child->index));
}

json::value Execution::PayloadJson(const json::value& v) {
  if (!core_.options().history_payloads) return nullptr;
  if (replaying_ && cursor_ < replay_end_) return nullptr;  // not kept: only matched
  if (replaying_) GoLive();
  scratch_.clear();  // reused buffer: one allocation per payload text, not several
  AppendJsonText(v, scratch_);
  return json::string(scratch_);
}

// Serialized straight into the history's text block; a text longer than the room left there
// is written aside first and then stored. In a replay, the recorded text of the event about to
// be matched (every payload is computed right before its event).
Execution::Payload Execution::PayloadOf(const json::value& v) {
  if (!core_.options().history_payloads) return {};
  if (replaying_ && cursor_ < replay_end_) return history_.payload(cursor_);
  if (replaying_) GoLive();
  // Written in place when the text fits in what is left of the current block (a longer one
  // is written aside and copied).
  constexpr std::size_t kPayloadRoom = 256;
  char* room = history_.Reserve(kPayloadRoom);
  std::string_view text = WriteJsonText(v, room, history_.room(), scratch_);
  return text.data() == room ? history_.Commit(text.size()) : history_.StoreText(text);
}

// A state's output text is the next state's input text: serialized once, shared by both.
Execution::Payload Execution::ExitPayload(Frame* f, const json::value& output) {
  f->exit_payload = PayloadOf(output);
  f->exit_payload_valid = true;
  return f->exit_payload;
}

Execution::Payload Execution::EnterPayload(Frame* f) {
  if (f->exit_payload_valid) {
    f->exit_payload_valid = false;
    return std::move(f->exit_payload);
  }
  return PayloadOf(f->input);
}

// Exited events: the assigned variables, if any (name and output are stored apart).
json::object Execution::ExitedDetails(Frame* f) {
  json::object d;
  if (!f->assigned_for_event.empty()) {
    d["assignedVariables"] = std::move(f->assigned_for_event);
    d["assignedVariablesDetails"] = json::object{{"truncated", false}};
    f->assigned_for_event = json::object();
  }
  return d;
}

std::string Execution::Derive(std::string_view purpose, std::int64_t event_id,
                              std::size_t hex_digits) {
  std::string material = fmt::format("{}:{}:{}", info_.seed, purpose, event_id);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(material.data(), material.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size && out.size() < hex_digits; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  out.resize(std::min(out.size(), hex_digits));
  return out;
}

// ---- context object ----

// "$$" for evaluating a field of state `s` in frame `f` (with $$.Map.Item when map_value is
// set). Valid until the next call: evaluate with it at once, copy it to keep it.
const json::value* Execution::Context(const Frame& f, const CompiledState& s,
                                      const json::value* map_value, std::size_t map_index) {
  if (!shared_context_ready_) {
    shared_context_ready_ = true;
    json::object execution;
    for (const auto& kv : context_execution_.get_object()) {
      execution.emplace(kv.key(), kv.value());
      if (kv.key() == "Id") execution.emplace("Input", execution_input_);  // AWS's key order
    }
    shared_context_ = json::object{{"Execution", std::move(execution)},
                                   {"StateMachine", context_machine_}};
  }
  json::object& ctx = shared_context_.as_object();
  ctx.erase("Map");  // the last keys: erasing them keeps the others in order
  ctx.erase("Task");
  ctx["State"] = StateContext(f, s);
  if (!f.task_token.empty() && s.type == asl::StateType::kTask) {
    ctx["Task"] = json::object{{"Token", f.task_token}};
  }
  if (map_value != nullptr) {
    json::object item{{"Index", static_cast<std::int64_t>(map_index)}, {"Value", *map_value}};
    // Where the item came from: the state's data (items read by an ItemReader carry no Source
    // here).
    if (!s.item_reader) item["Source"] = "STATE_DATA";
    ctx["Map"] = json::object{{"Item", std::move(item)}};
  }
  return &shared_context_;
}

json::value Execution::StateContext(const Frame& f, const CompiledState& s) {
  return json::object{{"EnteredTime", FormatTimestamp(f.entered_time)},
                      {"Name", s.name},
                      {"RetryCount", f.retry_count}};
}

// The context a Task handler receives: a copy, with Execution.Input only when the state itself
// reads "$$" (the input may be large; pass what a handler needs through Parameters).
json::value Execution::TaskContext(const Frame& f, const CompiledState& s) {
  if (s.uses_context) return *Context(f, s, nullptr, 0);
  json::object ctx{{"Execution", context_execution_}, {"StateMachine", context_machine_},
                   {"State", StateContext(f, s)}};
  if (!f.task_token.empty()) ctx["Task"] = json::object{{"Token", f.task_token}};
  return ctx;
}

asl::EvaluationContext Execution::Eval(const Frame& f, const json::value& input,
                                       const json::value* ctx) const {
  asl::EvaluationContext e;
  e.input = &input;
  e.context = ctx;
  e.storage = storage_;
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

void Execution::SetRedriveCount(int n) {
  redrive_count_ = n;
  context_execution_.as_object()["RedriveCount"] = n;
  shared_context_ = nullptr;
  shared_context_ready_ = false;
}

// ---- start, stop, end ----

void Execution::Start(const json::value& input, json::value* owned_input) {
  if (!replaying_) history_.Start(result_.history, prepared_);  // a replay copied the record
  result_.start_time = Millis(Now());
  timeout_base_ = result_.start_time;
  std::string role = fmt::format("arn:aws:iam::{}:role/zflow-local", info_.account);
  context_execution_ = json::object{{"Id", result_.execution_arn},
                                    {"Name", info_.name},
                                    {"RoleArn", role},
                                    {"StartTime", FormatTimestamp(result_.start_time)},
                                    {"RedriveCount", 0}};
  // The execution's input text is also the first state's.
  Payload input_text = PayloadOf(input);
  std::size_t input_size = input_text ? input_text.view().size() : PayloadSize(input);
  if (machine_->uses_context) execution_input_ = json::value(input, storage_);
  // The caller's input is taken over when it may be, nothing reads it again and it is large;
  // otherwise it is copied into the execution's pool.
  constexpr std::size_t kTakeOverBytes = 64 * 1024;
  Frame* root = NewFrame(nullptr, &machine_->top,
                         owned_input != nullptr && !machine_->uses_context &&
                                 input_size >= kTakeOverBytes
                             ? std::move(*owned_input)
                             : json::value(input, storage_));
  root_ = root->id;
  root->scope = std::make_shared<Scope>();
  root->exit_payload = input_text;
  root->exit_payload_valid = static_cast<bool>(input_text);
  Emit(nullptr, EventType::kExecutionStarted, json::object{{"roleArn", role}}, {},
       std::move(input_text));
  root->last_event = 1;
  if (input_size > core_.options().max_payload_bytes) {
    FinishExecution(ExecutionStatus::kFailed, {},
                    WorkflowError{std::string(asl::errors::kDataLimitExceeded),
                                  fmt::format("The execution input is larger than {} bytes.",
                                              core_.options().max_payload_bytes)});
  }
  if (machine_->timeout_seconds && !replaying_) {
    core_.AddTimer(Timer{timeout_base_ + std::chrono::seconds(*machine_->timeout_seconds),
                         core_.NextTimerSeq(), TimerKind::kExecutionTimeout, id_, root->id,
                         timeout_generation_});
  }
  runnable_.push_back(root->id);
}

void Execution::Stop(std::string error, std::string cause) {
  if (finished_) return;
  AbandonAllTasks();
  FinishExecution(ExecutionStatus::kAborted, {},
                  WorkflowError{std::move(error), std::move(cause)});
}

void Execution::FailStuck() {
  FinishExecution(ExecutionStatus::kFailed, {},
                  WorkflowError{std::string(asl::errors::kRuntime),
                                "internal error: the execution has nothing left to run"});
}

void Execution::FinishExecution(ExecutionStatus status, json::value output, WorkflowError error) {
  if (finished_ || finishing_) return;
  finishing_ = true;  // the closing event may pass the history limit; it is still written
  result_.status = status;
  switch (status) {
    case ExecutionStatus::kSucceeded:
      Emit(nullptr, EventType::kExecutionSucceeded, json::object{}, {}, PayloadOf(output));
      result_.output = std::move(output);
      break;
    case ExecutionStatus::kTimedOut:
      Emit(nullptr, EventType::kExecutionTimedOut,
           json::object{{"error", error.error}, {"cause", error.cause}});
      break;
    case ExecutionStatus::kAborted: {
      json::object d;
      if (!error.error.empty()) d["error"] = error.error;
      if (!error.cause.empty()) d["cause"] = error.cause;
      Emit(nullptr, EventType::kExecutionAborted, std::move(d));
      break;
    }
    default:
      Emit(nullptr, EventType::kExecutionFailed,
           json::object{{"error", error.error}, {"cause", error.cause}});
      break;
  }
  if (status != ExecutionStatus::kSucceeded) {
    result_.error = std::move(error.error);
    result_.cause = std::move(error.cause);
  }
  finishing_ = false;
  finished_ = true;
}

Status Execution::Flush() {
  if (replaying_) return Status::Ok();
  if (sink_ == nullptr || committed_ >= history_.size()) {
    committed_ = history_.size();
    return Status::Ok();
  }
  Status st = sink_->Append(info_, result_.history, committed_);
  committed_ = history_.size();
  dirty_ = false;
  if (st.ok() && sink_->group_commit()) core_.Staged(this, sink_);
  if (!st.ok()) LoseRecord(st);
  return st;
}

void Execution::LoseRecord(const Status& st) {
  if (result_.sink_status.ok()) {
    // Nothing more may happen that the record does not show: the execution ends here, in
    // memory only (its stored history stops at the last event the sink took).
    result_.sink_status = st;
    AbandonAllTasks();
    if (!finished_) {
      result_.status = ExecutionStatus::kFailed;
      result_.error = std::string(asl::errors::kRuntime);
      result_.cause = fmt::format("the execution history could not be recorded: {}",
                                  st.message());
      finished_ = true;
    }
  }
}

void Execution::Complete() {
  if (completed_) return;
  completed_ = true;
  AbandonAllTasks();
  (void)Flush();  // an error is in result_.sink_status
  ExecutionResult out = std::move(result_);
  out.stop_time = history_.size() > 0 ? history_.timestamp(history_.size() - 1)
                                      : Millis(Now());
  out.info = info_;
  out.redrive_count = redrive_count_;
  slots_.clear();
  free_slots_.clear();
  slot_reuse_.clear();
  spare_frames_.clear();
  runnable_.clear();
  if (on_done_) {
    // The result leaves the engine once its events are committed.
    core_.AfterCommit([done = std::move(on_done_), divergence = divergence_,
                       out = std::move(out)]() mutable {
      if (!divergence.ok()) {
        done(divergence);
      } else {
        done(std::move(out));
      }
    });
  }
}

}  // namespace zflow::runtime
