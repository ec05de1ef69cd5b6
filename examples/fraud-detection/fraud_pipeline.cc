// The fraud-scoring pipeline, declared in C++ (the same pipeline as fraud_pipeline.yaml):
//
//   preprocess (Databricks) ──┐
//   scaler model (SageMaker) ─┴─ scale features (batch transform) ── train ── model ─┬─ predict ── report (Databricks, PDF)
//                                                                                    └─ deploy (endpoint, create or update)
//
//   build/examples/fraud_pipeline validate
//   build/examples/fraud_pipeline compile -o out/     # ASL, CloudFormation (JSON + YAML), SVG
//   build/examples/fraud_pipeline run --mock-config examples/fraud-detection/mocks.json
//       --test-case HappyPath --virtual-clock
#include <zflow/main.h>
#include <zflow/pipeline.h>

int main(int argc, char** argv) {
  using zflow::Format;
  zflow::Pipeline p(
      "fraud-scoring",
      {.comment = "Daily fraud model: features, training, batch scoring, report, endpoint.",
       .default_retry = zflow::RetryPolicy{.errors = {"SageMaker.AmazonSageMakerException",
                                                      "Lambda.TooManyRequestsException"},
                                           .interval_seconds = 30,
                                           .max_attempts = 3},
       .default_timeout_seconds = 7200,
       .schedule = "cron(0 6 * * ? *)",
       .tags = {{"project", "fraud-scoring"}},
       .on_failure = zflow::LambdaFunction{
           .name = "notify-failure",
           .function_name = "fraud-pipeline-alerts",
           .payload = {{"pipeline", "fraud-scoring"},
                       {"execution", zflow::ExecutionName()},
                       {"error", zflow::FailureError()}}}});

  zflow::StringValue day = p.Parameter("day", "2026-11-21");
  zflow::StringValue instance_type = p.Parameter("instance_type", "ml.m5.xlarge");
  // The endpoint is deployed only when the model's validation AUC reaches this.
  zflow::NumberValue min_auc = p.Parameter("min_auc", 0.75);
  zflow::StringValue role = p.External("SageMakerRoleArn", "Role the SageMaker jobs and models run as",
                                       "arn:aws:iam::123456789012:role/zflow-local-sagemaker");
  zflow::StringValue bucket = p.External("DataBucket", "Bucket with the data, models and reports",
                                         "zflow-local");
  zflow::StringValue workspace = p.External("DatabricksUrl", "Databricks workspace URL",
                                            "http://127.0.0.1:8790");
  zflow::StringValue connection =
      p.External("DatabricksConnectionArn", "EventBridge connection holding the Databricks token",
                 "arn:aws:events:us-east-1:123456789012:connection/databricks/local");
  zflow::StringValue run_prefix =
      Format("s3://{}/fraud/runs/{}", {bucket, zflow::ExecutionName()});

  auto preprocess = p.Add(zflow::DatabricksJob{
      .name = "preprocess",
      .workspace_url = workspace,
      .connection_arn = connection,
      .python_file = "dbfs:/zflow/fraud/preprocess.py",
      .parameters = {"--day", day, "--output", Format("{}/features/", {run_prefix}), "--summary",
                     Format("{}/data-summary.json", {run_prefix})},
      .num_workers = 2,
      .poll_seconds = 5});
  auto scaler = p.Add(zflow::Model{
      .name = "scaler-model",
      .image = "zflow/sklearn-scaler:1.2",
      .model_data_url = Format("s3://{}/fraud/scaler/model.tar.gz", {bucket}),
      .role_arn = role});
  auto scale = p.Add(zflow::BatchTransformJob{
                         .name = "scale-features",
                         .model_name = scaler.ModelName(),
                         .input_uri = Format("{}/features/", {run_prefix}),
                         .output_uri = Format("{}/scaled/", {run_prefix}),
                         .instance_type = instance_type})
                   .After(preprocess)
                   .After(scaler);
  auto train = p.Add(zflow::TrainingJob{
                         .name = "train",
                         .image = "zflow/fraud-gbm:1.0",
                         .role_arn = role,
                         .hyperparameters = {{"n_estimators", "200"},
                                             {"max_depth", "3"},
                                             {"learning_rate", "0.1"}},
                         .channels = {{"train", Format("{}/scaled/train/", {run_prefix})}},
                         .content_type = "text/csv",
                         .output_path = Format("s3://{}/fraud/models", {bucket}),
                         .instance_type = instance_type,
                         .max_runtime_seconds = 3600,
                         .metric_definitions = {{"validation:auc", "validation auc: ([0-9.]+)"}}})
                   .After(scale);
  auto model = p.Add(zflow::Model{.name = "model",
                                  .image = "zflow/fraud-gbm:1.0",
                                  .model_data_url = train.ModelArtifacts(),
                                  .role_arn = role})
                   .After(train);
  auto predict = p.Add(zflow::BatchTransformJob{
                           .name = "predict",
                           .model_name = model.ModelName(),
                           .input_uri = Format("{}/scaled/holdout/", {run_prefix}),
                           .output_uri = Format("{}/predictions/", {run_prefix}),
                           .instance_type = instance_type})
                     .After(model);
  p.Add(zflow::DatabricksJob{
            .name = "report",
            .workspace_url = workspace,
            .connection_arn = connection,
            .python_file = "dbfs:/zflow/fraud/report.py",
            .parameters = {"--predictions", Format("{}/predictions/", {run_prefix}), "--output",
                           Format("{}/report/fraud-report.pdf", {run_prefix}), "--model",
                           train.ModelArtifacts(), "--summary",
                           Format("{}/data-summary.json", {run_prefix}),
                           Format("--min-auc={}", {min_auc})},
            .num_workers = 1,
            .poll_seconds = 5})
      .After(predict);
  p.Add(zflow::EndpointDeployment{.name = "deploy",
                                  .endpoint_name = "fraud-scoring",
                                  .model_name = model.ModelName(),
                                  .instance_type = "ml.m5.large",
                                  .poll_seconds = 5})
      .After(model)
      .When(train.Metric("validation:auc") >= min_auc);
  return zflow::Main(argc, argv, p);
}
