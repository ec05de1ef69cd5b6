// SageMaker processing jobs and hyperparameter tuning run locally.
#include <filesystem>
#include <future>
#include <random>
#include <regex>

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/file.h"
#include "common/subprocess.h"
#include "integrations/request_fields.h"
#include "integrations/sagemaker.h"
#include "zflow/clock.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

constexpr auto Invalid = SageMakerValidationError;

constexpr auto Str = StringField;
constexpr auto Obj = ObjectField;

std::string Now() { return FormatTimestamp(std::chrono::system_clock::now()); }

// Whether a container path stays inside the container (no "." or ".." segments).
bool SafeContainerPath(std::string_view p) {
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(start, end - start);
    if (seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

// A container path (/opt/ml/processing/input) inside the job's directory.
fs::path Local(const fs::path& job, std::string_view container_path) {
  while (!container_path.empty() && container_path.front() == '/') container_path.remove_prefix(1);
  return job / "root" / container_path;
}

// Arguments and environment values that name /opt/ml/... point into the job's directory.
std::string Remap(const fs::path& job, const std::string& s) {
  std::string out = s;
  const std::string from = "/opt/ml/";
  const std::string to = (job / "root" / "opt/ml").string() + "/";
  for (std::size_t p = out.find(from); p != std::string::npos; p = out.find(from, p + to.size())) {
    out.replace(p, from.size(), to);
  }
  return out;
}

}  // namespace

runtime::TaskResult SageMakerHandler::Process(const json::object& req, bool sync,
                                              const runtime::TaskRequest& task) {
  static const std::regex kName("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  std::optional<std::string> name = Str(&req, "ProcessingJobName");
  if (!name || !std::regex_match(*name, kName)) {
    return Invalid(fmt::format("Value '{}' at 'processingJobName' failed to satisfy constraint",
                               name.value_or("")));
  }
  const json::object* app = Obj(&req, "AppSpecification");
  std::optional<std::string> image = Str(app, "ImageUri");
  if (!image) return Invalid("Value null at 'appSpecification.imageUri' failed to satisfy constraint");
  if (!Str(&req, "RoleArn")) return Invalid("Value null at 'roleArn' failed to satisfy constraint");
  if (!Obj(&req, "ProcessingResources")) {
    return Invalid("Value null at 'processingResources' failed to satisfy constraint");
  }
  auto spec = images_.find(*image);
  if (spec == images_.end() || (spec->second.command.empty() && spec->second.python_file.empty())) {
    return Invalid(fmt::format("no local command is mapped to the image \"{}\" (profile: "
                               "sagemaker.images)",
                               *image));
  }
  if (store_ == nullptr) return Invalid("no object store is configured for s3:// data");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!job_names_.insert("processing/" + *name).second) {
      return runtime::TaskResult::Failure("SageMaker.ResourceInUseException",
                                          fmt::format("Processing job {} already exists", *name));
    }
  }
  std::int64_t max_runtime = 86400;
  if (const json::object* stop = Obj(&req, "StoppingCondition")) {
    if (const json::value* m = stop->if_contains("MaxRuntimeInSeconds"); m && m->is_int64()) {
      max_runtime = m->get_int64();
    }
  }
  std::string created = Now();
  fs::path job = fs::path(work_dir_) / "processing-jobs" / *name;
  std::error_code ec;
  fs::remove_all(job, ec);
  fs::create_directories(Local(job, "/opt/ml/output"), ec);
  json::object describe{
      {"ProcessingJobName", *name},
      {"ProcessingJobArn", fmt::format("arn:aws:sagemaker:{}:{}:processing-job/{}", region_,
                                       account_, *name)},
      {"AppSpecification", *app},
      {"RoleArn", req.at("RoleArn")},
      {"ProcessingResources", req.at("ProcessingResources")},
      {"StoppingCondition", json::object{{"MaxRuntimeInSeconds", max_runtime}}},
      {"CreationTime", created}};
  auto fail = [&](std::string status, std::string reason) {
    describe["ProcessingJobStatus"] = std::move(status);
    describe["FailureReason"] = std::move(reason);
    describe["ProcessingEndTime"] = Now();
    return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                        ToJsonText(json::value(describe)));
  };
  // Inputs: each S3 prefix copied to its LocalPath.
  if (const json::value* inputs = req.if_contains("ProcessingInputs"); inputs && inputs->is_array()) {
    describe["ProcessingInputs"] = *inputs;
    for (const auto& in : inputs->get_array()) {
      const json::object* s3 = Obj(in.if_object(), "S3Input");
      std::optional<std::string> uri = Str(s3, "S3Uri");
      std::optional<std::string> local = Str(s3, "LocalPath");
      if (!uri || !local) return Invalid("each ProcessingInput needs S3Input.S3Uri and LocalPath");
      if (!SafeContainerPath(*local)) {
        return Invalid(fmt::format("LocalPath '{}' has a '.' or '..' segment", *local));
      }
      auto split = SplitS3Uri(*uri);
      auto objects = split ? store_->List(split->first, split->second)
                           : Result<std::vector<runtime::ObjectStore::ObjectInfo>>(
                                 InvalidArgumentError("not an s3:// URI"));
      if (!objects.ok() || objects->empty()) {
        return fail("Failed", fmt::format("ClientError: no objects under {} (input {})", *uri,
                                          Str(in.if_object(), "InputName").value_or("")));
      }
      for (const auto& o : *objects) {
        std::string rest = o.key.substr(split->second.size());
        while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
        if (rest.empty()) rest = fs::path(o.key).filename().string();
        auto data = store_->Get(split->first, o.key);
        fs::path target = Local(job, *local) / rest;
        fs::create_directories(target.parent_path(), ec);
        if (!data.ok() || !WriteFileAtomically(target.string(), *data).ok()) {
          return fail("Failed", "ClientError: cannot copy " + o.key);
        }
      }
    }
  }
  std::vector<std::pair<std::string, fs::path>> outputs;  // S3 URI, local directory
  if (const json::object* config = Obj(&req, "ProcessingOutputConfig")) {
    describe["ProcessingOutputConfig"] = *config;
    if (const json::value* list = config->if_contains("Outputs"); list && list->is_array()) {
      for (const auto& out : list->get_array()) {
        const json::object* s3 = Obj(out.if_object(), "S3Output");
        std::optional<std::string> uri = Str(s3, "S3Uri");
        std::optional<std::string> local = Str(s3, "LocalPath");
        if (!uri || !local || !SplitS3Uri(*uri)) {
          return Invalid("each processing output needs S3Output.S3Uri (s3://) and LocalPath");
        }
        if (!SafeContainerPath(*local)) {
          return Invalid(fmt::format("LocalPath '{}' has a '.' or '..' segment", *local));
        }
        fs::create_directories(Local(job, *local), ec);
        outputs.emplace_back(*uri, Local(job, *local));
      }
    }
  }
  std::vector<std::string> argv = spec->second.command;
  if (!spec->second.python_file.empty()) argv = {"/usr/bin/python3", spec->second.python_file};
  if (const json::value* args = app->if_contains("ContainerArguments"); args && args->is_array()) {
    for (const auto& a : args->get_array()) {
      if (a.is_string()) argv.push_back(Remap(job, std::string(a.get_string())));
    }
  }
  ProcessOptions options;
  options.working_directory = job.string();
  options.cancel = task.cancelled.get();
  options.on_stderr = task.heartbeat;
  options.timeout = std::chrono::seconds(max_runtime);
  if (const json::object* env = Obj(&req, "Environment")) {
    for (const auto& [k, v] : *env) {
      if (v.is_string()) options.env[std::string(k)] = Remap(job, std::string(v.get_string()));
    }
  }
  describe["ProcessingStartTime"] = Now();
  auto run = RunProcess(argv, "", options);
  (void)WriteFileAtomically((job / "log.txt").string(),
                            run.ok() ? run->stdout_text + run->stderr_text : "");
  if (!run.ok()) return fail("Failed", "AlgorithmError: " + run.status().message());
  if (run->cancelled) return fail("Stopped", "the job was stopped");
  if (run->timed_out) {
    return fail("Stopped", fmt::format("Processing job exceeded MaxRuntimeInSeconds ({} s)",
                                       max_runtime));
  }
  auto message = ReadFileCapped(Local(job, "/opt/ml/output/message").string(), 1 << 20);
  if (message.ok() && !message->data.empty()) describe["ExitMessage"] = message->data;
  if (run->exit_code != 0) {
    std::string tail = run->stderr_text.size() > 1000
                           ? run->stderr_text.substr(run->stderr_text.size() - 1000)
                           : run->stderr_text;
    return fail("Failed", fmt::format("AlgorithmError: {}",
                                      message.ok() && !message->data.empty()
                                          ? message->data
                                          : fmt::format("exit code {}: {}", run->exit_code, tail)));
  }
  // Outputs: every file under each LocalPath uploaded to its S3 prefix.
  for (const auto& [uri, dir] : outputs) {
    auto split = SplitS3Uri(uri);
    std::string prefix = split->second;
    if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      auto data = ReadFileCapped(it->path().string(), std::size_t{1} << 32);
      std::string key = prefix + fs::relative(it->path(), dir, ec).generic_string();
      if (!data.ok() || !store_->Put(split->first, key, data->data).ok()) {
        return fail("Failed", "ClientError: cannot upload " + it->path().string());
      }
    }
  }
  describe["ProcessingJobStatus"] = "Completed";
  describe["ProcessingEndTime"] = Now();
  if (!sync) return runtime::TaskResult::Success(json::object{{"ProcessingJobArn", describe["ProcessingJobArn"]}});
  return runtime::TaskResult::Success(std::move(describe));
}

runtime::TaskResult SageMakerHandler::Tune(const json::object& req, bool sync,
                                           const runtime::TaskRequest& task) {
  std::optional<std::string> name = Str(&req, "HyperParameterTuningJobName");
  static const std::regex kName("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}");
  if (!name || !std::regex_match(*name, kName)) {
    return Invalid(fmt::format("Value '{}' at 'hyperParameterTuningJobName' failed to satisfy "
                               "constraint: Member must have length less than or equal to 32 "
                               "and match [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,31}}",
                               name.value_or("")));
  }
  const json::object* config = Obj(&req, "HyperParameterTuningJobConfig");
  const json::object* definition = Obj(&req, "TrainingJobDefinition");
  const json::object* objective = Obj(config, "HyperParameterTuningJobObjective");
  std::optional<std::string> metric = Str(objective, "MetricName");
  std::optional<std::string> type = Str(objective, "Type");
  const json::object* limits = Obj(config, "ResourceLimits");
  if (config == nullptr || definition == nullptr || !metric || !type || limits == nullptr) {
    return Invalid("HyperParameterTuningJobConfig (objective, ResourceLimits) and "
                   "TrainingJobDefinition are required");
  }
  auto int_of = [](const json::object* o, std::string_view k, std::int64_t d) {
    const json::value* v = o != nullptr ? o->if_contains(k) : nullptr;
    return v != nullptr && v->is_int64() ? v->get_int64() : d;
  };
  std::int64_t max_jobs = int_of(limits, "MaxNumberOfTrainingJobs", 1);
  std::int64_t max_parallel = std::max<std::int64_t>(1, int_of(limits, "MaxParallelTrainingJobs", 1));
  if (max_jobs < 1 || max_jobs > 500) return Invalid("MaxNumberOfTrainingJobs must be 1 to 500");
  // Candidate hyperparameters: sampled from the ranges with a fixed seed (Random and Bayesian;
  // a local run has no model of the objective), or the grid of the categorical values (Grid).
  std::mt19937_64 rng(0x5eed);
  const json::object* ranges = Obj(config, "ParameterRanges");
  auto sample = [&]() {
    json::object hp;
    if (ranges == nullptr) return hp;
    if (const json::value* c = ranges->if_contains("ContinuousParameterRanges"); c && c->is_array()) {
      for (const auto& r : c->get_array()) {
        double lo = std::stod(Str(r.if_object(), "MinValue").value_or("0"));
        double hi = std::stod(Str(r.if_object(), "MaxValue").value_or("1"));
        bool log = Str(r.if_object(), "ScalingType").value_or("Auto") == "Logarithmic" && lo > 0;
        double u = std::uniform_real_distribution<double>(0, 1)(rng);
        double v = log ? std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))) : lo + u * (hi - lo);
        hp[Str(r.if_object(), "Name").value_or("")] = fmt::format("{:.6g}", v);
      }
    }
    if (const json::value* c = ranges->if_contains("IntegerParameterRanges"); c && c->is_array()) {
      for (const auto& r : c->get_array()) {
        std::int64_t lo = std::stoll(Str(r.if_object(), "MinValue").value_or("0"));
        std::int64_t hi = std::stoll(Str(r.if_object(), "MaxValue").value_or("1"));
        hp[Str(r.if_object(), "Name").value_or("")] =
            std::to_string(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
      }
    }
    if (const json::value* c = ranges->if_contains("CategoricalParameterRanges"); c && c->is_array()) {
      for (const auto& r : c->get_array()) {
        const json::value* values = r.as_object().if_contains("Values");
        if (values == nullptr || !values->is_array() || values->get_array().empty()) continue;
        const auto& a = values->get_array();
        hp[Str(r.if_object(), "Name").value_or("")] =
            a[std::uniform_int_distribution<std::size_t>(0, a.size() - 1)(rng)];
      }
    }
    return hp;
  };
  std::vector<json::object> candidates;
  for (std::int64_t i = 0; i < max_jobs; ++i) candidates.push_back(sample());

  struct Outcome {
    std::string job;
    json::object tuned;
    std::optional<double> value;
    json::value describe;
    bool ok = false;
  };
  std::vector<Outcome> outcomes(candidates.size());
  auto train_one = [&](std::size_t i) {
    json::object request = *definition;
    json::object hyper;
    if (const json::object* s = Obj(definition, "StaticHyperParameters")) hyper = *s;
    for (const auto& [k, v] : candidates[i]) hyper[k] = v;
    request.erase("StaticHyperParameters");
    request["HyperParameters"] = hyper;
    Outcome& o = outcomes[i];
    o.job = fmt::format("{}-{:03}-{:08x}", name->substr(0, 14), i + 1,
                        static_cast<std::uint32_t>(std::hash<std::string>{}(*name + std::to_string(i))));
    o.tuned = candidates[i];
    request["TrainingJobName"] = o.job;
    runtime::TaskResult r = Train(request, true, task);
    o.ok = r.ok();
    if (r.ok()) {
      o.describe = *r.output;
      if (const json::value* list = o.describe.as_object().if_contains("FinalMetricDataList")) {
        for (const auto& m : list->get_array()) {
          if (m.at("MetricName").as_string() == *metric) o.value = m.at("Value").to_number<double>();
        }
      }
    }
  };
  // At most MaxParallelTrainingJobs at a time.
  for (std::size_t start = 0; start < candidates.size(); start += static_cast<std::size_t>(max_parallel)) {
    std::vector<std::future<void>> running;
    for (std::size_t i = start; i < std::min(candidates.size(), start + static_cast<std::size_t>(max_parallel)); ++i) {
      running.push_back(std::async(std::launch::async, train_one, i));
    }
    for (auto& f : running) f.get();
    if (task.cancelled && *task.cancelled) break;
  }
  bool maximize = *type == "Maximize";
  const Outcome* best = nullptr;
  json::object counters{{"Completed", 0}, {"InProgress", 0}, {"RetryableError", 0},
                        {"NonRetryableError", 0}, {"Stopped", 0}};
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
  for (const auto& o : outcomes) {
    counters[o.ok ? "Completed" : "NonRetryableError"] =
        counters[o.ok ? "Completed" : "NonRetryableError"].as_int64() + 1;
    if (o.ok && o.value) ++succeeded;
    if (!o.ok || !o.value) ++failed;
    if (!o.ok || !o.value) continue;
    if (best == nullptr || (maximize ? *o.value > *best->value : *o.value < *best->value)) best = &o;
  }
  json::object describe{
      {"HyperParameterTuningJobName", *name},
      {"HyperParameterTuningJobArn", fmt::format("arn:aws:sagemaker:{}:{}:hyper-parameter-tuning-job/{}",
                                                 region_, account_, *name)},
      {"HyperParameterTuningJobConfig", *config},
      {"TrainingJobDefinition", *definition},
      {"CreationTime", Now()},
      {"HyperParameterTuningEndTime", Now()},
      {"TrainingJobStatusCounters", counters},
      {"ObjectiveStatusCounters", json::object{{"Succeeded", succeeded}, {"Pending", 0}, {"Failed", failed}}}};
  if (best == nullptr) {
    describe["HyperParameterTuningJobStatus"] = "Failed";
    describe["FailureReason"] = fmt::format(
        "No training job reported the objective metric {} (check the MetricDefinitions regex)",
        *metric);
    return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                        ToJsonText(json::value(describe)));
  }
  describe["HyperParameterTuningJobStatus"] = "Completed";
  const json::object& b = best->describe.as_object();
  describe["BestTrainingJob"] = json::object{
      {"TrainingJobName", best->job},
      {"TrainingJobArn", b.at("TrainingJobArn")},
      {"CreationTime", b.at("CreationTime")},
      {"TrainingStartTime", b.at("TrainingStartTime")},
      {"TrainingEndTime", b.at("TrainingEndTime")},
      {"TrainingJobStatus", "Completed"},
      {"TunedHyperParameters", best->tuned},
      {"FinalHyperParameterTuningJobObjectiveMetric",
       json::object{{"Type", *type}, {"MetricName", *metric}, {"Value", *best->value}}},
      {"ObjectiveStatus", "Succeeded"}};
  if (!sync) {
    return runtime::TaskResult::Success(json::object{{"HyperParameterTuningJobArn", describe["HyperParameterTuningJobArn"]}});
  }
  return runtime::TaskResult::Success(std::move(describe));
}

}  // namespace zflow::integrations
