// SageMaker hosting on this machine: models, endpoint configs, endpoints served by local
// processes (created, updated without downtime, invoked, deleted) and batch transform.
#include <gtest/gtest.h>

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


class HostingTest : public ::testing::Test {
 protected:
  HostingTest()
      : dir_(fs::temp_directory_path() / ("zflow-host-" + std::to_string(::getpid()))),
        store_((dir_ / "s3").string()) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A model server: multiplies each CSV line by the model's factor.
    std::ofstream(dir_ / "serve.py") << R"py(
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer
factor = json.load(open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json")))["factor"]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404); self.end_headers()
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if "bad" in body:
            self.send_response(400); self.end_headers(); self.wfile.write(b"cannot parse"); return
        out = "\n".join(str(float(x) * factor) for x in body.splitlines() if x)
        self.send_response(200); self.send_header("Content-Type", "text/csv"); self.end_headers()
        self.wfile.write(out.encode())
HTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), H).serve_forever()
)py";
    std::ofstream(dir_ / "crash.py") << "raise SystemExit('cannot load the model: bad pickle')\n";
    Model("m1", 2);
    Model("m2", 3);
    std::map<std::string, ImageSpec> images;
    images["scorer:1"] = {.serve_python = (dir_ / "serve.py").string()};
    images["broken:1"] = {.serve_python = (dir_ / "crash.py").string()};
    work_ = (dir_ / "work").string();
    handler_ = std::make_shared<SageMakerHandler>(images, &store_, work_);
    for (const char* a : {"createModel", "createEndpointConfig", "createEndpoint",
                          "updateEndpoint", "createTransformJob.sync"}) {
      registry_.Register(fmt::format("arn:aws:states:::sagemaker:{}", a), handler_);
    }
    registry_.Register("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", handler_);
  }
  ~HostingTest() override {
    auto endpoints = ListEndpoints(work_);
    if (endpoints.ok()) {
      for (const auto& e : *endpoints) (void)DeleteEndpoint(work_, e.name);
    }
    fs::remove_all(dir_);
  }

  void Model(const std::string& name, int factor) {
    fs::path d = dir_ / ("model-" + name);
    fs::create_directories(d);
    std::ofstream(d / "model.json") << fmt::format(R"({{"factor": {}}})", factor);
    auto tar = RunProcess({"tar", "-czf", (dir_ / (name + ".tar.gz")).string(), "-C", d.string(), "."});
    ASSERT_TRUE(tar.ok() && tar->exit_code == 0);
    auto bytes = ReadFileCapped((dir_ / (name + ".tar.gz")).string(), 1 << 20);
    ASSERT_TRUE(store_.Put("models", name + "/model.tar.gz", bytes->data).ok());
  }

  runtime::ExecutionResult Call(std::string_view resource, std::string_view parameters) {
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

  void Deploy(const std::string& model, const std::string& image, const std::string& config) {
    auto r = Call("arn:aws:states:::sagemaker:createModel",
                  fmt::format(R"({{"ModelName": "{}", "ExecutionRoleArn": "arn:aws:iam::123456789012:role/x",
                    "PrimaryContainer": {{"Image": "{}", "ModelDataUrl": "s3://models/{}/model.tar.gz"}}}})",
                              model + "-" + config, image, model));
    ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
    r = Call("arn:aws:states:::sagemaker:createEndpointConfig",
             fmt::format(R"({{"EndpointConfigName": "{}", "ProductionVariants": [{{"VariantName":
               "AllTraffic", "ModelName": "{}", "InitialInstanceCount": 1,
               "InstanceType": "ml.m5.large"}}]}})",
                         config, model + "-" + config));
    ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  }

  fs::path dir_;
  std::string work_;
  LocalObjectStore store_;
  std::shared_ptr<SageMakerHandler> handler_;
  runtime::IntegrationRegistry registry_;
};

TEST_F(HostingTest, EndpointIsCreatedInvokedUpdatedWithoutDowntimeAndDeleted) {
  Deploy("m1", "scorer:1", "cfg-1");
  auto r = Call("arn:aws:states:::sagemaker:createEndpoint",
                R"({"EndpointName": "fraud", "EndpointConfigName": "cfg-1"})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  r = Call("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", R"({"EndpointName": "fraud"})");
  EXPECT_EQ(r.output.at("EndpointStatus"), "InService");
  auto answer = InvokeEndpoint(work_, "fraud", "1\n2.5\n", "text/csv");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(*answer, "2.0\n5.0");
  int old_pid = (*ListEndpoints(work_))[0].pid;
  // Update to a new model: the new server answers before the old one stops.
  Deploy("m2", "scorer:1", "cfg-2");
  r = Call("arn:aws:states:::sagemaker:updateEndpoint",
           R"({"EndpointName": "fraud", "EndpointConfigName": "cfg-2"})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(*InvokeEndpoint(work_, "fraud", "2\n", "text/csv"), "6.0");
  EXPECT_FALSE(ProcessAlive(old_pid));
  // Errors as the service reports them.
  r = Call("arn:aws:states:::sagemaker:createEndpoint",
           R"({"EndpointName": "fraud", "EndpointConfigName": "cfg-1"})");
  EXPECT_EQ(r.error, "SageMaker.AmazonSageMakerException");
  EXPECT_NE(r.cause.find("Cannot create already existing endpoint"), std::string::npos);
  EXPECT_FALSE(InvokeEndpoint(work_, "fraud", "bad\n", "text/csv").ok());
  int pid = (*ListEndpoints(work_))[0].pid;
  ASSERT_TRUE(DeleteEndpoint(work_, "fraud").ok());
  EXPECT_FALSE(ProcessAlive(pid));
  r = Call("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", R"({"EndpointName": "fraud"})");
  EXPECT_EQ(r.status, runtime::ExecutionStatus::kFailed);
}

TEST_F(HostingTest, AServerThatCrashesLeavesAFailedEndpointWithTheReason) {
  Deploy("m1", "broken:1", "cfg-b");
  auto r = Call("arn:aws:states:::sagemaker:createEndpoint",
                R"({"EndpointName": "broken", "EndpointConfigName": "cfg-b"})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  r = Call("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", R"({"EndpointName": "broken"})");
  EXPECT_EQ(r.output.at("EndpointStatus"), "Failed");
  EXPECT_NE(std::string(r.output.at("FailureReason").as_string()).find("bad pickle"),
            std::string::npos);
  r = Call("arn:aws:states:::sagemaker:createEndpointConfig",
           R"({"EndpointConfigName": "cfg-x", "ProductionVariants": [{"VariantName": "A",
              "ModelName": "nope"}]})");
  EXPECT_NE(r.cause.find("Could not find model"), std::string::npos) << r.cause;
}

TEST_F(HostingTest, BatchTransformSplitsLinesAndAssemblesTheOutput) {
  Deploy("m1", "scorer:1", "cfg-t");
  ASSERT_TRUE(store_.Put("data", "in/a.csv", "1\n2\n3\n").ok());
  ASSERT_TRUE(store_.Put("data", "in/b.csv", "10\n").ok());
  auto r = Call("arn:aws:states:::sagemaker:createTransformJob.sync", R"({
      "TransformJobName": "t-1", "ModelName": "m1-cfg-t", "BatchStrategy": "SingleRecord",
      "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                         "S3Uri": "s3://data/in/"}}, "ContentType": "text/csv", "SplitType": "Line"},
      "TransformOutput": {"S3OutputPath": "s3://data/out/", "AssembleWith": "Line"},
      "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}})");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output.at("TransformJobStatus"), "Completed");
  EXPECT_EQ(*store_.Get("data", "out/a.csv.out"), "2.0\n4.0\n6.0\n");
  EXPECT_EQ(*store_.Get("data", "out/b.csv.out"), "20.0\n");
  // A record the model rejects fails the job with the model's answer.
  ASSERT_TRUE(store_.Put("data", "bad/c.csv", "bad\n").ok());
  r = Call("arn:aws:states:::sagemaker:createTransformJob.sync", R"({
      "TransformJobName": "t-2", "ModelName": "m1-cfg-t",
      "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                         "S3Uri": "s3://data/bad/"}}, "SplitType": "Line"},
      "TransformOutput": {"S3OutputPath": "s3://data/out2/"},
      "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}})");
  EXPECT_EQ(r.error, "States.TaskFailed");
  EXPECT_NE(r.cause.find("the model returned 400"), std::string::npos) << r.cause;
}

}  // namespace
}  // namespace zflow::integrations
