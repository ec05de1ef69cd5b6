// zflow/pipeline.h: ML pipelines declared in C++ and compiled to an ASL state machine.
//
//   zflow::Pipeline p("fraud-scoring");
//   zflow::Value day = p.Parameter("day", "2026-11-21");
//   auto prep = p.Add(zflow::LambdaFunction{.name = "prepare", .function_name = "prep",
//                                           .payload = {{"day", day}}});
//   auto train = p.Add(zflow::TrainingJob{.name = "train", .image = "fraud-gbm:latest",
//                                         .role_arn = "arn:aws:iam::123456789012:role/sm",
//                                         .channels = {{"train", prep.Output("Payload.uri")}},
//                                         .output_path = "s3://bucket/models/"})
//                    .After(prep)
//                    .Retry({.errors = {"SageMaker.AmazonSageMakerException"}});
//   zflow::Result<zflow::asl::StateMachine> machine = p.Compile();
//
// The execution's data: {"params": {...parameters with defaults...}, "steps": {"<step>": <its
// result>, ...}}; references (Value) compile to JSONPath reads of it. Steps that do not depend
// on each other run in parallel (see docs/design/pipeline-schedule.md). Mistakes (duplicate or
// invalid names, a reference to a step that does not run before, a cycle) are errors of
// Compile() that name the step.
#ifndef ZFLOW_PIPELINE_H_
#define ZFLOW_PIPELINE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zflow/json.h"
#include "zflow/state_machine.h"
#include "zflow/status.h"

namespace zflow {

// A string field of a step: a literal, a pipeline parameter, or part of an earlier step's result.
class Value {
 public:
  Value(std::string literal) : text_(std::move(literal)) {}  // NOLINT: literals convert
  Value(const char* literal) : text_(literal) {}             // NOLINT
  // A reference: `path` is a JSONPath into the execution's data ("$.params.day").
  static Value Reference(std::string path, std::string step = "") {
    Value v(std::move(path));
    v.reference_ = true;
    v.step_ = std::move(step);
    return v;
  }
  bool is_reference() const { return reference_; }
  const std::string& text() const { return text_; }
  // For a reference to a step's result: that step's name.
  const std::string& step() const { return step_; }

 private:
  std::string text_;
  bool reference_ = false;
  std::string step_;
};

struct RetryPolicy {
  std::vector<std::string> errors = {"States.ALL"};
  int interval_seconds = 1;
  int max_attempts = 3;
  double backoff_rate = 2.0;
};

// Invokes a Lambda function (arn:aws:states:::lambda:invoke); its result is {"Payload": ...}.
struct LambdaFunction {
  std::string name;
  std::string function_name;
  std::map<std::string, Value> payload;
};

// A SageMaker training job (createTrainingJob.sync); its result has TrainingJobName and
// ModelArtifacts.S3ModelArtifacts.
struct TrainingJob {
  std::string name;
  std::string image;
  std::string role_arn;
  std::map<std::string, Value> hyperparameters;
  std::map<std::string, Value> channels;  // channel name -> S3 URI
  Value output_path = "";                 // S3 prefix for model.tar.gz
  std::string instance_type = "ml.m5.xlarge";
  int instance_count = 1;
  int volume_size_gb = 30;
  int max_runtime_seconds = 86400;
};

struct WaitStep {
  std::string name;
  int seconds = 0;
};

struct PassStep {
  std::string name;
  json::value result = json::object();
};

struct PipelineOptions {
  std::string comment;
  std::optional<RetryPolicy> default_retry;        // for steps without their own
  std::optional<int> default_timeout_seconds;      // for task steps without their own
};

class Pipeline;

// A cheap handle to a step of a Pipeline; valid while the Pipeline lives.
class StepRef {
 public:
  StepRef& After(const StepRef& other);
  StepRef& Retry(RetryPolicy policy);
  StepRef& TimeoutSeconds(int seconds);
  // Part of this step's result, e.g. Output("Payload.auc").
  Value Output(std::string_view path) const;
  // A training job's model artifact URI.
  Value ModelArtifacts() const { return Output("ModelArtifacts.S3ModelArtifacts"); }
  const std::string& name() const;

 private:
  friend class Pipeline;
  StepRef(Pipeline* p, int index) : pipeline_(p), index_(index) {}
  Pipeline* pipeline_;
  int index_;
};

class Pipeline {
 public:
  explicit Pipeline(std::string name, PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  const std::string& name() const { return name_; }

  // A typed input of the execution with its default; a Value to use in step fields.
  Value Parameter(std::string name, std::string default_value);

  StepRef Add(LambdaFunction step);
  StepRef Add(TrainingJob step);
  StepRef Add(WaitStep step);
  StepRef Add(PassStep step);

  // The ASL definition (as JSON, deterministic) and the validated model. kInvalidArgument names
  // the step for: invalid or duplicate names, missing required fields, references to steps
  // that do not run before the reader, dependency cycles.
  Result<json::value> CompileJson() const;
  Result<asl::StateMachine> Compile() const;

  struct Step;

 private:
  friend class StepRef;
  StepRef AddStep(std::unique_ptr<Step> step);

  std::string name_;
  PipelineOptions options_;
  std::vector<std::pair<std::string, std::string>> parameters_;
  std::vector<std::unique_ptr<Step>> steps_;
};

}  // namespace zflow

#endif  // ZFLOW_PIPELINE_H_
