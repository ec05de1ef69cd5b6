// The event loop: executions with runnable frames take turns; task answers, commands from other
// threads and timers wake the loop; before it waits, every execution's new events go to its
// sink (the commit point).

#include <algorithm>
#include <future>

#include <fmt/format.h>

#include "runtime/executor_core.h"
#include "zflow/executor.h"
#include "zflow/validator.h"

namespace zflow::runtime {

namespace {
// Steps an execution takes before others get a turn.
constexpr int kTurn = 4096;
}  // namespace

ExecutorCore::ExecutorCore(EngineOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<WorkerPool>(options_.worker_threads)) {
  Clock* base = options_.clock != nullptr ? options_.clock : &system_clock_;
  if (options_.virtual_time) {
    virtual_clock_ = std::make_unique<ManualClock>(base->Now());
    clock_ = virtual_clock_.get();
  } else {
    clock_ = base;
  }
}

ExecutorCore::~ExecutorCore() {
  // Running handlers are asked to stop; the workers are joined before anything they post to
  // goes away.
  for (auto& [id, e] : executions_) e->AbandonAllTasks();
  pool_.reset();
  executions_.clear();
}

Status ExecutorCore::Post(std::function<void()> command) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return FailedPreconditionError("the executor has shut down");
    commands_.push_back(std::move(command));
  }
  cv_.notify_one();
  return Status::Ok();
}

void ExecutorCore::PostCompletion(Completion c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    completions_.push_back(std::move(c));
  }
  cv_.notify_one();
}

Status ExecutorCore::SendToken(std::string_view token, std::optional<TaskResult> result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_tokens_.find(std::string(token));
    if (it == live_tokens_.end()) {
      return NotFoundError(fmt::format("TaskDoesNotExist: no task waits for the token {}", token));
    }
    Completion c;
    c.execution = it->second;
    c.heartbeat = !result.has_value();
    if (result) c.result = std::move(*result);
    c.token = std::string(token);
    // A success or failure answers the task once: later answers are refused at once.
    if (result) live_tokens_.erase(it);
    completions_.push_back(std::move(c));
  }
  cv_.notify_one();
  return Status::Ok();
}

void ExecutorCore::IssueToken(const std::string& token, ExecutionId id) {
  std::lock_guard<std::mutex> lock(mu_);
  live_tokens_[token] = id;
}

void ExecutorCore::RevokeToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  live_tokens_.erase(token);
}

void ExecutorCore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

Execution* ExecutorCore::Find(ExecutionId id) {
  auto it = executions_.find(id);
  return it == executions_.end() ? nullptr : it->second.get();
}

void ExecutorCore::MarkReady(Execution* e) {
  if (e->queued_) return;
  e->queued_ = true;
  ready_.push_back(e->id());
}

void ExecutorCore::MarkDirty(Execution* e) {
  e->dirty_ = true;
  dirty_.push_back(e->id());
}

Status ExecutorCore::StartExecution(std::shared_ptr<const PreparedMachine> machine,
                                    ExecutionOptions options, DoneCallback on_done) {
  if (machine == nullptr) return InvalidArgumentError("no state machine to start");
  ExecutionId id = NewId();
  return Post([this, id, machine = std::move(machine), options = std::move(options),
               on_done = std::move(on_done)]() mutable {
    Launch(id, std::move(machine), options, &options.input, std::move(on_done));
  });
}

void ExecutorCore::Launch(ExecutionId id, std::shared_ptr<const PreparedMachine> machine,
                          const ExecutionOptions& options, json::value* owned_input,
                          DoneCallback on_done) {
  ExecutionInfo info{.name = options.name,
                     .state_machine_name = options.state_machine_name,
                     .region = options.region,
                     .account = options.account,
                     .seed = options.seed};
  auto e = std::make_unique<Execution>(*this, id, std::move(machine), std::move(info),
                                       options.sink, std::move(on_done));
  Execution* raw = e.get();
  executions_.emplace(id, std::move(e));
  ++running_;
  raw->Start(options.input, owned_input);
  if (raw->finished()) return Finished(raw);
  MarkReady(raw);
}

void ExecutorCore::ResumeExecution(ExecutionId id, std::shared_ptr<const PreparedMachine> machine,
                                   History stored, ExecutionInfo info, EventSink* sink,
                                   bool redrive, DoneCallback on_done) {
  auto fail = [&](Status st) {
    if (on_done) on_done(std::move(st));
  };
  if (redrive) {
    // AWS's limits: 1,000 redrives, and room left in the 25,000-event history.
    std::size_t redrives = 0;
    for (HistoryEvent e : stored) redrives += e.kind == EventType::kExecutionRedriven;
    if (redrives >= 1000 || stored.size() + 1 >= options_.max_history_events) {
      return fail(FailedPreconditionError(fmt::format(
          "ExecutionNotRedrivable: {}",
          redrives >= 1000 ? "the execution has been redriven 1,000 times"
                           : "the execution's history has reached the 25,000-event quota")));
    }
  }
  // Each redrive in the record is found by replaying the run before it to its end.
  std::vector<std::int64_t> cuts;
  bool redrive_at_end = false;
  while (true) {
    auto e = std::make_unique<Execution>(*this, id, machine, info, sink, nullptr);
    auto outcome = e->Replay(stored, cuts, redrive_at_end);
    if (!outcome.ok()) return fail(outcome.status());
    if (*outcome == Execution::ReplayOutcome::kRunning) {
      if (redrive && !redrive_at_end) {
        return fail(FailedPreconditionError(
            "ExecutionNotRedrivable: the execution is still running (resume it instead)"));
      }
      e->set_on_done(std::move(on_done));
      Execution* raw = e.get();
      executions_.emplace(id, std::move(e));
      ++running_;
      if (raw->finished()) return Finished(raw);
      MarkReady(raw);
      return;
    }
    std::size_t end = e->cursor();
    std::string_view status = ExecutionStatusName(e->status());
    if (end < stored.size()) {
      if (stored[end].kind != EventType::kExecutionRedriven || e->RedriveCut() == 0) {
        return fail(FailedPreconditionError(fmt::format(
            "the history does not match the state machine: the execution ended ({}) at event "
            "{}, but event {} ({}) follows",
            status, end, end + 1, stored[end].type)));
      }
      cuts.push_back(e->RedriveCut());
      continue;
    }
    if (!redrive || redrive_at_end) {
      return fail(FailedPreconditionError(
          fmt::format("the execution has already ended ({}); nothing to resume", status)));
    }
    if (e->status() == ExecutionStatus::kSucceeded || e->RedriveCut() == 0) {
      return fail(FailedPreconditionError(fmt::format(
          "ExecutionNotRedrivable: the execution ended {}{}", status,
          e->status() == ExecutionStatus::kSucceeded
              ? ""
              : " without a failed state to run again (a quota or an internal error)")));
    }
    cuts.push_back(e->RedriveCut());
    redrive_at_end = true;
  }
}

void ExecutorCore::StopExecution(ExecutionId id, std::string error, std::string cause) {
  Execution* e = Find(id);
  if (e == nullptr || e->finished()) return;
  e->Stop(std::move(error), std::move(cause));
  if (e->finished()) Finished(e);
}

void ExecutorCore::Finished(Execution* e) {
  auto it = executions_.find(e->id());
  if (it == executions_.end()) return;
  std::unique_ptr<Execution> owned = std::move(it->second);
  executions_.erase(it);
  owned->Complete();
  --running_;
}

bool ExecutorCore::DrainInbox() {
  std::deque<std::function<void()>> commands;
  std::deque<Completion> completions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands.swap(commands_);
    completions.swap(completions_);
  }
  for (auto& command : commands) command();
  for (Completion& c : completions) {
    Execution* e = Find(c.execution);
    if (e == nullptr || e->finished()) continue;
    e->Deliver(std::move(c));
    MarkReady(e);
  }
  return !commands.empty() || !completions.empty();
}

void ExecutorCore::RunReady() {
  while (!ready_.empty()) {
    ExecutionId id = ready_.front();
    ready_.pop_front();
    Execution* e = Find(id);
    if (e == nullptr) continue;
    e->queued_ = false;
    e->RunSteps(kTurn);
    if (e->finished()) {
      Finished(e);
    } else if (e->has_work()) {
      MarkReady(e);
    }
  }
}

void ExecutorCore::Staged(Execution* e, EventSink* sink) {
  if (std::find(staged_sinks_.begin(), staged_sinks_.end(), sink) == staged_sinks_.end()) {
    staged_sinks_.push_back(sink);
  }
  staged_.emplace_back(e->id(), sink);
}

void ExecutorCore::AfterCommit(std::function<void()> effect, ExecutionId execution) {
  if (staged_sinks_.empty()) return effect();
  held_.push_back(HeldEffect{execution, std::move(effect)});
}

void ExecutorCore::CommitStaged() {
  if (staged_sinks_.empty()) return;
  std::vector<EventSink*> sinks;
  sinks.swap(staged_sinks_);
  std::vector<std::pair<ExecutionId, EventSink*>> staged;
  staged.swap(staged_);
  std::vector<HeldEffect> held;
  held.swap(held_);
  std::vector<ExecutionId> lost;
  for (EventSink* sink : sinks) {
    Status st = sink->Commit();
    if (st.ok()) continue;
    for (const auto& [id, s] : staged) {
      if (s != sink) continue;
      lost.push_back(id);
      if (Execution* e = Find(id)) {
        e->LoseRecord(st);
        if (e->finished()) Finished(e);
      }
    }
  }
  for (HeldEffect& effect : held) {
    if (effect.execution != 0 &&
        (Find(effect.execution) == nullptr ||
         std::find(lost.begin(), lost.end(), effect.execution) != lost.end())) {
      continue;
    }
    effect.run();
  }
}

void ExecutorCore::FlushDirty() {
  std::vector<ExecutionId> dirty;
  dirty.swap(dirty_);
  for (ExecutionId id : dirty) {
    Execution* e = Find(id);
    if (e == nullptr || !e->dirty_) continue;
    (void)e->Flush();
    if (e->finished()) Finished(e);
  }
}

void ExecutorCore::Loop(bool serve) {
  while (true) {
    DrainInbox();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) return;
    }
    RunReady();
    CommitStaged();  // one batch per turn of the loop
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!completions_.empty() || !commands_.empty()) continue;
    }
    // Nothing is runnable: commit before waiting (for an answer, a command or a timer).
    FlushDirty();
    CommitStaged();
    if (!ready_.empty()) continue;
    if (!serve && executions_.empty()) return;
    const bool have_timer = !timers_.empty();
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto woken = [&] { return !completions_.empty() || !commands_.empty() || shutdown_; };
      if (virtual_time()) {
        // Virtual time never passes a running task; otherwise it jumps to the next timer.
        if (in_flight_ > 0 || (serve && !have_timer)) cv_.wait(lock, woken);
      } else if (have_timer) {
        cv_.wait_until(lock,
                       std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                           timers_.top().when),
                       woken);
      } else if (in_flight_ > 0 || serve) {
        cv_.wait(lock, woken);
      }
      if (woken()) continue;
    }
    if (have_timer) {
      Timer t = timers_.top();
      if (Now() < t.when) {
        if (!virtual_time()) continue;  // woke early: wait again
        virtual_clock_->AdvanceTo(t.when);
      }
      timers_.pop();
      if (Execution* e = Find(t.execution)) {
        e->Fire(t);
        if (e->finished()) {
          Finished(e);
        } else if (e->has_work()) {
          MarkReady(e);
        }
      }
      continue;
    }
    if (in_flight_ == 0 && !serve) {
      // Nothing can move any execution again.
      std::vector<Execution*> stuck;
      for (auto& [id, e] : executions_) stuck.push_back(e.get());
      for (Execution* e : stuck) {
        e->FailStuck();
        Finished(e);
      }
    }
  }
}

// ---- Executor ----

Executor::Executor(EngineOptions options)
    : core_(std::make_unique<ExecutorCore>(std::move(options))) {}
Executor::~Executor() = default;

Result<ExecutionId> Executor::Start(std::shared_ptr<const PreparedMachine> machine,
                                    ExecutionOptions options, DoneCallback on_done) {
  if (machine == nullptr) return InvalidArgumentError("no state machine to start");
  ExecutionId id = core_->NewId();
  ZFLOW_RETURN_IF_ERROR(core_->Post(
      [core = core_.get(), id, machine = std::move(machine), options = std::move(options),
       on_done = std::move(on_done)]() mutable {
        core->Launch(id, std::move(machine), options, &options.input, std::move(on_done));
      }));
  return id;
}

Result<ExecutionId> Executor::Resume(std::shared_ptr<const PreparedMachine> machine,
                                     History stored, ExecutionInfo info, EventSink* sink,
                                     DoneCallback on_done) {
  return Continue(std::move(machine), std::move(stored), std::move(info), sink,
                  std::move(on_done), /*redrive=*/false);
}

Result<ExecutionId> Executor::Redrive(std::shared_ptr<const PreparedMachine> machine,
                                      History stored, ExecutionInfo info, EventSink* sink,
                                      DoneCallback on_done) {
  return Continue(std::move(machine), std::move(stored), std::move(info), sink,
                  std::move(on_done), /*redrive=*/true);
}

Result<ExecutionId> Executor::Continue(std::shared_ptr<const PreparedMachine> machine,
                                       History stored, ExecutionInfo info, EventSink* sink,
                                       DoneCallback on_done, bool redrive) {
  if (machine == nullptr) return InvalidArgumentError("no state machine to continue");
  ExecutionId id = core_->NewId();
  ZFLOW_RETURN_IF_ERROR(core_->Post([core = core_.get(), id, machine = std::move(machine),
                                     stored = std::move(stored), info = std::move(info), sink,
                                     on_done = std::move(on_done), redrive]() mutable {
    core->ResumeExecution(id, std::move(machine), std::move(stored), std::move(info), sink,
                          redrive, std::move(on_done));
  }));
  return id;
}

Status Executor::Stop(ExecutionId id, std::string error, std::string cause) {
  return core_->Post([core = core_.get(), id, error = std::move(error),
                      cause = std::move(cause)]() mutable {
    core->StopExecution(id, std::move(error), std::move(cause));
  });
}

Status Executor::SendTaskSuccess(std::string_view token, json::value output) {
  return core_->SendToken(token, TaskResult::Success(std::move(output)));
}

Status Executor::SendTaskFailure(std::string_view token, std::string error, std::string cause) {
  return core_->SendToken(token, TaskResult::Failure(std::move(error), std::move(cause)));
}

Status Executor::SendTaskHeartbeat(std::string_view token) {
  return core_->SendToken(token, std::nullopt);
}

Status Executor::WaitForPosted() {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> ready = done->get_future();
  ZFLOW_RETURN_IF_ERROR(core_->Post([done] { done->set_value(); }));
  ready.wait();
  return Status::Ok();
}

void Executor::RunUntilIdle() { core_->Loop(/*serve=*/false); }
void Executor::Serve() { core_->Loop(/*serve=*/true); }
void Executor::Shutdown() { core_->Shutdown(); }
std::size_t Executor::running() const { return core_->running(); }

// ---- Engine: one execution at a time, on the calling thread ----

namespace {

Status FirstError(const std::vector<Diagnostic>& diagnostics) {
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Severity::kError) continue;
    return InvalidArgumentError(fmt::format("the state machine is invalid: {}:{}: {}: {}",
                                            d.location.line, d.location.column, d.code,
                                            d.message));
  }
  return Status::Ok();
}

// `paths`: what the validator compiled (may be null).
Result<std::shared_ptr<const PreparedMachine>> PrepareValid(asl::StateMachine machine,
                                                            asl::JsonPathCache* paths) {
  auto prepared = std::make_shared<PreparedMachine>();
  machine.set_source_map({});  // locations are for diagnostics, not for running
  prepared->machine = std::move(machine);  // the compiled states point into this one
  ZFLOW_ASSIGN_OR_RETURN(prepared->compiled, CompileMachine(prepared->machine, paths));
  return std::shared_ptr<const PreparedMachine>(std::move(prepared));
}

}  // namespace

Result<std::shared_ptr<const PreparedMachine>> Prepare(asl::ValidationReport report) {
  if (!report.machine) {
    Status s = FirstError(report.diagnostics);
    return s.ok() ? InvalidArgumentError("the definition did not parse") : s;
  }
  ZFLOW_RETURN_IF_ERROR(FirstError(report.diagnostics));
  // The validator's compiled paths, unless a copy of the report shares them (the cache is not
  // for two threads at once).
  asl::JsonPathCache* paths =
      report.compiled_paths.use_count() == 1 ? report.compiled_paths.get() : nullptr;
  return PrepareValid(std::move(*report.machine), paths);
}

Result<std::shared_ptr<const PreparedMachine>> Prepare(asl::StateMachine machine) {
  ZFLOW_RETURN_IF_ERROR(FirstError(asl::ValidateStateMachine(machine)));
  return PrepareValid(std::move(machine), nullptr);
}

struct Engine::Impl {
  explicit Impl(EngineOptions o) : core(std::move(o)) {}
  ExecutorCore core;
  std::atomic<ExecutionId> current{0};

  template <typename Begin>
  Result<ExecutionResult> Drive(Begin&& begin) {
    Result<ExecutionResult> out = InternalError("the execution did not end");
    ExecutionId id = core.NewId();
    current = id;
    begin(id, [&out](Result<ExecutionResult> r) { out = std::move(r); });
    core.Loop(/*serve=*/false);
    current = 0;
    return out;
  }
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::~Engine() = default;

Result<std::shared_ptr<const PreparedMachine>> Engine::Prepare(asl::StateMachine machine) {
  return runtime::Prepare(std::move(machine));
}

Result<ExecutionResult> Engine::Run(const PreparedMachine& machine,
                                    const ExecutionOptions& options) {
  return impl_->Drive([&](ExecutionId id, DoneCallback done) {
    impl_->core.Launch(id, machine.shared_from_this(), options, nullptr, std::move(done));
  });
}

Result<ExecutionResult> Engine::Run(const PreparedMachine& machine, ExecutionOptions&& options) {
  return impl_->Drive([&](ExecutionId id, DoneCallback done) {
    json::value* input = &options.input;
    impl_->core.Launch(id, machine.shared_from_this(), options, input, std::move(done));
  });
}

Result<ExecutionResult> Engine::Run(const asl::StateMachine& machine,
                                    const ExecutionOptions& options) {
  ZFLOW_ASSIGN_OR_RETURN(auto prepared, runtime::Prepare(machine));
  return Run(*prepared, options);
}

Result<ExecutionResult> Engine::Resume(const PreparedMachine& machine, const History& stored,
                                       const ExecutionInfo& info, EventSink* sink) {
  return impl_->Drive([&](ExecutionId id, DoneCallback done) {
    impl_->core.ResumeExecution(id, machine.shared_from_this(), stored, info, sink,
                                /*redrive=*/false, std::move(done));
  });
}

Result<ExecutionResult> Engine::Redrive(const PreparedMachine& machine, const History& stored,
                                        const ExecutionInfo& info, EventSink* sink) {
  return impl_->Drive([&](ExecutionId id, DoneCallback done) {
    impl_->core.ResumeExecution(id, machine.shared_from_this(), stored, info, sink,
                                /*redrive=*/true, std::move(done));
  });
}

Status Engine::SendTaskSuccess(std::string_view token, json::value output) {
  return impl_->core.SendToken(token, TaskResult::Success(std::move(output)));
}

Status Engine::SendTaskFailure(std::string_view token, std::string error, std::string cause) {
  return impl_->core.SendToken(token, TaskResult::Failure(std::move(error), std::move(cause)));
}

Status Engine::SendTaskHeartbeat(std::string_view token) {
  return impl_->core.SendToken(token, std::nullopt);
}

Status Engine::Stop(std::string error, std::string cause) {
  ExecutionId id = impl_->current;
  if (id == 0) return NotFoundError("no execution is running");
  return impl_->core.Post([core = &impl_->core, id, error = std::move(error),
                           cause = std::move(cause)]() mutable {
    core->StopExecution(id, std::move(error), std::move(cause));
  });
}

}  // namespace zflow::runtime
