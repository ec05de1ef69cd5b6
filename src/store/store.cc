#include "store/store.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <unordered_map>

#include "store/event_writer.h"
#include "store/sqlite.h"
#include "zflow/json.h"

namespace zflow::store {
namespace {

// Each entry brings the schema from version i to i + 1; a database records its version in
// PRAGMA user_version. Entries are never edited once released: a change is a new entry.
constexpr std::array<std::string_view, Store::kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE state_machines(
  arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, definition TEXT NOT NULL,
  role_arn TEXT NOT NULL, type TEXT NOT NULL, description TEXT NOT NULL,
  revision_id TEXT NOT NULL, logging TEXT NOT NULL, tracing TEXT NOT NULL,
  creation_ms INTEGER NOT NULL, update_ms INTEGER NOT NULL,
  next_version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE versions(
  arn TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, version INTEGER NOT NULL,
  definition TEXT NOT NULL, role_arn TEXT NOT NULL, type TEXT NOT NULL,
  description TEXT NOT NULL, revision_id TEXT NOT NULL, logging TEXT NOT NULL,
  tracing TEXT NOT NULL, creation_ms INTEGER NOT NULL);
CREATE INDEX versions_by_machine ON versions(machine_arn, version);
CREATE TABLE aliases(
  arn TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, name TEXT NOT NULL,
  description TEXT NOT NULL, routing TEXT NOT NULL,
  creation_ms INTEGER NOT NULL, update_ms INTEGER NOT NULL);
CREATE INDEX aliases_by_machine ON aliases(machine_arn, name);
CREATE TABLE definitions(sha256 TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE executions(
  id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, machine_arn TEXT NOT NULL,
  version_arn TEXT NOT NULL, alias_arn TEXT NOT NULL, name TEXT NOT NULL,
  status TEXT NOT NULL, input TEXT NOT NULL, output TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '', cause TEXT NOT NULL DEFAULT '', info TEXT NOT NULL,
  definition_sha TEXT NOT NULL REFERENCES definitions(sha256),
  role_arn TEXT NOT NULL, revision_id TEXT NOT NULL, trace_header TEXT NOT NULL,
  start_ms INTEGER NOT NULL, stop_ms INTEGER NOT NULL DEFAULT 0,
  redrive_count INTEGER NOT NULL DEFAULT 0, redrive_ms INTEGER NOT NULL DEFAULT 0,
  event_count INTEGER NOT NULL DEFAULT 0);
CREATE INDEX executions_by_machine ON executions(machine_arn, id);
CREATE INDEX executions_by_status ON executions(status, id);
CREATE TABLE events(
  execution_id INTEGER NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY(execution_id, id)) WITHOUT ROWID;
CREATE TABLE task_logs(
  execution_id INTEGER NOT NULL, event_id INTEGER NOT NULL, state TEXT NOT NULL,
  log TEXT NOT NULL, PRIMARY KEY(execution_id, event_id)) WITHOUT ROWID;
CREATE TABLE activities(arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  creation_ms INTEGER NOT NULL);
CREATE TABLE tags(resource_arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(resource_arn, key)) WITHOUT ROWID;
CREATE TABLE schedules(
  name TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, expression TEXT NOT NULL,
  time_zone TEXT NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL, missed TEXT NOT NULL,
  description TEXT NOT NULL, role_arn TEXT NOT NULL, after_completion TEXT NOT NULL,
  window TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
  creation_ms INTEGER NOT NULL, update_ms INTEGER NOT NULL,
  last_fire_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE endpoints(name TEXT PRIMARY KEY, config TEXT NOT NULL, status TEXT NOT NULL,
  url TEXT NOT NULL, update_ms INTEGER NOT NULL);
)sql",
    // 2: the step graphs of pipelines deployed with `zflow deploy --local`, for the web UI.
    R"sql(
CREATE TABLE pipelines(state_machine_arn TEXT PRIMARY KEY, graph TEXT NOT NULL,
  update_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql",
};

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string out;
  out.reserve(std::size_t{2} * SHA256_DIGEST_LENGTH);
  for (unsigned char c : digest) out += fmt::format("{:02x}", c);
  return out;
}

Status NotFound(std::string_view what, std::string_view arn) {
  return NotFoundError(fmt::format("{} does not exist: {}", what, arn));
}

constexpr std::string_view kMachineColumns =
    "arn, name, definition, role_arn, type, description, revision_id, logging, tracing, "
    "creation_ms, update_ms";

StateMachineRecord MachineFrom(const Statement& q) {
  return StateMachineRecord{.arn = std::string(q.Text(0)),
                            .name = std::string(q.Text(1)),
                            .definition = std::string(q.Text(2)),
                            .role_arn = std::string(q.Text(3)),
                            .type = std::string(q.Text(4)),
                            .description = std::string(q.Text(5)),
                            .revision_id = std::string(q.Text(6)),
                            .logging_configuration = std::string(q.Text(7)),
                            .tracing_configuration = std::string(q.Text(8)),
                            .creation_ms = q.Int(9),
                            .update_ms = q.Int(10)};
}

constexpr std::string_view kVersionColumns =
    "arn, machine_arn, version, definition, role_arn, type, description, revision_id, logging, "
    "tracing, creation_ms";

VersionRecord VersionFrom(const Statement& q) {
  return VersionRecord{.arn = std::string(q.Text(0)),
                       .machine_arn = std::string(q.Text(1)),
                       .version = q.Int(2),
                       .definition = std::string(q.Text(3)),
                       .role_arn = std::string(q.Text(4)),
                       .type = std::string(q.Text(5)),
                       .description = std::string(q.Text(6)),
                       .revision_id = std::string(q.Text(7)),
                       .logging_configuration = std::string(q.Text(8)),
                       .tracing_configuration = std::string(q.Text(9)),
                       .creation_ms = q.Int(10)};
}

constexpr std::string_view kAliasColumns =
    "arn, machine_arn, name, description, routing, creation_ms, update_ms";

AliasRecord AliasFrom(const Statement& q) {
  return AliasRecord{.arn = std::string(q.Text(0)),
                     .machine_arn = std::string(q.Text(1)),
                     .name = std::string(q.Text(2)),
                     .description = std::string(q.Text(3)),
                     .routing = std::string(q.Text(4)),
                     .creation_ms = q.Int(5),
                     .update_ms = q.Int(6)};
}

constexpr std::string_view kExecutionColumns =
    "e.id, e.arn, e.machine_arn, e.version_arn, e.alias_arn, e.name, e.status, e.input, "
    "e.output, e.error, e.cause, e.info, d.text, e.role_arn, e.revision_id, e.trace_header, "
    "e.start_ms, e.stop_ms, e.redrive_count, e.redrive_ms, e.event_count";

ExecutionRecord ExecutionFrom(const Statement& q) {
  return ExecutionRecord{.id = q.Int(0),
                         .arn = std::string(q.Text(1)),
                         .machine_arn = std::string(q.Text(2)),
                         .version_arn = std::string(q.Text(3)),
                         .alias_arn = std::string(q.Text(4)),
                         .name = std::string(q.Text(5)),
                         .status = std::string(q.Text(6)),
                         .input = std::string(q.Text(7)),
                         .output = std::string(q.Text(8)),
                         .error = std::string(q.Text(9)),
                         .cause = std::string(q.Text(10)),
                         .info = std::string(q.Text(11)),
                         .definition = std::string(q.Text(12)),
                         .role_arn = std::string(q.Text(13)),
                         .revision_id = std::string(q.Text(14)),
                         .trace_header = std::string(q.Text(15)),
                         .start_ms = q.Int(16),
                         .stop_ms = q.Int(17),
                         .redrive_count = q.Int(18),
                         .redrive_ms = q.Int(19),
                         .event_count = q.Int(20)};
}

constexpr std::string_view kScheduleColumns =
    "name, machine_arn, expression, time_zone, input, state, missed, description, role_arn, "
    "after_completion, window, start_ms, end_ms, creation_ms, update_ms, last_fire_ms";

ScheduleRecord ScheduleFrom(const Statement& q) {
  return ScheduleRecord{.name = std::string(q.Text(0)),
                        .machine_arn = std::string(q.Text(1)),
                        .expression = std::string(q.Text(2)),
                        .time_zone = std::string(q.Text(3)),
                        .input = std::string(q.Text(4)),
                        .state = std::string(q.Text(5)),
                        .missed = std::string(q.Text(6)),
                        .description = std::string(q.Text(7)),
                        .role_arn = std::string(q.Text(8)),
                        .after_completion = std::string(q.Text(9)),
                        .window = std::string(q.Text(10)),
                        .start_ms = q.Int(11),
                        .end_ms = q.Int(12),
                        .creation_ms = q.Int(13),
                        .update_ms = q.Int(14),
                        .last_fire_ms = q.Int(15)};
}

// Runs `q` and collects every row with `from`.
template <typename T, typename From>
Result<std::vector<T>> All(Statement& q, From from) {
  std::vector<T> out;
  while (true) {
    ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(from(q));
  }
  return out;
}

// Runs `q` for one row.
template <typename T, typename From>
Result<T> One(Statement& q, From from, std::string_view what, std::string_view key) {
  ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound(what, key);
  return from(q);
}

}  // namespace

// ---- opening and migrations ----

Store::Store(std::string path, std::unique_ptr<Database> writer, std::unique_ptr<Database> reader)
    : path_(std::move(path)), writer_(std::move(writer)), reader_(std::move(reader)) {
  events_ = std::make_unique<EventWriter>(*this);
}

Store::~Store() {
  // Statements belong to the writer: the event writer goes first.
  events_.reset();
}

runtime::EventSink& Store::sink() { return *events_; }

void Store::SetEventObserver(
    std::function<void(const runtime::ExecutionInfo&, const runtime::HistoryEvent&)> observer) {
  events_->observer = std::move(observer);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
  ZFLOW_ASSIGN_OR_RETURN(auto writer, Database::Open(path));
  std::unique_ptr<Store> store(new Store(path, std::move(writer), nullptr));
  ZFLOW_RETURN_IF_ERROR(store->Migrate());
  if (options.max_bytes > 0) {
    ZFLOW_RETURN_IF_ERROR(store->writer_->Exec(fmt::format(
        "PRAGMA max_page_count = {}", std::max<std::int64_t>(1, options.max_bytes / 4096))));
  }
  ZFLOW_ASSIGN_OR_RETURN(store->reader_, Database::Open(path));
  return store;
}

// Group commit: whoever finds no commit in progress leads one for every write queued by then,
// each in its own savepoint (one write's failure, a duplicate name say, leaves the others), and
// flushes them with one COMMIT; the others wait for their result.
Status Store::Write(const std::function<Status()>& body) {
  QueuedWrite me{&body, Status::Ok(), false};
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leading_) {
      queue_cv_.wait(lock);
      continue;
    }
    leading_ = true;
    std::vector<QueuedWrite*> batch;
    batch.swap(queue_);
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    for (QueuedWrite* w : batch) w->done = true;
    leading_ = false;
    queue_cv_.notify_all();
  }
  return me.result;
}

void Store::CommitBatch(const std::vector<QueuedWrite*>& batch) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // The transaction's own statements, compiled once like the others.
  auto run = [&](std::string_view sql) -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare(sql));
    return q.Run();
  };
  Status begun = run("BEGIN IMMEDIATE");
  if (!begun.ok()) {
    for (QueuedWrite* w : batch) w->result = begun;
    return;
  }
  for (QueuedWrite* w : batch) {
    Status st = run("SAVEPOINT w");
    if (st.ok()) {
      st = (*w->body)();
      if (!st.ok()) (void)run("ROLLBACK TO w");
      Status released = run("RELEASE w");
      if (st.ok()) st = released;
    }
    w->result = st;
  }
  Status committed = run("COMMIT");
  if (!committed.ok()) {
    (void)run("ROLLBACK");
    for (QueuedWrite* w : batch) {
      if (w->result.ok()) w->result = committed;
    }
  }
}

Status Store::Migrate() {
  ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare("PRAGMA user_version"));
  ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
  std::int64_t version = row ? q.Int(0) : 0;
  q = Statement();
  if (version > kSchemaVersion) {
    return FailedPreconditionError(fmt::format(
        "{}: the database has schema version {}, newer than this zflow understands ({}); "
        "use a newer zflow",
        path_, version, kSchemaVersion));
  }
  for (std::int64_t v = version; v < kSchemaVersion; ++v) {
    ZFLOW_RETURN_IF_ERROR(InTransaction(*writer_, [&]() -> Status {
      ZFLOW_RETURN_IF_ERROR(writer_->Exec(kMigrations[static_cast<std::size_t>(v)]));
      return writer_->Exec(fmt::format("PRAGMA user_version = {}", v + 1));
    }));
  }
  return Status::Ok();
}


// ---- state machines ----

Status Store::CreateStateMachine(const StateMachineRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q,
                           writer_->Prepare(fmt::format("INSERT INTO state_machines({}) VALUES "
                                                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                                        kMachineColumns)));
    q.Bind(1, r.arn).Bind(2, r.name).Bind(3, r.definition).Bind(4, r.role_arn).Bind(5, r.type);
    q.Bind(6, r.description).Bind(7, r.revision_id).Bind(8, r.logging_configuration);
    q.Bind(9, r.tracing_configuration).Bind(10, r.creation_ms).Bind(11, r.update_ms);
    Status st = q.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError(fmt::format("State Machine Already Exists: '{}'", r.arn));
    }
    return st;
  });
}

Result<StateMachineRecord> Store::GetStateMachine(std::string_view arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q,
                         reader_->Prepare(fmt::format("SELECT {} FROM state_machines WHERE arn = ?",
                                                      kMachineColumns)));
  q.Bind(1, arn);
  return One<StateMachineRecord>(q, MachineFrom, "State Machine", arn);
}

Result<std::vector<StateMachineRecord>> Store::ListStateMachines(std::string_view after,
                                                                 int limit) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare(fmt::format(
          "SELECT {} FROM state_machines WHERE name > ? ORDER BY name LIMIT ?", kMachineColumns)));
  q.Bind(1, after).Bind(2, static_cast<std::int64_t>(limit));
  return All<StateMachineRecord>(q, MachineFrom);
}

Status Store::UpdateStateMachine(const StateMachineRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q,
        writer_->Prepare("UPDATE state_machines SET definition = ?, role_arn = ?, description = ?, "
                         "revision_id = ?, logging = ?, tracing = ?, update_ms = ? WHERE arn = ?"));
    q.Bind(1, r.definition).Bind(2, r.role_arn).Bind(3, r.description).Bind(4, r.revision_id);
    q.Bind(5, r.logging_configuration).Bind(6, r.tracing_configuration).Bind(7, r.update_ms);
    q.Bind(8, r.arn);
    ZFLOW_RETURN_IF_ERROR(q.Run());
    if (writer_->Changes() == 0) return NotFound("State Machine", r.arn);
    return Status::Ok();
  });
}

Status Store::DeleteStateMachine(std::string_view arn) {
  return Write([&]() -> Status {
    std::string prefix = fmt::format("{}:", arn);
    for (std::string_view sql :
         {"DELETE FROM state_machines WHERE arn = ?1",
          "DELETE FROM versions WHERE machine_arn = ?1",
          "DELETE FROM aliases WHERE machine_arn = ?1",
          "DELETE FROM tags WHERE resource_arn = ?1 OR substr(resource_arn, 1, length(?2)) = ?2"}) {
      ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare(sql));
      q.Bind(1, arn);
      if (sql.find("?2") != std::string_view::npos) q.Bind(2, prefix);
      ZFLOW_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

// ---- versions ----

Result<VersionRecord> Store::PublishVersion(std::string_view machine_arn,
                                            std::string_view description, std::int64_t now_ms) {
  VersionRecord out;
  Status st = Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement m,
        writer_->Prepare(fmt::format("SELECT {}, next_version FROM state_machines WHERE arn = ?",
                                     kMachineColumns)));
    m.Bind(1, machine_arn);
    ZFLOW_ASSIGN_OR_RETURN(bool row, m.Step());
    if (!row) return NotFound("State Machine", machine_arn);
    StateMachineRecord machine = MachineFrom(m);
    std::int64_t next = m.Int(11);
    // Publishing a revision that is already a version returns that version.
    ZFLOW_ASSIGN_OR_RETURN(
        Statement existing,
        writer_->Prepare(fmt::format(
            "SELECT {} FROM versions WHERE machine_arn = ? AND revision_id = ?", kVersionColumns)));
    existing.Bind(1, machine_arn).Bind(2, machine.revision_id);
    ZFLOW_ASSIGN_OR_RETURN(bool have, existing.Step());
    if (have) {
      out = VersionFrom(existing);
      return Status::Ok();
    }
    out = VersionRecord{.arn = fmt::format("{}:{}", machine_arn, next),
                        .machine_arn = std::string(machine_arn),
                        .version = next,
                        .definition = machine.definition,
                        .role_arn = machine.role_arn,
                        .type = machine.type,
                        .description = std::string(description),
                        .revision_id = machine.revision_id,
                        .logging_configuration = machine.logging_configuration,
                        .tracing_configuration = machine.tracing_configuration,
                        .creation_ms = now_ms};
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q,
        writer_->Prepare(fmt::format(
            "INSERT INTO versions({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kVersionColumns)));
    q.Bind(1, out.arn).Bind(2, out.machine_arn).Bind(3, out.version).Bind(4, out.definition);
    q.Bind(5, out.role_arn).Bind(6, out.type).Bind(7, out.description).Bind(8, out.revision_id);
    q.Bind(9, out.logging_configuration).Bind(10, out.tracing_configuration);
    q.Bind(11, out.creation_ms);
    ZFLOW_RETURN_IF_ERROR(q.Run());
    ZFLOW_ASSIGN_OR_RETURN(
        Statement bump,
        writer_->Prepare(
            "UPDATE state_machines SET next_version = next_version + 1 WHERE arn = ?"));
    bump.Bind(1, machine_arn);
    return bump.Run();
  });
  if (!st.ok()) return st;
  return out;
}

Result<VersionRecord> Store::GetVersion(std::string_view arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare(fmt::format("SELECT {} FROM versions WHERE arn = ?", kVersionColumns)));
  q.Bind(1, arn);
  return One<VersionRecord>(q, VersionFrom, "State Machine Version", arn);
}

Result<std::vector<VersionRecord>> Store::ListVersions(std::string_view machine_arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q,
                         reader_->Prepare(fmt::format("SELECT {} FROM versions WHERE machine_arn "
                                                      "= ? ORDER BY version DESC",
                                                      kVersionColumns)));
  q.Bind(1, machine_arn);
  return All<VersionRecord>(q, VersionFrom);
}

Status Store::DeleteVersion(std::string_view arn) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare("DELETE FROM versions WHERE arn = ?"));
    q.Bind(1, arn);
    return q.Run();
  });
}

// ---- aliases ----

Status Store::CreateAlias(const AliasRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q, writer_->Prepare(fmt::format(
                         "INSERT INTO aliases({}) VALUES (?, ?, ?, ?, ?, ?, ?)", kAliasColumns)));
    q.Bind(1, r.arn).Bind(2, r.machine_arn).Bind(3, r.name).Bind(4, r.description);
    q.Bind(5, r.routing).Bind(6, r.creation_ms).Bind(7, r.update_ms);
    Status st = q.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError(fmt::format("Alias already exists: '{}'", r.arn));
    }
    return st;
  });
}

Result<AliasRecord> Store::GetAlias(std::string_view arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q, reader_->Prepare(fmt::format(
                                          "SELECT {} FROM aliases WHERE arn = ?", kAliasColumns)));
  q.Bind(1, arn);
  return One<AliasRecord>(q, AliasFrom, "State Machine Alias", arn);
}

Result<std::vector<AliasRecord>> Store::ListAliases(std::string_view machine_arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare(fmt::format("SELECT {} FROM aliases WHERE machine_arn = ? ORDER BY name",
                                   kAliasColumns)));
  q.Bind(1, machine_arn);
  return All<AliasRecord>(q, AliasFrom);
}

Status Store::UpdateAlias(const AliasRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q,
                           writer_->Prepare("UPDATE aliases SET description = ?, routing = ?, "
                                            "update_ms = ? WHERE arn = ?"));
    q.Bind(1, r.description).Bind(2, r.routing).Bind(3, r.update_ms).Bind(4, r.arn);
    ZFLOW_RETURN_IF_ERROR(q.Run());
    if (writer_->Changes() == 0) return NotFound("State Machine Alias", r.arn);
    return Status::Ok();
  });
}

Status Store::DeleteAlias(std::string_view arn) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare("DELETE FROM aliases WHERE arn = ?"));
    q.Bind(1, arn);
    return q.Run();
  });
}

// ---- executions ----

Result<std::int64_t> Store::CreateExecution(const ExecutionRecord& r) {
  std::string sha = Sha256Hex(r.definition);
  std::int64_t id = 0;
  Status st = Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement d,
        writer_->Prepare("INSERT OR IGNORE INTO definitions(sha256, text) VALUES (?, ?)"));
    d.Bind(1, sha).Bind(2, r.definition);
    ZFLOW_RETURN_IF_ERROR(d.Run());
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q,
        writer_->Prepare("INSERT INTO executions(arn, machine_arn, version_arn, alias_arn, name, "
                         "status, input, info, definition_sha, role_arn, revision_id, "
                         "trace_header, start_ms) VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, "
                         "?, ?, ?)"));
    q.Bind(1, r.arn).Bind(2, r.machine_arn).Bind(3, r.version_arn).Bind(4, r.alias_arn);
    q.Bind(5, r.name).Bind(6, r.input).Bind(7, r.info).Bind(8, sha).Bind(9, r.role_arn);
    q.Bind(10, r.revision_id).Bind(11, r.trace_header).Bind(12, r.start_ms);
    ZFLOW_RETURN_IF_ERROR(q.Run());
    id = writer_->LastInsertRowId();
    return Status::Ok();
  });
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(fmt::format("Execution Already Exists: '{}'", r.arn));
  }
  if (!st.ok()) return st;
  return id;
}

Result<ExecutionRecord> Store::GetExecution(std::string_view arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q, reader_->Prepare(fmt::format("SELECT {} FROM executions e JOIN definitions d ON "
                                                "d.sha256 = e.definition_sha WHERE e.arn = ?",
                                                kExecutionColumns)));
  q.Bind(1, arn);
  return One<ExecutionRecord>(q, ExecutionFrom, "Execution", arn);
}

Result<std::vector<ExecutionRecord>> Store::ListExecutions(const ExecutionFilter& f) {
  std::lock_guard<std::mutex> lock(read_mu_);
  std::string sql = fmt::format(
      "SELECT {} FROM executions e JOIN definitions d ON d.sha256 = e.definition_sha WHERE "
      "(?1 = '' OR e.machine_arn = ?1) AND (?2 = '' OR e.version_arn = ?2) AND "
      "(?3 = '' OR e.alias_arn = ?3) AND (?4 = '' OR e.status = ?4) AND (?5 = 0 OR e.id < ?5) "
      "AND (?7 = 0 OR e.start_ms >= ?7) AND (?8 = 0 OR e.start_ms < ?8) "
      "ORDER BY e.id DESC LIMIT ?6",
      kExecutionColumns);
  ZFLOW_ASSIGN_OR_RETURN(Statement q, reader_->Prepare(sql));
  q.Bind(1, f.machine_arn).Bind(2, f.version_arn).Bind(3, f.alias_arn).Bind(4, f.status);
  q.Bind(5, f.before_id).Bind(6, static_cast<std::int64_t>(f.limit));
  q.Bind(7, f.started_after_ms).Bind(8, f.started_before_ms);
  return All<ExecutionRecord>(q, ExecutionFrom);
}

Result<std::vector<ExecutionRecord>> Store::RunningExecutions() {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q, reader_->Prepare(fmt::format(
                                          "SELECT {} FROM executions e JOIN definitions d ON "
                                          "d.sha256 = e.definition_sha WHERE e.status = 'RUNNING' "
                                          "ORDER BY e.id",
                                          kExecutionColumns)));
  return All<ExecutionRecord>(q, ExecutionFrom);
}

Result<EventPage> Store::Events(std::int64_t execution_id, std::int64_t from_id, int limit,
                                bool reverse) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare(reverse ? "SELECT id, body FROM events WHERE execution_id = ?1 AND "
                                 "(?2 = 0 OR id <= ?2) ORDER BY id DESC LIMIT ?3"
                               : "SELECT id, body FROM events WHERE execution_id = ?1 AND "
                                 "id >= ?2 ORDER BY id LIMIT ?3"));
  q.Bind(1, execution_id).Bind(2, from_id).Bind(3, static_cast<std::int64_t>(limit) + 1);
  EventPage page;
  while (true) {
    ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (static_cast<int>(page.events.size()) == limit) {
      page.next_id = q.Int(0);
      break;
    }
    page.events.emplace_back(q.Text(1));
  }
  return page;
}

Result<std::vector<TaskLog>> Store::TaskLogs(std::int64_t execution_id) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q, reader_->Prepare("SELECT event_id, state, log FROM task_logs "
                                                       "WHERE execution_id = ? ORDER BY event_id"));
  q.Bind(1, execution_id);
  return All<TaskLog>(q, [](const Statement& s) {
    return TaskLog{s.Int(0), std::string(s.Text(1)), std::string(s.Text(2))};
  });
}

void Store::AddTaskLog(const runtime::ExecutionInfo& info, std::string_view state,
                       std::int64_t event_id, std::string_view log) {
  events_->AddLog(info, state, event_id, log);
}

Status Store::CheckIntegrity() {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q, reader_->Prepare("PRAGMA integrity_check"));
  std::string report;
  while (true) {
    ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (!report.empty()) report += "; ";
    report += q.Text(0);
  }
  if (report == "ok") return Status::Ok();
  return Status(StatusCode::kDataLoss, fmt::format("{}: {}", path_, report));
}

Result<runtime::History> Store::LoadHistory(std::int64_t execution_id) {
  json::array events;
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q,
        reader_->Prepare("SELECT id, body FROM events WHERE execution_id = ? ORDER BY id"));
    q.Bind(1, execution_id);
    while (true) {
      ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto parsed = ParseJson(q.Text(1));
      if (!parsed.ok()) {
        return Status(StatusCode::kDataLoss,
                      fmt::format("{}: event {} of execution {} is unreadable: {}", path_, q.Int(0),
                                  execution_id, parsed.status().message()));
      }
      events.push_back(std::move(parsed->value));
    }
  }
  return runtime::History::FromJson(json::value(std::move(events)));
}

Result<std::map<std::string, std::int64_t>> Store::CountExecutionsByStatus() {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q, reader_->Prepare("SELECT status, count(*) FROM executions GROUP BY status"));
  std::map<std::string, std::int64_t> out;
  while (true) {
    ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[std::string(q.Text(0))] = q.Int(1);
  }
  return out;
}

// ---- activities ----

Status Store::CreateActivity(const ActivityRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q,
        writer_->Prepare("INSERT INTO activities(arn, name, creation_ms) VALUES (?, ?, ?)"));
    q.Bind(1, r.arn).Bind(2, r.name).Bind(3, r.creation_ms);
    return q.Run();
  });
}

Result<ActivityRecord> Store::GetActivity(std::string_view arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q, reader_->Prepare("SELECT arn, name, creation_ms FROM activities WHERE arn = ?"));
  q.Bind(1, arn);
  return One<ActivityRecord>(
      q,
      [](const Statement& s) {
        return ActivityRecord{std::string(s.Text(0)), std::string(s.Text(1)), s.Int(2)};
      },
      "Activity", arn);
}

Result<std::vector<ActivityRecord>> Store::ListActivities() {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q, reader_->Prepare("SELECT arn, name, creation_ms FROM activities ORDER BY name"));
  return All<ActivityRecord>(q, [](const Statement& s) {
    return ActivityRecord{std::string(s.Text(0)), std::string(s.Text(1)), s.Int(2)};
  });
}

Status Store::DeleteActivity(std::string_view arn) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare("DELETE FROM activities WHERE arn = ?"));
    q.Bind(1, arn);
    return q.Run();
  });
}

// ---- pipelines ----

Status Store::PutPipelineGraph(std::string_view machine_arn, std::string_view graph,
                               std::int64_t now_ms) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare(
                                            "INSERT OR REPLACE INTO pipelines(state_machine_arn, "
                                            "graph, update_ms) VALUES (?, ?, ?)"));
    q.Bind(1, machine_arn).Bind(2, graph).Bind(3, now_ms);
    return q.Run();
  });
}

Result<std::string> Store::GetPipelineGraph(std::string_view machine_arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q, reader_->Prepare("SELECT graph FROM pipelines WHERE "
                                                       "state_machine_arn = ?"));
  q.Bind(1, machine_arn);
  return One<std::string>(
      q, [](const Statement& s) { return std::string(s.Text(0)); }, "Pipeline", machine_arn);
}

// ---- tags ----

Status Store::TagResource(std::string_view arn, const std::map<std::string, std::string>& tags) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q,
        writer_->Prepare("INSERT OR REPLACE INTO tags(resource_arn, key, value) VALUES (?, ?, ?)"));
    for (const auto& [key, value] : tags) {
      q.Bind(1, arn).Bind(2, key).Bind(3, value);
      ZFLOW_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

Status Store::UntagResource(std::string_view arn, const std::vector<std::string>& keys) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q,
                           writer_->Prepare("DELETE FROM tags WHERE resource_arn = ? AND key = ?"));
    for (const std::string& key : keys) {
      q.Bind(1, arn).Bind(2, key);
      ZFLOW_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

Result<std::map<std::string, std::string>> Store::Tags(std::string_view arn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare("SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key"));
  q.Bind(1, arn);
  std::map<std::string, std::string> out;
  while (true) {
    ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace(q.Text(0), q.Text(1));
  }
  return out;
}

// ---- schedules and endpoints ----

Status Store::PutSchedule(const ScheduleRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare(fmt::format(
                                            "INSERT OR REPLACE INTO schedules({}) VALUES "
                                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                            kScheduleColumns)));
    q.Bind(1, r.name).Bind(2, r.machine_arn).Bind(3, r.expression).Bind(4, r.time_zone);
    q.Bind(5, r.input).Bind(6, r.state).Bind(7, r.missed).Bind(8, r.description);
    q.Bind(9, r.role_arn).Bind(10, r.after_completion).Bind(11, r.window).Bind(12, r.start_ms);
    q.Bind(13, r.end_ms).Bind(14, r.creation_ms).Bind(15, r.update_ms).Bind(16, r.last_fire_ms);
    return q.Run();
  });
}

Result<ScheduleRecord> Store::GetSchedule(std::string_view name) {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare(fmt::format("SELECT {} FROM schedules WHERE name = ?", kScheduleColumns)));
  q.Bind(1, name);
  return One<ScheduleRecord>(q, ScheduleFrom, "Schedule", name);
}

Result<std::vector<ScheduleRecord>> Store::ListSchedules() {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(
      Statement q,
      reader_->Prepare(fmt::format("SELECT {} FROM schedules ORDER BY name", kScheduleColumns)));
  return All<ScheduleRecord>(q, ScheduleFrom);
}

Status Store::DeleteSchedule(std::string_view name) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(Statement q, writer_->Prepare("DELETE FROM schedules WHERE name = ?"));
    q.Bind(1, name);
    ZFLOW_RETURN_IF_ERROR(q.Run());
    if (writer_->Changes() == 0) return NotFound("Schedule", name);
    return Status::Ok();
  });
}

Status Store::SetScheduleFired(std::string_view name, std::int64_t fire_ms) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q, writer_->Prepare("UPDATE schedules SET last_fire_ms = ? WHERE name = ?"));
    q.Bind(1, fire_ms).Bind(2, name);
    return q.Run();
  });
}

Status Store::PutEndpoint(const EndpointRecord& r) {
  return Write([&]() -> Status {
    ZFLOW_ASSIGN_OR_RETURN(
        Statement q, writer_->Prepare("INSERT OR REPLACE INTO endpoints(name, config, status, "
                                      "url, update_ms) VALUES (?, ?, ?, ?, ?)"));
    q.Bind(1, r.name).Bind(2, r.config).Bind(3, r.status).Bind(4, r.url).Bind(5, r.update_ms);
    return q.Run();
  });
}

Result<std::vector<EndpointRecord>> Store::ListEndpoints() {
  std::lock_guard<std::mutex> lock(read_mu_);
  ZFLOW_ASSIGN_OR_RETURN(Statement q,
                         reader_->Prepare("SELECT name, config, status, url, update_ms FROM "
                                          "endpoints ORDER BY name"));
  return All<EndpointRecord>(q, [](const Statement& s) {
    return EndpointRecord{std::string(s.Text(0)), std::string(s.Text(1)), std::string(s.Text(2)),
                          std::string(s.Text(3)), s.Int(4)};
  });
}

}  // namespace zflow::store
