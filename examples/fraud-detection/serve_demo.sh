#!/usr/bin/env bash
# The fraud-scoring pipeline on a local zflow serve: deployed (with its schedule), run there,
# and left on the web UI with its graph, logs, report and endpoint. Uses the server already
# listening at $ZFLOW_ENDPOINT (default http://127.0.0.1:8083), or starts one in the background.
#
#   examples/fraud-detection/serve_demo.sh [ZFLOW] [ROWS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
zflow=${1:-$root/build/zflow}
rows=${2:-100000}
example=$root/examples/fraud-detection
endpoint=${ZFLOW_ENDPOINT:-http://127.0.0.1:8083}
state=$root/.zflow
mkdir -p "$state"

if curl -sf "$endpoint/health" >/dev/null 2>&1; then
  echo "Using the zflow serve already at $endpoint"
  stop_hint="it was already running; stop it the way it was started"
else
  port=${endpoint##*:}
  port=${port%%/*}
  "$zflow" serve --port "$port" --data-dir "$state/server" --profile "$example/zflow.profile.yaml" \
    >"$state/server.log" 2>&1 &
  echo $! >"$state/server.pid"
  for _ in $(seq 1 100); do
    curl -sf "$endpoint/health" >/dev/null 2>&1 && break
    kill -0 "$(cat "$state/server.pid")" 2>/dev/null || { cat "$state/server.log"; exit 1; }
    sleep 0.1
  done
  curl -sf "$endpoint/health" >/dev/null || { echo "zflow serve did not start:"; cat "$state/server.log"; exit 1; }
  echo "Started zflow serve at $endpoint (pid $(cat "$state/server.pid"), log $state/server.log)"
  stop_hint="kill $(cat "$state/server.pid")"
fi

# The data the pipeline reads, in the profile's S3 directory.
ZFLOW_S3_ROOT=$state/s3 /usr/bin/python3 "$example/jobs/generate_data.py" --rows "$rows" \
  --output s3://zflow-local/fraud/raw/transactions.csv
"$zflow" deploy --local "$example/fraud_pipeline.yaml" --endpoint-url "$endpoint"
name=fraud-$(date +%Y%m%d-%H%M%S)
set +e
"$zflow" executions start fraud-scoring --name "$name" --wait --endpoint-url "$endpoint" \
  >"$state/$name.start"
status=$?
set -e
url=$(sed -n 's/^ *\(http[^ ]*\)$/\1/p' "$state/$name.start")
tail -n 1 "$state/$name.start"
metrics=$state/s3/zflow-local/fraud/runs/$name/report/metrics.json
[[ -f $metrics ]] && /usr/bin/python3 "$example/jobs/summarize_report.py" "$metrics"
echo
echo "The run on its graph, with every step's logs, the report and the endpoint:"
echo "  $url"
echo "Endpoints: $endpoint/ui/endpoints     All pipelines: $endpoint/ui/"
echo "Stop the server: $stop_hint"
exit $status
