// SageMaker training jobs on this machine: the container contract, the model artifact, metrics,
// failures, validation, and MaxRuntimeInSeconds killing the process tree.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/file.h"
#include "common/subprocess.h"
#include "integrations/object_store.h"
#include "integrations/sagemaker.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

class SageMakerTest : public ::testing::Test {
 protected:
  SageMakerTest()
      : dir_(fs::temp_directory_path() / ("zflow-sm-" + std::to_string(::getpid()))),
        store_((dir_ / "s3").string()) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "train.py") << R"py(
import argparse, json, os, sys, time
p = argparse.ArgumentParser()
p.add_argument("--max_depth", type=int)
p.add_argument("--mode", default="ok")
args = p.parse_args()
train = os.environ["SM_CHANNEL_TRAIN"]
rows = open(os.path.join(train, "part-0.csv")).read().splitlines()
hps = json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json")))
if args.mode == "fail":
    open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write("bad data: NaN in column 3\n")
    sys.exit(2)
if args.mode == "slow":
    open(os.path.join(os.environ["SM_OUTPUT_DIR"], "pid"), "w").write(str(os.getpid()))
    time.sleep(30)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"rows": len(rows), "depth": args.max_depth, "hps": hps}, f)
print("epoch 1 validation auc: 0.81")
print("epoch 2 validation auc: 0.91", file=sys.stderr)
)py";
    std::ofstream(dir_ / "tune.py") << R"py(
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--kind", default="a")
a = p.parse_args()
open(os.path.join(os.environ["SM_MODEL_DIR"], "x.txt"), "w").write(str(a.x))
print("score: %.6f" % (-(a.x - 0.3) ** 2 + (0.01 if a.kind == "b" else 0)))
)py";
    std::ofstream(dir_ / "process.py") << R"py(
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--input")
p.add_argument("--output")
a = p.parse_args()
rows = sum(len(open(os.path.join(a.input, f)).read().splitlines()) for f in os.listdir(a.input))
os.makedirs(os.path.join(a.output, "stats"), exist_ok=True)
open(os.path.join(a.output, "stats", "rows.txt"), "w").write(str(rows))
)py";
    EXPECT_TRUE(store_.Put("data", "fraud/train/part-0.csv", "a,b\n1,2\n3,4\n").ok());
    std::map<std::string, ImageSpec> images;
    images["fraud-gbm:1"] = {.python_file = (dir_ / "train.py").string()};
    images["tune:1"] = {.python_file = (dir_ / "tune.py").string()};
    images["process:1"] = {.python_file = (dir_ / "process.py").string()};
    handler_ = std::make_shared<SageMakerHandler>(images, &store_, (dir_ / "work").string());
    registry_.Register("arn:aws:states:::sagemaker:createTrainingJob.sync", handler_);
    registry_.Register("arn:aws:states:::sagemaker:createProcessingJob.sync", handler_);
    registry_.Register("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", handler_);
  }
  ~SageMakerTest() override { fs::remove_all(dir_); }

  runtime::ExecutionResult Train(std::string_view name, std::string_view hyper,
                                 std::string_view extra = "") {
    std::string def = fmt::format(R"j({{"StartAt": "T", "States": {{"T": {{"Type": "Task",
      "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
      "Parameters": {{"TrainingJobName": "{}", "RoleArn": "arn:aws:iam::123456789012:role/sm",
        "AlgorithmSpecification": {{"TrainingImage": "fraud-gbm:1", "TrainingInputMode": "File",
          "MetricDefinitions": [{{"Name": "validation:auc", "Regex": "validation auc: ([0-9.]+)"}}]}},
        "HyperParameters": {},
        "InputDataConfig": [{{"ChannelName": "train", "DataSource": {{"S3DataSource": {{
          "S3DataType": "S3Prefix", "S3Uri": "s3://data/fraud/train/"}}}}}}],
        "OutputDataConfig": {{"S3OutputPath": "s3://data/models/"}},
        "ResourceConfig": {{"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10}},
        "StoppingCondition": {{"MaxRuntimeInSeconds": 60}} {}}}, "End": true}}}}}})j",
                                  name, hyper, extra);
    auto machine = asl::ParseStateMachine(def);
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    runtime::Engine engine({.integrations = &registry_, .object_store = &store_});
    auto r = engine.Run(*machine, {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  }

  fs::path dir_;
  LocalObjectStore store_;
  std::shared_ptr<SageMakerHandler> handler_;
  runtime::IntegrationRegistry registry_;
};

TEST_F(SageMakerTest, TrainsWithTheContainerContractAndStoresTheModel) {
  auto r = Train("job-1", R"({"max_depth": "6"})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("TrainingJobStatus"), "Completed");
  EXPECT_EQ(r.output.at("ModelArtifacts").at("S3ModelArtifacts"),
            "s3://data/models/job-1/output/model.tar.gz");
  // The last value the metric regex matched, from stdout or stderr.
  EXPECT_EQ(r.output.at("FinalMetricDataList").at(0).at("MetricName"), "validation:auc");
  EXPECT_EQ(r.output.at("FinalMetricDataList").at(0).at("Value"), 0.91);
  // model.tar.gz holds what the script wrote to SM_MODEL_DIR.
  auto tarball = store_.Get("data", "models/job-1/output/model.tar.gz");
  ASSERT_TRUE(tarball.ok()) << tarball.status().ToString();
  fs::path extracted = dir_ / "extracted";
  fs::create_directories(extracted);
  ASSERT_TRUE(WriteFileAtomically((dir_ / "m.tar.gz").string(), *tarball).ok());
  auto tar = RunProcess({"tar", "-xzf", (dir_ / "m.tar.gz").string(), "-C", extracted.string()});
  ASSERT_TRUE(tar.ok() && tar->exit_code == 0);
  auto model = ReadFileCapped((extracted / "model.json").string(), 1 << 20);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(Json(model->data), Json(R"({"rows": 3, "depth": 6, "hps": {"max_depth": "6"}})"));
  // The job directory's configuration files.
  auto resource = ReadFileCapped((dir_ / "work/training-jobs/job-1/input/config/resourceconfig.json").string(), 1 << 20);
  ASSERT_TRUE(resource.ok());
  EXPECT_EQ(Json(resource->data).at("current_host"), "algo-1");
}

TEST_F(SageMakerTest, DescribeTrainingJobAnswersWhatTheSyncTaskReturned) {
  auto trained = Train("job-d", R"({"max_depth": "4"})");
  ASSERT_EQ(trained.status, runtime::ExecutionStatus::kSucceeded) << trained.cause;
  registry_.Register("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob", handler_);
  auto describe = [&](std::string_view job) {
    auto machine = asl::ParseStateMachine(fmt::format(
        R"j({{"StartAt": "D", "States": {{"D": {{"Type": "Task",
          "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob",
          "Parameters": {{"TrainingJobName": "{}"}}, "End": true}}}}}})j",
        job));
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    runtime::Engine engine({.integrations = &registry_, .object_store = &store_});
    auto r = engine.Run(*machine, {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  };
  auto r = describe("job-d");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, trained.output);
  EXPECT_EQ(r.output.at("FinalMetricDataList").at(0).at("Value"), 0.91);
  EXPECT_EQ(r.output.at("HyperParameters").at("max_depth"), "4");
  auto missing = describe("no-such-job");
  EXPECT_EQ(missing.error, "SageMaker.ResourceNotFoundException");
  EXPECT_NE(missing.cause.find("Requested resource not found"), std::string::npos);
}

TEST_F(SageMakerTest, FailureFileBecomesTheFailureReason) {
  auto r = Train("job-2", R"({"mode": "fail"})");
  EXPECT_EQ(r.status, runtime::ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.TaskFailed");
  json::value describe = Json(r.cause);
  EXPECT_EQ(describe.at("TrainingJobStatus"), "Failed");
  EXPECT_EQ(describe.at("FailureReason"), "AlgorithmError: bad data: NaN in column 3");
}

TEST_F(SageMakerTest, RequestsTheServiceWouldRejectAreRejected) {
  auto r = Train("job-3", R"({"max_depth": 6})");
  EXPECT_EQ(r.error, "SageMaker.AmazonSageMakerException");
  EXPECT_NE(r.cause.find("hyperParameters.max_depth"), std::string::npos) << r.cause;
  r = Train("bad_name", "{}");
  EXPECT_EQ(r.error, "SageMaker.AmazonSageMakerException");
  EXPECT_NE(r.cause.find("trainingJobName"), std::string::npos) << r.cause;
  std::string def = R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
      "Parameters": {"TrainingJobName": "job-dots", "RoleArn": "arn:aws:iam::123456789012:role/sm",
        "AlgorithmSpecification": {"TrainingImage": "fraud-gbm:1", "TrainingInputMode": "File"},
        "InputDataConfig": [{"ChannelName": "..", "DataSource": {"S3DataSource": {
          "S3DataType": "S3Prefix", "S3Uri": "s3://data/fraud/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://data/models"}}, "End": true}}})";
  auto machine = asl::ParseStateMachine(def);
  ASSERT_TRUE(machine.ok());
  runtime::Engine engine({.integrations = &registry_, .object_store = &store_});
  auto dots = engine.Run(*machine, {});
  ASSERT_TRUE(dots.ok());
  EXPECT_EQ(dots->error, "SageMaker.AmazonSageMakerException");
  EXPECT_NE(dots->cause.find("channelName"), std::string::npos) << dots->cause;
  ASSERT_EQ(Train("job-4", "{}").status, runtime::ExecutionStatus::kSucceeded);
  r = Train("job-4", "{}");
  EXPECT_EQ(r.error, "SageMaker.ResourceInUseException");
}

TEST_F(SageMakerTest, MaxRuntimeStopsTheJobAndKillsItsProcesses) {
  // The script sleeps 30 s; the job may run 1 s.
  std::string def = R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
      "Parameters": {"TrainingJobName": "job-6", "RoleArn": "arn:aws:iam::123456789012:role/sm",
        "AlgorithmSpecification": {"TrainingImage": "fraud-gbm:1", "TrainingInputMode": "File"},
        "HyperParameters": {"mode": "slow"},
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
          "S3DataType": "S3Prefix", "S3Uri": "s3://data/fraud/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://data/models"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1}}, "End": true}}})";
  auto machine = asl::ParseStateMachine(def);
  ASSERT_TRUE(machine.ok());
  runtime::Engine engine({.integrations = &registry_, .object_store = &store_});
  auto run = engine.Run(*machine, {});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->error, "States.TaskFailed");
  json::value describe = Json(run->cause);
  EXPECT_EQ(describe.at("TrainingJobStatus"), "Stopped");
  EXPECT_EQ(describe.at("SecondaryStatus"), "MaxRuntimeExceeded");
  auto pid = ReadFileCapped((dir_ / "work/training-jobs/job-6/output/pid").string(), 64);
  ASSERT_TRUE(pid.ok());
  EXPECT_NE(::kill(std::stoi(pid->data), 0), 0) << "the training process outlived the job";
}

TEST_F(SageMakerTest, MissingChannelDataFailsNamingTheChannel) {
  fs::remove_all(dir_ / "s3/data/fraud");
  auto r = Train("job-7", "{}");
  EXPECT_EQ(r.error, "States.TaskFailed");
  EXPECT_NE(r.cause.find("ClientError: channel \\\"train\\\""), std::string::npos) << r.cause;
}

runtime::ExecutionResult RunTask(runtime::IntegrationRegistry& registry, LocalObjectStore& store,
                                 std::string_view resource, std::string_view parameters) {
  auto machine = asl::ParseStateMachine(fmt::format(
      R"({{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{}",
          "Parameters": {}, "End": true}}}}}})",
      resource, parameters));
  EXPECT_TRUE(machine.ok()) << machine.status().ToString();
  runtime::Engine engine({.integrations = &registry, .object_store = &store});
  auto r = engine.Run(*machine, {});
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
}

TEST_F(SageMakerTest, ProcessingJobCopiesInputsRunsAndUploadsOutputs) {
  auto r = RunTask(registry_, store_, "arn:aws:states:::sagemaker:createProcessingJob.sync", R"({
      "ProcessingJobName": "prep-1", "RoleArn": "arn:aws:iam::123456789012:role/sm",
      "AppSpecification": {"ImageUri": "process:1", "ContainerArguments": [
        "--input", "/opt/ml/processing/input/data", "--output", "/opt/ml/processing/output"]},
      "ProcessingInputs": [{"InputName": "data", "S3Input": {"S3Uri": "s3://data/fraud/train/",
        "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
      "ProcessingOutputConfig": {"Outputs": [{"OutputName": "stats", "S3Output": {
        "S3Uri": "s3://data/processed", "LocalPath": "/opt/ml/processing/output",
        "S3UploadMode": "EndOfJob"}}]},
      "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                "VolumeSizeInGB": 10}}})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("ProcessingJobStatus"), "Completed");
  EXPECT_EQ(*store_.Get("data", "processed/stats/rows.txt"), "3");
  // Paths that would leave the job's directory are refused.
  r = RunTask(registry_, store_, "arn:aws:states:::sagemaker:createProcessingJob.sync", R"({
      "ProcessingJobName": "prep-3", "RoleArn": "arn:aws:iam::123456789012:role/sm",
      "AppSpecification": {"ImageUri": "process:1"},
      "ProcessingInputs": [{"InputName": "d", "S3Input": {"S3Uri": "s3://data/fraud/train/",
        "LocalPath": "/opt/ml/processing/../../../../tmp/x"}}],
      "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1}}})");
  EXPECT_EQ(r.error, "SageMaker.AmazonSageMakerException");
  EXPECT_NE(r.cause.find("'..' segment"), std::string::npos) << r.cause;
  // An image with no local command is the service's validation error.
  r = RunTask(registry_, store_, "arn:aws:states:::sagemaker:createProcessingJob.sync", R"({
      "ProcessingJobName": "prep-2", "RoleArn": "arn:aws:iam::123456789012:role/sm",
      "AppSpecification": {"ImageUri": "unknown:1"},
      "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1}}})");
  EXPECT_EQ(r.error, "SageMaker.AmazonSageMakerException");
}

TEST_F(SageMakerTest, TuningRunsTrainingJobsInParallelAndPicksTheBest) {
  auto r = RunTask(registry_, store_,
                   "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", R"j({
      "HyperParameterTuningJobName": "tune-1",
      "HyperParameterTuningJobConfig": {"Strategy": "Random",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "score"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0",
                                                           "MaxValue": "1"}],
                            "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b"]}]}},
      "TrainingJobDefinition": {"RoleArn": "arn:aws:iam::123456789012:role/sm",
        "AlgorithmSpecification": {"TrainingImage": "tune:1", "TrainingInputMode": "File",
          "MetricDefinitions": [{"Name": "score", "Regex": "score: (-?[0-9.]+)"}]},
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
          "S3DataType": "S3Prefix", "S3Uri": "s3://data/fraud/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://data/tuning"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60}}})j");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("TrainingJobStatusCounters").at("Completed"), 6);
  const json::value& best = r.output.at("BestTrainingJob");
  double best_value = best.at("FinalHyperParameterTuningJobObjectiveMetric").at("Value").to_number<double>();
  // The best is the maximum over every job's logged score.
  int jobs = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "work/training-jobs")) {
    auto log = ReadFileCapped((entry.path() / "output/log.txt").string(), 1 << 20);
    ASSERT_TRUE(log.ok());
    double v = std::stod(log->data.substr(log->data.find("score: ") + 7));
    EXPECT_LE(v, best_value + 1e-9);
    ++jobs;
  }
  EXPECT_EQ(jobs, 6);
  std::string job(best.at("TrainingJobName").as_string());
  EXPECT_TRUE(store_.Get("data", "tuning/" + job + "/output/model.tar.gz").ok());
}

}  // namespace
}  // namespace zflow::integrations

namespace zflow::integrations {
namespace {

// A training job that finished before a crash kept its answer from being recorded: the resumed
// execution asks again with the same attempt, and gets the job's result back without a second
// run; a new attempt (another execution, or a retry) is a new request.
TEST_F(SageMakerTest, ATaskAttemptAskedAgainAfterACrashPicksUpTheFinishedJob) {
  const std::string request = R"j({"TrainingJobName": "picked-up",
      "RoleArn": "arn:aws:iam::123456789012:role/sm",
      "AlgorithmSpecification": {"TrainingImage": "fraud-gbm:1", "TrainingInputMode": "File"},
      "HyperParameters": {"max_depth": "4"},
      "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": "s3://data/fraud/train/"}}}],
      "OutputDataConfig": {"S3OutputPath": "s3://data/models/"},
      "StoppingCondition": {"MaxRuntimeInSeconds": 60}})j";
  runtime::TaskRequest task;
  task.resource = "arn:aws:states:::sagemaker:createTrainingJob.sync";
  task.input = Json(request);
  task.execution_arn = "arn:aws:states:us-east-1:123456789012:execution:m:e1";
  task.attempt_event = 7;
  runtime::TaskResult first = handler_->Invoke(task);
  ASSERT_TRUE(first.ok()) << first.cause;
  const fs::path model = dir_ / "s3" / "data" / "models" / "picked-up" / "output" / "model.tar.gz";
  ASSERT_TRUE(fs::exists(model));
  const auto written = fs::last_write_time(model);

  // A new process (the server restarted): the same attempt gets the recorded answer.
  std::map<std::string, ImageSpec> images;
  images["fraud-gbm:1"] = {.python_file = (dir_ / "train.py").string()};
  SageMakerHandler restarted(images, &store_, (dir_ / "work").string());
  runtime::TaskResult again = restarted.Invoke(task);
  ASSERT_TRUE(again.ok()) << again.cause;
  EXPECT_EQ(*again.output, *first.output);
  EXPECT_EQ(fs::last_write_time(model), written) << "the job ran a second time";

  // Another attempt with the same job name is a new job: in this process, a name in use.
  task.attempt_event = 12;
  runtime::TaskResult other = handler_->Invoke(task);
  EXPECT_FALSE(other.ok());
  EXPECT_EQ(other.error, "SageMaker.ResourceInUseException");
}

}  // namespace
}  // namespace zflow::integrations
