#!/usr/bin/env bash
# The fraud-scoring pipeline end to end on this machine: synthetic data, Databricks
# preprocessing, a scikit-learn batch transform, SageMaker training in script mode, batch
# predictions, a PDF report, and a real-time endpoint that keeps serving after the run.
#
#   examples/fraud-detection/demo.sh [ZFLOW] [ROWS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
zflow=${1:-$root/build/zflow}
rows=${2:-100000}
example=$root/examples/fraud-detection
s3=$root/.zflow/s3
work=$root/.zflow/work
name=fraud-$(date +%Y%m%d-%H%M%S)
mkdir -p "$work"  # the run log goes there before zflow creates it

ZFLOW_S3_ROOT=$s3 /usr/bin/python3 "$example/jobs/generate_data.py" --rows "$rows" \
  --output s3://zflow-local/fraud/raw/transactions.csv
"$zflow" run "$example/fraud_pipeline.yaml" --profile "$example/zflow.profile.yaml" \
  --s3-root "$s3" --work-dir "$work" --name "$name" --progress --result-json >"$work/$name.log"
tail -n 1 "$work/$name.log" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("status:", r["status"])
if r["status"] != "SUCCEEDED":
    print("error:", r.get("error"), r.get("cause", "")[:500]); sys.exit(1)'
run=$s3/zflow-local/fraud/runs/$name
echo "report:   $run/report/fraud-report.pdf"
/usr/bin/python3 "$example/jobs/summarize_report.py" "$run/report/metrics.json"
# Three transactions (scaled features, without the label) scored by the endpoint.
head -n 3 "$run/scaled/holdout/transactions.csv.out" | cut -d, -f2- >"$work/sample.csv"
echo "endpoint: fraud-scoring (zflow endpoints list --work-dir $work)"
echo "scores of $work/sample.csv:"
"$zflow" endpoints invoke fraud-scoring --body "$work/sample.csv" --work-dir "$work"
