#!/usr/bin/env bash
# Stops a varied run after each of its events and resumes it, every time in a new `zflow`
# process, from the history file cut at that event: the run must end the same way, with the
# same events (timestamps aside: each process's virtual clock starts at its own real time).
# The machine: a command task retried with jittered backoff, a Catch, a Wait, a Parallel, an
# inline Map of command tasks, a distributed Map reading from and writing to the local S3.
# Usage: resume_every_event.sh ZFLOW
set -euo pipefail
zflow=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/s3/data"
echo '[{"x": 1}, {"x": 2}, {"x": 3}]' >"$tmp/s3/data/items.json"
cat >"$tmp/m.json" <<'JSON'
{"StartAt": "Flaky", "States": {
  "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::zflow:flaky",
    "Parameters": {"attempt.$": "$$.State.RetryCount"}, "ResultPath": "$.flaky",
    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "BackoffRate": 1.5,
               "JitterStrategy": "FULL", "MaxAttempts": 3}], "Next": "Broken"},
  "Broken": {"Type": "Task", "Resource": "arn:aws:states:::zflow:broken",
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Nap"}],
    "End": true},
  "Nap": {"Type": "Wait", "Seconds": 600, "Next": "Fan"},
  "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each", "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
    {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 5, "End": true}}}]},
  "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ResultPath": "$.each",
    "ItemProcessor": {"StartAt": "Double", "States": {"Double": {"Type": "Task",
      "Resource": "arn:aws:states:::zflow:double", "End": true}}}, "Next": "Dist"},
  "Dist": {"Type": "Map", "ResultPath": "$.dist",
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
      "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "data", "Key": "items.json"}},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
      "Parameters": {"Bucket": "out", "Prefix": "runs"}},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
      "StartAt": "Inc", "States": {"Inc": {"Type": "Pass",
        "Parameters": {"y.$": "States.MathAdd($.x, 1)"}, "End": true}}},
    "End": true}}}
JSON
cat >"$tmp/flaky.py" <<'PY'
import json, sys
event = json.load(sys.stdin)
if event["attempt"] < 2:
    print(json.dumps({"errorType": "Flaky", "errorMessage": "attempt %d" % event["attempt"]}))
    sys.exit(1)
print(json.dumps({"attempts": event["attempt"] + 1}))
PY
cat >"$tmp/broken.py" <<'PY'
import json, sys
print(json.dumps({"errorType": "Broken", "errorMessage": "always"}))
sys.exit(1)
PY
cat >"$tmp/double.py" <<'PY'
import json, sys
print(json.dumps(json.load(sys.stdin) * 2))
PY
run=("$zflow" run "$tmp/m.json" --virtual-clock -q --s3-root "$tmp/s3" --work-dir "$tmp/work"
     --task "arn:aws:states:::zflow:flaky=/usr/bin/python3 $tmp/flaky.py"
     --task "arn:aws:states:::zflow:broken=/usr/bin/python3 $tmp/broken.py"
     --task "arn:aws:states:::zflow:double=/usr/bin/python3 $tmp/double.py")
"${run[@]}" --input '{"items": [1, 2, 3]}' --history "$tmp/full.json" --result-json >"$tmp/full.out" \
  || fail "the uninterrupted run failed: $(cat "$tmp/full.out")"
# The events without their timestamps, one per line.
strip() { node -e 'const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const e of h.events) { delete e.timestamp; console.log(JSON.stringify(e)); }' "$1"; }
strip "$tmp/full.json" >"$tmp/full.events"
events=$(wc -l <"$tmp/full.events")
[ "$events" -gt 40 ] || fail "only $events events"
for k in $(seq 1 $((events - 1))); do
  head -n $((k + 2)) "$tmp/full.json" >"$tmp/cut.json"  # two header lines, then k events
  "${run[@]}" --resume "$tmp/cut.json" --result-json >"$tmp/cut.out" 2>"$tmp/cut.err" \
    || fail "resume after event $k: $(cat "$tmp/cut.err")"
  cmp -s <(tail -n 1 "$tmp/cut.out") <(tail -n 1 "$tmp/full.out") \
    || fail "resume after event $k ended differently: $(tail -n 1 "$tmp/cut.out")"
  strip "$tmp/cut.json" >"$tmp/cut.events"
  cmp -s "$tmp/cut.events" "$tmp/full.events" \
    || { diff "$tmp/full.events" "$tmp/cut.events" | head -5; fail "resume after event $k: other events"; }
done
echo "ok: resumed after each of $((events - 1)) events in a new process, same end and events"
