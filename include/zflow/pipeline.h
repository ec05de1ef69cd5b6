// zflow/pipeline.h: ML pipelines declared in C++ and compiled to an ASL state machine.
//
//   zflow::Pipeline p("fraud-scoring", {.schedule = "cron(0 6 * * ? *)"});
//   zflow::StringValue day = p.Parameter("day", "2026-11-21");
//   zflow::NumberValue min_auc = p.Parameter("min_auc", 0.9);
//   zflow::StringValue role = p.External("SageMakerRoleArn", "Role SageMaker jobs run as",
//                                        "arn:aws:iam::123456789012:role/local");
//   auto prep = p.Add(zflow::LambdaFunction{.name = "prepare", .function_name = "prep",
//                                           .payload = {{"day", day}}});
//   auto train = p.Add(zflow::TrainingJob{.name = "train", .image = "fraud-gbm:latest",
//                                         .role_arn = role,
//                                         .channels = {{"train", prep.Output("Payload.uri")}},
//                                         .output_path = "s3://bucket/models"})
//                    .After(prep)
//                    .Retry({.errors = {"SageMaker.AmazonSageMakerException"}});
//   auto eval = p.Add(zflow::LambdaFunction{...}).After(train);
//   p.Add(zflow::EndpointDeployment{...}).After(eval).When(eval.Output("Payload.auc") > min_auc);
//   zflow::Result<zflow::asl::StateMachine> machine = p.Compile();
//
// Values. Every field a later step may want to compute is a typed value (StringValue,
// NumberValue, BoolValue) or an untyped Value: a literal, a pipeline parameter, an external
// resource (a CloudFormation parameter, "${Name}" in the definition), part of an earlier step's
// result, or a Format() of those. Types are checked by the C++ compiler: a NumberValue parameter
// does not fit a string field. A step's Output() is untyped (the pipeline cannot know what a
// Lambda function returns) and converts to any typed value.
//
// The execution's data: {"params": {...parameters with defaults...}, "steps": {"<step>": <its
// result>, ...}}; references compile to JSONPath reads of it. Steps that do not depend on each
// other run in parallel (see docs/design/pipeline-schedule.md). Mistakes (duplicate or invalid
// names, a missing required field, a reference to a step that does not run before, a cycle, a
// bad schedule) are errors of Compile() that name the step and the field.
#ifndef ZFLOW_PIPELINE_H_
#define ZFLOW_PIPELINE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "zflow/json.h"
#include "zflow/limits.h"
#include "zflow/state_machine.h"
#include "zflow/status.h"

namespace zflow {

enum class ValueType { kAny, kString, kNumber, kBoolean };

class StringValue;
class NumberValue;
class BoolValue;

// A value of a step field: a JSON literal, or an expression (a JSONPath reference or an
// intrinsic function call) evaluated when the step runs.
class Value {
 public:
  Value() : literal_(nullptr) {}
  Value(const char* s) : literal_(s), type_(ValueType::kString) {}          // NOLINT
  Value(std::string s) : literal_(std::move(s)), type_(ValueType::kString) {}  // NOLINT
  Value(int n) : literal_(n), type_(ValueType::kNumber) {}                   // NOLINT
  Value(std::int64_t n) : literal_(n), type_(ValueType::kNumber) {}          // NOLINT
  Value(double d) : literal_(d), type_(ValueType::kNumber) {}                // NOLINT
  Value(bool b) : literal_(b), type_(ValueType::kBoolean) {}                 // NOLINT
  // Any JSON document as a literal.
  static Value Json(json::value v);
  // An expression: a JSONPath ("$.params['day']", "$$.Execution.Name") or an intrinsic call.
  // `steps` are the steps whose results it reads.
  static Value Expression(std::string expr, ValueType type, std::vector<std::string> steps = {});

  bool is_expression() const { return expression_; }
  bool is_literal() const { return !expression_; }
  // The literal (is_literal()).
  const json::value& literal() const { return literal_; }
  // The expression text (is_expression()).
  const std::string& expression() const { return text_; }
  // Is the expression a plain path (usable as a Choice Variable)?
  bool is_path() const { return expression_ && text_.starts_with("$"); }
  ValueType type() const { return type_; }
  const std::vector<std::string>& steps() const { return steps_; }
  // An empty string literal or null: "not set".
  bool empty() const;
  // For a Format() result: its pieces (string literals and expressions), so that a Format of
  // Formats compiles to one flat States.Format.
  const std::shared_ptr<const std::vector<Value>>& format_pieces() const { return format_; }

 protected:
  friend StringValue Format(std::string_view pattern, const std::vector<Value>& args);
  json::value literal_;
  std::string text_;
  bool expression_ = false;
  ValueType type_ = ValueType::kAny;
  std::vector<std::string> steps_;
  std::shared_ptr<const std::vector<Value>> format_;
};

// Typed values: converting constructors only from literals of the type, values of the type, and
// untyped values (step outputs), so a type mismatch is a C++ compile error.
class StringValue : public Value {
 public:
  StringValue() : Value("") {}
  StringValue(const char* s) : Value(s) {}          // NOLINT
  StringValue(std::string s) : Value(std::move(s)) {}  // NOLINT
  StringValue(const Value& untyped);                 // NOLINT: step outputs
  StringValue(const NumberValue&) = delete;
  StringValue(const BoolValue&) = delete;
};
class NumberValue : public Value {
 public:
  NumberValue() : Value(0) {}
  NumberValue(int n) : Value(n) {}         // NOLINT
  NumberValue(std::int64_t n) : Value(n) {}  // NOLINT
  NumberValue(double d) : Value(d) {}      // NOLINT
  NumberValue(const Value& untyped);        // NOLINT
  NumberValue(const StringValue&) = delete;
  NumberValue(const BoolValue&) = delete;
};
class BoolValue : public Value {
 public:
  BoolValue() : Value(false) {}
  BoolValue(bool b) : Value(b) {}   // NOLINT
  BoolValue(const Value& untyped);  // NOLINT
  BoolValue(const StringValue&) = delete;
  BoolValue(const NumberValue&) = delete;
};

// A string built from values: Format("s3://{}/models/{}", bucket, day) (States.Format).
StringValue Format(std::string_view pattern, const std::vector<Value>& args);
// The execution's name ($$.Execution.Name), e.g. to name output prefixes.
StringValue ExecutionName();
// In the on_failure handler: the failed step's {"Error", "Cause"}.
Value FailureError();

// A condition over values, for Pipeline steps' When(): comparisons of a value with a literal or
// another value of the same type, combined with &&, || and !.
class Condition {
 public:
  // The Choice rule (without Next), e.g. {"Variable": "$.x", "NumericGreaterThan": 1}.
  const json::value& rule() const { return rule_; }
  const std::vector<std::string>& steps() const { return steps_; }
  // Human-readable, for messages: "$.steps['evaluate'].Payload.auc > 0.9".
  const std::string& text() const { return text_; }
  // An error found while building (e.g. a comparison of two literals); reported by Compile().
  const std::string& error() const { return error_; }

  static Condition Compare(const Value& left, std::string_view op, const Value& right);
  static Condition IsPresent(const Value& v, bool present = true);
  static Condition Matches(const StringValue& v, std::string pattern);
  friend Condition operator&&(const Condition& a, const Condition& b);
  friend Condition operator||(const Condition& a, const Condition& b);
  friend Condition operator!(const Condition& a);

 private:
  static Condition Combine(const Condition& a, const Condition& b, const char* key,
                           const char* word);
  json::value rule_;
  std::vector<std::string> steps_;
  std::string text_;
  std::string error_;
};

Condition operator==(const Value& a, const Value& b);
Condition operator!=(const Value& a, const Value& b);
Condition operator<(const Value& a, const Value& b);
Condition operator<=(const Value& a, const Value& b);
Condition operator>(const Value& a, const Value& b);
Condition operator>=(const Value& a, const Value& b);
// Comparing typed values of different types does not compile.
template <class T>
concept TypedValue = std::is_same_v<T, StringValue> || std::is_same_v<T, NumberValue> ||
                     std::is_same_v<T, BoolValue>;
template <class A, class B>
concept MixedTypedValues = TypedValue<A> && TypedValue<B> && !std::is_same_v<A, B>;
#define ZFLOW_NO_MIXED_COMPARISON(op)                 \
  template <class A, class B>                         \
    requires MixedTypedValues<A, B>                   \
  Condition operator op(const A&, const B&) = delete;
ZFLOW_NO_MIXED_COMPARISON(==)
ZFLOW_NO_MIXED_COMPARISON(!=)
ZFLOW_NO_MIXED_COMPARISON(<)
ZFLOW_NO_MIXED_COMPARISON(<=)
ZFLOW_NO_MIXED_COMPARISON(>)
ZFLOW_NO_MIXED_COMPARISON(>=)
#undef ZFLOW_NO_MIXED_COMPARISON

// ---- Step kinds. Config structs follow the AWS APIs they call (field names in snake_case). ----

struct Tag {
  std::string key;
  std::string value;
};

// Invokes a Lambda function (arn:aws:states:::lambda:invoke). Result: {"Payload": <returned>}.
struct LambdaFunction {
  std::string name;
  StringValue function_name;  // a name, a function ARN, or an External
  std::map<std::string, Value> payload;
};

struct MetricDefinition {
  std::string name;
  std::string regex;
};

// A SageMaker training job (createTrainingJob.sync). Result: TrainingJobName,
// ModelArtifacts.S3ModelArtifacts, and with metric_definitions FinalMetricDataList and Metrics
// ({"<metric>": its final value}; see StepRef::Metric). The job name is
// "<step>-<execution name>".
struct TrainingJob {
  std::string name;
  StringValue image;
  StringValue role_arn;  // a literal ARN or an External (the IAM policy passes exactly it)
  std::map<std::string, StringValue> hyperparameters;
  std::map<std::string, StringValue> channels;  // channel name -> S3 URI (prefix)
  StringValue content_type;                     // of every channel, optional
  StringValue output_path;                      // S3 prefix for <job>/output/model.tar.gz
  StringValue instance_type = "ml.m5.xlarge";
  NumberValue instance_count = 1;
  NumberValue volume_size_gb = 30;
  NumberValue max_runtime_seconds = 86400;
  std::vector<MetricDefinition> metric_definitions;
  std::map<std::string, StringValue> environment;
};

struct ProcessingInput {
  std::string input_name;
  StringValue s3_uri;
  std::string local_path;  // e.g. /opt/ml/processing/input
};
struct ProcessingOutput {
  std::string output_name;
  StringValue s3_uri;
  std::string local_path;  // e.g. /opt/ml/processing/output
};

// A SageMaker processing job (createProcessingJob.sync). Result: ProcessingJobName,
// ProcessingOutputConfig.
struct ProcessingJob {
  std::string name;
  StringValue image;
  StringValue role_arn;
  std::vector<std::string> entrypoint;
  std::vector<StringValue> arguments;
  std::vector<ProcessingInput> inputs;
  std::vector<ProcessingOutput> outputs;
  StringValue instance_type = "ml.m5.xlarge";
  NumberValue instance_count = 1;
  NumberValue volume_size_gb = 30;
  NumberValue max_runtime_seconds = 86400;
  std::map<std::string, StringValue> environment;
};

// A SageMaker batch transform job (createTransformJob.sync). Result: TransformJobName,
// TransformOutput.S3OutputPath.
struct BatchTransformJob {
  std::string name;
  StringValue model_name;  // e.g. a Model step's ModelName()
  StringValue input_uri;   // S3 prefix
  StringValue output_uri;
  std::string content_type = "text/csv";
  std::string split_type = "Line";        // None | Line | RecordIO | TFRecord
  std::string strategy = "MultiRecord";   // MultiRecord | SingleRecord
  std::string assemble_with = "Line";     // None | Line
  std::string accept;                     // optional
  int max_payload_mb = 6;
  StringValue instance_type = "ml.m5.xlarge";
  NumberValue instance_count = 1;
  std::map<std::string, StringValue> environment;
};

struct ParameterRange {
  enum class Kind { kContinuous, kInteger, kCategorical } kind = Kind::kContinuous;
  std::string name;
  std::string min_value;  // continuous / integer
  std::string max_value;
  std::vector<std::string> values;  // categorical
  std::string scaling = "Auto";     // Auto | Linear | Logarithmic | ReverseLogarithmic
};

// A SageMaker hyperparameter tuning job (createHyperParameterTuningJob.sync) over a training
// job definition. Result: HyperParameterTuningJobName, BestTrainingJob, BestModelArtifacts.
struct HyperparameterTuningJob {
  std::string name;
  TrainingJob training;  // its hyperparameters are the static ones; its name is unused
  std::string objective_metric;
  std::string objective_type = "Maximize";  // Maximize | Minimize
  std::vector<ParameterRange> ranges;
  std::string strategy = "Bayesian";  // Bayesian | Random | Grid | Hyperband
  int max_jobs = 10;
  int max_parallel_jobs = 2;
};

// A SageMaker model (createModel). Result: ModelArn, ModelName ("<step>-<execution name>").
struct Model {
  std::string name;
  StringValue image;
  StringValue model_data_url;  // e.g. a training step's ModelArtifacts()
  StringValue role_arn;
  std::map<std::string, StringValue> environment;
};

// Deploys a model to a real-time endpoint: an endpoint config, then createEndpoint or
// updateEndpoint (whichever applies), then waits until the endpoint is InService.
// Result: EndpointName, EndpointConfigName.
struct EndpointDeployment {
  std::string name;
  StringValue endpoint_name;  // stable across executions
  StringValue model_name;
  StringValue instance_type = "ml.m5.large";
  NumberValue initial_instance_count = 1;
  std::string variant_name = "AllTraffic";
  int poll_seconds = 30;
};

// A Databricks job run through the Jobs API 2.1 (runs/submit, then runs/get until it ends), over
// HTTP tasks authenticated by an EventBridge connection. Result: run_id, state.
struct DatabricksJob {
  std::string name;
  StringValue workspace_url;   // https://<workspace>.cloud.databricks.com
  StringValue connection_arn;  // EventBridge connection holding the token
  StringValue python_file;     // spark_python_task.python_file
  std::vector<StringValue> parameters;
  StringValue existing_cluster_id;  // or a new cluster:
  std::string spark_version = "15.4.x-scala2.12";
  std::string node_type_id = "i3.xlarge";
  int num_workers = 2;
  int poll_seconds = 30;
};

struct WaitStep {
  std::string name;
  NumberValue seconds = 0;
};

struct PassStep {
  std::string name;
  json::value result = json::object();
};

// Ends the execution as failed.
struct FailStep {
  std::string name;
  std::string error;
  std::string cause;
};

// Escape hatch: one ASL state, as JSON, without Next/End (zflow links it). Its output replaces
// the data unless it has a ResultPath; give it "ResultPath": "$.steps['<name>']" to keep the
// pipeline's data layout.
struct RawState {
  std::string name;
  json::value state;
};

class Pipeline;
namespace pipeline {
class Compiler;
}

// Runs `body` once per item of `items` (a Map state). Inside the body, body.Item() is the
// item; outer parameters and earlier steps' results are readable. Result: one object per item
// with the body's step results: [{"<body step>": ...}, ...].
struct ForEach {
  std::string name;
  Value items;
  const Pipeline* body = nullptr;
  int max_concurrency = 0;  // 0: no limit
};

struct RetryPolicy {
  std::vector<std::string> errors = {"States.ALL"};
  int interval_seconds = 1;
  int max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<int> max_delay_seconds;
  bool jitter = false;
};

// The language a pipeline was written in: messages name its constructs as that language does
// (C++: .After(), When(); YAML: after:, when:; Python: after=, when=).
enum class AuthoringLanguage { kCpp, kYaml, kPython };

struct PipelineOptions {
  std::string comment;
  std::optional<RetryPolicy> default_retry;    // for task steps without their own
  std::optional<int> default_timeout_seconds;  // for task steps without their own
  // EventBridge schedule expression: "cron(0 6 * * ? *)" or "rate(1 day)".
  std::string schedule;
  std::map<std::string, std::string> tags;  // on the state machine and the SageMaker jobs
  // Runs when any step fails (after its retries); then the execution fails with the error.
  std::optional<LambdaFunction> on_failure;
  AuthoringLanguage language = AuthoringLanguage::kCpp;
  // The query language of the emitted state machine. JSONata: the JSONPath definition
  // converted by asl::ConvertToJsonata (zflow/asl_convert.h), which computes the same data.
  asl::QueryLanguage query_language = asl::QueryLanguage::kJsonPath;
};

struct CompileLimits {
  // The definition-size quota (AWS: 1,048,576 bytes); larger definitions are errors.
  std::size_t max_definition_bytes = kMaxDefinitionBytes;
  // Overrides PipelineOptions::query_language (`zflow compile --query-language`).
  std::optional<asl::QueryLanguage> query_language;
};

// A cheap handle to a step of a Pipeline; valid while the Pipeline lives.
class StepRef {
 public:
  StepRef& After(const StepRef& other);
  StepRef& Retry(RetryPolicy policy);
  StepRef& TimeoutSeconds(int seconds);
  // Runs only when `condition` holds; otherwise it is skipped and its dependents go on.
  StepRef& When(Condition condition);
  // A failure matching `errors` is recorded as the step's result ({"Error", "Cause"}) and the
  // pipeline goes on.
  StepRef& ContinueOnFailure(std::vector<std::string> errors = {"States.ALL"});
  // Part of this step's result, e.g. Output("Payload.auc"); untyped.
  Value Output(std::string_view path) const;
  // Training: ModelArtifacts.S3ModelArtifacts; tuning: the best job's model.
  StringValue ModelArtifacts() const;
  // Training: the final value of one of the step's metric_definitions, read from the job's
  // FinalMetricDataList (Metrics['<name>'] of its result), e.g.
  //   deploy.When(train.Metric("validation:auc") >= 0.8);
  // Compile() fails when the step is not a training job or defines no such metric.
  NumberValue Metric(std::string_view metric) const;
  // Model steps: the created model's name.
  StringValue ModelName() const { return Output("ModelName"); }
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
  const PipelineOptions& options() const { return options_; }

  // Typed inputs of the execution, with defaults; overridden by the execution input
  // ({"day": "2026-11-22"}).
  StringValue Parameter(std::string name, const char* default_value);
  StringValue Parameter(std::string name, std::string default_value);
  NumberValue Parameter(std::string name, double default_value);
  NumberValue Parameter(std::string name, int default_value);
  BoolValue Parameter(std::string name, bool default_value);

  // A resource that exists outside the pipeline (a role ARN, a bucket): a CloudFormation
  // parameter of the template, "${name}" in the definition. `local_value` stands in for it in
  // local runs.
  StringValue External(std::string name, std::string description, std::string local_value);

  // Inside a ForEach body: the current item.
  Value Item() const;

  StepRef Add(LambdaFunction step);
  StepRef Add(TrainingJob step);
  StepRef Add(ProcessingJob step);
  StepRef Add(BatchTransformJob step);
  StepRef Add(HyperparameterTuningJob step);
  StepRef Add(Model step);
  StepRef Add(EndpointDeployment step);
  StepRef Add(DatabricksJob step);
  StepRef Add(WaitStep step);
  StepRef Add(PassStep step);
  StepRef Add(FailStep step);
  StepRef Add(RawState step);
  StepRef Add(ForEach step);

  struct ExternalParameter {
    std::string name;
    std::string description;
    std::string local_value;
  };
  const std::vector<ExternalParameter>& externals() const { return externals_; }
  // The parameters' names, in declaration order.
  std::vector<std::string> ParameterNames() const;

  // The ASL definition (as JSON, deterministic). kInvalidArgument names the step and field for:
  // invalid or duplicate names, missing required fields, references to steps that do not run
  // before the reader, dependency cycles, a bad schedule.
  Result<json::value> CompileJson() const;
  // CompileJson(), parsed and validated (with the externals substituted, as AWS sees it).
  Result<asl::StateMachine> Compile(const CompileLimits& limits = {}) const;
  // Both: the definition as JSON (what ships) and its validated model.
  struct Compiled {
    json::value definition;
    asl::StateMachine machine;
    // What compiles but is likely a mistake, each naming its step ("step \"x\" ..."): a raw
    // state whose result later steps read but which does not keep it in $.steps.
    std::vector<std::string> warnings;
    // With externals: the validated model with their local values substituted (what runs
    // locally); without: empty, `machine` is that model.
    std::optional<asl::StateMachine> local_machine;
    const asl::StateMachine& local() const { return local_machine ? *local_machine : machine; }
  };
  Result<Compiled> CompileAll(const CompileLimits& limits = {}) const;

  // The steps and their dependencies, for drawing: {"pipeline": name, "steps": [{"name",
  // "kind" (training, transform, lambda, ...), "after": [step names], "conditional": true when
  // the step has a When(), "body": a ForEach's own graph}], "schedule", "comment"}. The states
  // a step compiles to are named "<step>" or "<step>: <phase>".
  json::value StepGraph() const;

  struct Step;
  struct Parameter_ {
    std::string name;
    json::value default_value;
  };

 private:
  friend class StepRef;
  friend class pipeline::Compiler;
  StepRef AddStep(std::unique_ptr<Step> step);

  std::string name_;
  PipelineOptions options_;
  std::vector<Parameter_> parameters_;
  std::vector<ExternalParameter> externals_;
  std::vector<std::unique_ptr<Step>> steps_;
};

// Validates an EventBridge Scheduler schedule expression (cron(...) with six fields, rate(...),
// at(yyyy-mm-ddThh:mm:ss)); the error says which field is wrong and what is expected.
Status ValidateScheduleExpression(std::string_view expression);

// Replaces "${Name}" placeholders of externals in `definition` text with their local values.
std::string SubstituteLocal(std::string_view definition, const Pipeline& pipeline);
// The same on a JSON document: `out` is `definition` with the values substituted; false (and
// `out` unspecified) when it holds no placeholder.
bool SubstituteLocal(const json::value& definition, const Pipeline& pipeline, json::value& out);

}  // namespace zflow

#endif  // ZFLOW_PIPELINE_H_
