// zflow/main.h: the zflow command line for a pipeline declared in C++.
//
//   int main(int argc, char** argv) {
//     zflow::Pipeline p("fraud-scoring");
//     ...
//     return zflow::Main(argc, argv, p);
//   }
//
//   $ ./fraud_pipeline validate
//   $ ./fraud_pipeline compile -o out/        # out/statemachine.asl.json, out/graph.svg
//   $ ./fraud_pipeline graph --format mermaid
//   $ ./fraud_pipeline run --input '{"day": "2026-11-20"}' --mock-config mocks.json
//         --test-case HappyPath --virtual-clock
//
// `run` runs exactly the compiled state machine that `compile` writes, on zflow's engine, with
// the options of `zflow run`. Returns the process exit code.
//
// Lambda functions can be implemented in the same program: `run` serves every
// LambdaFunction step whose function_name is a key of `functions` by calling it in-process
// (the event is the step's payload, the return value its Payload). On AWS the same state machine
// calls the real functions.
//
//   return zflow::Main(argc, argv, p, {.functions = {{"score", [](const json::value& event) {
//     return json::value{{"auc", 0.93}};
//   }}}});
#ifndef ZFLOW_MAIN_H_
#define ZFLOW_MAIN_H_

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "zflow/json.h"
#include "zflow/pipeline.h"
#include "zflow/runtime.h"

namespace zflow {

// Thrown by an in-process function to fail with a named error (Catch and Retry match `type`),
// as a Lambda function's exception does. Any other exception fails with "Exception".
class FunctionError : public std::runtime_error {
 public:
  FunctionError(std::string type, const std::string& message)
      : std::runtime_error(message), type_(std::move(type)) {}
  const std::string& type() const { return type_; }

 private:
  std::string type_;
};

using LocalFunction = std::function<json::value(const json::value& event)>;

struct MainOptions {
  std::map<std::string, LocalFunction> functions;
  // The same for front ends in other languages (the Python module): handlers that answer as a
  // Lambda function does, with what they printed (TaskResult::log).
  std::map<std::string, std::function<runtime::TaskResult(const json::value& event)>>
      task_functions;
  // Places a message about the pipeline in the file that declared it ("file:line: message");
  // unset: "<pipeline>: message".
  std::function<std::string(std::string_view message)> locate;
};

int Main(int argc, char** argv, const Pipeline& pipeline, const MainOptions& options = {});

}  // namespace zflow

#endif  // ZFLOW_MAIN_H_
