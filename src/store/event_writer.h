// The store's event sink: executions append their events here; they are staged in memory and
// written in one transaction per Commit (the executor's group commit, see
// EventSink::group_commit), which also records when an execution ends.
#ifndef ZFLOW_STORE_EVENT_WRITER_H_
#define ZFLOW_STORE_EVENT_WRITER_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sqlite.h"
#include "store/store.h"

namespace zflow::store {

namespace event_writer_detail {
inline std::int64_t Millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline std::string DetailString(const json::object* details, std::string_view key) {
  if (details == nullptr) return {};
  const json::value* v = details->if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}
}  // namespace event_writer_detail

class Store::EventWriter final : public runtime::EventSink {
  struct Batch;

 public:
  explicit EventWriter(Store& store) : store_(store) {}

  Status Append(const runtime::ExecutionInfo& info, const runtime::History& history,
                std::size_t first) override {
    Batch& batch = staged_[info.ExecutionArn()];
    for (std::size_t i = first; i < history.size(); ++i) {
      runtime::HistoryEvent e = history[i];
      if (observer) observer(info, e);
      batch.events.push_back({e.id, ToJsonText(e.ToJson())});
      switch (e.kind) {
        case runtime::EventType::kExecutionSucceeded:
          batch.end =
              Ending{"SUCCEEDED", std::string(e.payload.view()), {}, {}, event_writer_detail::Millis(e.timestamp)};
          break;
        case runtime::EventType::kExecutionFailed:
        case runtime::EventType::kExecutionTimedOut:
        case runtime::EventType::kExecutionAborted:
          batch.end = Ending{e.kind == runtime::EventType::kExecutionFailed     ? "FAILED"
                             : e.kind == runtime::EventType::kExecutionTimedOut ? "TIMED_OUT"
                                                                                : "ABORTED",
                             {},
                             event_writer_detail::DetailString(e.details, "error"),
                             event_writer_detail::DetailString(e.details, "cause"),
                             event_writer_detail::Millis(e.timestamp)};
          break;
        case runtime::EventType::kExecutionRedriven:
          batch.end = Ending{"RUNNING", {}, {}, {}, 0};
          batch.redriven_ms = event_writer_detail::Millis(e.timestamp);
          break;
        default:
          break;
      }
    }
    return Status::Ok();
  }

  bool group_commit() const override { return true; }

  void AddLog(const runtime::ExecutionInfo& info, std::string_view state, std::int64_t event_id,
              std::string_view log) {
    staged_[info.ExecutionArn()].logs.push_back(
        TaskLog{event_id, std::string(state), std::string(log)});
  }

  std::function<void(const runtime::ExecutionInfo&, const runtime::HistoryEvent&)> observer;

  Status Commit() override {
    if (staged_.empty()) return Status::Ok();
    std::unordered_map<std::string, Batch> staged;
    staged.swap(staged_);
    return store_.Write([&]() -> Status { return CommitLocked(staged); });
  }

 private:
  Status CommitLocked(std::unordered_map<std::string, Batch>& staged) {
    Database& db = *store_.writer_;
    if (!prepared_) {
      ZFLOW_ASSIGN_OR_RETURN(find_, db.Prepare("SELECT id FROM executions WHERE arn = ?"));
      ZFLOW_ASSIGN_OR_RETURN(insert_,
                             db.Prepare("INSERT OR REPLACE INTO events(execution_id, id, body) "
                                        "VALUES (?, ?, ?)"));
      ZFLOW_ASSIGN_OR_RETURN(count_,
                             db.Prepare("UPDATE executions SET event_count = max(event_count, ?) "
                                        "WHERE id = ?"));
      ZFLOW_ASSIGN_OR_RETURN(
          end_, db.Prepare("UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, "
                           "stop_ms = ? WHERE id = ?"));
      ZFLOW_ASSIGN_OR_RETURN(redrive_,
                             db.Prepare("UPDATE executions SET redrive_count = redrive_count + 1, "
                                        "redrive_ms = ? WHERE id = ?"));
      prepared_ = true;
    }
    {
      for (auto& [arn, batch] : staged) {
        std::int64_t id = 0;
        if (auto it = ids_.find(arn); it != ids_.end()) {
          id = it->second;
        } else {
          find_.Bind(1, arn);
          auto row = find_.Step();
          if (row.ok() && *row) id = find_.Int(0);
          find_.Reset();
          if (!row.ok()) return row.status();
          if (id == 0) return NotFoundError(fmt::format("no execution record for {}", arn));
          ids_.emplace(arn, id);
        }
        std::int64_t last = 0;
        for (const auto& [event_id, body] : batch.events) {
          insert_.Bind(1, id).Bind(2, event_id).Bind(3, body);
          ZFLOW_RETURN_IF_ERROR(insert_.Run());
          last = event_id;
        }
        for (const TaskLog& log : batch.logs) {
          ZFLOW_ASSIGN_OR_RETURN(Statement q,
                                 db.Prepare("INSERT OR REPLACE INTO task_logs(execution_id, "
                                            "event_id, state, log) VALUES (?, ?, ?, ?)"));
          q.Bind(1, id).Bind(2, log.event_id).Bind(3, log.state).Bind(4, log.log);
          ZFLOW_RETURN_IF_ERROR(q.Run());
        }
        if (batch.events.empty()) continue;
        count_.Bind(1, last).Bind(2, id);
        ZFLOW_RETURN_IF_ERROR(count_.Run());
        if (batch.redriven_ms != 0) {
          redrive_.Bind(1, batch.redriven_ms).Bind(2, id);
          ZFLOW_RETURN_IF_ERROR(redrive_.Run());
        }
        if (batch.end) {
          end_.Bind(1, batch.end->status)
              .Bind(2, batch.end->output)
              .Bind(3, batch.end->error)
              .Bind(4, batch.end->cause)
              .Bind(5, batch.end->stop_ms)
              .Bind(6, id);
          ZFLOW_RETURN_IF_ERROR(end_.Run());
          if (batch.end->status != "RUNNING") ids_.erase(arn);
        }
      }
      return Status::Ok();
    }
  }

  struct Ending {
    std::string status;
    std::string output;
    std::string error;
    std::string cause;
    std::int64_t stop_ms = 0;
  };
  struct Batch {
    std::vector<std::pair<std::int64_t, std::string>> events;
    std::vector<TaskLog> logs;
    std::optional<Ending> end;
    std::int64_t redriven_ms = 0;
  };

  Store& store_;
  // Loop thread only (Append and Commit are called there).
  std::unordered_map<std::string, Batch> staged_;
  std::unordered_map<std::string, std::int64_t> ids_;  // running executions' keys
  bool prepared_ = false;
  Statement find_, insert_, count_, end_, redrive_;  // on the writer, under write_mu_
};

}  // namespace zflow::store

#endif  // ZFLOW_STORE_EVENT_WRITER_H_
