#include "integrations/sagemaker.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/file.h"
#include "common/subprocess.h"
#include "integrations/framework_container.h"
#include "integrations/request_fields.h"
#include "integrations/task_log.h"
#include "zflow/clock.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

constexpr auto Validation = SageMakerValidationError;

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

constexpr auto Str = StringField;

std::string Now() { return FormatTimestamp(std::chrono::system_clock::now()); }

// Copies every object under s3://bucket/prefix into `dir`, keeping the key's rest as the path.
Status Download(runtime::ObjectStore& store, std::string_view uri, const fs::path& dir) {
  auto split = SplitS3Uri(uri);
  if (!split) return InvalidArgumentError(fmt::format("\"{}\" is not an s3:// URI", uri));
  ZFLOW_ASSIGN_OR_RETURN(auto objects, store.List(split->first, split->second));
  if (objects.empty()) {
    return NotFoundError(fmt::format("no objects under {} (the channel's S3Uri)", uri));
  }
  for (const auto& o : objects) {
    std::string rest = o.key.substr(split->second.size());
    while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
    if (rest.empty()) rest = fs::path(o.key).filename().string();
    ZFLOW_ASSIGN_OR_RETURN(std::string data, store.Get(split->first, o.key));
    fs::path target = dir / rest;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    ZFLOW_RETURN_IF_ERROR(WriteFileAtomically(target.string(), data));
  }
  return Status::Ok();
}

}  // namespace

runtime::TaskResult SageMakerError(std::string message) {
  return runtime::TaskResult::Failure(
      "SageMaker.AmazonSageMakerException",
      message + " (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException)");
}

runtime::TaskResult SageMakerValidationError(std::string detail) {
  return SageMakerError("1 validation error detected: " + detail);
}

std::optional<std::pair<std::string, std::string>> SplitS3Uri(std::string_view uri) {
  if (!uri.starts_with("s3://")) return std::nullopt;
  uri.remove_prefix(5);
  std::size_t slash = uri.find('/');
  std::string bucket(uri.substr(0, slash));
  if (bucket.empty()) return std::nullopt;
  std::string key = slash == std::string_view::npos ? "" : std::string(uri.substr(slash + 1));
  return std::pair{bucket, key};
}

namespace {

// The SageMaker jobs a resumed execution asks for again: what is the job's name field.
std::string_view JobNameField(std::string_view resource) {
  constexpr std::string_view kPrefix = "arn:aws:states:::sagemaker:";
  if (!resource.starts_with(kPrefix)) return {};
  std::string_view action = resource.substr(kPrefix.size());
  if (action.ends_with(".sync")) action.remove_suffix(5);
  if (action == "createTrainingJob") return "TrainingJobName";
  if (action == "createProcessingJob") return "ProcessingJobName";
  if (action == "createTransformJob") return "TransformJobName";
  if (action == "createHyperParameterTuningJob") return "HyperParameterTuningJobName";
  return {};
}

}  // namespace

// A job's outcome is recorded in the work directory with the task attempt that ran it. When
// the same attempt comes again (its execution resumed after the server or `zflow run` was
// killed between the job's end and the record of its answer), the job is picked up, not run
// twice; any other request for the name is a new job.
runtime::TaskResult SageMakerHandler::Invoke(const runtime::TaskRequest& r) {
  std::string_view name_field = JobNameField(r.resource);
  const json::object* request = r.input.if_object();
  if (name_field.empty() || request == nullptr || r.execution_arn.empty()) return Run(r);
  std::optional<std::string> name = Str(request, name_field);
  if (!name || name->find('/') != std::string::npos || name->starts_with(".")) return Run(r);
  const fs::path ledger = fs::path(work_dir_) / "jobs-done" /
                          fmt::format("{}-{}.json", name_field, *name);
  if (auto recorded = ReadFileCapped(ledger.string(), 16 << 20); recorded.ok()) {
    auto entry = ParseJson(recorded->data);
    const json::object* e = entry.ok() ? entry->value.if_object() : nullptr;
    if (e != nullptr && Str(e, "execution") == r.execution_arn && e->contains("attempt") &&
        e->at("attempt").is_int64() && e->at("attempt").get_int64() == r.attempt_event &&
        Str(e, "resource") == r.resource) {
      if (const json::value* out = e->if_contains("output")) return runtime::TaskResult::Success(*out);
      return runtime::TaskResult::Failure(Str(e, "error").value_or(""), Str(e, "cause").value_or(""));
    }
  }
  runtime::TaskResult result = Run(r);
  if (result.hosted) return result;
  json::object entry{{"execution", r.execution_arn}, {"attempt", r.attempt_event},
                     {"resource", r.resource}};
  if (result.ok()) {
    entry["output"] = *result.output;
  } else {
    entry["error"] = result.error;
    entry["cause"] = result.cause;
  }
  std::error_code ec;
  fs::create_directories(ledger.parent_path(), ec);
  (void)WriteFileAtomically(ledger.string(), ToJsonText(json::value(std::move(entry))));
  return result;
}

runtime::TaskResult SageMakerHandler::Run(const runtime::TaskRequest& r) {
  const json::object* request = r.input.if_object();
  if (request == nullptr) return Validation("the request is not an object");
  const std::string& res = r.resource;
  if (res == "arn:aws:states:::sagemaker:createTrainingJob" ||
      res == "arn:aws:states:::sagemaker:createTrainingJob.sync") {
    return Train(*request, res.ends_with(".sync"), r);
  }
  if (res == "arn:aws:states:::sagemaker:createProcessingJob" ||
      res == "arn:aws:states:::sagemaker:createProcessingJob.sync") {
    return Process(*request, res.ends_with(".sync"), r);
  }
  if (res == "arn:aws:states:::sagemaker:createHyperParameterTuningJob" ||
      res == "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync") {
    return Tune(*request, res.ends_with(".sync"), r);
  }
  if (res == "arn:aws:states:::sagemaker:createModel") return CreateModel(*request);
  if (res == "arn:aws:states:::sagemaker:createEndpointConfig") return CreateEndpointConfig(*request);
  if (res == "arn:aws:states:::sagemaker:createEndpoint") return CreateOrUpdateEndpoint(*request, false);
  if (res == "arn:aws:states:::sagemaker:updateEndpoint") return CreateOrUpdateEndpoint(*request, true);
  if (res == "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint") return DescribeEndpoint(*request);
  if (res == "arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob") {
    return DescribeTrainingJob(*request);
  }
  if (res == "arn:aws:states:::sagemaker:createTransformJob" ||
      res == "arn:aws:states:::sagemaker:createTransformJob.sync") {
    return Transform(*request, res.ends_with(".sync"));
  }
  return runtime::TaskResult::Failure(
      std::string(asl::errors::kRuntime),
      fmt::format("{} is not served locally yet", r.resource));
}

namespace {

// The service's check of a training job name: the ValidationException, or nothing.
std::optional<runtime::TaskResult> CheckTrainingJobName(const std::optional<std::string>& name) {
  static const std::regex kName("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  if (name && std::regex_match(*name, kName)) return std::nullopt;
  return Validation(fmt::format(
      "Value '{}' at 'trainingJobName' failed to satisfy constraint: Member must satisfy "
      "regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}",
      name.value_or("")));
}

}  // namespace

runtime::TaskResult SageMakerHandler::DescribeTrainingJob(const json::object& req) {
  std::optional<std::string> name = Str(&req, "TrainingJobName");
  if (auto bad = CheckTrainingJobName(name)) return std::move(*bad);
  auto text = ReadFileCapped(
      (fs::path(work_dir_) / "training-jobs" / *name / "describe.json").string(), 16 << 20);
  auto parsed = text.ok() ? ParseJson(text->data, {.record_locations = false})
                          : Result<ParsedJson>(text.status());
  if (!parsed.ok()) {
    return runtime::TaskResult::Failure(
        "SageMaker.ResourceNotFoundException",
        "Requested resource not found. (Service: SageMaker, Status Code: 400)");
  }
  return runtime::TaskResult::Success(std::move(parsed->value));
}

runtime::TaskResult SageMakerHandler::Train(const json::object& req, bool sync,
                                            const runtime::TaskRequest& task) {
  // ---- the request, checked as the service checks it ----
  std::optional<std::string> name = Str(&req, "TrainingJobName");
  if (auto bad = CheckTrainingJobName(name)) return std::move(*bad);
  std::optional<std::string> role = Str(&req, "RoleArn");
  static const std::regex kRole("arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  if (!role || role->size() < 20 || !std::regex_match(*role, kRole)) {
    return Validation(fmt::format("Value '{}' at 'roleArn' failed to satisfy constraint: Member "
                                  "must satisfy regular expression pattern: "
                                  "arn:aws[a-z\\-]*:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                                  role.value_or("")));
  }
  const json::object* algorithm = Obj(req, "AlgorithmSpecification");
  std::optional<std::string> image = Str(algorithm, "TrainingImage");
  if (algorithm == nullptr || !Str(algorithm, "TrainingInputMode")) {
    return Validation("Value null at 'algorithmSpecification.trainingInputMode' failed to satisfy "
                      "constraint: Member must not be null");
  }
  std::optional<std::string> output_path = Str(Obj(req, "OutputDataConfig"), "S3OutputPath");
  if (!output_path) {
    return Validation("Value null at 'outputDataConfig.s3OutputPath' failed to satisfy "
                      "constraint: Member must not be null");
  }
  json::object hyper;
  if (const json::value* h = req.if_contains("HyperParameters")) {
    if (!h->is_object()) return Validation("'hyperParameters' must be a map of strings");
    for (const auto& [k, v] : h->get_object()) {
      if (!v.is_string()) {
        return Validation(fmt::format(
            "Value '{}' at 'hyperParameters.{}' failed to satisfy constraint: Member must be a "
            "string (hyperparameter values are strings, e.g. \"{}\")",
            ToJsonText(v), std::string(k), ToJsonText(v)));
      }
      if (v.get_string().size() > 2500) {
        return Validation(fmt::format("'hyperParameters.{}' is longer than 2500 characters",
                                      std::string(k)));
      }
      hyper[k] = v;
    }
  }
  std::int64_t max_runtime = 86400;
  if (const json::object* stop = Obj(req, "StoppingCondition")) {
    if (const json::value* m = stop->if_contains("MaxRuntimeInSeconds"); m && m->is_int64()) {
      max_runtime = m->get_int64();
    }
  }
  if (!image) {
    return Validation("a TrainingImage is required (algorithm resources are not run locally)");
  }
  auto spec = images_.find(*image);
  if (spec == images_.end()) {
    return SageMakerError(fmt::format(
        "no local command is mapped to the image \"{}\"; add it under \"sagemaker: images:\" "
        "in the profile",
        *image));
  }
  if (store_ == nullptr) {
    return SageMakerError("no object store is configured for s3:// data");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!job_names_.insert(*name).second) {
      return runtime::TaskResult::Failure(
          "SageMaker.ResourceInUseException",
          fmt::format("Training job names must be unique within an AWS account and region, and "
                      "a training job with this name already exists ({})",
                      *name));
    }
  }

  // ---- the job's directory, laid out like /opt/ml ----
  std::string created = Now();
  fs::path job = fs::path(work_dir_) / "training-jobs" / *name;
  std::error_code ec;
  fs::remove_all(job, ec);
  for (const char* d : {"input/config", "input/data", "model", "output/data", "code"}) {
    fs::create_directories(job / d, ec);
  }
  json::object data_config;
  json::array channel_names;
  std::map<std::string, std::string> env;
  if (const json::value* channels = req.if_contains("InputDataConfig");
      channels && channels->is_array()) {
    for (const auto& c : channels->get_array()) {
      const json::object* co = c.if_object();
      std::optional<std::string> cname = Str(co, "ChannelName");
      const json::object* source = co != nullptr ? Obj(*co, "DataSource") : nullptr;
      const json::object* s3 = source != nullptr ? Obj(*source, "S3DataSource") : nullptr;
      std::optional<std::string> uri = Str(s3, "S3Uri");
      if (!cname || !uri) {
        return Validation("each InputDataConfig channel needs ChannelName and "
                          "DataSource.S3DataSource.S3Uri");
      }
      static const std::regex kChannel("[A-Za-z0-9\\.\\-_]{1,64}");
      if (!std::regex_match(*cname, kChannel) || *cname == "." || *cname == "..") {
        return Validation(fmt::format("Value '{}' at 'inputDataConfig.channelName' failed to "
                                      "satisfy constraint: Member must satisfy regular expression "
                                      "pattern: [A-Za-z0-9\\.\\-_]+",
                                      *cname));
      }
      Status s = Download(*store_, *uri, job / "input/data" / *cname);
      if (!s.ok()) {
        json::object failed{{"TrainingJobName", *name}, {"TrainingJobStatus", "Failed"},
                            {"FailureReason", fmt::format("ClientError: channel \"{}\": {}",
                                                          *cname, s.message())}};
        return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                            ToJsonText(json::value(failed)));
      }
      data_config[*cname] = json::object{
          {"ContentType", Str(co, "ContentType").value_or("")},
          {"TrainingInputMode", Str(algorithm, "TrainingInputMode").value_or("File")},
          {"S3DistributionType", "FullyReplicated"},
          {"RecordWrapperType", "None"}};
      channel_names.emplace_back(*cname);
      std::string upper = *cname;
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      env["SM_CHANNEL_" + upper] = (job / "input/data" / *cname).string();
    }
  }
  auto write_json = [&](const char* file, const json::value& v) {
    return WriteFileAtomically((job / "input/config" / file).string(), ToJsonText(v));
  };
  json::object resource{{"current_host", "algo-1"},
                        {"hosts", json::array{"algo-1"}},
                        {"network_interface_name", "eth0"}};
  if (!write_json("hyperparameters.json", hyper).ok() ||
      !write_json("resourceconfig.json", resource).ok() ||
      !write_json("inputdataconfig.json", data_config).ok()) {
    return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                        "cannot write the job's configuration under " +
                                            job.string());
  }
  env["SM_MODEL_DIR"] = (job / "model").string();
  env["SM_INPUT_DIR"] = (job / "input").string();
  env["SM_INPUT_CONFIG_DIR"] = (job / "input/config").string();
  env["SM_OUTPUT_DIR"] = (job / "output").string();
  env["SM_OUTPUT_DATA_DIR"] = (job / "output/data").string();
  env["SM_CHANNELS"] = ToJsonText(json::value(channel_names));
  env["SM_HPS"] = ToJsonText(json::value(hyper));
  env["SM_HOSTS"] = R"(["algo-1"])";
  env["SM_CURRENT_HOST"] = "algo-1";
  env["SM_NUM_CPUS"] = std::to_string(std::max(1u, std::thread::hardware_concurrency()));
  env["SM_NUM_GPUS"] = "0";
  env["SM_TRAINING_ENV"] = ToJsonText(json::value(json::object{
      {"job_name", *name}, {"hyperparameters", hyper}, {"channel_input_dirs", json::object()},
      {"model_dir", env["SM_MODEL_DIR"]}, {"current_host", "algo-1"}}));
  for (const auto& [k, v] : hyper) {
    std::string upper(k);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    env["SM_HP_" + upper] = std::string(v.get_string());
  }
  if (const json::value* e = req.if_contains("Environment"); e && e->is_object()) {
    for (const auto& [k, v] : e->get_object()) {
      if (v.is_string()) env[std::string(k)] = std::string(v.get_string());
    }
  }
  std::vector<std::string> argv = spec->second.command;
  std::string working_directory = job.string();
  if (!spec->second.python_file.empty()) {
    argv = {"/usr/bin/python3", spec->second.python_file};
    for (const auto& [k, v] : hyper) {
      argv.push_back("--" + std::string(k));
      argv.emplace_back(v.get_string());
    }
  } else if (!spec->second.framework.empty()) {
    auto launch = PrepareFrameworkTraining(hyper, *store_, job);
    if (!launch.ok()) {
      json::object failed{{"TrainingJobName", *name}, {"TrainingJobStatus", "Failed"},
                          {"FailureReason", std::string(launch.status().message())}};
      return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                          ToJsonText(json::value(failed)));
    }
    argv = std::move(launch->argv);
    working_directory = std::move(launch->working_directory);
    for (auto& [k, v] : launch->env) env[k] = std::move(v);
  }
  const bool user_script = !spec->second.python_file.empty() || !spec->second.framework.empty();

  // ---- run it ----
  ProcessOptions options;
  options.env = std::move(env);
  options.working_directory = working_directory;
  options.cancel = task.cancelled.get();
  options.on_stderr = task.heartbeat;
  options.timeout = std::chrono::seconds(max_runtime);
  std::string started = Now();
  auto run = RunProcess(argv, "", options);
  std::string ended = Now();
  std::string log = run.ok() ? run->stdout_text + run->stderr_text : "";
  (void)WriteFileAtomically((job / "output/log.txt").string(), log);

  std::string status = "Completed";
  std::string secondary = "Completed";
  std::string failure;
  if (!run.ok()) {
    status = "Failed";
    secondary = "Failed";
    failure = "AlgorithmError: " + run.status().message();
  } else if (run->cancelled) {
    status = "Stopped";
    secondary = "Stopped";
  } else if (run->timed_out) {
    status = "Stopped";
    secondary = "MaxRuntimeExceeded";
    failure = fmt::format("Training job exceeded MaxRuntimeInSeconds ({} s)", max_runtime);
  } else if (run->exit_code != 0) {
    status = "Failed";
    secondary = "Failed";
    auto reason = ReadFileCapped((job / "output/failure").string(), 1 << 20);
    failure = reason.ok() && !reason->data.empty() ? "AlgorithmError: " + reason->data
              : user_script ? ScriptFailureReason(run->exit_code, run->stderr_text, argv)
                            : fmt::format("AlgorithmError: the training command exited with "
                                          "status {}",
                                          run->exit_code);
    while (!failure.empty() && (failure.back() == '\n' || failure.back() == ' ')) {
      failure.pop_back();
    }
  }

  // ---- the model: model/ packed as model.tar.gz under <S3OutputPath>/<job>/output/ ----
  std::string prefix = *output_path;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string artifact = fmt::format("{}/{}/output/model.tar.gz", prefix, *name);
  if (status == "Completed") {
    fs::path tarball = job / "model.tar.gz";
    auto tar = RunProcess({"tar", "-czf", tarball.string(), "-C", (job / "model").string(), "."});
    auto split = SplitS3Uri(artifact);
    auto packed = tar.ok() && tar->exit_code == 0 ? ReadFileCapped(tarball.string(), std::size_t{1} << 32)
                                                  : Result<FileContents>(InternalError("tar failed"));
    Status put = split && packed.ok() ? store_->Put(split->first, split->second, packed->data)
                                      : InvalidArgumentError("cannot pack or store the model");
    if (!put.ok()) {
      status = "Failed";
      secondary = "Failed";
      failure = "ClientError: cannot upload the model to " + artifact + ": " + put.message();
    }
  }

  // ---- metrics from the log, as MetricDefinitions select them ----
  json::array metrics;
  if (const json::value* defs = algorithm->if_contains("MetricDefinitions"); defs && defs->is_array()) {
    for (const auto& d : defs->get_array()) {
      std::optional<std::string> metric = Str(d.if_object(), "Name");
      std::optional<std::string> regex = Str(d.if_object(), "Regex");
      if (!metric || !regex) continue;
      std::optional<double> last;
      try {
        std::regex re(*regex);
        for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
             ++it) {
          if (it->size() > 1) {
            try {
              last = std::stod((*it)[1].str());
            } catch (const std::exception&) {
            }
          }
        }
      } catch (const std::regex_error&) {
        continue;
      }
      if (last) {
        metrics.push_back(json::object{{"MetricName", *metric}, {"Value", *last},
                                       {"Timestamp", ended}});
      }
    }
  }

  json::object describe{
      {"TrainingJobName", *name},
      {"TrainingJobArn", fmt::format("arn:aws:sagemaker:{}:{}:training-job/{}", region_, account_,
                                     *name)},
      {"ModelArtifacts", json::object{{"S3ModelArtifacts", artifact}}},
      {"TrainingJobStatus", status},
      {"SecondaryStatus", secondary},
      {"HyperParameters", hyper},
      {"AlgorithmSpecification", *algorithm},
      {"RoleArn", *role},
      {"InputDataConfig", req.contains("InputDataConfig") ? req.at("InputDataConfig") : json::array()},
      {"OutputDataConfig", req.at("OutputDataConfig")},
      {"ResourceConfig", req.contains("ResourceConfig") ? req.at("ResourceConfig") : json::object()},
      {"StoppingCondition", json::object{{"MaxRuntimeInSeconds", max_runtime}}},
      {"CreationTime", created},
      {"TrainingStartTime", started},
      {"TrainingEndTime", ended},
      {"LastModifiedTime", ended},
      {"FinalMetricDataList", std::move(metrics)}};
  if (!failure.empty()) describe["FailureReason"] = failure;
  // For DescribeTrainingJob later (the aws-sdk integration).
  (void)WriteFileAtomically((job / "describe.json").string(), ToJsonText(json::value(describe)));
  runtime::TaskResult result;
  if (!sync) {
    // Request/response: the job has been created; its ARN is the answer.
    result = runtime::TaskResult::Success(json::object{{"TrainingJobArn", describe["TrainingJobArn"]}});
  } else if (status != "Completed") {
    result = runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                          ToJsonText(json::value(describe)));
  } else {
    result = runtime::TaskResult::Success(std::move(describe));
  }
  result.log = TaskLogTail(log);
  return result;
}

}  // namespace zflow::integrations
