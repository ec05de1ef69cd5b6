"""The fraud-scoring pipeline in Python: the same pipeline as fraud_pipeline.yaml and
fraud_pipeline.cc, and it compiles to the same state machine and template.

    zflow compile examples/fraud-detection/fraud_pipeline.py -o out/
    zflow run examples/fraud-detection/fraud_pipeline.py --virtual-clock \\
        --mock-config examples/fraud-detection/mocks.json --test-case HappyPath

or from Python (a notebook shows `p` as its step graph):

    from fraud_pipeline import p
    result = p.run(virtual_clock=True, mocks="mocks.json", test_case="HappyPath")
"""
import sys

import zflow

p = zflow.Pipeline(
    "fraud-scoring",
    comment="Daily fraud model: features, training, batch scoring, report, endpoint.",
    schedule="cron(0 6 * * ? *)",
    tags={"project": "fraud-scoring"},
    default_retry=zflow.Retry(
        ["SageMaker.AmazonSageMakerException", "Lambda.TooManyRequestsException"],
        interval_seconds=30, max_attempts=3),
    default_timeout_seconds=7200,
    on_failure=zflow.OnFailure("notify-failure", function_name="fraud-pipeline-alerts",
                               payload={"pipeline": "fraud-scoring",
                                        "execution": zflow.execution_name(),
                                        "error": zflow.failure_error()}),
)

day = p.parameter("day", "2026-11-21")
instance_type = p.parameter("instance_type", "ml.m5.xlarge")
# The endpoint is deployed only when the validation AUC reaches it.
min_auc = p.parameter("min_auc", 0.75)

role = p.external("SageMakerRoleArn", description="Role the SageMaker jobs and models run as",
                  local="arn:aws:iam::123456789012:role/zflow-local-sagemaker")
bucket = p.external("DataBucket", description="Bucket with the data, models and reports",
                    local="zflow-local")
databricks_url = p.external("DatabricksUrl", description="Databricks workspace URL",
                            local="http://127.0.0.1:8790")
databricks_connection = p.external(
    "DatabricksConnectionArn", description="EventBridge connection holding the Databricks token",
    local="arn:aws:events:us-east-1:123456789012:connection/databricks/local")

run_prefix = f"s3://{bucket}/fraud/runs/{zflow.execution_name()}"

preprocess = p.databricks(
    "preprocess", workspace_url=databricks_url, connection_arn=databricks_connection,
    python_file="dbfs:/zflow/fraud/preprocess.py",
    parameters=["--day", day, "--output", f"{run_prefix}/features/",
                "--summary", f"{run_prefix}/data-summary.json"],
    num_workers=2, poll_seconds=5)

scaler = p.model("scaler-model", image="zflow/sklearn-scaler:1.2",
                 model_data_url=f"s3://{bucket}/fraud/scaler/model.tar.gz", role_arn=role)

scale = p.transform("scale-features", model_name=scaler.model_name,
                    input_uri=f"{run_prefix}/features/", output_uri=f"{run_prefix}/scaled/",
                    instance_type=instance_type, after=[preprocess, scaler])

train = p.training(
    "train", image="zflow/fraud-gbm:1.0", role_arn=role,
    hyperparameters={"n_estimators": 200, "max_depth": 3, "learning_rate": 0.1},
    channels={"train": f"{run_prefix}/scaled/train/"}, content_type="text/csv",
    output_path=f"s3://{bucket}/fraud/models", instance_type=instance_type,
    max_runtime_seconds=3600,
    metric_definitions={"validation:auc": "validation auc: ([0-9.]+)"},
    after=scale)

model = p.model("model", image="zflow/fraud-gbm:1.0", model_data_url=train.model_artifacts,
                role_arn=role, after=train)

predict = p.transform("predict", model_name=model.model_name,
                      input_uri=f"{run_prefix}/scaled/holdout/",
                      output_uri=f"{run_prefix}/predictions/", instance_type=instance_type,
                      after=model)

p.databricks(
    "report", workspace_url=databricks_url, connection_arn=databricks_connection,
    python_file="dbfs:/zflow/fraud/report.py",
    parameters=["--predictions", f"{run_prefix}/predictions/",
                "--output", f"{run_prefix}/report/fraud-report.pdf",
                "--model", train.model_artifacts,
                "--summary", f"{run_prefix}/data-summary.json",
                f"--min-auc={min_auc}"],
    num_workers=1, poll_seconds=5, after=predict)

p.endpoint("deploy", endpoint_name="fraud-scoring", model_name=model.model_name,
           instance_type="ml.m5.large", poll_seconds=5, after=model,
           when=train.metric("validation:auc") >= min_auc)

if __name__ == "__main__":
    sys.exit(p.main())
