// The Step Functions API as a client can reach it: an action name and a request body, through
// StepFunctionsApi::Handle over a real store. Every answer must be JSON; nothing may crash.
// The first line of the input names the action (an index into the actions, or a raw name).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/execution_service.h"
#include "server/step_functions_api.h"
#include "store/store.h"
#include "zflow/json.h"
#include "zflow/local_services.h"

namespace {

struct World {
  World() {
    dir = std::filesystem::temp_directory_path() / ("zflow-api-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = zflow::store::Store::Open((dir / "zflow.db").string()).value();
    services = zflow::LocalServices::Start({.work_dir = (dir / "work").string(),
                                            .s3_root = (dir / "s3").string()})
                   .value();
    executions = std::make_unique<zflow::server::ExecutionService>(
        zflow::server::ExecutionServiceOptions{.virtual_time = true}, *store, *services);
    api = std::make_unique<zflow::server::StepFunctionsApi>(zflow::server::ApiOptions{}, *store,
                                                            *executions);
  }
  std::filesystem::path dir;
  std::unique_ptr<zflow::store::Store> store;
  std::unique_ptr<zflow::LocalServices> services;
  std::unique_ptr<zflow::server::ExecutionService> executions;
  std::unique_ptr<zflow::server::StepFunctionsApi> api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  std::string_view head = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  const auto& actions = zflow::server::StepFunctionsApi::Actions();
  std::string action(head);
  if (!head.empty() && head.size() <= 2 && std::isdigit(static_cast<unsigned char>(head[0]))) {
    action = std::string(actions[static_cast<std::size_t>(std::atoi(std::string(head).c_str())) %
                                 actions.size()]);
  }
  // These wait on purpose (a long poll, a synchronous run, a stop that waits for the record):
  // correct, and too slow for a fuzzer.
  if (action == "GetActivityTask" || action == "StartSyncExecution" || action == "StopExecution") {
    return 0;
  }
  zflow::server::ApiResponse response = world->api->Handle(action, body);
  if (!zflow::ParseJson(response.body).ok()) std::abort();  // every answer is JSON
  if (response.http_status != 200 && response.error_type.empty()) std::abort();
  return 0;
}
