// HTTP Tasks over real loopback HTTP, and the Databricks Jobs API stand-in running the
// submit-and-poll loop a pipeline's DatabricksJob compiles to.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "integrations/databricks.h"
#include "integrations/http_task.h"
#include "zflow/asl_parser.h"
#include "zflow/asl_serializer.h"
#include "zflow/pipeline.h"
#include "zflow/runtime.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

class DatabricksTest : public ::testing::Test {
 protected:
  DatabricksTest() : dir_(fs::temp_directory_path() / ("zflow-dbx-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "jobs");
    std::ofstream(dir_ / "jobs/ok.py") << R"py(
import os, sys
out = os.path.join(os.environ["ZFLOW_S3_ROOT"], "args.txt")
open(out, "w").write(" ".join(sys.argv[1:]))
)py";
    std::ofstream(dir_ / "jobs/fail.py") << R"py(
import sys
print("loading rows", file=sys.stderr)
raise SystemExit("KeyError: 'amount' column missing")
)py";
    auto s = DatabricksServer::Start({.files = {{"dbfs:/jobs/", (dir_ / "jobs").string()}},
                                      .s3_root = dir_.string()});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) server_ = std::move(*s);
    registry_.Register("arn:aws:states:::http:invoke", std::make_shared<HttpTaskHandler>());
  }
  ~DatabricksTest() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  runtime::ExecutionResult RunJob(const std::string& python_file, const std::string& execution) {
    Pipeline p("dbx");
    StringValue ws = p.External("DatabricksUrl", "workspace", server_->url());
    p.Add(DatabricksJob{.name = "job", .workspace_url = ws,
                        .connection_arn = "arn:aws:events:us-east-1:123456789012:connection/d/1",
                        .python_file = python_file, .parameters = {"--day", "2026-11-22"},
                        .poll_seconds = 1});
    auto m = p.Compile();
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    auto machine = asl::ParseStateMachine(SubstituteLocal(asl::SerializeStateMachine(*m), p));
    EXPECT_TRUE(machine.ok());
    runtime::Engine engine({.integrations = &registry_});
    auto r = engine.Run(*machine, {.name = execution});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  }

  runtime::ExecutionResult Http(std::string_view parameters) {
    auto machine = asl::ParseStateMachine(
        std::string(R"({"StartAt": "H", "States": {"H": {"Type": "Task",
          "Resource": "arn:aws:states:::http:invoke", "Parameters": )") +
        std::string(parameters) + R"(, "End": true}}})");
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    runtime::Engine engine({.integrations = &registry_});
    auto r = engine.Run(*machine, {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : runtime::ExecutionResult{};
  }

  fs::path dir_;
  std::unique_ptr<DatabricksServer> server_;
  runtime::IntegrationRegistry registry_;
};

TEST_F(DatabricksTest, SubmitAndPollRunsTheScriptToSuccess) {
  auto r = RunJob("dbfs:/jobs/ok.py", "exec-ok");
  ASSERT_EQ(r.status, runtime::ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  const json::value& job = r.output.at("steps").at("job");
  EXPECT_EQ(job.at("state").at("life_cycle_state"), "TERMINATED");
  EXPECT_EQ(job.at("state").at("result_state"), "SUCCESS");
  auto args = ReadFileCapped((dir_ / "args.txt").string(), 1024);
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->data, "--day 2026-11-22");
}

TEST_F(DatabricksTest, AFailedRunFailsTheStepWithItsMessage) {
  auto r = RunJob("dbfs:/jobs/fail.py", "exec-fail");
  EXPECT_EQ(r.status, runtime::ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Databricks.RunFailed");
  EXPECT_NE(r.cause.find("KeyError: 'amount' column missing"), std::string::npos) << r.cause;
  r = RunJob("dbfs:/elsewhere/x.py", "exec-unmapped");
  EXPECT_EQ(r.error, "Databricks.RunFailed");
  EXPECT_NE(r.cause.find("is not mapped to a local file"), std::string::npos) << r.cause;
}

TEST_F(DatabricksTest, HttpErrorsAreNamedAsAwsNamesThem) {
  std::string conn = R"("Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/c/1"})";
  auto r = Http(R"({"ApiEndpoint": ")" + server_->url() +
                R"(/api/2.1/jobs/runs/get", "Method": "GET", "QueryParameters": {"run_id": "999"}, )" +
                conn + "}");
  EXPECT_EQ(r.error, "States.Http.StatusCode.400");
  EXPECT_NE(r.cause.find("Run 999 does not exist."), std::string::npos) << r.cause;
  r = Http(R"({"ApiEndpoint": "http://127.0.0.1:1/x", "Method": "GET", )" + conn + "}");
  EXPECT_EQ(r.error, "States.Http.Socket");
  r = Http(R"({"ApiEndpoint": ")" + server_->url() +
           R"(/x", "Method": "GET", "Headers": {"Authorization": "Bearer x"}, )" + conn + "}");
  EXPECT_EQ(r.error, "States.Runtime");
  r = Http(R"({"ApiEndpoint": ")" + server_->url() + R"(/x", "Method": "GET"})");
  EXPECT_EQ(r.error, "States.Runtime");  // no connection
  // Idempotent submits return the same run.
  std::string submit = R"({"ApiEndpoint": ")" + server_->url() +
                       R"(/api/2.1/jobs/runs/submit", "Method": "POST", "RequestBody": {
      "run_name": "x", "idempotency_token": "tok-1",
      "tasks": [{"task_key": "t", "spark_python_task": {"python_file": "dbfs:/jobs/ok.py"}}]}, )" +
                       conn + "}";
  auto a = Http(submit);
  auto b = Http(submit);
  ASSERT_EQ(a.status, runtime::ExecutionStatus::kSucceeded) << a.error << ": " << a.cause;
  EXPECT_EQ(a.output.at("StatusCode"), 200);
  EXPECT_EQ(a.output.at("ResponseBody").at("run_id"), b.output.at("ResponseBody").at("run_id"));
}

TEST_F(DatabricksTest, APortInUseIsAClearError) {
  auto second = DatabricksServer::Start({.port = server_->port()});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("is the port in use?"), std::string::npos);
}

}  // namespace
}  // namespace zflow::integrations
