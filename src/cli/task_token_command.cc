// zflow task-token succeed|fail|heartbeat TOKEN: answers a .waitForTaskToken task of a running
// `zflow run` (SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat). The answer is a file in
// <work_dir>/task-tokens/ that the run picks up.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "integrations/profile.h"
#include "common/file.h"

namespace zflow::cli {
namespace {

namespace fs = std::filesystem;


bool ValidToken(std::string_view t) {
  return t.size() == 70 && t.starts_with("zflow-") &&
         t.substr(6).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

int RunTaskToken(const TaskTokenOptions& o) {
  if (!ValidToken(o.token)) {
    std::cerr << "zflow task-token: \"" << o.token
              << "\" is not a task token of a local run (zflow-<64 hex digits>)\n";
    return kExitUsage;
  }
  json::object answer{{"token", o.token}, {"action", o.action}};
  if (o.action == "succeed") {
    auto output = ParseJson(o.output.empty() ? "{}" : o.output, {.record_locations = false});
    if (!output.ok()) {
      std::cerr << "zflow task-token: --output: " << output.status().message() << "\n";
      return kExitUsage;
    }
    answer["output"] = output->value;
  } else if (o.action == "fail") {
    answer["error"] = o.error;
    answer["cause"] = o.cause;
  }
  auto profile = o.work_dir.empty() ? integrations::FindProfile(o.profile)
                                    : Result<integrations::Profile>(integrations::Profile{});
  if (!profile.ok()) {
    std::cerr << "zflow task-token: " << profile.status().message() << "\n";
    return kExitUsage;
  }
  fs::path dir = fs::path(integrations::WorkDirOf(o.work_dir, *profile)) / "task-tokens";
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string name = fmt::format("{}-{}.json",
                                 std::chrono::steady_clock::now().time_since_epoch().count(),
                                 ::getpid());
  Status s = WriteFileAtomically((dir / name).string(), ToJsonText(json::value(answer)));
  if (!s.ok()) {
    std::cerr << "zflow task-token: " << s.message() << "\n";
    return kExitUsage;
  }
  // The run answers by removing the file (and leaves <name>.error when it refused it).
  for (int i = 0; i < 50; ++i) {
    if (!fs::exists(dir / name)) {
      auto refused = ReadFileCapped((dir / (name + ".error")).string(), 4096);
      if (refused.ok()) {
        fs::remove(dir / (name + ".error"), ec);
        std::cerr << "zflow task-token: " << refused->data << "\n";
        return kExitInvalid;
      }
      std::cout << fmt::format("{}: {}\n", o.action, o.token);
      return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fs::remove(dir / name, ec);
  std::cerr << "zflow task-token: no run picked the answer up within 5 s (is `zflow run` running "
               "with the same work directory, "
            << dir.parent_path().string() << "?)\n";
  return kExitInvalid;
}

}  // namespace zflow::cli
