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

// What stands in for a container image: a command, or a Python script run in script mode.
struct ImageSpec {
  std::vector<std::string> command;
  std::string python_file;
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
  runtime::TaskResult Train(const json::object& request, bool sync,
                            const runtime::TaskRequest& task);
  std::map<std::string, ImageSpec> images_;
  runtime::ObjectStore* store_;
  std::string work_dir_;
  std::string region_;
  std::string account_;
  std::mutex mu_;
  std::set<std::string> job_names_;  // names are unique per account and region; guarded
};

// s3://bucket/key -> (bucket, key); nullopt when not an s3:// URI with a bucket.
std::optional<std::pair<std::string, std::string>> SplitS3Uri(std::string_view uri);

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_SAGEMAKER_H_
