#include "server/execution_service.h"

#include <fmt/format.h>

#include "common/ids.h"
#include "zflow/validator.h"

namespace zflow::server {
// Activity tasks: the engine's task waits (hosted) until a worker that called GetActivityTask
// answers with the task's token.
class ExecutionService::ActivityHandler final : public runtime::TaskHandler {
 public:
  explicit ActivityHandler(ExecutionService& service) : service_(service) {}
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override {
    return service_.EnqueueActivity(request);
  }

 private:
  ExecutionService& service_;
};

ExecutionService::ExecutionService(ExecutionServiceOptions options, store::Store& store,
                                   LocalServices& services)
    : options_(std::move(options)), store_(store), services_(services) {
  services_.registry().Register(
      fmt::format("arn:aws:states:{}:{}:activity:*", options_.region, options_.account),
      std::make_shared<ActivityHandler>(*this));
  runtime::EngineOptions engine = services_.Engine({.virtual_time = options_.virtual_time});
  engine.clock = options_.clock;
  engine.worker_threads = options_.worker_threads;
  engine.on_task_log = [this](const runtime::ExecutionInfo& info, std::string_view state,
                              std::int64_t event_id, std::string_view log) {
    store_.AddTaskLog(info, state, event_id, log);
  };
  executor_ = std::make_unique<runtime::Executor>(std::move(engine));
  loop_ = std::thread([this] { executor_->Serve(); });
}

ExecutionService::~ExecutionService() {
  executor_->Shutdown();
  {
    // The executions resume from the store; answers to their activity tasks are void.
    std::lock_guard<std::mutex> lock(activities_mu_);
    stopping_ = true;
    activity_tasks_.clear();
  }
  activities_cv_.notify_all();
  loop_.join();
  executor_.reset();
}

TimePoint ExecutionService::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : system_clock_.Now();
}

Result<std::shared_ptr<const runtime::PreparedMachine>> ExecutionService::Machine(
    const std::string& definition) {
  {
    std::lock_guard<std::mutex> lock(machines_mu_);
    if (auto it = machines_.find(definition); it != machines_.end()) return it->second;
  }
  asl::ValidationReport report = asl::ValidateDefinition(definition);
  if (!report.ok()) {
    for (const Diagnostic& d : report.diagnostics) {
      if (d.severity == Severity::kError) {
        return InvalidArgumentError(fmt::format("{} at {}", d.message,
                                                d.pointer.empty() ? "/" : d.pointer));
      }
    }
    return InvalidArgumentError("the definition is not a state machine");
  }
  ZFLOW_ASSIGN_OR_RETURN(auto prepared, runtime::Prepare(std::move(report)));
  std::lock_guard<std::mutex> lock(machines_mu_);
  // A small cache: a server holds a few hundred machines, not millions of definitions.
  if (machines_.size() > 1024) machines_.clear();
  machines_.emplace(definition, prepared);
  return prepared;
}

runtime::ExecutionInfo ExecutionService::InfoOf(const store::ExecutionRecord& record) const {
  auto parsed = ParseJson(record.info);
  if (parsed.ok()) {
    auto info = runtime::ExecutionInfo::FromJson(parsed->value);
    if (info.ok()) return *info;
  }
  return runtime::ExecutionInfo{.name = record.name,
                                .region = options_.region,
                                .account = options_.account};
}

void ExecutionService::Track(const std::string& arn, runtime::ExecutionId id) {
  std::lock_guard<std::mutex> lock(running_mu_);
  running_[arn] = id;
}

runtime::Executor::DoneCallback ExecutionService::Untrack(const std::string& arn,
                                                          runtime::Executor::DoneCallback then) {
  return [this, arn, then = std::move(then)](Result<runtime::ExecutionResult> r) {
    {
      std::lock_guard<std::mutex> lock(running_mu_);
      running_.erase(arn);
    }
    if (then) then(std::move(r));
  };
}

Status ExecutionService::Start(const store::ExecutionRecord& record,
                               runtime::Executor::DoneCallback on_done) {
  ZFLOW_ASSIGN_OR_RETURN(auto machine, Machine(record.definition));
  ZFLOW_ASSIGN_OR_RETURN(ParsedJson input, ParseJson(record.input));
  runtime::ExecutionInfo info = InfoOf(record);
  // Tracked before it starts: a StopExecution that comes at once finds it.
  std::lock_guard<std::mutex> lock(running_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      runtime::ExecutionId id,
      executor_->Start(machine,
                       runtime::ExecutionOptions{.input = std::move(input.value),
                                                 .name = info.name,
                                                 .state_machine_name = info.state_machine_name,
                                                 .region = info.region,
                                                 .account = info.account,
                                                 .seed = info.seed,
                                                 .sink = &store_.sink()},
                       Untrack(record.arn, std::move(on_done))));
  running_[record.arn] = id;
  return Status::Ok();
}

Result<std::size_t> ExecutionService::Recover() {
  ZFLOW_ASSIGN_OR_RETURN(auto running, store_.RunningExecutions());
  std::size_t resumed = 0;
  for (const store::ExecutionRecord& record : running) {
    ZFLOW_ASSIGN_OR_RETURN(runtime::History history, store_.LoadHistory(record.id));
    if (history.size() == 0) {
      // Recorded by StartExecution, stopped before its first event was committed.
      ZFLOW_RETURN_IF_ERROR(Start(record));
      ++resumed;
      continue;
    }
    ZFLOW_ASSIGN_OR_RETURN(auto machine, Machine(record.definition));
    std::lock_guard<std::mutex> lock(running_mu_);
    ZFLOW_ASSIGN_OR_RETURN(
        runtime::ExecutionId id,
        executor_->Resume(machine, std::move(history), InfoOf(record), &store_.sink(),
                          Untrack(record.arn, [arn = record.arn](const Result<runtime::ExecutionResult>& r) {
                            if (!r.ok()) {
                              fmt::print(stderr, "zflow serve: cannot resume {}: {}\n", arn,
                                         r.status().message());
                            }
                          })));
    running_[record.arn] = id;
    ++resumed;
  }
  // The server answers once the resumed executions are live again: a SendTaskSuccess right
  // after a restart finds the task that waits for its token.
  ZFLOW_RETURN_IF_ERROR(executor_->WaitForPosted());
  return resumed;
}

Status ExecutionService::Stop(const std::string& execution_arn, std::string error,
                              std::string cause) {
  runtime::ExecutionId id = 0;
  {
    std::lock_guard<std::mutex> lock(running_mu_);
    auto it = running_.find(execution_arn);
    if (it == running_.end()) {
      return NotFoundError(fmt::format("Execution is not running: '{}'", execution_arn));
    }
    id = it->second;
  }
  return executor_->Stop(id, std::move(error), std::move(cause));
}

Status ExecutionService::Redrive(const store::ExecutionRecord& record) {
  ZFLOW_ASSIGN_OR_RETURN(runtime::History history, store_.LoadHistory(record.id));
  ZFLOW_ASSIGN_OR_RETURN(auto machine, Machine(record.definition));
  // The executor answers asynchronously: a refusal comes through the done callback at once;
  // a redrive that started shows in the store (ExecutionRedriven, committed).
  struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Status> refused;
  };
  auto outcome = std::make_shared<Outcome>();
  {
    std::lock_guard<std::mutex> lock(running_mu_);
    ZFLOW_ASSIGN_OR_RETURN(
        runtime::ExecutionId id,
        executor_->Redrive(machine, std::move(history), InfoOf(record), &store_.sink(),
                           Untrack(record.arn, [outcome](const Result<runtime::ExecutionResult>& r) {
                             std::lock_guard<std::mutex> lock(outcome->mu);
                             outcome->refused = r.ok() ? Status::Ok() : r.status();
                             outcome->cv.notify_all();
                           })));
    running_[record.arn] = id;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::unique_lock<std::mutex> lock(outcome->mu);
      if (outcome->cv.wait_for(lock, std::chrono::milliseconds(2),
                               [&] { return outcome->refused.has_value(); })) {
        return *outcome->refused;  // OK: it already ran to its end again
      }
    }
    ZFLOW_ASSIGN_OR_RETURN(store::ExecutionRecord now, store_.GetExecution(record.arn));
    if (now.redrive_count > record.redrive_count) return Status::Ok();
  }
  return UnavailableError("the redrive did not start within 30 seconds");
}

Result<runtime::ExecutionResult> ExecutionService::RunDetached(
    const runtime::PreparedMachine& machine, json::value input) {
  runtime::Engine engine(services_.Engine({.virtual_time = true}));
  return engine.Run(machine, runtime::ExecutionOptions{.input = std::move(input),
                                                       .name = RandomUuid(),
                                                       .state_machine_name = "TestState",
                                                       .region = options_.region,
                                                       .account = options_.account});
}

Status ExecutionService::SendTaskSuccess(const std::string& token, json::value output) {
  if (auto activity = TakeActivity(token, true)) {
    activity->complete(runtime::TaskResult::Success(std::move(output)));
    return Status::Ok();
  }
  return executor_->SendTaskSuccess(token, std::move(output));
}

Status ExecutionService::SendTaskFailure(const std::string& token, std::string error,
                                         std::string cause) {
  if (auto activity = TakeActivity(token, true)) {
    activity->complete(runtime::TaskResult::Failure(std::move(error), std::move(cause)));
    return Status::Ok();
  }
  return executor_->SendTaskFailure(token, std::move(error), std::move(cause));
}

Status ExecutionService::SendTaskHeartbeat(const std::string& token) {
  if (auto activity = TakeActivity(token, false)) {
    activity->heartbeat();
    return Status::Ok();
  }
  return executor_->SendTaskHeartbeat(token);
}

std::optional<ExecutionService::PendingActivity> ExecutionService::TakeActivity(
    const std::string& token, bool remove) {
  std::lock_guard<std::mutex> lock(activities_mu_);
  auto it = activity_tasks_.find(token);
  if (it == activity_tasks_.end()) return std::nullopt;
  PendingActivity out = it->second;
  if (remove) activity_tasks_.erase(it);
  return out;
}

runtime::TaskResult ExecutionService::EnqueueActivity(const runtime::TaskRequest& request) {
  ActivityTask task;
  {
    std::lock_guard<std::mutex> lock(activities_mu_);
    task.token = fmt::format("zflow-act-{}-{}", ++activity_seq_, RandomHex(48));
    task.input = ToJsonText(request.input);
    activity_tasks_[task.token] =
        PendingActivity{request.complete, request.heartbeat, request.cancelled};
    activity_queues_[request.resource].push_back(task);
  }
  activities_cv_.notify_all();
  return runtime::TaskResult::Hosted();
}

std::size_t ExecutionService::activity_tasks_waiting() {
  std::lock_guard<std::mutex> lock(activities_mu_);
  std::size_t n = 0;
  for (const auto& [arn, queue] : activity_queues_) n += queue.size();
  return n;
}

std::optional<ActivityTask> ExecutionService::GetActivityTask(const std::string& activity_arn,
                                                              std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(activities_mu_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!stopping_) {
    auto& queue = activity_queues_[activity_arn];
    while (!queue.empty()) {
      ActivityTask task = std::move(queue.front());
      queue.pop_front();
      // A task whose execution went on without it (stopped, timed out) is not handed out.
      auto it = activity_tasks_.find(task.token);
      if (it == activity_tasks_.end()) continue;
      if (it->second.cancelled && it->second.cancelled->load()) {
        activity_tasks_.erase(it);
        continue;
      }
      return task;
    }
    if (activities_cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        activity_queues_[activity_arn].empty()) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace zflow::server
