// zflow endpoints list | invoke NAME --body FILE | delete NAME: the local endpoints that
// pipelines deployed (they keep serving after the run, until deleted).
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "integrations/profile.h"
#include "common/file.h"
#include "integrations/sagemaker.h"

namespace zflow::cli {

int RunEndpoints(const EndpointsOptions& options) {
  auto profile = options.work_dir.empty() ? integrations::FindProfile(options.profile)
                                          : Result<integrations::Profile>(integrations::Profile{});
  if (!profile.ok()) {
    std::cerr << "zflow endpoints: " << profile.status().message() << "\n";
    return kExitUsage;
  }
  const std::string work_dir = integrations::WorkDirOf(options.work_dir, *profile);
  if (options.action == "list") {
    auto endpoints = integrations::ListEndpoints(work_dir);
    if (!endpoints.ok()) {
      std::cerr << "zflow endpoints: " << endpoints.status().message() << "\n";
      return kExitUsage;
    }
    if (endpoints->empty()) {
      std::cout << fmt::format("no endpoints in {}\n", work_dir);
      return kExitOk;
    }
    std::cout << fmt::format("{:<32} {:<10} {:<40} {}\n", "NAME", "STATUS", "CONFIG",
                             "URL OR FAILURE");
    for (const auto& e : *endpoints) {
      std::cout << fmt::format("{:<32} {:<10} {:<40} {}\n", e.name, e.status, e.config,
                               e.status == "InService"
                                   ? fmt::format("http://127.0.0.1:{}/invocations", e.port)
                                   : e.failure);
    }
    return kExitOk;
  }
  if (options.action == "delete") {
    Status s = integrations::DeleteEndpoint(work_dir, options.name);
    if (!s.ok()) {
      std::cerr << "zflow endpoints: " << s.message() << "\n";
      return kExitInvalid;
    }
    std::cout << "deleted " << options.name << "\n";
    return kExitOk;
  }
  // invoke
  auto body = ReadFileCapped(options.body_file, 6 << 20);  // the real service's 6 MB
  if (!body.ok()) {
    std::cerr << "zflow endpoints: " << body.status().message() << "\n";
    return kExitUsage;
  }
  if (body->truncated) {
    std::cerr << "zflow endpoints: the body is larger than 6 MB, the invocation limit\n";
    return kExitUsage;
  }
  auto answer = integrations::InvokeEndpoint(work_dir, options.name, body->data,
                                             options.content_type);
  if (!answer.ok()) {
    std::cerr << "zflow endpoints: " << answer.status().message() << "\n";
    return kExitInvalid;
  }
  std::cout << *answer;
  if (!answer->empty() && answer->back() != '\n') std::cout << "\n";
  return kExitOk;
}

}  // namespace zflow::cli
