// Overhead of a Task served by a local command: a chain of no-op command tasks (the median time
// per task), and 1,000 such tasks fanned out by a Map under MaxConcurrency (wall time, the most
// processes alive at once, and that none is left afterwards).
//
//   build/bench/task_overhead_bench [--chain 200] [--fanout 1000] [--concurrency 40]
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "integrations/local_handlers.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace {

// Children of this process whose command is `cat` (the no-op task).
int CountChildren() {
  int n = 0;
  DIR* d = opendir("/proc");
  if (d == nullptr) return -1;
  pid_t self = getpid();
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300];
    std::snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) continue;
    int pid = 0, ppid = 0;
    char comm[64] = {0}, state = 0;
    if (std::fscanf(f, "%d (%63[^)]) %c %d", &pid, comm, &state, &ppid) == 4 && ppid == self &&
        std::strcmp(comm, "cat") == 0) {
      ++n;
    }
    std::fclose(f);
  }
  closedir(d);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int chain = 200, fanout = 1000, concurrency = 40;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--chain") == 0) chain = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--fanout") == 0) fanout = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--concurrency") == 0) concurrency = std::atoi(argv[i + 1]);
  }
  zflow::runtime::IntegrationRegistry registry;
  registry.Register("arn:aws:states:::zflow:noop", zflow::integrations::MakeCommandHandler({"cat"}));

  // 1. A chain: each task's time from its TaskScheduled to its TaskSucceeded event.
  std::string def = R"({"StartAt": "T0", "States": {)";
  for (int i = 0; i < chain; ++i) {
    def += fmt::format(R"("T{}": {{"Type": "Task", "Resource": "arn:aws:states:::zflow:noop", {}}}{})",
                       i, i + 1 < chain ? fmt::format(R"("Next": "T{}")", i + 1) : R"("End": true)",
                       i + 1 < chain ? "," : "");
  }
  def += "}}";
  auto machine = zflow::asl::ParseStateMachine(def);
  if (!machine.ok()) return 2;
  // Event timestamps are milliseconds (as AWS records them): time the events as they happen.
  std::vector<double> per_task;
  std::optional<std::chrono::steady_clock::time_point> scheduled;
  zflow::runtime::Engine engine(
      {.integrations = &registry, .on_event = [&](const zflow::runtime::HistoryEvent& e) {
         auto now = std::chrono::steady_clock::now();
         if (e.kind == zflow::runtime::EventType::kTaskScheduled) scheduled = now;
         if (e.kind == zflow::runtime::EventType::kTaskSucceeded && scheduled) {
           per_task.push_back(std::chrono::duration<double, std::milli>(now - *scheduled).count());
         }
       }});
  auto r = engine.Run(*machine, {.input = zflow::json::object{{"x", 1}}});
  if (!r.ok() || r->status != zflow::runtime::ExecutionStatus::kSucceeded) return 2;
  std::sort(per_task.begin(), per_task.end());
  double median = per_task.empty() ? 0 : per_task[per_task.size() / 2];
  double p90 = per_task.empty() ? 0 : per_task[per_task.size() * 9 / 10];
  std::printf("chain of %d no-op command tasks: median %.2f ms, p90 %.2f ms per task (target: median <= 2 ms)\n",
              chain, median, p90);

  // 2. A Map of `fanout` such tasks under MaxConcurrency, watching the processes.
  std::string map = fmt::format(R"({{"StartAt": "M", "States": {{"M": {{"Type": "Map",
      "ItemsPath": "$.items", "MaxConcurrency": {}, "End": true, "ItemProcessor": {{
      "StartAt": "T", "States": {{"T": {{"Type": "Task",
      "Resource": "arn:aws:states:::zflow:noop", "End": true}}}}}}}}}}}})",
                                concurrency);
  auto map_machine = zflow::asl::ParseStateMachine(map);
  if (!map_machine.ok()) return 2;
  zflow::json::array items;
  for (int i = 0; i < fanout; ++i) items.emplace_back(i);
  std::atomic<bool> done{false};
  int most = 0;
  std::thread watcher([&] {
    while (!done) {
      most = std::max(most, CountChildren());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  auto start = std::chrono::steady_clock::now();
  auto m = engine.Run(*map_machine, {.input = zflow::json::object{{"items", items}}});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done = true;
  watcher.join();
  if (!m.ok() || m->status != zflow::runtime::ExecutionStatus::kSucceeded) return 2;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int left = CountChildren();
  std::printf("Map of %d no-op command tasks, MaxConcurrency %d: %.3f s (%.0f tasks/s), at most %d "
              "processes at once, %d left afterwards\n",
              fanout, concurrency, seconds, fanout / seconds, most, left);
  return left == 0 ? 0 : 1;
}
