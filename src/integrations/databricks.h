// A local stand-in for the Databricks Jobs API (2.1 and 2.2 paths): runs/submit, runs/get,
// runs/cancel over real HTTP on 127.0.0.1. A submitted run's spark_python_task runs its
// python_file (a dbfs:/ or workspace path mapped to a local file by the profile) with the
// system Python (/usr/bin/python3) and the task's parameters; the run goes PENDING -> RUNNING ->
// TERMINATED with result_state SUCCESS or FAILED (state_message: the end of the script's
// stderr), or CANCELED when cancelled (the process group is killed). idempotency_token returns
// the earlier run. Runs get ZFLOW_S3_ROOT so scripts can map s3:// URIs to local files.
#ifndef ZFLOW_INTEGRATIONS_DATABRICKS_H_
#define ZFLOW_INTEGRATIONS_DATABRICKS_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::integrations {

struct DatabricksOptions {
  int port = 0;  // 0: any free port
  // Path prefix -> local directory, e.g. {"dbfs:/zflow/fraud/": "/repo/jobs/"}.
  std::map<std::string, std::string> files;
  std::string s3_root;      // passed to runs as ZFLOW_S3_ROOT
  std::string log_dir;      // where runs' output goes (<log_dir>/<run_id>.log); empty: none
};

class DatabricksServer {
 public:
  // Starts listening; kUnavailable when the port is in use.
  static Result<std::unique_ptr<DatabricksServer>> Start(DatabricksOptions options);
  ~DatabricksServer();  // cancels running runs and stops the server
  DatabricksServer(const DatabricksServer&) = delete;
  DatabricksServer& operator=(const DatabricksServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  struct Impl;

 private:
  explicit DatabricksServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_DATABRICKS_H_
