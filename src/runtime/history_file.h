// A history file: what `zflow run --history FILE` writes as the execution runs and what
// `--resume FILE` / `--redrive FILE` continue from. One JSON document once the execution ends:
//
//   {"execution": {"name": ..., "stateMachineName": ..., "region": ..., "account": ..., "seed": ...},
//   "events": [
//   {"timestamp": ..., "type": "ExecutionStarted", "id": 1, ...}
//   ,{...}
//   ]}
//
// (GetExecutionHistory's "events", plus the execution's identity.) One event per line; every
// commit point appends its events and flushes them to disk (fdatasync) before the engine acts,
// so a file cut short by a crash holds every event whose effect may have happened; a torn last
// line is an event whose effect never did, and is dropped when the file is loaded.
#ifndef ZFLOW_RUNTIME_HISTORY_FILE_H_
#define ZFLOW_RUNTIME_HISTORY_FILE_H_

#include <memory>
#include <string>

#include "zflow/runtime.h"

namespace zflow::runtime {

class HistoryFileSink final : public EventSink {
 public:
  // A new file at `path` (replacing one that is there), written from the first event.
  static Result<std::unique_ptr<HistoryFileSink>> Create(std::string path);
  // Continues an execution loaded from a file: `path` is rewritten (atomically) to hold
  // `stored`, complete lines only, and new events are appended to it.
  static Result<std::unique_ptr<HistoryFileSink>> Continue(std::string path,
                                                           const ExecutionInfo& info,
                                                           const History& stored);
  ~HistoryFileSink() override;

  Status Append(const ExecutionInfo& info, const History& history, std::size_t first) override;
  // Ends the document ("]}"); the file is then complete JSON. Called once the execution ended.
  Status Close();

 private:
  HistoryFileSink(std::string path, int fd, std::size_t written)
      : path_(std::move(path)), fd_(fd), written_(written) {}
  Status Write(std::string_view text);

  std::string path_;
  int fd_ = -1;
  std::size_t written_ = 0;  // events in the file
};

struct StoredExecution {
  ExecutionInfo info;
  History history;
  bool complete = false;  // the file was closed (the execution ended)
  std::size_t dropped_lines = 0;  // a torn last line
};

// Loads a history file (complete, or cut short by a crash). kNotFound when there is no file;
// kInvalidArgument naming the file and line for anything else that is not a history file.
Result<StoredExecution> LoadHistoryFile(const std::string& path);
// The same for the file's text; `path` names it in errors.
Result<StoredExecution> ParseHistoryFile(std::string_view text, std::string_view path);

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_HISTORY_FILE_H_
