#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace zflow {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void CloseEnd(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const std::string& stdin_text, const ProcessOptions& options) {
  if (argv.empty()) return InvalidArgumentError("RunProcess: empty argv");
  // A child that exits without reading its input must not kill us with SIGPIPE.
  static const bool kIgnoreSigpipe = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)kIgnoreSigpipe;
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 ||
      ::pipe2(err.fd, O_CLOEXEC) != 0) {
    return UnavailableError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], STDERR_FILENO);
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  // The environment: inherited, with options.env added or replacing.
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  char** envp = environ;
  if (!options.env.empty()) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view entry(*e);
      std::string key(entry.substr(0, entry.find('=')));
      if (options.env.count(key) == 0) env_strings.emplace_back(entry);
    }
    for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    envp = env.data();
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Its own process group, so a timeout kills what it started too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return UnavailableError(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  }
  in.CloseEnd(0);
  out.CloseEnd(1);
  err.CloseEnd(1);

  // Feed stdin and drain stdout/stderr together so neither side blocks on a full pipe.
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  if (stdin_text.empty()) in.CloseEnd(1);
  ProcessResult result;
  char buf[65536];
  auto deadline = options.timeout ? std::chrono::steady_clock::now() + *options.timeout
                                  : std::chrono::steady_clock::time_point::max();
  bool killed = false;
  auto kill_group = [&] {
    ::kill(-pid, SIGKILL);
    killed = true;
    out.CloseEnd(0);
    err.CloseEnd(0);
  };
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    if (options.cancel != nullptr && options.cancel->load()) {
      result.cancelled = true;
      kill_group();
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      kill_group();
      break;
    }
    pollfd fds[3];
    int n = 0;
    int idx_out = -1, idx_err = -1, idx_in = -1;
    if (out.fd[0] >= 0) { fds[n] = {out.fd[0], POLLIN, 0}; idx_out = n++; }
    if (err.fd[0] >= 0) { fds[n] = {err.fd[0], POLLIN, 0}; idx_err = n++; }
    if (in.fd[1] >= 0) { fds[n] = {in.fd[1], POLLOUT, 0}; idx_in = n++; }
    int wait_ms = (options.timeout || options.cancel != nullptr) ? 100 : -1;
    if (::poll(fds, static_cast<nfds_t>(n), wait_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto drain = [&](int idx, Pipe& p, std::string& sink) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t r = ::read(p.fd[0], buf, sizeof buf);
      if (r > 0) {
        sink.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        p.CloseEnd(0);
      }
    };
    drain(idx_out, out, result.stdout_text);
    std::size_t stderr_before = result.stderr_text.size();
    drain(idx_err, err, result.stderr_text);
    if (options.on_stderr && result.stderr_text.size() > stderr_before) options.on_stderr();
    if (idx_in >= 0 && fds[idx_in].revents != 0) {
      ssize_t w = ::write(in.fd[1], stdin_text.data() + written, stdin_text.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (written == stdin_text.size() || (w < 0 && errno != EAGAIN && errno != EINTR)) {
        in.CloseEnd(1);
      }
    }
  }
  in.CloseEnd(1);
  if (killed) ::kill(-pid, SIGKILL);  // anything still alive in the group
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<int> SpawnDetached(const std::vector<std::string>& argv, const ProcessOptions& options,
                          const std::string& log_file) {
  if (argv.empty()) return InvalidArgumentError("SpawnDetached: empty argv");
  int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return UnavailableError(fmt::format("cannot open {}: {}", log_file, std::strerror(errno)));
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, null, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log, STDERR_FILENO);
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (options.env.count(std::string(entry.substr(0, entry.find('=')))) == 0) {
      env_strings.emplace_back(entry);
    }
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(log);
  if (null >= 0) ::close(null);
  if (rc != 0) return UnavailableError(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  return static_cast<int>(pid);
}

bool ProcessAlive(int pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // our child, now reaped
  return ::kill(pid, 0) == 0;
}

void KillProcessGroup(int pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  ::kill(-pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (ProcessAlive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, WNOHANG);
}

}  // namespace zflow
