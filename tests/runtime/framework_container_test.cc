// SageMaker framework containers on this machine: a script written for AWS's scikit-learn
// container, shipped as the SageMaker SDK ships it (sagemaker_program and
// sagemaker_submit_directory), trains unchanged and its model serves through its model_fn.
#include "integrations/framework_container.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/file.h"
#include "common/subprocess.h"
#include "integrations/object_store.h"
#include "integrations/profile.h"
#include "integrations/sagemaker.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

// Written as a user of the scikit-learn container writes it: argparse over the user's own
// hyperparameters only, SM_* defaults, the model saved with joblib, model_fn for serving.
constexpr std::string_view kTreeScript = R"py(
import argparse
import os

import joblib
import pandas as pd
from sklearn.tree import DecisionTreeClassifier


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_leaf_nodes", type=int, default=-1)
    parser.add_argument("--criterion", type=str, default="gini")
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", type=str, default=os.environ["SM_CHANNEL_TRAIN"])
    args = parser.parse_args()
    frames = [pd.read_csv(os.path.join(args.train, f), header=None) for f in os.listdir(args.train)]
    data = pd.concat(frames)
    labels, features = data.iloc[:, 0], data.iloc[:, 1:]
    model = DecisionTreeClassifier(max_leaf_nodes=args.max_leaf_nodes, criterion=args.criterion)
    model.fit(features, labels)
    print("leaves: %d, criterion %s" % (model.get_n_leaves(), args.criterion))
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
)py";

class FrameworkTest : public ::testing::Test {
 protected:
  FrameworkTest()
      : dir_(fs::temp_directory_path() / ("zflow-framework-" + std::to_string(::getpid()))),
        store_((dir_ / "s3").string()) {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "source");
    std::ofstream(dir_ / "source" / "tree.py") << kTreeScript;
    std::ofstream(dir_ / "source" / "broken.py") << "import numpy\nraise ValueError('column 3 has NaN')\n";
    std::ofstream(dir_ / "source" / "nomodel.py")
        << "def model_fn(model_dir):\n    raise IOError('no model.joblib in ' + model_dir)\n";
    Pack(dir_ / "source", "code", "sourcedir.tar.gz");
    EXPECT_TRUE(store_.Put("code", "not-a-tarball.tar.gz", "plain text").ok());
    std::string rows;
    for (int i = 0; i < 40; ++i) {
      double x = (i % 10) / 10.0;
      rows += fmt::format("{},{},{}\n", x > 0.45 ? 1 : 0, x, 1 - x);
    }
    EXPECT_TRUE(store_.Put("data", "train/part-0.csv", rows).ok());
    work_ = (dir_ / "work").string();
    handler_ = std::make_shared<SageMakerHandler>(
        std::map<std::string, ImageSpec>{{"sklearn:1.2-1", {.framework = "scikit-learn"}}},
        &store_, work_);
    for (const char* a : {"createTrainingJob.sync", "createModel", "createEndpointConfig",
                          "createEndpoint", "createTransformJob.sync"}) {
      registry_.Register(fmt::format("arn:aws:states:::sagemaker:{}", a), handler_);
    }
  }
  ~FrameworkTest() override {
    auto endpoints = ListEndpoints(work_);
    if (endpoints.ok()) {
      for (const auto& e : *endpoints) (void)DeleteEndpoint(work_, e.name);
    }
    fs::remove_all(dir_);
  }

  void Pack(const fs::path& from, const std::string& bucket, const std::string& key) {
    auto tar = RunProcess({"tar", "-czf", (dir_ / "pack.tar.gz").string(), "-C", from.string(), "."});
    ASSERT_TRUE(tar.ok() && tar->exit_code == 0);
    auto bytes = ReadFileCapped((dir_ / "pack.tar.gz").string(), 1 << 20);
    ASSERT_TRUE(store_.Put(bucket, key, bytes->data).ok());
  }

  runtime::ExecutionResult Call(std::string_view resource, const std::string& parameters) {
    auto machine = asl::ParseStateMachine(fmt::format(
        R"({{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{}",
            "Parameters": {}, "End": true}}}}}})",
        resource, parameters));
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    runtime::Engine engine({.integrations = &registry_, .object_store = &store_});
    auto r = engine.Run(*machine, {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  }

  // The hyperparameters as the SageMaker SDK sends them: every value JSON-encoded.
  runtime::ExecutionResult Train(const std::string& job, const std::string& program,
                                 const std::string& source) {
    return Call("arn:aws:states:::sagemaker:createTrainingJob.sync", fmt::format(R"j({{
      "TrainingJobName": "{}", "RoleArn": "arn:aws:iam::123456789012:role/sm",
      "AlgorithmSpecification": {{"TrainingImage": "sklearn:1.2-1", "TrainingInputMode": "File"}},
      "HyperParameters": {{"max_leaf_nodes": "4", "criterion": "\"entropy\"",
        "sagemaker_program": "\"{}\"", "sagemaker_submit_directory": "\"{}\"",
        "sagemaker_container_log_level": "20", "sagemaker_region": "\"us-east-1\""}},
      "InputDataConfig": [{{"ChannelName": "train", "DataSource": {{"S3DataSource": {{
        "S3DataType": "S3Prefix", "S3Uri": "s3://data/train/"}}}}}}],
      "OutputDataConfig": {{"S3OutputPath": "s3://models/"}},
      "ResourceConfig": {{"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5}},
      "StoppingCondition": {{"MaxRuntimeInSeconds": 120}}}})j",
                                                             job, program, source));
  }

  // A model of the trained job with the SDK's environment, behind an endpoint.
  runtime::ExecutionResult Deploy(const std::string& endpoint, const std::string& model_data,
                                  const std::string& program) {
    auto r = Call("arn:aws:states:::sagemaker:createModel", fmt::format(R"({{
      "ModelName": "{0}", "ExecutionRoleArn": "arn:aws:iam::123456789012:role/sm",
      "PrimaryContainer": {{"Image": "sklearn:1.2-1", "ModelDataUrl": "{1}",
        "Environment": {{"SAGEMAKER_PROGRAM": "{2}",
          "SAGEMAKER_SUBMIT_DIRECTORY": "s3://code/sourcedir.tar.gz",
          "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": "us-east-1"}}}}}})",
                                                                        endpoint, model_data, program));
    EXPECT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.cause;
    r = Call("arn:aws:states:::sagemaker:createEndpointConfig", fmt::format(R"({{
      "EndpointConfigName": "{0}", "ProductionVariants": [{{"VariantName": "AllTraffic",
        "ModelName": "{0}", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}}]}})",
                                                                                 endpoint));
    EXPECT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.cause;
    return Call("arn:aws:states:::sagemaker:createEndpoint",
                fmt::format(R"({{"EndpointName": "{0}", "EndpointConfigName": "{0}"}})", endpoint));
  }

  fs::path dir_;
  LocalObjectStore store_;
  std::string work_;
  std::shared_ptr<SageMakerHandler> handler_;
  runtime::IntegrationRegistry registry_;
};

TEST(FrameworkProfile, NamesAFrameworkAloneAndOneZflowKnows) {
  auto p = ParseProfile("sagemaker:\n  images:\n    sk:1: {framework: scikit-learn}\n", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->images.at("sk:1").framework, "scikit-learn");
  auto unknown = ParseProfile("sagemaker:\n  images:\n    sk:1: {framework: sklearn}\n", "p.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("is not one of scikit-learn, xgboost"),
            std::string::npos)
      << unknown.status().message();
  auto both = ParseProfile(
      "sagemaker:\n  images:\n    sk:1: {framework: xgboost, python: t.py}\n", "p.yaml");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("give framework alone"), std::string::npos);
}

TEST(DecodeSdkValue, DecodesJsonStringsAndLeavesTheRest) {
  EXPECT_EQ(DecodeSdkValue("\"train.py\""), "train.py");
  EXPECT_EQ(DecodeSdkValue("\"s3://b/k\""), "s3://b/k");
  EXPECT_EQ(DecodeSdkValue("100"), "100");
  EXPECT_EQ(DecodeSdkValue("train.py"), "train.py");
  EXPECT_EQ(DecodeSdkValue("\"unterminated"), "\"unterminated");
}

TEST_F(FrameworkTest, AnUnchangedScikitLearnScriptTrainsAndServesThroughItsModelFn) {
  auto r = Train("tree-1", "tree.py", "s3://code/sourcedir.tar.gz");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  // The user's hyperparameters reached the script decoded; sagemaker_* did not (argparse would
  // have refused them).
  auto log = ReadFileCapped(work_ + "/training-jobs/tree-1/output/log.txt", 1 << 20);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->data.find("leaves: 2, criterion entropy"), std::string::npos) << log->data;
  const std::string model = std::string(r.output.at("ModelArtifacts").at("S3ModelArtifacts").as_string());
  EXPECT_EQ(model, "s3://models/tree-1/output/model.tar.gz");

  r = Deploy("tree", model, "tree.py");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  // The container's default input_fn (CSV), predict_fn (model.predict) and output_fn (JSON).
  auto answer = InvokeEndpoint(work_, "tree", "0.9,0.1\n0.1,0.9\n", "text/csv");
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(*answer, "[1, 0]");
  auto bad = InvokeEndpoint(work_, "tree", "not,numbers,at all\n", "application/json");
  EXPECT_FALSE(bad.ok());

  // Batch transform through the same script, CSV out.
  r = Call("arn:aws:states:::sagemaker:createTransformJob.sync", R"({
    "TransformJobName": "score-1", "ModelName": "tree",
    "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
      "S3Uri": "s3://data/score/"}}, "ContentType": "text/csv", "SplitType": "Line"},
    "TransformOutput": {"S3OutputPath": "s3://data/scored/", "Accept": "text/csv",
      "AssembleWith": "Line"},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1}})");
  EXPECT_EQ(r.status, runtime::ExecutionStatus::kFailed) << "nothing to score yet";
  ASSERT_TRUE(store_.Put("data", "score/rows.csv", "0.8,0.2\n0.2,0.8\n0.7,0.3\n").ok());
  r = Call("arn:aws:states:::sagemaker:createTransformJob.sync", R"({
    "TransformJobName": "score-2", "ModelName": "tree",
    "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
      "S3Uri": "s3://data/score/"}}, "ContentType": "text/csv", "SplitType": "Line"},
    "TransformOutput": {"S3OutputPath": "s3://data/scored/", "Accept": "text/csv",
      "AssembleWith": "Line"},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1}})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  auto scored = store_.Get("data", "scored/rows.csv.out");
  ASSERT_TRUE(scored.ok());
  EXPECT_EQ(*scored, "1\n0\n1\n");
}

TEST_F(FrameworkTest, BadCodeAndMissingSourcesFailWithTheReasonSageMakerGives) {
  auto missing = Train("no-source", "tree.py", "s3://code/none.tar.gz");
  ASSERT_EQ(missing.status, runtime::ExecutionStatus::kFailed);
  EXPECT_NE(missing.cause.find("ClientError: sagemaker_submit_directory s3://code/none.tar.gz"),
            std::string::npos)
      << missing.cause;
  auto not_tar = Train("not-tar", "tree.py", "s3://code/not-a-tarball.tar.gz");
  EXPECT_NE(not_tar.cause.find("is not a gzipped tar archive"), std::string::npos) << not_tar.cause;
  auto no_program = Train("no-program", "absent.py", "s3://code/sourcedir.tar.gz");
  EXPECT_NE(no_program.cause.find("the entry script absent.py is not in the source directory"),
            std::string::npos)
      << no_program.cause;
  // A script that raises: the exception's line ends FailureReason, as SageMaker reports it.
  auto broken = Train("broken", "broken.py", "s3://code/sourcedir.tar.gz");
  ASSERT_EQ(broken.status, runtime::ExecutionStatus::kFailed);
  EXPECT_NE(broken.cause.find("AlgorithmError: ExecuteUserScriptError:"), std::string::npos)
      << broken.cause;
  EXPECT_NE(broken.cause.find("ValueError: column 3 has NaN"), std::string::npos) << broken.cause;

  // A model_fn that raises: the endpoint fails with the script's error, no process is left.
  auto trained = Train("tree-2", "tree.py", "s3://code/sourcedir.tar.gz");
  ASSERT_EQ(trained.status, runtime::ExecutionStatus::kSucceeded) << trained.cause;
  registry_.Register("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", handler_);
  auto r = Deploy("nomodel", "s3://models/tree-2/output/model.tar.gz", "nomodel.py");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << "CreateEndpoint returns at once";
  r = Call("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", R"({"EndpointName": "nomodel"})");
  EXPECT_EQ(r.output.at("EndpointStatus"), "Failed");
  EXPECT_NE(std::string(r.output.at("FailureReason").as_string()).find("no model.joblib in"),
            std::string::npos)
      << ToJsonText(r.output);
  // A model without SAGEMAKER_PROGRAM cannot be served by a framework container.
  r = Call("arn:aws:states:::sagemaker:createModel", R"({
      "ModelName": "noprogram", "ExecutionRoleArn": "arn:aws:iam::123456789012:role/sm",
      "PrimaryContainer": {"Image": "sklearn:1.2-1",
        "ModelDataUrl": "s3://models/tree-2/output/model.tar.gz"}})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.cause;
  r = Call("arn:aws:states:::sagemaker:createEndpointConfig", R"({
      "EndpointConfigName": "noprogram", "ProductionVariants": [{"VariantName": "AllTraffic",
        "ModelName": "noprogram", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.cause;
  Call("arn:aws:states:::sagemaker:createEndpoint",
       R"({"EndpointName": "noprogram", "EndpointConfigName": "noprogram"})");
  r = Call("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
           R"({"EndpointName": "noprogram"})");
  EXPECT_EQ(r.output.at("EndpointStatus"), "Failed");
  EXPECT_NE(std::string(r.output.at("FailureReason").as_string()).find("no SAGEMAKER_PROGRAM"),
            std::string::npos)
      << ToJsonText(r.output);
}

}  // namespace
}  // namespace zflow::integrations
