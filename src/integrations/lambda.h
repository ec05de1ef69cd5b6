// Lambda functions served locally: a function name maps to a local command (the event on stdin,
// the result on stdout), a Python file's handler function (run with /usr/bin/python3), or an
// in-process C++ function. Serves `arn:aws:states:::lambda:invoke` (result {"ExecutedVersion",
// "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}) and bare function ARNs as a
// Task's Resource (result: the function's return value).
//
// Errors as AWS reports them: a function error is the error named by its errorType with the
// error payload ({"errorMessage", "errorType", "stackTrace"}) as JSON text for the cause
// ("Lambda.Unknown" when the function gave no type); an unmapped function is
// Lambda.ResourceNotFoundException; a function past its timeout is Sandbox.Timedout.
#ifndef ZFLOW_INTEGRATIONS_LAMBDA_H_
#define ZFLOW_INTEGRATIONS_LAMBDA_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/subprocess.h"
#include "zflow/runtime.h"

namespace zflow::integrations {

struct LambdaFunctionSpec {
  std::vector<std::string> command;  // a program reading the event on stdin, or:
  std::string python_file;           // a .py file with `handler(event, context)`
  std::string handler = "handler";   // the function name in python_file
  std::function<runtime::TaskResult(const json::value& event)> function;  // in-process
  std::chrono::seconds timeout{900};                                       // Lambda's maximum
};

class LambdaHandler final : public runtime::TaskHandler {
 public:
  explicit LambdaHandler(std::map<std::string, LambdaFunctionSpec> functions,
                         std::string region = "us-east-1", std::string account = "123456789012")
      : functions_(std::move(functions)), region_(std::move(region)), account_(std::move(account)) {}
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override;
  // Variables every function process gets besides the inherited ones (ZFLOW_S3_ROOT: where
  // s3:// lives, as Databricks jobs get it).
  void SetEnvironment(std::map<std::string, std::string> env) { environment_ = std::move(env); }

  // The function name in a FunctionName (name, name:qualifier, partial or full ARN).
  static std::string FunctionName(std::string_view function_name_or_arn);

 private:
  runtime::TaskResult Call(const std::string& name, const LambdaFunctionSpec& spec,
                           const json::value& event, const runtime::TaskRequest& request);
  // The answer a finished function process gives.
  static runtime::TaskResult Interpret(const ProcessResult& run, const std::string& program,
                                       const std::string& name, std::chrono::seconds spec_timeout,
                                       const runtime::TaskRequest& request);
  std::map<std::string, LambdaFunctionSpec> functions_;
  std::map<std::string, std::string> environment_;
  std::string region_;
  std::string account_;
};

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_LAMBDA_H_
