// The fraud-scoring pipeline, declared in C++: prepare the features, then train a model and
// check data quality in parallel, then evaluate the model, then publish.
//
//   build/examples/fraud_pipeline validate
//   build/examples/fraud_pipeline compile -o out/
//   build/examples/fraud_pipeline run --mock-config examples/fraud-detection/mocks.json
//       --test-case HappyPath --virtual-clock
#include <zflow/main.h>
#include <zflow/pipeline.h>

int main(int argc, char** argv) {
  zflow::Pipeline p("fraud-scoring",
                    {.comment = "Daily fraud model: features, training, evaluation.",
                     .default_retry = zflow::RetryPolicy{.errors = {"Lambda.ServiceException",
                                                                    "Lambda.TooManyRequestsException"},
                                                         .interval_seconds = 2,
                                                         .max_attempts = 3},
                     .default_timeout_seconds = 3600});
  zflow::Value day = p.Parameter("day", "2026-11-21");
  zflow::Value bucket = p.Parameter("bucket", "s3://zflow-local/fraud");

  auto prepare = p.Add(zflow::LambdaFunction{
      .name = "prepare-features", .function_name = "fraud-prepare",
      .payload = {{"day", day}, {"bucket", bucket}}});
  auto train = p.Add(zflow::TrainingJob{
                         .name = "train",
                         .image = "fraud-gbm:latest",
                         .role_arn = "arn:aws:iam::123456789012:role/zflow-sagemaker",
                         .hyperparameters = {{"max_depth", "6"}, {"eta", "0.2"}},
                         .channels = {{"train", prepare.Output("Payload.features_uri")}},
                         .output_path = "s3://zflow-local/fraud/models/",
                         .max_runtime_seconds = 7200})
                   .After(prepare)
                   .Retry({.errors = {"SageMaker.AmazonSageMakerException"},
                           .interval_seconds = 30,
                           .max_attempts = 3});
  auto quality = p.Add(zflow::LambdaFunction{
                           .name = "data-quality", .function_name = "fraud-data-quality",
                           .payload = {{"features", prepare.Output("Payload.features_uri")}}})
                     .After(prepare);
  auto evaluate = p.Add(zflow::LambdaFunction{
                            .name = "evaluate", .function_name = "fraud-evaluate",
                            .payload = {{"model", train.ModelArtifacts()},
                                        {"quality", quality.Output("Payload.status")}}})
                      .After(train)
                      .After(quality);
  p.Add(zflow::LambdaFunction{.name = "publish", .function_name = "fraud-publish",
                              .payload = {{"model", train.ModelArtifacts()},
                                          {"auc", evaluate.Output("Payload.auc")}}})
      .After(evaluate);
  return zflow::Main(argc, argv, p);
}
