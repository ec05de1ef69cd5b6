// The part of a task's output kept as its log (TaskResult::log).
#ifndef ZFLOW_INTEGRATIONS_TASK_LOG_H_
#define ZFLOW_INTEGRATIONS_TASK_LOG_H_

#include <string>
#include <string_view>

namespace zflow::integrations {

inline constexpr std::size_t kTaskLogBytes = 64 * 1024;

// The last 64 KiB of `text`, starting at a line when one starts in the first kilobyte.
inline std::string TaskLogTail(std::string_view text) {
  if (text.size() <= kTaskLogBytes) return std::string(text);
  text.remove_prefix(text.size() - kTaskLogBytes);
  std::size_t newline = text.find('\n');
  if (newline != std::string_view::npos && newline < 1024) text.remove_prefix(newline + 1);
  return std::string(text);
}

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_TASK_LOG_H_
