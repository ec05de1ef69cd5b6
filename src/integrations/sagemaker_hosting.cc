// SageMaker hosting run locally: models, endpoint configs, endpoints (serving processes that
// outlive the run) and batch transform (a temporary serving process fed with the input records).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>


#include <filesystem>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/file.h"
#include "common/http.h"
#include "common/subprocess.h"
#include "integrations/framework_container.h"
#include "integrations/request_fields.h"
#include "integrations/sagemaker.h"
#include "zflow/clock.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

constexpr auto ServiceError = SageMakerError;

constexpr auto Str = StringField;
constexpr auto Obj = ObjectField;

bool ValidName(const std::string& name) {
  static const std::regex kName("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  return std::regex_match(name, kName);
}

std::string Now() { return FormatTimestamp(std::chrono::system_clock::now()); }

// The hosting state file, read and written under an exclusive lock.
class StateFile {
 public:
  explicit StateFile(const std::string& work_dir) {
    std::error_code ec;
    fs::create_directories(work_dir, ec);
    path_ = (fs::path(work_dir) / "hosting.json").string();
    fd_ = ::open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    auto text = ReadFileCapped(path_, 16 << 20);
    if (text.ok()) {
      auto parsed = ParseJson(text->data, {.record_locations = false});
      if (parsed.ok() && parsed->value.is_object()) state_ = std::move(parsed->value.as_object());
    }
    for (const char* k : {"models", "endpoint_configs", "endpoints"}) {
      if (!state_.contains(k) || !state_[k].is_object()) state_[k] = json::object();
    }
  }
  ~StateFile() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  json::object& section(const char* name) { return state_[name].as_object(); }
  Status Save() { return WriteFileAtomically(path_, ToJsonText(json::value(state_))); }

 private:
  std::string path_;
  int fd_ = -1;
  json::object state_;
};

int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(s);
  return port;
}

std::string LogTail(const fs::path& log) {
  auto text = ReadFileCapped(log.string(), 1 << 20);
  if (!text.ok()) return "";
  std::string t = text->data.size() > 1500 ? text->data.substr(text->data.size() - 1500) : text->data;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

struct Server {
  int pid = 0;
  int port = 0;
};

// Unpacks the model and starts the image's serving command; waits until GET /ping answers 200.
Result<Server> StartServer(const ImageSpec& image, runtime::ObjectStore& store,
                           const std::string& model_data_url, const fs::path& dir,
                           const std::map<std::string, std::string>& env_extra) {
  std::vector<std::string> argv = image.serve_command;
  if (!image.serve_python.empty()) argv = {"/usr/bin/python3", image.serve_python};
  if (argv.empty() && image.framework.empty()) {
    return FailedPreconditionError(
        "the image has no serving command (profile: sagemaker.images.<image>.serve)");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "model", ec);
  auto split = SplitS3Uri(model_data_url);
  if (!split) return InvalidArgumentError(fmt::format("ModelDataUrl \"{}\" is not s3://", model_data_url));
  ZFLOW_ASSIGN_OR_RETURN(std::string tarball, store.Get(split->first, split->second));
  ZFLOW_RETURN_IF_ERROR(WriteFileAtomically((dir / "model.tar.gz").string(), tarball));
  auto untar = RunProcess({"tar", "-xzf", (dir / "model.tar.gz").string(), "-C", (dir / "model").string()});
  if (!untar.ok() || untar->exit_code != 0) {
    return InvalidArgumentError(fmt::format("{} is not a gzipped tar archive", model_data_url));
  }
  int port = FreePort();
  ProcessOptions options;
  options.env = env_extra;
  options.working_directory = dir.string();
  if (!image.framework.empty()) {
    ZFLOW_ASSIGN_OR_RETURN(ScriptLaunch launch, PrepareFrameworkServing(env_extra, store, dir));
    argv = std::move(launch.argv);
    for (auto& [k, v] : launch.env) options.env[k] = std::move(v);
    options.working_directory = std::move(launch.working_directory);
  }
  options.env["SM_MODEL_DIR"] = (dir / "model").string();
  options.env["SAGEMAKER_BIND_TO_PORT"] = std::to_string(port);
  fs::path log = dir / "server.log";
  ZFLOW_ASSIGN_OR_RETURN(int pid, SpawnDetached(argv, options, log.string()));
  const http::Call ping{.base_url = fmt::format("http://127.0.0.1:{}", port),
                        .path = "/ping",
                        .connect_timeout_seconds = 1};
  for (int i = 0; i < 600; ++i) {  // up to 60 s
    if (http::Reply res = http::Send(ping); res.ok() && res.status == 200) return Server{pid, port};
    if (!ProcessAlive(pid)) {
      return UnavailableError(fmt::format("the serving process exited before answering /ping: {}",
                                          LogTail(log)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  KillProcessGroup(pid);
  return UnavailableError("the serving process did not answer /ping within 60 seconds");
}

}  // namespace

runtime::TaskResult SageMakerHandler::CreateModel(const json::object& req) {
  std::optional<std::string> name = Str(&req, "ModelName");
  if (!name || !ValidName(*name)) {
    return ServiceError(fmt::format("1 validation error detected: Value '{}' at 'modelName' failed "
                                    "to satisfy constraint: Member must satisfy regular "
                                    "expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}",
                                    name.value_or("")));
  }
  const json::object* container = Obj(&req, "PrimaryContainer");
  std::optional<std::string> image = Str(container, "Image");
  std::optional<std::string> data = Str(container, "ModelDataUrl");
  if (!image || !data) {
    return ServiceError("1 validation error detected: PrimaryContainer needs Image and ModelDataUrl");
  }
  if (!Str(&req, "ExecutionRoleArn")) {
    return ServiceError("1 validation error detected: Value null at 'executionRoleArn' failed to "
                        "satisfy constraint: Member must not be null");
  }
  if (images_.find(*image) == images_.end()) {
    return ServiceError(fmt::format("no local command is mapped to the image \"{}\" (profile: "
                                    "sagemaker.images)",
                                    *image));
  }
  StateFile state(work_dir_);
  json::object& models = state.section("models");
  if (models.contains(*name)) {
    return ServiceError(fmt::format("Cannot create already existing model \"arn:aws:sagemaker:{}:{}:model/{}\".",
                                    region_, account_, *name));
  }
  json::object env;
  if (const json::object* e = Obj(container, "Environment")) env = *e;
  models[*name] = json::object{{"Image", *image}, {"ModelDataUrl", *data}, {"Environment", env}};
  if (Status s = state.Save(); !s.ok()) return ServiceError(s.message());
  return runtime::TaskResult::Success(json::object{
      {"ModelArn", fmt::format("arn:aws:sagemaker:{}:{}:model/{}", region_, account_, *name)}});
}

runtime::TaskResult SageMakerHandler::CreateEndpointConfig(const json::object& req) {
  std::optional<std::string> name = Str(&req, "EndpointConfigName");
  if (!name || !ValidName(*name)) {
    return ServiceError(fmt::format("1 validation error detected: Value '{}' at "
                                    "'endpointConfigName' failed to satisfy constraint",
                                    name.value_or("")));
  }
  const json::value* variants = req.if_contains("ProductionVariants");
  if (variants == nullptr || !variants->is_array() || variants->get_array().empty()) {
    return ServiceError("1 validation error detected: ProductionVariants must have 1 item");
  }
  StateFile state(work_dir_);
  for (const auto& v : variants->get_array()) {
    std::optional<std::string> model = Str(v.if_object(), "ModelName");
    if (!model || !state.section("models").contains(*model)) {
      return ServiceError(fmt::format("Could not find model \"arn:aws:sagemaker:{}:{}:model/{}\".",
                                      region_, account_, model.value_or("")));
    }
  }
  json::object& configs = state.section("endpoint_configs");
  if (configs.contains(*name)) {
    return ServiceError(fmt::format("Cannot create already existing endpoint configuration "
                                    "\"{}\".",
                                    *name));
  }
  configs[*name] = json::object{{"ProductionVariants", *variants}};
  if (Status s = state.Save(); !s.ok()) return ServiceError(s.message());
  return runtime::TaskResult::Success(json::object{
      {"EndpointConfigArn",
       fmt::format("arn:aws:sagemaker:{}:{}:endpoint-config/{}", region_, account_, *name)}});
}

runtime::TaskResult SageMakerHandler::CreateOrUpdateEndpoint(const json::object& req, bool update) {
  std::optional<std::string> name = Str(&req, "EndpointName");
  std::optional<std::string> config_name = Str(&req, "EndpointConfigName");
  if (!name || !ValidName(*name) || !config_name) {
    return ServiceError("1 validation error detected: EndpointName and EndpointConfigName are "
                        "required");
  }
  if (store_ == nullptr) return ServiceError("no object store is configured for s3:// data");
  StateFile state(work_dir_);
  json::object& endpoints = state.section("endpoints");
  bool exists = endpoints.contains(*name);
  if (!update && exists) {
    return ServiceError(fmt::format("Cannot create already existing endpoint "
                                    "\"arn:aws:sagemaker:{}:{}:endpoint/{}\".",
                                    region_, account_, *name));
  }
  if (update && !exists) {
    return ServiceError(fmt::format("Could not find endpoint \"{}\".", *name));
  }
  const json::object* config = Obj(&state.section("endpoint_configs"), *config_name);
  if (config == nullptr) {
    return ServiceError(fmt::format("Could not find endpoint configuration \"{}\".", *config_name));
  }
  // The first variant serves (one serving process per endpoint locally).
  const json::object* variant = config->at("ProductionVariants").get_array()[0].if_object();
  std::string model_name = Str(variant, "ModelName").value_or("");
  const json::object* model = Obj(&state.section("models"), model_name);
  if (model == nullptr) return ServiceError(fmt::format("Could not find model \"{}\".", model_name));
  auto image = images_.find(Str(model, "Image").value_or(""));
  if (image == images_.end()) {
    return ServiceError(fmt::format("no local command is mapped to the image \"{}\"",
                                    Str(model, "Image").value_or("")));
  }
  std::map<std::string, std::string> env;
  if (const json::object* e = Obj(model, "Environment")) {
    for (const auto& [k, v] : *e) {
      if (v.is_string()) env[std::string(k)] = std::string(v.get_string());
    }
  }
  fs::path dir = fs::path(work_dir_) / "endpoints" / *name / *config_name;
  auto server = StartServer(image->second, *store_, Str(model, "ModelDataUrl").value_or(""), dir, env);
  json::object entry{{"EndpointConfigName", *config_name}, {"CreationTime", Now()},
                     {"LastModifiedTime", Now()}};
  if (exists) entry["CreationTime"] = endpoints[*name].as_object()["CreationTime"];
  if (!server.ok()) {
    if (update) {
      // The old configuration keeps serving; the update failed.
      return ServiceError(fmt::format("the endpoint update failed: {}", server.status().message()));
    }
    entry["EndpointStatus"] = "Failed";
    entry["FailureReason"] = server.status().message();
  } else {
    if (exists) {
      // The new server answers before the old one stops: no downtime.
      const json::object& old = endpoints[*name].as_object();
      if (const json::value* pid = old.if_contains("Pid"); pid && pid->is_int64()) {
        KillProcessGroup(static_cast<int>(pid->get_int64()));
      }
    }
    entry["EndpointStatus"] = "InService";
    entry["Port"] = server->port;
    entry["Pid"] = server->pid;
  }
  endpoints[*name] = std::move(entry);
  if (Status s = state.Save(); !s.ok()) return ServiceError(s.message());
  return runtime::TaskResult::Success(json::object{
      {"EndpointArn", fmt::format("arn:aws:sagemaker:{}:{}:endpoint/{}", region_, account_, *name)}});
}

runtime::TaskResult SageMakerHandler::DescribeEndpoint(const json::object& req) {
  std::optional<std::string> name = Str(&req, "EndpointName");
  StateFile state(work_dir_);
  const json::object* e = name ? Obj(&state.section("endpoints"), *name) : nullptr;
  if (e == nullptr) {
    return runtime::TaskResult::Failure("SageMaker.SageMakerException",
                                        fmt::format("Could not find endpoint \"{}\". (Service: "
                                                    "SageMaker, Status Code: 400)",
                                                    name.value_or("")));
  }
  std::string status = Str(e, "EndpointStatus").value_or("Failed");
  // A server that died is a failed endpoint.
  if (status == "InService") {
    const json::value* pid = e->if_contains("Pid");
    if (pid == nullptr || !pid->is_int64() || !ProcessAlive(static_cast<int>(pid->get_int64()))) {
      status = "Failed";
    }
  }
  json::object out{
      {"EndpointName", *name},
      {"EndpointArn", fmt::format("arn:aws:sagemaker:{}:{}:endpoint/{}", region_, account_, *name)},
      {"EndpointConfigName", e->at("EndpointConfigName")},
      {"EndpointStatus", status},
      {"CreationTime", e->at("CreationTime")},
      {"LastModifiedTime", e->at("LastModifiedTime")}};
  if (const json::value* f = e->if_contains("FailureReason")) out["FailureReason"] = *f;
  return runtime::TaskResult::Success(std::move(out));
}

runtime::TaskResult SageMakerHandler::Transform(const json::object& req, bool sync) {
  std::optional<std::string> name = Str(&req, "TransformJobName");
  if (!name || !ValidName(*name)) {
    return ServiceError(fmt::format("1 validation error detected: Value '{}' at "
                                    "'transformJobName' failed to satisfy constraint",
                                    name.value_or("")));
  }
  std::optional<std::string> model_name = Str(&req, "ModelName");
  const json::object* input = Obj(&req, "TransformInput");
  std::optional<std::string> input_uri = Str(Obj(Obj(input, "DataSource"), "S3DataSource"), "S3Uri");
  const json::object* output = Obj(&req, "TransformOutput");
  std::optional<std::string> output_uri = Str(output, "S3OutputPath");
  if (!model_name || !input_uri || !output_uri || !Obj(&req, "TransformResources")) {
    return ServiceError("1 validation error detected: ModelName, "
                        "TransformInput.DataSource.S3DataSource.S3Uri, "
                        "TransformOutput.S3OutputPath and TransformResources are required");
  }
  if (store_ == nullptr) return ServiceError("no object store is configured for s3:// data");
  json::object model;
  {
    StateFile state(work_dir_);
    const json::object* m = Obj(&state.section("models"), *model_name);
    if (m == nullptr) return ServiceError(fmt::format("Could not find model \"{}\".", *model_name));
    model = *m;
  }
  auto image = images_.find(Str(&model, "Image").value_or(""));
  if (image == images_.end()) return ServiceError("the model's image is not mapped to a local command");
  std::string split_type = Str(input, "SplitType").value_or("None");
  std::string content_type = Str(input, "ContentType").value_or("");
  std::string strategy = Str(&req, "BatchStrategy").value_or("MultiRecord");
  std::string assemble = Str(output, "AssembleWith").value_or("None");
  std::string accept = Str(output, "Accept").value_or("");
  std::int64_t max_mb = 6;
  if (const json::value* m = req.if_contains("MaxPayloadInMB"); m && m->is_int64()) max_mb = m->get_int64();
  std::size_t max_bytes = static_cast<std::size_t>(std::max<std::int64_t>(max_mb, 1)) << 20;
  std::string created = Now();
  json::object describe{
      {"TransformJobName", *name},
      {"TransformJobArn", fmt::format("arn:aws:sagemaker:{}:{}:transform-job/{}", region_,
                                      account_, *name)},
      {"ModelName", *model_name},
      {"BatchStrategy", strategy},
      {"MaxPayloadInMB", max_mb},
      {"TransformInput", *input},
      {"TransformOutput", *output},
      {"TransformResources", req.at("TransformResources")},
      {"CreationTime", created},
      {"TransformStartTime", created}};
  auto fail = [&](std::string reason) {
    describe["TransformJobStatus"] = "Failed";
    describe["FailureReason"] = std::move(reason);
    describe["TransformEndTime"] = Now();
    return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                        ToJsonText(json::value(describe)));
  };
  std::map<std::string, std::string> env;
  if (const json::object* e = Obj(&model, "Environment")) {
    for (const auto& [k, v] : *e) {
      if (v.is_string()) env[std::string(k)] = std::string(v.get_string());
    }
  }
  fs::path dir = fs::path(work_dir_) / "transform-jobs" / *name;
  auto server = StartServer(image->second, *store_, Str(&model, "ModelDataUrl").value_or(""), dir, env);
  if (!server.ok()) return fail("ClientError: " + server.status().message());
  auto in = SplitS3Uri(*input_uri);
  auto out = SplitS3Uri(*output_uri);
  std::string failure;
  auto objects = in ? store_->List(in->first, in->second)
                    : Result<std::vector<runtime::ObjectStore::ObjectInfo>>(
                          InvalidArgumentError("not an s3:// URI"));
  if (!objects.ok() || objects->empty() || !out) {
    failure = fmt::format("ClientError: no input objects under {}", *input_uri);
  }
  const std::string server_url = fmt::format("http://127.0.0.1:{}", server->port);
  std::string out_prefix = out ? out->second : "";
  if (!out_prefix.empty() && out_prefix.back() != '/') out_prefix.push_back('/');
  for (std::size_t i = 0; failure.empty() && i < objects->size(); ++i) {
    const auto& o = (*objects)[i];
    auto data = store_->Get(in->first, o.key);
    if (!data.ok()) {
      failure = "ClientError: " + data.status().message();
      break;
    }
    // Records, then requests of one record or as many as fit in MaxPayloadInMB.
    std::vector<std::string> records;
    if (split_type == "Line") {
      std::size_t start = 0;
      while (start < data->size()) {
        std::size_t end = data->find('\n', start);
        if (end == std::string::npos) end = data->size();
        std::string line = data->substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) records.push_back(std::move(line));
        start = end + 1;
      }
    } else {
      records.push_back(*data);
    }
    std::vector<std::string> requests;
    for (auto& r : records) {
      if (strategy == "MultiRecord" && !requests.empty() &&
          requests.back().size() + 1 + r.size() <= max_bytes) {
        requests.back() += "\n" + r;
      } else {
        requests.push_back(std::move(r));
      }
    }
    std::string assembled;
    for (const auto& body : requests) {
      if (body.size() > max_bytes) {
        failure = fmt::format("ClientError: a record of {} bytes is larger than MaxPayloadInMB", body.size());
        break;
      }
      http::Call call{.base_url = server_url,
                      .method = "POST",
                      .path = "/invocations",
                      .body = body,
                      .content_type =
                          content_type.empty() ? "application/octet-stream" : content_type,
                      .read_timeout_seconds = 600};
      if (!accept.empty()) call.headers.emplace_back("Accept", accept);
      http::Reply res = http::Send(call);
      if (!res.ok()) {
        failure = "ClientError: the model server did not answer /invocations";
        break;
      }
      if (res.status != 200) {
        failure = fmt::format("ClientError: the model returned {} for a request from {}: {}",
                              res.status, o.key, res.body.substr(0, 500));
        break;
      }
      assembled += res.body;
      if (assemble == "Line" && !assembled.empty() && assembled.back() != '\n') {
        assembled.push_back('\n');
      }
    }
    if (!failure.empty()) break;
    std::string rest = o.key.substr(in->second.size());
    while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
    if (rest.empty()) rest = fs::path(o.key).filename().string();
    Status put = store_->Put(out->first, out_prefix + rest + ".out", assembled);
    if (!put.ok()) failure = "ClientError: " + put.message();
  }
  KillProcessGroup(server->pid);
  if (!failure.empty()) return fail(failure);
  describe["TransformJobStatus"] = "Completed";
  describe["TransformEndTime"] = Now();
  if (!sync) return runtime::TaskResult::Success(json::object{{"TransformJobArn", describe["TransformJobArn"]}});
  return runtime::TaskResult::Success(std::move(describe));
}

Result<std::vector<EndpointInfo>> ListEndpoints(const std::string& work_dir) {
  StateFile state(work_dir);
  std::vector<EndpointInfo> out;
  for (const auto& [name, v] : state.section("endpoints")) {
    const json::object* e = v.if_object();
    if (e == nullptr) continue;
    EndpointInfo info;
    info.name = std::string(name);
    info.config = Str(e, "EndpointConfigName").value_or("");
    info.status = Str(e, "EndpointStatus").value_or("");
    info.failure = Str(e, "FailureReason").value_or("");
    if (const json::value* p = e->if_contains("Port"); p && p->is_int64()) info.port = static_cast<int>(p->get_int64());
    if (const json::value* p = e->if_contains("Pid"); p && p->is_int64()) info.pid = static_cast<int>(p->get_int64());
    if (info.status == "InService" && !ProcessAlive(info.pid)) {
      info.status = "Failed";
      info.failure = "the serving process is gone";
    }
    out.push_back(std::move(info));
  }
  return out;
}

Status DeleteEndpoint(const std::string& work_dir, const std::string& name) {
  StateFile state(work_dir);
  json::object& endpoints = state.section("endpoints");
  const json::object* e = Obj(&endpoints, name);
  if (e == nullptr) return NotFoundError(fmt::format("Could not find endpoint \"{}\".", name));
  if (const json::value* p = e->if_contains("Pid"); p && p->is_int64()) {
    KillProcessGroup(static_cast<int>(p->get_int64()));
  }
  endpoints.erase(name);
  return state.Save();
}

Result<std::string> InvokeEndpoint(const std::string& work_dir, const std::string& name,
                                   const std::string& body, const std::string& content_type) {
  ZFLOW_ASSIGN_OR_RETURN(auto endpoints, ListEndpoints(work_dir));
  for (const auto& e : endpoints) {
    if (e.name != name) continue;
    if (e.status != "InService") {
      return FailedPreconditionError(fmt::format("endpoint \"{}\" is {}{}", name, e.status,
                                                 e.failure.empty() ? "" : ": " + e.failure));
    }
    http::Reply res = http::Send({.base_url = fmt::format("http://127.0.0.1:{}", e.port),
                                  .method = "POST",
                                  .path = "/invocations",
                                  .body = std::string(body),
                                  .content_type = std::string(content_type),
                                  .read_timeout_seconds = 60});
    if (!res.ok()) return UnavailableError(fmt::format("endpoint \"{}\" did not answer", name));
    if (res.status != 200) {
      return FailedPreconditionError(fmt::format("ModelError: the model returned {}: {}",
                                                 res.status, res.body.substr(0, 1000)));
    }
    return std::move(res.body);
  }
  return NotFoundError(fmt::format("Endpoint {} not found.", name));
}

}  // namespace zflow::integrations
