// Resume and redrive: an execution is rebuilt by running its machine again against its stored
// history. The machine makes the same decisions (its choices come from the recorded input,
// answers, timestamps and the execution's seed); every event it makes must match the recorded
// one, and where it would wait (a task, a timer, a token) the recorded event that ended the
// wait is applied instead. When the record ends the execution goes live: tasks that were in
// flight are dispatched again, timers armed with their recorded deadlines.
#include <fmt/format.h>

#include "runtime/execution.h"
#include "runtime/executor_core.h"

namespace zflow::runtime {

namespace {

std::string DetailString(const HistoryEvent& e, std::string_view key) {
  const json::value* v = e.details != nullptr ? e.details->if_contains(key) : nullptr;
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

Result<Execution::ReplayOutcome> Execution::Replay(const History& stored,
                                                   std::vector<std::int64_t> cuts,
                                                   bool redrive_at_end) {
  if (stored.empty() || stored[0].kind != EventType::kExecutionStarted) {
    return FailedPreconditionError("the stored history does not begin with ExecutionStarted");
  }
  if (!core_.options().history_payloads) {
    return FailedPreconditionError("resuming an execution needs history payloads");
  }
  HistoryEvent first = stored[0];
  if (!first.payload) {
    return FailedPreconditionError("the stored ExecutionStarted event has no input");
  }
  auto input = ParseJson(first.payload.view(),
                         {.record_locations = false, .reject_duplicate_keys = false});
  if (!input.ok()) {
    return FailedPreconditionError(
        fmt::format("the stored execution input is not JSON: {}", input.status().message()));
  }
  history_.StartCopy(result_.history, stored, prepared_);
  replaying_ = true;
  cursor_ = 0;
  replay_end_ = stored.size();
  cuts_ = std::move(cuts);
  redrive_at_end_ = redrive_at_end;
  Start(input->value, nullptr);
  while (!finished_ && replaying_) {
    if (cut_pending_) {
      Redriven();
      continue;
    }
    if (!runnable_.empty()) {
      FrameId id = runnable_.front();
      runnable_.pop_front();
      Step(id);
      continue;
    }
    if (cursor_ >= replay_end_) break;
    ApplyRecorded();
  }
  if (!divergence_.ok()) return divergence_;
  if (finished_ && replaying_) return ReplayOutcome::kEnded;  // ended within the record
  GoLive();
  return ReplayOutcome::kRunning;
}

std::int64_t Execution::RedriveCut() const {
  switch (result_.status) {
    case ExecutionStatus::kFailed: return last_leaf_failure_ > 0 ? last_leaf_failure_ : 0;
    case ExecutionStatus::kTimedOut:
    case ExecutionStatus::kAborted: return -1;
    default: return 0;
  }
}

void Execution::Diverge(Status status) {
  if (divergence_.ok()) divergence_ = std::move(status);
  finished_ = true;
}

Result<TaskResult> Execution::RecordedAnswer(const HistoryEvent& e) {
  if (e.kind == EventType::kTaskFailed) {
    return TaskResult::Failure(DetailString(e, "error"), DetailString(e, "cause"));
  }
  if (!e.payload) {
    return FailedPreconditionError(fmt::format("event {} (TaskSucceeded) has no output", e.id));
  }
  auto output = ParseJson(e.payload.view(),
                          {.record_locations = false, .reject_duplicate_keys = false});
  if (!output.ok()) {
    return FailedPreconditionError(fmt::format("the output of event {} is not JSON: {}", e.id,
                                               output.status().message()));
  }
  return TaskResult::Success(std::move(output->value));
}

Frame* Execution::WaitingFrame(std::int64_t previous_event_id) {
  auto it = waiting_by_event_.find(previous_event_id);
  if (it == waiting_by_event_.end()) return nullptr;
  Frame* f = Get(it->second);
  waiting_by_event_.erase(it);
  return f != nullptr && f->status == FrameStatus::kWaiting ? f : nullptr;
}

// Nothing is runnable: the next recorded event ended a wait. Which wait it ended follows from
// its previous event id (the last event of the frame that waited).
void Execution::ApplyRecorded() {
  HistoryEvent r = history_.Event(cursor_);
  switch (r.kind) {
    case EventType::kExecutionTimedOut:
      if (CutAtTerminal()) return;
      FinishExecution(ExecutionStatus::kTimedOut, {},
                      WorkflowError{DetailString(r, "error"), DetailString(r, "cause")});
      return;
    case EventType::kExecutionAborted:
      if (CutAtTerminal()) return;
      Stop(DetailString(r, "error"), DetailString(r, "cause"));
      return;
    default: break;
  }
  auto mismatch = [&] {
    Diverge(FailedPreconditionError(
        fmt::format("the history does not match the state machine at event {}: {} follows "
                    "event {}, which the machine does not wait on",
                    r.id, r.type, r.previous_event_id)));
  };
  Frame* f = WaitingFrame(r.previous_event_id);
  if (f == nullptr) return mismatch();
  switch (r.kind) {
    case EventType::kTaskSucceeded:
    case EventType::kTaskFailed: {
      if (f->wake != Wake::kTask) return mismatch();
      ApplyAnswer(f, r);
      // The loop takes every answer that has arrived at once: so do the answers recorded
      // right after this one.
      while (!finished_ && cursor_ < replay_end_) {
        HistoryEvent n = history_.Event(cursor_);
        if (n.kind != EventType::kTaskSucceeded && n.kind != EventType::kTaskFailed) break;
        auto it = waiting_by_event_.find(n.previous_event_id);
        if (it == waiting_by_event_.end()) break;
        Frame* g = Get(it->second);
        if (g == nullptr || g->wake != Wake::kTask || g->status != FrameStatus::kWaiting) break;
        waiting_by_event_.erase(it);
        ApplyAnswer(g, n);
      }
      return;
    }
    case EventType::kTaskTimedOut:
      if (f->wake != Wake::kTask) return mismatch();
      return TaskTimedOut(f, DetailString(r, "error"));
    default:
      if (f->wake == Wake::kWait || f->wake == Wake::kRetry) {
        ++f->generation;
        return Resume(f, f->wake == Wake::kWait ? Pending::kExitWait : Pending::kRetry);
      }
      return mismatch();
  }
}

void Execution::ApplyAnswer(Frame* f, const HistoryEvent& e) {
  auto answer = RecordedAnswer(e);
  if (!answer.ok()) return Diverge(answer.status());
  if (!f->task_token.empty()) {
    tokens_.erase(f->task_token);
    SyncInFlight();
  }
  FinishTask(f, std::move(*answer));
  runnable_.push_back(f->id);
}

// ---- redrive ----

bool Execution::CutHere(Frame* f) {
  if (!replaying_ || next_cut_ >= cuts_.size() || cuts_[next_cut_] != leaf_failures_) {
    return false;
  }
  Park(f);
  Cut();
  return true;
}

bool Execution::CutAtTerminal() {
  if (next_cut_ >= cuts_.size() || cuts_[next_cut_] != -1) return false;
  Cut();
  return true;
}

// The run that failed ends here: the failed state and every task still running run again
// after an ExecutionRedriven event; the recorded events of the failure are passed over.
void Execution::Cut() {
  ++next_cut_;
  for (auto& slot : slots_) {
    Frame* g = slot.get();
    if (g != nullptr && g->status == FrameStatus::kWaiting && g->wake == Wake::kTask) {
      AbandonTask(g);
      Park(g);
    }
  }
  std::size_t i = cursor_;
  while (i < replay_end_ && history_.Event(i).kind != EventType::kExecutionRedriven) ++i;
  if (i == replay_end_ && !(redrive_at_end_ && next_cut_ == cuts_.size())) {
    return Diverge(FailedPreconditionError(
        "the history does not match the state machine: a redrive re-runs no failed state"));
  }
  cursor_ = i;
  cut_pending_ = true;
}

void Execution::Park(Frame* f) {
  ++f->generation;
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kNone;
  f->pending = Pending::kNone;
  f->task_token.clear();
  f->replay_request.reset();
  f->exit_payload_valid = false;
  f->error_from_children = false;
  // The state runs again with the input it entered with.
  if (f->entered_event > 0) {
    PayloadText text = history_.payload(static_cast<std::size_t>(f->entered_event - 1));
    if (text) {
      auto input =
          ParseJson(text.view(), {.record_locations = false, .reject_duplicate_keys = false});
      if (input.ok()) Rebind(f->input, json::value(input->value, storage_));
    }
  }
  parked_.push_back(f->id);
}

void Execution::Redriven() {
  cut_pending_ = false;
  SetRedriveCount(redrive_count_ + 1);
  std::int64_t id = Emit(nullptr, EventType::kExecutionRedriven,
                         json::object{{"redriveCount", redrive_count_}});
  if (finished_) return;
  // The execution's TimeoutSeconds counts from the redrive.
  timeout_base_ = history_.timestamp(static_cast<std::size_t>(id - 1));
  ++timeout_generation_;
  if (!replaying_ && machine_->timeout_seconds) {
    core_.AddTimer(Timer{timeout_base_ + std::chrono::seconds(*machine_->timeout_seconds),
                         core_.NextTimerSeq(), TimerKind::kExecutionTimeout, id_, root_,
                         timeout_generation_});
  }
  for (FrameId pid : parked_) {
    Frame* f = Get(pid);
    if (f == nullptr) continue;
    f->last_event = id;
    Resume(f, Pending::kEnter);
  }
  parked_.clear();
}

// The record is used up: from here on events are new. What the replay left waiting is set off.
void Execution::GoLive() {
  if (!replaying_) return;
  replaying_ = false;
  committed_ = history_.size();  // all of it came from the sink
  core_.CatchUp(DecisionTime());
  waiting_by_event_.clear();
  if (finished_) return;
  if (machine_->timeout_seconds && !cut_pending_) {
    core_.AddTimer(Timer{timeout_base_ + std::chrono::seconds(*machine_->timeout_seconds),
                         core_.NextTimerSeq(), TimerKind::kExecutionTimeout, id_, root_,
                         timeout_generation_});
  }
  std::vector<Frame*> waiting;
  for (auto& slot : slots_) {
    if (slot != nullptr && slot->id != 0 && slot->status == FrameStatus::kWaiting) {
      waiting.push_back(slot.get());
    }
  }
  for (Frame* f : waiting) {
    switch (f->wake) {
      case Wake::kWait: AddTimer(f->wake_at, TimerKind::kWaitDone, f); break;
      case Wake::kRetry: AddTimer(f->wake_at, TimerKind::kRetry, f); break;
      case Wake::kTask: {
        // A task dispatched again gets a fresh heartbeat period; its timeout stands.
        if (f->heartbeat_seconds > 0) {
          f->heartbeat_deadline = Now() + std::chrono::seconds(f->heartbeat_seconds);
        }
        if (!f->task_token.empty()) IssueToken(f);
        if (f->replay_request != nullptr) {
          TaskRequest request = std::move(*f->replay_request);
          f->replay_request.reset();
          const EngineOptions& options = core_.options();
          TaskHandler* handler = options.integrations != nullptr
                                     ? options.integrations->Find(request.resource)
                                     : nullptr;
          if (handler == nullptr) {
            TaskDone(f, TaskResult::Failure(
                            std::string(asl::errors::kRuntime),
                            fmt::format("No local handler serves the resource '{}' of the "
                                        "state '{}'.",
                                        request.resource, request.state_name)));
          } else {
            Dispatch(f, handler, std::move(request));
          }
          if (f->status == FrameStatus::kRunnable) runnable_.push_back(f->id);
        } else if (tokens_.contains(f->task_token)) {
          ArmTaskTimers(f);
          AnnounceToken(f);
        }
        break;
      }
      default: break;
    }
  }
}

}  // namespace zflow::runtime
