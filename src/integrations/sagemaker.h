// SageMaker training jobs run locally (arn:aws:states:::sagemaker:createTrainingJob[.sync]),
// following the training container contract with a local command standing in for the image.
//
// A job gets a directory <work_dir>/training-jobs/<name>/ laid out like /opt/ml in a container:
//   input/config/hyperparameters.json, resourceconfig.json, inputdataconfig.json
//   input/data/<channel>/...   (the channel's S3 prefix, copied from the object store)
//   model/                      (packed as model.tar.gz to <S3OutputPath>/<name>/output/)
//   output/failure              (its text becomes the FailureReason)
// and the script-mode environment (SM_MODEL_DIR, SM_CHANNELS, SM_CHANNEL_<NAME>, SM_HPS,
// SM_HP_<NAME>, SM_INPUT_DIR, SM_INPUT_CONFIG_DIR, SM_OUTPUT_DIR, SM_OUTPUT_DATA_DIR,
// SM_HOSTS, SM_CURRENT_HOST, SM_NUM_CPUS, SM_NUM_GPUS, SM_TRAINING_ENV); a Python script also gets
// the hyperparameters as --name value arguments, as script mode passes them.
// StoppingCondition.MaxRuntimeInSeconds is enforced (the process group is killed; the job ends
// Stopped / MaxRuntimeExceeded); MetricDefinitions regexes are applied to the job's output to
// report FinalMetricDataList. The result is the DescribeTrainingJob response; with .sync a job
// that does not complete fails the task with States.TaskFailed and that response as the cause.
#ifndef ZFLOW_INTEGRATIONS_SAGEMAKER_H_
#define ZFLOW_INTEGRATIONS_SAGEMAKER_H_

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "zflow/runtime.h"

namespace zflow::integrations {

// What stands in for a container image: a training command, or a Python script run in script
// mode; and a serving command (or Python script) that answers GET /ping and POST /invocations
// on 127.0.0.1:$SAGEMAKER_BIND_TO_PORT with the model in $SM_MODEL_DIR.
// Or, with `framework` (scikit-learn, xgboost, pytorch, tensorflow), one of AWS's framework
// containers: the user's script comes with the job or the model (framework_container.h).
struct ImageSpec {
  std::vector<std::string> command;
  std::string python_file;
  std::vector<std::string> serve_command;
  std::string serve_python;
  std::string framework;
};

class SageMakerHandler final : public runtime::TaskHandler {
 public:
  SageMakerHandler(std::map<std::string, ImageSpec> images, runtime::ObjectStore* store,
                   std::string work_dir, std::string region = "us-east-1",
                   std::string account = "123456789012")
      : images_(std::move(images)), store_(store), work_dir_(std::move(work_dir)),
        region_(std::move(region)), account_(std::move(account)) {}
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override;

 private:
  runtime::TaskResult Run(const runtime::TaskRequest& r);
  runtime::TaskResult Train(const json::object& request, bool sync,
                            const runtime::TaskRequest& task);
  // Hosting (sagemaker_hosting.cc): models, endpoint configs, endpoints and batch transform.
  runtime::TaskResult CreateModel(const json::object& request);
  runtime::TaskResult CreateEndpointConfig(const json::object& request);
  runtime::TaskResult CreateOrUpdateEndpoint(const json::object& request, bool update);
  runtime::TaskResult DescribeEndpoint(const json::object& request);
  // aws-sdk:sagemaker:describeTrainingJob: what createTrainingJob.sync returned for the job.
  runtime::TaskResult DescribeTrainingJob(const json::object& request);
  runtime::TaskResult Transform(const json::object& request, bool sync);
  // sagemaker_jobs.cc: processing jobs (inputs copied to their LocalPath, outputs uploaded at the
  // end, /opt/ml/... in arguments mapped into the job's directory) and tuning (training jobs at
  // most MaxParallelTrainingJobs at a time over hyperparameters sampled from the ranges with a
  // fixed seed; the best by the objective metric).
  runtime::TaskResult Process(const json::object& request, bool sync,
                              const runtime::TaskRequest& task);
  runtime::TaskResult Tune(const json::object& request, bool sync,
                           const runtime::TaskRequest& task);
  std::map<std::string, ImageSpec> images_;
  runtime::ObjectStore* store_;
  std::string work_dir_;
  std::string region_;
  std::string account_;
  std::mutex mu_;
  std::set<std::string> job_names_;  // names are unique per account and region; guarded
};

// Endpoints outlive the run that created them: their serving processes run in sessions of their
// own, and what exists is kept in <work_dir>/hosting.json (locked while changed), which the
// `zflow endpoints` commands read too.
struct EndpointInfo {
  std::string name;
  std::string config;
  std::string status;  // InService, Failed
  int port = 0;
  int pid = 0;
  std::string failure;
};
Result<std::vector<EndpointInfo>> ListEndpoints(const std::string& work_dir);
// Stops the endpoint's server and forgets it; kNotFound when there is none.
Status DeleteEndpoint(const std::string& work_dir, const std::string& name);
// POST /invocations of a running endpoint; the response body, or an error with its status.
Result<std::string> InvokeEndpoint(const std::string& work_dir, const std::string& name,
                                   const std::string& body, const std::string& content_type);

// The service's ValidationException as the integration reports it
// (SageMaker.AmazonSageMakerException): `message` with the service's suffix, or with the
// "1 validation error detected: " prefix too for a field that breaks the API's constraints.
runtime::TaskResult SageMakerError(std::string message);
runtime::TaskResult SageMakerValidationError(std::string detail);

// s3://bucket/key -> (bucket, key); nullopt when not an s3:// URI with a bucket.
std::optional<std::pair<std::string, std::string>> SplitS3Uri(std::string_view uri);

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_SAGEMAKER_H_
