// SageMaker's framework containers (scikit-learn, XGBoost, PyTorch, TensorFlow) as the SageMaker
// Python SDK and the Step Functions Data Science SDK use them, for a profile image with
// `framework: NAME`:
//
// - Training: the user's code arrives as hyperparameters: sagemaker_program (the entry script)
//   and sagemaker_submit_directory (an s3:// tar.gz of the source directory), JSON-encoded as
//   the SDK sends every hyperparameter. The stand-in unpacks the source into the job's code
//   directory and runs the script with Debian's Python, passing only the user's
//   hyperparameters, decoded, as --name value arguments (sagemaker_* ones stay out of argv, as
//   the container keeps them).
// - Serving (endpoints and batch transform): the model's Environment names SAGEMAKER_PROGRAM and
//   SAGEMAKER_SUBMIT_DIRECTORY (an s3:// tar.gz, or the model archive's code/ directory); a
//   model server imports that script and answers /invocations through its model_fn, input_fn,
//   predict_fn and output_fn, with the container's defaults for those it does not define.
#ifndef ZFLOW_INTEGRATIONS_FRAMEWORK_CONTAINER_H_
#define ZFLOW_INTEGRATIONS_FRAMEWORK_CONTAINER_H_

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "zflow/json.h"
#include "zflow/runtime.h"
#include "zflow/status.h"

namespace zflow::integrations {

// A hyperparameter or environment value as the SDK encodes it ("\"train.py\"" -> train.py,
// "100" -> 100); text that is not a JSON string stays as it is.
std::string DecodeSdkValue(std::string_view value);

struct ScriptLaunch {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string working_directory;
};

// Training: unpacks sagemaker_submit_directory under `job`/code and returns how to run
// sagemaker_program. The error message is the job's FailureReason ("ClientError: ...").
Result<ScriptLaunch> PrepareFrameworkTraining(const json::object& hyperparameters,
                                              runtime::ObjectStore& store,
                                              const std::filesystem::path& job);

// Serving: the model server for the model's Environment, with the model unpacked in
// `dir`/model. The error message says what is missing.
Result<ScriptLaunch> PrepareFrameworkServing(const std::map<std::string, std::string>& model_env,
                                             runtime::ObjectStore& store,
                                             const std::filesystem::path& dir);

// A failed user script's FailureReason, as SageMaker writes it: the exit code, the last error
// lines of its stderr and the command.
std::string ScriptFailureReason(int exit_code, std::string_view stderr_text,
                                const std::vector<std::string>& argv);

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_FRAMEWORK_CONTAINER_H_
