// Running a program (argv, never a shell) and collecting its output.
#ifndef ZFLOW_COMMON_SUBPROCESS_H_
#define ZFLOW_COMMON_SUBPROCESS_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zflow/status.h"

namespace zflow {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string stdout_text;
  std::string stderr_text;
  bool timed_out = false;  // killed because ProcessOptions::timeout passed
  bool cancelled = false;  // killed because ProcessOptions::cancel became true
};

struct ProcessOptions {
  // Kill the process (and everything it started: it runs in its own process group) after this.
  std::optional<std::chrono::milliseconds> timeout;
  // Polled about every 100 ms; when it becomes true the process group is killed. May be null.
  const std::atomic<bool>* cancel = nullptr;
  // Called (on the calling thread) whenever the process writes to stderr.
  std::function<void()> on_stderr;
  // Added to (or replacing entries of) the inherited environment.
  std::map<std::string, std::string> env;
  // The child's working directory; empty: the caller's.
  std::string working_directory;
};

// Runs argv[0] (looked up in PATH when it has no '/') with `stdin_text` on its standard input
// and waits for it. The first call sets SIGPIPE to ignored for the whole process. Errors: kInvalidArgument for an empty argv, kUnavailable when the program
// cannot be started.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const std::string& stdin_text = "",
                                 const ProcessOptions& options = {});

// Starts argv[0] in a session of its own (it outlives this process), with stdin from /dev/null
// and stdout/stderr appended to `log_file`; returns its pid (also its process group id).
Result<int> SpawnDetached(const std::vector<std::string>& argv, const ProcessOptions& options,
                          const std::string& log_file);
// Whether the process is still there (not a zombie we could reap).
bool ProcessAlive(int pid);
// SIGTERM to the process group, then SIGKILL after `grace` if it is still there.
void KillProcessGroup(int pid, std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

}  // namespace zflow

#endif  // ZFLOW_COMMON_SUBPROCESS_H_
