// Task states: dispatching a task (inline or on the worker pool), its answer, task tokens,
// timeouts and heartbeats; the timers and answers the loop hands an execution.
#include <fmt/format.h>

#include "runtime/execution.h"
#include "runtime/executor_core.h"
#include "runtime/payload_size.h"

namespace zflow::runtime {

namespace {

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

// A handler that throws becomes States.TaskFailed with the message as the cause.
TaskResult InvokeSafely(TaskHandler* handler, const TaskRequest& request) {
  try {
    return handler->Invoke(request);
  } catch (const std::exception& e) {
    return TaskResult::Failure(std::string(asl::errors::kTaskFailed), e.what());
  }
}

}  // namespace

bool Execution::WaitsForToken(const CompiledState& s) {
  return s.type == asl::StateType::kTask && s.source != nullptr &&
         s.source->task().resource.ends_with(".waitForTaskToken");
}

void Execution::StartTask(Frame* f, const CompiledState& s) {
  std::string rname;
  std::string rtype = ResourceType(s.source->task().resource, &rname);
  json::value ctx = TaskContext(*f, s);
  const CompiledTaskTiming& timing = *s.timing;
  std::optional<std::int64_t> timeout = timing.timeout_seconds;
  std::optional<std::int64_t> heartbeat = timing.heartbeat_seconds;
  asl::EvaluationContext e = Eval(*f, f->input, &ctx);
  if (s.jsonata) {
    asl::JsonataScope scope = JsonataScopeOf(*f, f->input, &ctx);
    for (auto [expression, out] : {std::pair{&s.jsonata->timeout_seconds, &timeout},
                                   std::pair{&s.jsonata->heartbeat_seconds, &heartbeat}}) {
      if (!*expression) continue;
      auto v = (*expression)->EvaluateInteger(scope, 1, 99'999'999);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      *out = *v;
    }
  }
  for (auto [path, out] : {std::pair{&timing.timeout_seconds_path, &timeout},
                           std::pair{&timing.heartbeat_seconds_path, &heartbeat}}) {
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
                         {"region", info_.region},
                         {"parameters", PayloadJson(Effective(*f))}};
  if (timeout) scheduled["timeoutInSeconds"] = *timeout;
  if (heartbeat) scheduled["heartbeatInSeconds"] = *heartbeat;
  Emit(f, EventType::kTaskScheduled, std::move(scheduled));
  if (finished_) return;
  Emit(f, EventType::kTaskStarted, json::object{{"resourceType", rtype}, {"resource", rname}});
  if (finished_) return;
  const EngineOptions& options = core_.options();
  TaskHandler* handler =
      options.integrations != nullptr ? options.integrations->Find(s.source->task().resource) : nullptr;
  const bool token_task = WaitsForToken(s);
  ++f->generation;
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kTask;
  f->heartbeat_seconds = heartbeat.value_or(0);
  f->task_deadline.reset();
  if (timeout) f->task_deadline = After(static_cast<double>(*timeout));
  if (heartbeat) f->heartbeat_deadline = After(static_cast<double>(*heartbeat));
  if (handler == nullptr && !token_task) {
    return TaskDone(f, TaskResult::Failure(
                           std::string(asl::errors::kRuntime),
                           fmt::format("No local handler serves the resource '{}' of the state "
                                       "'{}'; map it in the local profile or mock it.",
                                       s.source->task().resource, s.name)));
  }
  TaskRequest request;
  if (handler != nullptr) {
    request.resource = s.source->task().resource;
    request.state_name = s.name;
    request.input = json::value(Effective(*f), json::storage_ptr());  // handlers run elsewhere
    request.context = std::move(ctx);
    request.execution_arn = info_.ExecutionArn();
    request.attempt_event = f->last_event;
    request.retry_count = f->retry_count;
    if (timeout) request.timeout = std::chrono::seconds(*timeout);
  }
  if (replaying_ && cursor_ >= replay_end_) GoLive();  // the record ends here: dispatch
  if (replaying_) {
    // The record holds what happened next: an inline handler's answer follows at once; any
    // other answer arrives as a stimulus (ApplyRecorded); without one the task was in flight
    // and is dispatched again when the execution goes live.
    if (handler != nullptr && handler->inline_safe() && !token_task) {
      HistoryEvent next = history_.Event(cursor_);
      if (next.previous_event_id == f->last_event &&
          (next.kind == EventType::kTaskSucceeded || next.kind == EventType::kTaskFailed)) {
        auto answer = RecordedAnswer(next);
        if (!answer.ok()) return Diverge(answer.status());
        return FinishTask(f, std::move(*answer));
      }
    }
    waiting_by_event_[f->last_event] = f->id;
    if (handler != nullptr) {
      f->replay_request = std::make_unique<TaskRequest>(std::move(request));
    } else {
      WaitForToken(f);
    }
    return;
  }
  if (token_task) IssueToken(f);
  if (handler == nullptr) {
    // Nothing local sends the token: whoever answers gets it from the history or the
    // progress display (zflow task-token succeed|fail|heartbeat).
    ArmTaskTimers(f);
    return WaitForToken(f);
  }
  Dispatch(f, handler, std::move(request));
}

void Execution::ArmTaskTimers(Frame* f) {
  if (f->task_deadline) AddTimer(*f->task_deadline, TimerKind::kTaskTimeout, f);
  if (f->heartbeat_seconds > 0) AddTimer(f->heartbeat_deadline, TimerKind::kHeartbeatTimeout, f);
}

// The commit point: the events that lead here reach the sink before the handler runs.
void Execution::Dispatch(Frame* f, TaskHandler* handler, TaskRequest request) {
  if (!Flush().ok()) return;
  if (handler->inline_safe() && f->task_token.empty()) {
    return TaskDone(f, InvokeSafely(handler, request));
  }
  ArmTaskTimers(f);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  request.cancelled = cancel;
  outstanding_[{f->id, f->generation}] = OutstandingTask{std::move(cancel)};
  if (f->heartbeat_seconds > 0) {
    request.heartbeat = [core = &core_, exec = id_, id = f->id, gen = f->generation] {
      core->PostCompletion(Completion{exec, id, gen, {}, /*heartbeat=*/true, {}});
    };
  }
  request.host = &core_;
  request.complete = [core = &core_, exec = id_, id = f->id, gen = f->generation](TaskResult r) {
    core->PostCompletion(Completion{exec, id, gen, std::move(r), false, {}});
  };
  SyncInFlight();
  auto job = [core = &core_, handler, exec = id_, id = f->id, gen = f->generation,
              request = std::move(request)] {
    TaskResult r = InvokeSafely(handler, request);
    Completion c{exec, id, gen, {}, false, {}};
    if (r.hosted) {
      c.hosted = true;  // request.complete answers later
    } else {
      c.result = std::move(r);
    }
    core->PostCompletion(std::move(c));
  };
  core_.AfterCommit([core = &core_, job = std::move(job)]() mutable {
    core->PostJob(std::move(job));
  }, id_);
}

// The task's handler answered. A .waitForTaskToken task that was handed off waits for its
// token; otherwise the task is done.
void Execution::TaskDone(Frame* f, TaskResult r) {
  if (WaitsForToken(CurrentState(f))) {
    if (r.ok()) return WaitForToken(f);
    ForgetToken(f);  // the handler failed: the token is void
  }
  FinishTask(f, std::move(r));
}

// The task answered: record it and leave the frame runnable with what to do next.
void Execution::FinishTask(Frame* f, TaskResult r) {
  const CompiledState& s = CurrentState(f);
  ++f->generation;  // cancels the timeout timer
  f->status = FrameStatus::kRunnable;
  f->wake = Wake::kNone;
  f->replay_request.reset();
  std::string rname;
  std::string rtype = ResourceType(s.source->task().resource, &rname);
  if (!r.ok()) {
    const std::int64_t id =
        Emit(f, EventType::kTaskFailed,
             json::object{{"resourceType", rtype}, {"resource", rname}, {"error", r.error},
                          {"cause", r.cause}});
    ReportLog(s, id, r.log);
    f->pending_error = WorkflowError{std::move(r.error), std::move(r.cause)};
    f->pending = Pending::kHandleError;
    return;
  }
  if (PayloadSize(*r.output) > core_.options().max_payload_bytes) {
    f->pending_error = DataLimit(s);
    f->pending = Pending::kHandleError;
    return;
  }
  const std::int64_t id =
      Emit(f, EventType::kTaskSucceeded, json::object{{"resourceType", rtype}, {"resource", rname}},
           {}, PayloadOf(*r.output));
  ReportLog(s, id, r.log);
  Rebind(f->pending_value, std::move(*r.output));
  f->pending = Pending::kFinishResult;
}

void Execution::ReportLog(const CompiledState& s, std::int64_t event_id, const std::string& log) {
  if (log.empty() || replaying_ || !core_.options().on_task_log) return;
  core_.options().on_task_log(info_, s.name, event_id, log);
}

// ---- tokens ----

// The token is valid from the moment the task starts (its handler may pass it on at once).
void Execution::IssueToken(Frame* f) {
  if (!replaying_) core_.IssueToken(f->task_token, id_);
}

void Execution::ForgetToken(Frame* f) {
  if (f->task_token.empty()) return;
  tokens_.erase(f->task_token);
  early_answers_.erase(f->task_token);
  core_.RevokeToken(f->task_token);
  SyncInFlight();
}

// The task's handler has done its part (sent the token somewhere): wait for the answer, unless
// it came already.
void Execution::WaitForToken(Frame* f) {
  if (auto early = early_answers_.find(f->task_token); early != early_answers_.end()) {
    TaskResult result = std::move(early->second.result);
    ForgetToken(f);
    return FinishTask(f, std::move(result));
  }
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kTask;
  tokens_[f->task_token] = {f->id, f->generation};
  SyncInFlight();
  if (replaying_) return;
  IssueToken(f);
  AnnounceToken(f);
}

// The token leaves the engine: the events that lead to it are recorded first.
void Execution::AnnounceToken(Frame* f) {
  if (!Flush().ok()) return;
  if (core_.options().on_task_token) {
    core_.AfterCommit([core = &core_, state = CurrentState(f).name, token = f->task_token] {
      core->options().on_task_token(state, token);
    }, id_);
  }
}

// Stops waiting for the frame's running task (if any) and asks its handler to stop.
void Execution::AbandonTask(Frame* f) {
  ForgetToken(f);
  f->replay_request.reset();
  auto it = outstanding_.find({f->id, f->generation});
  if (it == outstanding_.end()) return;
  it->second.cancel->store(true);
  if (it->second.hosted) --hosted_tasks_;
  outstanding_.erase(it);
  SyncInFlight();
}

void Execution::AbandonAllTasks() {
  for (auto& [key, task] : outstanding_) task.cancel->store(true);
  outstanding_.clear();
  hosted_tasks_ = 0;
  for (const auto& [token, waiting] : tokens_) core_.RevokeToken(token);
  tokens_.clear();
  early_answers_.clear();
  for (auto& slot : slots_) {
    if (slot != nullptr && !slot->task_token.empty()) core_.RevokeToken(slot->task_token);
  }
  SyncInFlight();
}

void Execution::SyncInFlight() {
  auto now = static_cast<std::ptrdiff_t>(outstanding_.size() - hosted_tasks_ + tokens_.size());
  core_.InFlightChanged(now - reported_in_flight_);
  reported_in_flight_ = now;
}

// ---- timers and answers from the loop ----

void Execution::AddTimer(TimePoint when, TimerKind kind, Frame* f) {
  if (replaying_) {
    // Armed when the execution goes live, from the frame; until then the recorded event that
    // followed the wait ends it.
    if (kind == TimerKind::kWaitDone || kind == TimerKind::kRetry) {
      waiting_by_event_[f->last_event] = f->id;
    }
    return;
  }
  core_.AddTimer(Timer{when, core_.NextTimerSeq(), kind, id_, f->id, f->generation});
}

void Execution::Fire(const Timer& t) {
  if (finished_) return;
  if (t.kind == TimerKind::kExecutionTimeout) {
    if (t.generation != timeout_generation_) return;
    FinishExecution(ExecutionStatus::kTimedOut, {},
                    WorkflowError{std::string(asl::errors::kTimeout), "The execution timed out."});
    return;
  }
  Frame* f = Get(t.frame);
  if (f == nullptr || t.generation != f->generation || f->status != FrameStatus::kWaiting) {
    return;
  }
  switch (t.kind) {
    case TimerKind::kWaitDone: return Resume(f, Pending::kExitWait);
    case TimerKind::kRetry: return Resume(f, Pending::kRetry);
    case TimerKind::kTaskTimeout: return TaskTimedOut(f, asl::errors::kTimeout);
    case TimerKind::kHeartbeatTimeout:
      if (Now() < f->heartbeat_deadline) {  // it beat since: wait for the new deadline
        AddTimer(f->heartbeat_deadline, TimerKind::kHeartbeatTimeout, f);
        return;
      }
      return TaskTimedOut(f, asl::errors::kHeartbeatTimeout);
    case TimerKind::kExecutionTimeout: return;
  }
}

void Execution::TaskTimedOut(Frame* f, std::string_view error) {
  AbandonTask(f);
  ++f->generation;  // the late completion is ignored
  const CompiledState& s = CurrentState(f);
  std::string rname;
  std::string rtype = ResourceType(s.source->task().resource, &rname);
  Emit(f, EventType::kTaskTimedOut,
       json::object{{"resourceType", rtype}, {"resource", rname}, {"error", error},
                    {"cause", ""}});
  f->pending_error = WorkflowError{std::string(error), ""};
  Resume(f, Pending::kHandleError);
}

void Execution::Deliver(Completion&& c) { inbox_.push_back(std::move(c)); }

// Answers are taken only when no frame is runnable, all that arrived at once: a replay takes
// the recorded ones at the same points.
void Execution::RunSteps(int budget) {
  while (!finished_ && budget-- > 0) {
    if (runnable_.empty()) {
      if (inbox_.empty()) return;
      TakeAnswers();
      continue;
    }
    FrameId id = runnable_.front();
    runnable_.pop_front();
    Step(id);
  }
}

void Execution::TakeAnswers() {
  std::vector<Completion> batch;
  batch.swap(inbox_);
  for (Completion& c : batch) {
    if (finished_) return;
    if (!c.token.empty()) {
      auto it = tokens_.find(c.token);
      if (it == tokens_.end()) {
        // Its handler is still running: keep the answer (not a heartbeat) for when it is done.
        if (!c.heartbeat) early_answers_.insert_or_assign(c.token, std::move(c));
        continue;
      }
      Frame* f = Get(it->second.first);
      if (f == nullptr || f->generation != it->second.second) continue;
      if (c.heartbeat) {
        if (f->heartbeat_seconds > 0) {
          f->heartbeat_deadline = Now() + std::chrono::seconds(f->heartbeat_seconds);
        }
        continue;
      }
      ForgetToken(f);
      FinishTask(f, std::move(c.result));
      runnable_.push_back(f->id);
      continue;
    }
    if (c.hosted) {
      auto it = outstanding_.find({c.frame, c.generation});
      if (it != outstanding_.end() && !it->second.hosted) {
        it->second.hosted = true;
        ++hosted_tasks_;
        SyncInFlight();
      }
      continue;
    }
    if (c.heartbeat) {
      Frame* f = outstanding_.contains({c.frame, c.generation}) ? Get(c.frame) : nullptr;
      if (f != nullptr && f->heartbeat_seconds > 0) {
        f->heartbeat_deadline = Now() + std::chrono::seconds(f->heartbeat_seconds);
      }
      continue;
    }
    auto task = outstanding_.find({c.frame, c.generation});
    if (task == outstanding_.end()) continue;  // abandoned already
    if (task->second.hosted) --hosted_tasks_;
    outstanding_.erase(task);
    SyncInFlight();
    Frame* f = Get(c.frame);
    // Ignore tasks that timed out or whose frame was aborted.
    if (f == nullptr || c.generation != f->generation || f->status != FrameStatus::kWaiting) {
      continue;
    }
    TaskDone(f, std::move(c.result));
    if (f->status == FrameStatus::kRunnable) runnable_.push_back(f->id);
  }
}

}  // namespace zflow::runtime
