// The step kinds' fields: see spec_fields.h.
#include "pipeline/spec_fields.h"

#include <stdexcept>

#include <fmt/format.h>

namespace zflow::spec {
namespace {

// Field types, in words (the reference explains each once).
constexpr std::string_view kStr = "string";         // text, a reference or a formatted string
constexpr std::string_view kNum = "number";         // a number or a reference to one
constexpr std::string_view kText = "fixed string";  // text only, no references
constexpr std::string_view kInt = "whole number";   // a fixed whole number
constexpr std::string_view kStrMap = "mapping of strings";
constexpr std::string_view kStrList = "list of strings";
constexpr std::string_view kTextList = "list of fixed strings";
constexpr std::string_view kAny = "mapping of values";

std::vector<FieldInfo> TrainingFields() {
  return {
      {"image", kStr, true, "", "The training image (ECR URI); locally, the profile maps it to a command or a framework container."},
      {"role_arn", kStr, true, "", "The role the job runs as: a literal ARN or an external, so the IAM policy can pass exactly it."},
      {"output_path", kStr, true, "", "S3 prefix the model is written under (<prefix>/<job>/output/model.tar.gz)."},
      {"channels", kStrMap, false, "", "Input channels: name to S3 URI (prefix), as input/data/<name>/ in the container."},
      {"hyperparameters", kStrMap, false, "", "Passed to the job as strings (max_depth: 6 is \"6\")."},
      {"content_type", kStr, false, "", "The content type of every channel (text/csv, ...)."},
      {"instance_type", kStr, false, "ml.m5.xlarge", "ResourceConfig.InstanceType."},
      {"instance_count", kNum, false, "1", "ResourceConfig.InstanceCount."},
      {"volume_size_gb", kNum, false, "30", "ResourceConfig.VolumeSizeInGB."},
      {"max_runtime_seconds", kNum, false, "86400", "StoppingCondition.MaxRuntimeInSeconds."},
      {"metric_definitions", "mapping of name: regex", false, "", "Metrics read from the job's log; each one's final value is in the result's Metrics (steps.<step>.Metrics['<name>'])."},
      {"environment", kStrMap, false, "", "Environment variables of the job."},
  };
}

std::vector<StepKindInfo> MakeKinds() {
  return {
      {"lambda", "lambda_function", "LambdaFunction",
       "Invokes a Lambda function (lambda:invoke). Result: {\"Payload\": what it returned}.",
       {
           {"function_name", kStr, true, "", "A function name, a function ARN or an external; locally a function of the profile (or a Python or C++ function of the program)."},
           {"payload", kAny, false, "", "The event: any values, references included (one level: references inside nested objects are not filled in)."},
       }},
      {"training", "training", "TrainingJob",
       "A SageMaker training job (createTrainingJob.sync) named <step>-<execution>. Result: TrainingJobName, ModelArtifacts.S3ModelArtifacts; with metric_definitions also FinalMetricDataList and Metrics.",
       TrainingFields()},
      {"processing", "processing", "ProcessingJob",
       "A SageMaker processing job (createProcessingJob.sync). Result: ProcessingJobName, ProcessingOutputConfig.",
       {
           {"image", kStr, true, "", "The processing image."},
           {"role_arn", kStr, true, "", "The role the job runs as (a literal ARN or an external)."},
           {"entrypoint", kTextList, false, "", "AppSpecification.ContainerEntrypoint."},
           {"arguments", kStrList, false, "", "AppSpecification.ContainerArguments."},
           {"inputs", "list of {name, s3_uri, local_path}", false, "", "Copied from S3 to local_path (e.g. /opt/ml/processing/input) before the job starts."},
           {"outputs", "list of {name, s3_uri, local_path}", false, "", "Uploaded from local_path to S3 when the job ends."},
           {"instance_type", kStr, false, "ml.m5.xlarge", "ClusterConfig.InstanceType."},
           {"instance_count", kNum, false, "1", "ClusterConfig.InstanceCount."},
           {"volume_size_gb", kNum, false, "30", "ClusterConfig.VolumeSizeInGB."},
           {"max_runtime_seconds", kNum, false, "86400", "StoppingCondition.MaxRuntimeInSeconds."},
           {"environment", kStrMap, false, "", "Environment variables of the job."},
       }},
      {"transform", "transform", "BatchTransformJob",
       "A SageMaker batch transform job (createTransformJob.sync). Result: TransformJobName, TransformOutput.S3OutputPath.",
       {
           {"model_name", kStr, true, "", "The model, e.g. a model step's model_name (steps.<model>.ModelName)."},
           {"input_uri", kStr, true, "", "S3 prefix of the records."},
           {"output_uri", kStr, true, "", "S3 prefix the predictions are written under (<input file>.out)."},
           {"content_type", kText, false, "text/csv", "TransformInput.ContentType."},
           {"split_type", kText, false, "Line", "None, Line, RecordIO or TFRecord."},
           {"strategy", kText, false, "MultiRecord", "BatchStrategy: MultiRecord or SingleRecord."},
           {"assemble_with", kText, false, "Line", "TransformOutput.AssembleWith: None or Line."},
           {"accept", kText, false, "", "TransformOutput.Accept."},
           {"max_payload_mb", kInt, false, "6", "MaxPayloadInMB."},
           {"instance_type", kStr, false, "ml.m5.xlarge", "TransformResources.InstanceType."},
           {"instance_count", kNum, false, "1", "TransformResources.InstanceCount."},
           {"environment", kStrMap, false, "", "Environment variables of the serving container."},
       }},
      {"tuning", "tuning", "HyperparameterTuningJob",
       "A SageMaker hyperparameter tuning job (createHyperParameterTuningJob.sync) over a training job. Result: HyperParameterTuningJobName, BestTrainingJob, BestModelArtifacts.",
       {
           {"training", "training fields", true, "", "The training job each trial runs (the fields of training; its hyperparameters are the static ones)."},
           {"objective_metric", kText, true, "", "The metric to optimise: one of the training's metric_definitions."},
           {"ranges", "mapping of name: range", true, "", "Per hyperparameter: continuous: [min, max], integer: [min, max] or categorical: [values], with an optional scaling (Auto, Linear, Logarithmic, ReverseLogarithmic)."},
           {"objective_type", kText, false, "Maximize", "Maximize or Minimize."},
           {"strategy", kText, false, "Bayesian", "Bayesian, Random, Grid or Hyperband."},
           {"max_jobs", kInt, false, "10", "ResourceLimits.MaxNumberOfTrainingJobs."},
           {"max_parallel_jobs", kInt, false, "2", "ResourceLimits.MaxParallelTrainingJobs."},
       }},
      {"model", "model", "Model",
       "A SageMaker model (createModel) named <step>-<execution>. Result: ModelArn, ModelName.",
       {
           {"image", kStr, true, "", "The serving image."},
           {"model_data_url", kStr, true, "", "The model.tar.gz, e.g. a training step's ModelArtifacts.S3ModelArtifacts."},
           {"role_arn", kStr, true, "", "The role the model runs as (a literal ARN or an external)."},
           {"environment", kStrMap, false, "", "Environment variables of the serving container."},
       }},
      {"endpoint", "endpoint", "EndpointDeployment",
       "Deploys a model to a real-time endpoint: a new endpoint config, then createEndpoint or updateEndpoint, then polls until InService. Result: EndpointName, EndpointConfigName, Status.",
       {
           {"endpoint_name", kStr, true, "", "The endpoint, stable across executions."},
           {"model_name", kStr, true, "", "The model to serve."},
           {"instance_type", kStr, false, "ml.m5.large", "ProductionVariants[0].InstanceType."},
           {"initial_instance_count", kNum, false, "1", "ProductionVariants[0].InitialInstanceCount."},
           {"variant_name", kText, false, "AllTraffic", "ProductionVariants[0].VariantName."},
           {"poll_seconds", kInt, false, "30", "How often DescribeEndpoint is asked until InService."},
       }},
      {"databricks", "databricks", "DatabricksJob",
       "A Databricks job run: Jobs API 2.1 runs/submit, then runs/get every poll_seconds, over HTTP tasks with an EventBridge connection. Result: run_id, run_page_url, state.",
       {
           {"workspace_url", kStr, true, "", "https://<workspace>.cloud.databricks.com (an external, usually)."},
           {"connection_arn", kStr, true, "", "The EventBridge connection holding the Databricks token."},
           {"python_file", kStr, true, "", "spark_python_task.python_file (dbfs:/..., s3://...)."},
           {"parameters", kStrList, false, "", "spark_python_task.parameters."},
           {"existing_cluster_id", kStr, false, "", "Run on this cluster instead of a new one."},
           {"spark_version", kText, false, "15.4.x-scala2.12", "new_cluster.spark_version."},
           {"node_type_id", kText, false, "i3.xlarge", "new_cluster.node_type_id."},
           {"num_workers", kInt, false, "2", "new_cluster.num_workers."},
           {"poll_seconds", kInt, false, "30", "How often runs/get is asked until the run ends."},
       }},
      {"wait", "wait", "WaitStep", "Waits (a Wait state). No result.",
       {{"seconds", kNum, true, "", "How long."}}},
      {"pass", "pass_state", "PassStep", "A fixed result (a Pass state).",
       {{"result", "JSON", false, "{}", "The result."}}},
      {"fail", "fail", "FailStep", "Ends the execution as failed (a Fail state).",
       {
           {"error", kText, false, "", "The error name."},
           {"cause", kText, false, "", "The cause."},
       }},
      {"state", "raw_state", "RawState",
       "Escape hatch: one ASL state (Pass, Task, Wait, Parallel, Map or Fail) as JSON, without Next or End. Its output replaces the data unless it has \"ResultPath\": \"$.steps['<name>']\"; a later step reading its result without that gets a warning.",
       {}},
      {"for_each", "for_each", "ForEach",
       "Runs its steps once per item of items (an inline Map). Inside, {{ item }} is the item. Result: one object per item with the body's step results.",
       {
           {"items", kStr, true, "", "A reference to a list."},
           {"max_concurrency", kInt, false, "0", "Items run at once (0: no limit; AWS runs at most 40 inline)."},
           {"steps", "list of steps", true, "", "The body (in Python: the steps declared on the for_each object)."},
       }},
  };
}

}  // namespace

const std::vector<StepKindInfo>& StepKinds() {
  static const std::vector<StepKindInfo> kinds = MakeKinds();
  return kinds;
}

const StepKindInfo& StepKind(std::string_view kind) {
  for (const StepKindInfo& k : StepKinds()) {
    if (k.kind == kind) return k;
  }
  throw std::logic_error(fmt::format("no step kind {}", kind));
}

const std::vector<FieldInfo>& CommonStepFields() {
  static const std::vector<FieldInfo> fields = {
      {"name", kText, true, "", "Up to 60 letters, digits, spaces, _, - and ."},
      {"after", "list of step names", false, "", "Steps this one runs after (besides those whose results it reads)."},
      {"when", "condition", false, "", "Runs only when it holds; otherwise the step is skipped and its dependents go on."},
      {"retry", "retry", false, "defaults.retry", "errors, interval_seconds (1), max_attempts (3), backoff_rate (2.0), max_delay_seconds, jitter (false)."},
      {"timeout_seconds", kInt, false, "defaults.timeout_seconds", "The task's TimeoutSeconds."},
      {"continue_on_failure", "true or error names", false, "", "A failure matching these is recorded as the step's result ({Error, Cause}) and the pipeline goes on."},
  };
  return fields;
}

std::string FieldReferenceMarkdown() {
  std::string out;
  out += "Every step has a `name`, one kind key, and these optional keys (Python: keyword "
         "arguments of every step method; C++: `StepRef` methods):\n\n";
  out += "| key | holds | default | |\n|---|---|---|---|\n";
  for (const FieldInfo& f : CommonStepFields()) {
    out += fmt::format("| `{}`{} | {} | {} | {} |\n", f.key, f.required ? " (required)" : "",
                       f.type, f.fallback.empty() ? "" : fmt::format("`{}`", f.fallback), f.doc);
  }
  for (const StepKindInfo& k : StepKinds()) {
    out += fmt::format("\n### `{}` (Python `p.{}(...)`, C++ `{}`)\n\n{}\n", k.kind, k.python,
                       k.cxx, k.summary);
    if (k.fields.empty()) {
      out += "\nIts fields are the ASL state's own.\n";
      continue;
    }
    out += "\n| key | holds | default | |\n|---|---|---|---|\n";
    for (const FieldInfo& f : k.fields) {
      out += fmt::format("| `{}`{} | {} | {} | {} |\n", f.key, f.required ? " (required)" : "",
                         f.type, f.fallback.empty() ? "" : fmt::format("`{}`", f.fallback),
                         f.doc);
    }
  }
  return out;
}

}  // namespace zflow::spec
