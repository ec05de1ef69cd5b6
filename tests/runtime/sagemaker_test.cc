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
    EXPECT_TRUE(store_.Put("data", "fraud/train/part-0.csv", "a,b\n1,2\n3,4\n").ok());
    std::map<std::string, ImageSpec> images;
    images["fraud-gbm:1"] = {.python_file = (dir_ / "train.py").string()};
    handler_ = std::make_shared<SageMakerHandler>(images, &store_, (dir_ / "work").string());
    registry_.Register("arn:aws:states:::sagemaker:createTrainingJob.sync", handler_);
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

}  // namespace
}  // namespace zflow::integrations
