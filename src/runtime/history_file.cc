#include "runtime/history_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/file.h"

namespace zflow::runtime {

namespace {

constexpr std::string_view kEventsLine = "\"events\": [";
constexpr std::string_view kEnd = "]}";
// A history of 25,000 events with 256 KiB payloads is about 13 GB in theory; files this large
// are not histories zflow wrote.
constexpr std::size_t kMaxFileBytes = std::size_t{4} << 30;

std::string Header(const ExecutionInfo& info) {
  return fmt::format("{{\"execution\": {},\n{}", ToJsonText(info.ToJson()), kEventsLine);
}

std::string EventLine(const HistoryEvent& e, bool first) {
  return fmt::format("\n{}{}", first ? "" : ",", ToJsonText(e.ToJson()));
}

Status Errno(std::string_view what, const std::string& path) {
  return UnavailableError(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// A run holds its history file locked while it writes; a second run on the same file (say, a
// --resume while the first still runs) is refused instead of interleaving its events.
Status Lock(int fd, const std::string& path) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::Ok();
  if (errno == EWOULDBLOCK) {
    return FailedPreconditionError(
        fmt::format("{} is being written by another zflow run (still running?)", path));
  }
  return Errno("cannot lock", path);
}

}  // namespace

Result<std::unique_ptr<HistoryFileSink>> HistoryFileSink::Create(std::string path) {
  // Locked before it is emptied: a file another run is writing is left alone.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot write", path);
  Status locked = Lock(fd, path);
  if (locked.ok() && ::ftruncate(fd, 0) != 0) locked = Errno("cannot write", path);
  if (!locked.ok()) {
    ::close(fd);
    return locked;
  }
  return std::unique_ptr<HistoryFileSink>(new HistoryFileSink(std::move(path), fd, 0));
}

Result<std::unique_ptr<HistoryFileSink>> HistoryFileSink::Continue(std::string path,
                                                                   const ExecutionInfo& info,
                                                                   const History& stored) {
  // A file another run still writes is not taken over.
  if (int existing = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); existing >= 0) {
    Status locked = Lock(existing, path);
    ::close(existing);
    ZFLOW_RETURN_IF_ERROR(locked);
  }
  std::string text = Header(info);
  for (std::size_t i = 0; i < stored.size(); ++i) text += EventLine(stored[i], i == 0);
  ZFLOW_RETURN_IF_ERROR(WriteFileAtomically(path, text));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Errno("cannot append to", path);
  if (Status locked = Lock(fd, path); !locked.ok()) {
    ::close(fd);
    return locked;
  }
  return std::unique_ptr<HistoryFileSink>(new HistoryFileSink(std::move(path), fd, stored.size()));
}

HistoryFileSink::~HistoryFileSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status HistoryFileSink::Write(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path_);
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status HistoryFileSink::Append(const ExecutionInfo& info, const History& history,
                               std::size_t first) {
  if (fd_ < 0) return FailedPreconditionError(fmt::format("{} is closed", path_));
  std::string text;
  if (written_ == 0 && first == 0) text = Header(info);
  for (std::size_t i = first; i < history.size(); ++i) {
    text += EventLine(history[i], written_ == 0 && i == first);
  }
  ZFLOW_RETURN_IF_ERROR(Write(text));
  written_ += history.size() - first;
  // On disk before the engine acts on these events.
  if (::fdatasync(fd_) != 0 && errno != EINVAL) return Errno("cannot flush", path_);
  return Status::Ok();
}

Status HistoryFileSink::Close() {
  if (fd_ < 0) return Status::Ok();
  Status st = Write(fmt::format("\n{}\n", kEnd));
  if (st.ok() && ::fdatasync(fd_) != 0 && errno != EINVAL) st = Errno("cannot flush", path_);
  ::close(fd_);
  fd_ = -1;
  return st;
}

Result<StoredExecution> LoadHistoryFile(const std::string& path) {
  ZFLOW_ASSIGN_OR_RETURN(FileContents file, ReadFileCapped(path, kMaxFileBytes));
  return ParseHistoryFile(file.data, path);
}

Result<StoredExecution> ParseHistoryFile(std::string_view text, std::string_view path) {
  auto bad = [&](std::size_t line, std::string_view what) {
    return InvalidArgumentError(fmt::format("{}:{}: {}", path, line, what));
  };
  JsonParseOptions options{.max_bytes = kMaxFileBytes, .record_locations = false,
                           .reject_duplicate_keys = false};
  StoredExecution out;
  // A complete file is one JSON document.
  if (auto whole = ParseJson(text, options); whole.ok()) {
    const json::object* o = whole->value.if_object();
    const json::value* info = o != nullptr ? o->if_contains("execution") : nullptr;
    if (info == nullptr) return bad(1, "no \"execution\": not a history file zflow wrote");
    auto parsed_info = ExecutionInfo::FromJson(*info);
    if (!parsed_info.ok()) return bad(1, parsed_info.status().message());
    auto history = History::FromJson(whole->value);
    if (!history.ok()) return bad(1, history.status().message());
    out.info = std::move(*parsed_info);
    out.history = std::move(*history);
    out.complete = true;
    return out;
  }
  // Cut short: line by line.
  json::array events;
  std::size_t line_no = 0;
  std::size_t start = 0;
  bool saw_events = false;
  bool have_info = false;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const bool last = end == std::string_view::npos;
    if (last) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line_no == 1) {
      constexpr std::string_view kPrefix = "{\"execution\": ";
      if (!line.starts_with(kPrefix) || !line.ends_with(",")) {
        return bad(1, "not a history file zflow wrote (it starts with {\"execution\": ...})");
      }
      line.remove_prefix(kPrefix.size());
      line.remove_suffix(1);
      auto info = ParseJson(line, options);
      if (!info.ok()) return bad(1, info.status().message());
      auto parsed_info = ExecutionInfo::FromJson(info->value);
      if (!parsed_info.ok()) return bad(1, parsed_info.status().message());
      out.info = std::move(*parsed_info);
      have_info = true;
      continue;
    }
    if (line_no == 2) {
      if (line != kEventsLine) return bad(2, "expected \"events\": [");
      saw_events = true;
      continue;
    }
    if (line.empty() && last) break;
    if (line.starts_with(",")) line.remove_prefix(1);
    auto event = ParseJson(line, options);
    if (!event.ok()) {
      // A line torn by a crash can only be the last one; its event was never acted on.
      if (last) {
        out.dropped_lines = 1;
        break;
      }
      return bad(line_no, event.status().message());
    }
    events.push_back(std::move(event->value));
  }
  if (!have_info || !saw_events) return bad(line_no, "the file ends before its first event");
  auto history = History::FromJson(json::value(std::move(events)));
  if (!history.ok()) return bad(line_no, history.status().message());
  out.history = std::move(*history);
  return out;
}

}  // namespace zflow::runtime
