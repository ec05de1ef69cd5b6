#!/usr/bin/env bash
# The fraud-scoring example end to end on a small data set, in a scratch directory: every local
# stand-in for real (Databricks, SageMaker training, transform, endpoint; Python with pandas,
# scikit-learn, matplotlib), then the endpoint is invoked and deleted.
# Usage: fraud_example.sh ZFLOW
set -euo pipefail
zflow=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
example=$root/examples/fraud-detection
tmp=$(mktemp -d)
cleanup() {
  "$zflow" endpoints delete fraud-scoring --work-dir "$tmp/work" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ZFLOW_S3_ROOT=$tmp/s3 /usr/bin/python3 "$example/jobs/generate_data.py" --rows 20000 \
  --output s3://zflow-local/fraud/raw/transactions.csv >/dev/null
"$zflow" run "$example/fraud_pipeline.yaml" --profile "$example/zflow.profile.yaml" \
  --s3-root "$tmp/s3" --work-dir "$tmp/work" --name fraud-ci-1 -q --result-json >"$tmp/result.json"
tail -n 1 "$tmp/result.json" | grep -q '"status":"SUCCEEDED"' || { cat "$tmp/result.json"; exit 1; }
run=$tmp/s3/zflow-local/fraud/runs/fraud-ci-1
head -c 4 "$run/report/fraud-report.pdf" | grep -q '%PDF' || { echo "no PDF report"; exit 1; }
# The report evaluates the held-out days at the threshold training chose on its validation rows,
# and the endpoint was deployed because the validation AUC passed the gate.
/usr/bin/python3 - "$run/report/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
h = m["holdout"]
assert h["last_day"] == "2026-11-21" and h["first_day"] == "2026-11-15", h
assert m["train"]["last_day"] < h["first_day"], m["train"]
assert 0 < m["threshold"] < 0.5, m["threshold"]
assert h["true_positives"] + h["false_negatives"] == h["fraud_cases"] > 0, h
assert 0.5 < h["roc_auc"] <= 1, h
assert m["gate"]["deployed"] and m["gate"]["value"] >= m["gate"]["minimum"], m["gate"]
assert len(m["feature_importances"]) == 7, m["feature_importances"]
PY
test -s "$tmp/s3/zflow-local/fraud/models/train-fraud-ci-1/output/model.tar.gz"
head -n 2 "$run/scaled/holdout/transactions.csv.out" | cut -d, -f2- >"$tmp/sample.csv"
scores=$("$zflow" endpoints invoke fraud-scoring --body "$tmp/sample.csv" --work-dir "$tmp/work")
[[ $(echo "$scores" | wc -l) == 2 ]] || { echo "unexpected scores: $scores"; exit 1; }
"$zflow" endpoints list --work-dir "$tmp/work" | grep -q "fraud-scoring .*InService"
"$zflow" endpoints delete fraud-scoring --work-dir "$tmp/work" >/dev/null
"$zflow" endpoints list --work-dir "$tmp/work" | grep -q "no endpoints"
echo "ok: fraud example end to end (report, model, endpoint)"
