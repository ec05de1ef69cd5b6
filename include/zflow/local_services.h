// zflow/local_services.h: the local stand-ins for the AWS services a state machine calls, wired
// once for every front end (zflow run, zflow::Main, zflow serve, a C++ program).
//
//   auto services = zflow::LocalServices::Start({.profile = "zflow.profile.yaml"});
//   if (!services.ok()) { ... }                       // profile errors say file:line:column
//   zflow::runtime::Engine engine((*services)->Engine({.virtual_time = true}));
//   auto result = engine.Run(*machine, {.input = input});
//
// What serves which Task resource comes from the profile (zflow.profile.yaml: Lambda functions
// as local Python files or commands, SageMaker images as local commands, the Databricks Jobs API
// stand-in, nested state machines, HTTP connections, where S3 lives) and from the options (C++
// functions, commands, a Step Functions Local mock configuration). The services live as long as
// the LocalServices object: destroy it after the engines that use it.
#ifndef ZFLOW_LOCAL_SERVICES_H_
#define ZFLOW_LOCAL_SERVICES_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "zflow/json.h"
#include "zflow/runtime.h"
#include "zflow/status.h"

namespace zflow {

struct LocalServicesOptions {
  // The profile file; empty: ./zflow.profile.yaml when it exists, else none.
  std::string profile;
  std::string work_dir;  // job directories and endpoints (default: the profile's, .zflow/work)
  std::string s3_root;   // s3://bucket/key is <s3_root>/bucket/key (default: the profile's,
                         // $ZFLOW_S3_ROOT, .zflow/s3)
  // Lambda functions served in this process, by function name; they win over the profile.
  std::map<std::string, std::function<runtime::TaskResult(const json::value& event)>> functions;
  // A local command (argv; the input on stdin, the result on stdout) per Task resource.
  std::vector<std::pair<std::string, std::vector<std::string>>> commands;
  // Task states nothing serves return their effective input.
  bool echo_tasks = false;
  // A Step Functions Local mock configuration: the test case's mocked states answer first,
  // the others go to the local services.
  std::optional<json::value> mock_config;
  std::string test_case;
  std::string state_machine_name = "Machine";  // which of the configuration's machines
};

class LocalServices {
 public:
  // Loads the profile and starts what it configures (the Databricks Jobs API stand-in listens
  // on loopback). kInvalidArgument for a malformed profile or mock configuration (naming the
  // file and place), kUnavailable when a stand-in cannot start.
  static Result<std::unique_ptr<LocalServices>> Start(LocalServicesOptions options);
  ~LocalServices();
  LocalServices(const LocalServices&) = delete;
  LocalServices& operator=(const LocalServices&) = delete;

  // Engine options with these services: the task handlers and the object store.
  struct EngineSettings {
    bool virtual_time = false;
    std::function<void(const runtime::HistoryEvent&)> on_event;
    std::function<void(const std::string& state, const std::string& token)> on_task_token;
  };
  runtime::EngineOptions Engine(EngineSettings settings) const;

  runtime::IntegrationRegistry& registry();
  runtime::ObjectStore& object_store();
  const std::string& work_dir() const;

  // Answers from `zflow task-token` (files under <work_dir>/task-tokens/) for .waitForTaskToken
  // tasks, passed to `send` until the returned watcher is destroyed.
  struct TokenAnswer {
    std::string action;  // "succeed", "fail", "heartbeat"
    std::string token;
    json::value output;
    std::string error, cause;
  };
  class TokenWatcher {
   public:
    virtual ~TokenWatcher() = default;
  };
  std::unique_ptr<TokenWatcher> WatchTaskTokens(std::function<Status(const TokenAnswer&)> send);

 private:
  struct State;
  explicit LocalServices(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zflow

#endif  // ZFLOW_LOCAL_SERVICES_H_
