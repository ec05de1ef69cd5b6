// The server's durable record, in one SQLite database (write-ahead log, schema versioned with
// migrations): state machines with their versions and aliases, executions and their history
// events, activities, tags, schedules and endpoint records.
//
//   ZFLOW_ASSIGN_OR_RETURN(auto store, Store::Open("/var/lib/zflow/zflow.db"));
//   ZFLOW_RETURN_IF_ERROR(store->CreateStateMachine(record));
//   executor.Start(machine, {.input = input, .sink = &store->sink()});   // events land here
//   for (const ExecutionRecord& e : store->RunningExecutions().value()) ...  // recovery
//
// Thread safety: every method may be called from any thread. Writes go through one connection
// (serialized by a mutex); reads use a second connection, so they are not blocked by the
// group commit of events beyond SQLite's own locking (WAL lets readers run beside a writer).
#ifndef ZFLOW_STORE_STORE_H_
#define ZFLOW_STORE_STORE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zflow/runtime.h"
#include "zflow/status.h"

namespace zflow::store {

class Database;
class Statement;

struct StateMachineRecord {
  std::string arn;
  std::string name;
  std::string definition;
  std::string role_arn;
  std::string type = "STANDARD";
  std::string description;
  std::string revision_id;
  std::string logging_configuration = "{}";  // JSON text, as the API takes it
  std::string tracing_configuration = "{}";
  std::int64_t creation_ms = 0;
  std::int64_t update_ms = 0;
};

struct VersionRecord {
  std::string arn;  // <machine arn>:<version>
  std::string machine_arn;
  std::int64_t version = 0;
  std::string definition;
  std::string role_arn;
  std::string type;
  std::string description;
  std::string revision_id;
  std::string logging_configuration = "{}";
  std::string tracing_configuration = "{}";
  std::int64_t creation_ms = 0;
};

struct AliasRecord {
  std::string arn;  // <machine arn>:<alias name>
  std::string machine_arn;
  std::string name;
  std::string description;
  std::string routing;  // JSON text: [{"stateMachineVersionArn", "weight"}]
  std::int64_t creation_ms = 0;
  std::int64_t update_ms = 0;
};

struct ExecutionRecord {
  std::int64_t id = 0;  // the store's key, in start order
  std::string arn;
  std::string machine_arn;
  std::string version_arn;  // the version it runs, when started through a version or alias
  std::string alias_arn;    // the alias it was started through
  std::string name;
  std::string status = "RUNNING";
  std::string input;
  std::string output;  // JSON text once SUCCEEDED
  std::string error;
  std::string cause;
  std::string info;        // runtime::ExecutionInfo as JSON (holds the secret seed)
  std::string definition;  // what it runs
  std::string role_arn;
  std::string revision_id;
  std::string trace_header;
  std::int64_t start_ms = 0;
  std::int64_t stop_ms = 0;  // 0 while running
  std::int64_t redrive_count = 0;
  std::int64_t redrive_ms = 0;
  std::int64_t event_count = 0;
};

struct ExecutionFilter {
  std::string machine_arn;  // empty: every machine
  std::string version_arn;  // executions of this version only
  std::string alias_arn;    // executions started through this alias only
  std::string status;       // empty: any
  std::int64_t before_id = 0;  // newest first: only ids below this (0: from the newest)
  std::int64_t started_after_ms = 0;   // 0: no bound; else start_ms >= this
  std::int64_t started_before_ms = 0;  // 0: no bound; else start_ms < this
  int limit = 100;
};

struct ActivityRecord {
  std::string arn;
  std::string name;
  std::int64_t creation_ms = 0;
};

struct ScheduleRecord {
  std::string name;
  std::string machine_arn;  // the target: executions of this machine (or version / alias)
  std::string expression;   // cron(...), rate(...), at(...)
  std::string time_zone = "UTC";
  std::string input = "{}";
  std::string state = "ENABLED";  // ENABLED | DISABLED
  // What happens to fires missed while the server was down: "SKIP" (EventBridge's way) or
  // "RUN_ONCE" (one catch-up run).
  std::string missed = "SKIP";
  std::string description;
  std::string role_arn;
  std::string after_completion = "NONE";  // NONE | DELETE (one-time schedules)
  std::string window = R"({"Mode":"OFF"})";  // FlexibleTimeWindow, JSON text
  std::int64_t start_ms = 0;  // StartDate (0: none)
  std::int64_t end_ms = 0;    // EndDate (0: none)
  std::int64_t creation_ms = 0;
  std::int64_t update_ms = 0;
  // The scheduled time of the last fire, or of the last update (0: neither yet): the next fire
  // comes after it.
  std::int64_t last_fire_ms = 0;
};

struct EndpointRecord {
  std::string name;
  std::string config;  // JSON text
  std::string status;
  std::string url;
  std::int64_t update_ms = 0;
};

// What a task printed, with the id of its TaskSucceeded / TaskFailed event.
struct TaskLog {
  std::int64_t event_id = 0;
  std::string state;
  std::string log;
};

// One page of stored history events, each the JSON text GetExecutionHistory returns.
struct EventPage {
  std::vector<std::string> events;
  std::int64_t next_id = 0;  // the next event id to read; 0 when the page is the last
};

struct StoreOptions {
  // Caps the database file (0: no cap). A write past it fails as a full disk would
  // (kResourceExhausted) and changes nothing.
  std::int64_t max_bytes = 0;
};

class Store {
 public:
  // Opens or creates the database at `path` and brings its schema up to date. Errors:
  // kPermissionDenied (a directory that cannot be written), kDataLoss (not a zflow database),
  // kFailedPrecondition (written by a newer zflow).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, StoreOptions options = {});
  ~Store();

  static constexpr int kSchemaVersion = 2;
  const std::string& path() const { return path_; }

  // ---- state machines, versions, aliases ----
  // kAlreadyExists when the name is taken.
  Status CreateStateMachine(const StateMachineRecord& record);
  Result<StateMachineRecord> GetStateMachine(std::string_view arn);
  // Ordered by name; `after` is the last name of the previous page.
  Result<std::vector<StateMachineRecord>> ListStateMachines(std::string_view after, int limit);
  // Replaces the definition / role / configurations and revision id.
  Status UpdateStateMachine(const StateMachineRecord& record);
  // Deletes the machine with its versions, aliases and tags; executions stay readable.
  Status DeleteStateMachine(std::string_view arn);

  // Publishes the machine's current revision as the next version number (or returns the
  // version that already holds this revision, as AWS does).
  Result<VersionRecord> PublishVersion(std::string_view machine_arn, std::string_view description,
                                       std::int64_t now_ms);
  Result<VersionRecord> GetVersion(std::string_view arn);
  // Newest first.
  Result<std::vector<VersionRecord>> ListVersions(std::string_view machine_arn);
  Status DeleteVersion(std::string_view arn);

  Status CreateAlias(const AliasRecord& record);
  Result<AliasRecord> GetAlias(std::string_view arn);
  Result<std::vector<AliasRecord>> ListAliases(std::string_view machine_arn);
  Status UpdateAlias(const AliasRecord& record);
  Status DeleteAlias(std::string_view arn);

  // ---- executions ----
  // Records a new execution (status RUNNING) and returns its id; kAlreadyExists when the
  // machine has an execution of that name.
  Result<std::int64_t> CreateExecution(const ExecutionRecord& record);
  Result<ExecutionRecord> GetExecution(std::string_view arn);
  Result<std::vector<ExecutionRecord>> ListExecutions(const ExecutionFilter& filter);
  // Executions whose record says RUNNING (the ones to resume after a restart), oldest first.
  Result<std::vector<ExecutionRecord>> RunningExecutions();
  // Stored events of an execution: ids from `from_id` (1-based) going up, or going down
  // with `reverse` (from_id 0: from the last).
  Result<EventPage> Events(std::int64_t execution_id, std::int64_t from_id, int limit,
                           bool reverse);
  // PRAGMA integrity_check: OK, or kDataLoss with what SQLite found.
  Status CheckIntegrity();
  // Every stored event as a runtime History (for resume and redrive).
  Result<runtime::History> LoadHistory(std::int64_t execution_id);
  // The task logs of an execution, in event order.
  Result<std::vector<TaskLog>> TaskLogs(std::int64_t execution_id);

  // The step graph of the pipeline a state machine was compiled from (JSON text, see
  // Pipeline::StepGraph), kept for the web UI; Get is kNotFound for machines without one.
  Status PutPipelineGraph(std::string_view machine_arn, std::string_view graph,
                          std::int64_t now_ms);
  Result<std::string> GetPipelineGraph(std::string_view machine_arn);
  // Counts by status (for metrics).
  Result<std::map<std::string, std::int64_t>> CountExecutionsByStatus();

  // The sink executions started by the server write to: Append stages events in memory,
  // Commit writes everything staged in one transaction (group commit) and updates each
  // execution's status, output and stop date when its events end it.
  runtime::EventSink& sink();
  // Called for every event the sink is given (on the thread that appends; set before the
  // first execution starts).
  // Records a task's log with the next commit of the execution's events (on the thread that
  // appends: EngineOptions::on_task_log).
  void AddTaskLog(const runtime::ExecutionInfo& info, std::string_view state,
                  std::int64_t event_id, std::string_view log);
  void SetEventObserver(
      std::function<void(const runtime::ExecutionInfo&, const runtime::HistoryEvent&)> observer);

  // ---- activities ----
  Status CreateActivity(const ActivityRecord& record);  // kAlreadyExists
  Result<ActivityRecord> GetActivity(std::string_view arn);
  Result<std::vector<ActivityRecord>> ListActivities();
  Status DeleteActivity(std::string_view arn);

  // ---- tags ----
  Status TagResource(std::string_view arn, const std::map<std::string, std::string>& tags);
  Status UntagResource(std::string_view arn, const std::vector<std::string>& keys);
  Result<std::map<std::string, std::string>> Tags(std::string_view arn);

  // ---- schedules and endpoints ----
  Status PutSchedule(const ScheduleRecord& record);  // insert or replace
  Result<ScheduleRecord> GetSchedule(std::string_view name);
  Result<std::vector<ScheduleRecord>> ListSchedules();
  Status DeleteSchedule(std::string_view name);
  Status SetScheduleFired(std::string_view name, std::int64_t fire_ms);
  Status PutEndpoint(const EndpointRecord& record);
  Result<std::vector<EndpointRecord>> ListEndpoints();

 private:
  class EventWriter;
  Store(std::string path, std::unique_ptr<Database> writer, std::unique_ptr<Database> reader);
  Status Migrate();
  // Runs `body` (writes on writer_) in the next group commit; returns its result, or the
  // commit's error.
  Status Write(const std::function<Status()>& body);
  struct QueuedWrite {
    const std::function<Status()>* body;
    Status result;
    bool done;
  };
  void CommitBatch(const std::vector<QueuedWrite*>& batch);

  std::string path_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<QueuedWrite*> queue_;  // guarded by queue_mu_
  bool leading_ = false;             // guarded by queue_mu_: a commit is in progress
  std::mutex write_mu_;
  std::unique_ptr<Database> writer_;  // guarded by write_mu_
  std::mutex read_mu_;
  std::unique_ptr<Database> reader_;  // guarded by read_mu_
  std::unique_ptr<EventWriter> events_;
};

}  // namespace zflow::store

#endif  // ZFLOW_STORE_STORE_H_
