#include "zflow/local_services.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/file.h"
#include "integrations/databricks.h"
#include "integrations/http_task.h"
#include "integrations/lambda.h"
#include "integrations/local_handlers.h"
#include "integrations/nested.h"
#include "integrations/object_store.h"
#include "integrations/profile.h"
#include "integrations/sagemaker.h"

namespace zflow {

namespace fs = std::filesystem;

struct LocalServices::State {
  integrations::Profile profile;
  std::string work_dir;
  std::unique_ptr<integrations::LocalObjectStore> object_store;
  std::unique_ptr<integrations::DatabricksServer> databricks;
  runtime::IntegrationRegistry registry;
};

namespace {

// Serves what the registry serves; states nothing serves fail as the mock file's user expects.
class RegistryHandler final : public runtime::TaskHandler {
 public:
  explicit RegistryHandler(runtime::IntegrationRegistry r) : registry_(std::move(r)) {}
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override {
    runtime::TaskHandler* h = registry_.Find(request.resource);
    if (h == nullptr) {
      return runtime::TaskResult::Failure(
          "States.Runtime", fmt::format("The test case does not mock the state '{}' and no "
                                        "local handler serves '{}'",
                                        request.state_name, request.resource));
    }
    return h->Invoke(request);
  }

 private:
  runtime::IntegrationRegistry registry_;
};

class FileTokenWatcher final : public LocalServices::TokenWatcher {
 public:
  FileTokenWatcher(std::string dir, std::function<Status(const LocalServices::TokenAnswer&)> send)
      : dir_(std::move(dir)), send_(std::move(send)), thread_([this] { Watch(); }) {}
  ~FileTokenWatcher() override {
    done_ = true;
    thread_.join();
  }

 private:
  void Watch() {
    while (!done_) {
      std::error_code ec;
      for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::end(it); it.increment(ec)) {
        const fs::path& path = it->path();
        if (path.extension() != ".json") continue;
        auto text = ReadFileCapped(path.string(), 1 << 20);
        auto answer = text.ok() ? ParseJson(text->data, {.record_locations = false})
                                : Result<ParsedJson>(text.status());
        if (!answer.ok() || !answer->value.is_object()) continue;  // still being written
        const json::object& a = answer->value.get_object();
        auto text_of = [&](const char* k) {
          return a.contains(k) && a.at(k).is_string() ? std::string(a.at(k).get_string()) : "";
        };
        LocalServices::TokenAnswer t{.action = text_of("action"),
                                     .token = text_of("token"),
                                     .output = a.contains("output") ? a.at("output")
                                                                    : json::value(json::object()),
                                     .error = text_of("error"),
                                     .cause = text_of("cause")};
        Status st = send_(t);
        if (!st.ok()) (void)WriteFileAtomically(path.string() + ".error", st.message());
        fs::remove(path, ec);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::string dir_;
  std::function<Status(const LocalServices::TokenAnswer&)> send_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<LocalServices>> LocalServices::Start(LocalServicesOptions options) {
  auto state = std::make_unique<State>();
  ZFLOW_ASSIGN_OR_RETURN(state->profile, integrations::FindProfile(options.profile));
  integrations::Profile& profile = state->profile;
  state->work_dir = integrations::WorkDirOf(options.work_dir, profile);
  std::string s3_root = options.s3_root.empty() ? profile.s3_root : options.s3_root;
  if (s3_root.empty()) {
    const char* env = std::getenv("ZFLOW_S3_ROOT");
    s3_root = env != nullptr && *env != '\0' ? env : ".zflow/s3";
  }
  state->object_store = std::make_unique<integrations::LocalObjectStore>(s3_root);
  // The Databricks Jobs API stand-in lives as long as the services.
  if (profile.databricks) {
    integrations::DatabricksOptions o = *profile.databricks;
    o.s3_root = fs::absolute(s3_root).string();
    o.log_dir = (fs::path(state->work_dir) / "databricks").string();
    ZFLOW_ASSIGN_OR_RETURN(state->databricks, integrations::DatabricksServer::Start(std::move(o)));
  }
  runtime::IntegrationRegistry registry;
  registry.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
  registry.Register("arn:aws:states:::http:invoke",
                    std::make_shared<integrations::HttpTaskHandler>(profile.connections));
  // Nested executions run on the executor of the execution that starts them.
  auto nested = std::make_shared<integrations::NestedExecutionHandler>(profile.state_machines);
  for (const char* resource : {"arn:aws:states:::states:startExecution",
                               "arn:aws:states:::states:startExecution.sync",
                               "arn:aws:states:::states:startExecution.sync:2"}) {
    registry.Register(resource, nested);
  }
  if (!profile.images.empty()) {
    auto sagemaker = std::make_shared<integrations::SageMakerHandler>(
        profile.images, state->object_store.get(), state->work_dir);
    for (const char* action : {"createTrainingJob", "createTrainingJob.sync", "createModel",
                               "createProcessingJob", "createProcessingJob.sync",
                               "createHyperParameterTuningJob",
                               "createHyperParameterTuningJob.sync",
                               "createEndpointConfig", "createEndpoint", "updateEndpoint",
                               "createTransformJob", "createTransformJob.sync"}) {
      registry.Register(fmt::format("arn:aws:states:::sagemaker:{}", action), sagemaker);
    }
    registry.Register("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", sagemaker);
    registry.Register("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob", sagemaker);
  }
  for (auto& [name, fn] : options.functions) {
    integrations::LambdaFunctionSpec spec;
    spec.function = fn;
    profile.lambda[name] = std::move(spec);
  }
  if (!profile.lambda.empty()) {
    auto lambda = std::make_shared<integrations::LambdaHandler>(profile.lambda);
    // Functions find s3:// where the pipeline's other jobs do (Databricks jobs get the same).
    lambda->SetEnvironment({{"ZFLOW_S3_ROOT", fs::absolute(s3_root).string()}});
    registry.Register("arn:aws:states:::lambda:invoke", lambda);
    registry.Register("arn:aws:lambda:*", lambda);
  }
  for (auto& [resource, argv] : options.commands) {
    if (resource.empty() || argv.empty()) {
      return InvalidArgumentError(
          fmt::format("a command task needs a resource and a command (got \"{}\")", resource));
    }
    registry.Register(resource, integrations::MakeCommandHandler(argv));
  }
  if (options.echo_tasks) registry.SetFallback(integrations::MakeEchoHandler());
  if (options.mock_config) {
    if (options.test_case.empty()) {
      return InvalidArgumentError("a mock configuration needs a test case");
    }
    // Mocks answer first; states the test case does not mock go to the other handlers.
    ZFLOW_ASSIGN_OR_RETURN(
        auto mock, integrations::MockHandler::Create(
                       *options.mock_config, options.state_machine_name, options.test_case,
                       std::make_shared<RegistryHandler>(std::move(registry))));
    registry = runtime::IntegrationRegistry();
    registry.SetFallback(std::move(mock));
  }
  state->registry = std::move(registry);
  return std::unique_ptr<LocalServices>(new LocalServices(std::move(state)));
}

LocalServices::LocalServices(std::unique_ptr<State> state) : state_(std::move(state)) {}
LocalServices::~LocalServices() = default;

runtime::EngineOptions LocalServices::Engine(EngineSettings settings) const {
  runtime::EngineOptions o;
  o.integrations = &state_->registry;
  o.object_store = state_->object_store.get();
  o.virtual_time = settings.virtual_time;
  o.on_event = std::move(settings.on_event);
  o.on_task_token = std::move(settings.on_task_token);
  return o;
}

runtime::IntegrationRegistry& LocalServices::registry() { return state_->registry; }
runtime::ObjectStore& LocalServices::object_store() { return *state_->object_store; }
const std::string& LocalServices::work_dir() const { return state_->work_dir; }

std::unique_ptr<LocalServices::TokenWatcher> LocalServices::WatchTaskTokens(
    std::function<Status(const TokenAnswer&)> send) {
  return std::make_unique<FileTokenWatcher>(
      (fs::path(state_->work_dir) / "task-tokens").string(), std::move(send));
}

}  // namespace zflow
