// The Step Functions API as a client can reach it: an action name and a request body, through
// StepFunctionsApi::Handle over a real store. Every answer must be JSON; nothing may crash.
// The first line of the input names the action (an index into the actions, or a raw name), or
// one of the web UI's reads ("ui:executions" with a query string, "ui:artifacts", "ui:object",
// "ui:pipeline" with a graph, "ui:login", "ui:session" with a Cookie header).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "server/execution_service.h"
#include "server/step_functions_api.h"
#include "server/web_ui.h"
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
    ui = std::make_unique<zflow::server::WebUi>(
        zflow::server::WebUiOptions{.access_key_id = "AKID", .secret_access_key = "secret"},
        *store, *api, *services);
  }
  std::filesystem::path dir;
  std::unique_ptr<zflow::store::Store> store;
  std::unique_ptr<zflow::LocalServices> services;
  std::unique_ptr<zflow::server::ExecutionService> executions;
  std::unique_ptr<zflow::server::StepFunctionsApi> api;
  std::unique_ptr<zflow::server::WebUi> ui;
};

void CheckJson(const zflow::server::ApiResponse& response) {
  if (!zflow::ParseJson(response.body).ok()) std::abort();  // every answer is JSON
}

// "a=1&b=2" as the query map the HTTP server hands over.
std::map<std::string, std::string> Query(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    std::size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    std::size_t eq = pair.find('=');
    out[std::string(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    text = amp == std::string_view::npos ? "" : text.substr(amp + 1);
  }
  return out;
}

bool WebUiRead(World& world, std::string_view action, std::string_view body) {
  zflow::server::WebUi& ui = *world.ui;
  if (action == "ui:executions") {
    CheckJson(ui.Executions(Query(body)));
  } else if (action == "ui:artifacts") {
    CheckJson(ui.Artifacts(body));
  } else if (action == "ui:object") {
    zflow::server::ObjectDownload d = ui.Object(body);
    if (d.http_status != 200) CheckJson({d.http_status, d.body, {}});
  } else if (action == "ui:pipeline") {
    CheckJson(ui.PutPipeline("m", body));
    CheckJson(ui.GetPipeline("m"));
  } else if (action == "ui:login") {
    std::size_t bar = body.find('|');
    auto session = ui.Login(body.substr(0, bar), bar == std::string_view::npos ? "" : body.substr(bar + 1));
    if (session && !ui.HasSession("zflow_session=" + *session)) std::abort();
  } else if (action == "ui:session") {
    if (ui.HasSession(body) && body.find("zflow_session=") == std::string_view::npos) std::abort();
    ui.Logout(body);
  } else {
    return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  std::string_view head = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  if (WebUiRead(*world, head, body)) return 0;
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
