#!/usr/bin/env bash
# A human-approval step: a .waitForTaskToken task with no local handler waits until
# `zflow task-token` answers it from another process.
# Usage: task_token_cli.sh ZFLOW
set -euo pipefail
zflow=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/approve.asl.json" <<'JSON'
{"StartAt": "Approve", "States": {
  "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
              "Parameters": {"QueueUrl": "https://sqs.local/q", "MessageBody": {"token.$": "$$.Task.Token"}},
              "HeartbeatSeconds": 600, "ResultPath": "$.approval", "End": true}}}
JSON
"$zflow" run "$tmp/approve.asl.json" --input '{"model": "m-1"}' --work-dir "$tmp/work" \
  --result-json >"$tmp/out.txt" 2>"$tmp/err.txt" &
run=$!
token=
for _ in $(seq 1 100); do
  token=$(grep -o 'zflow-[0-9a-f]\{64\}' "$tmp/err.txt" | head -1 || true)
  [[ -n "$token" ]] && break
  sleep 0.05
done
[[ -n "$token" ]] || { echo "no token printed"; cat "$tmp/err.txt"; exit 1; }
"$zflow" task-token heartbeat "$token" --work-dir "$tmp/work" >/dev/null
"$zflow" task-token succeed "$token" --output '{"approved": true}' --work-dir "$tmp/work" >/dev/null
wait "$run"
tail -n 1 "$tmp/out.txt" | grep -q '"approval":{"approved":true}' || { cat "$tmp/out.txt"; exit 1; }
# The task is answered: the same token is refused now (no run takes it).
if "$zflow" task-token succeed "$token" --work-dir "$tmp/work" 2>/dev/null; then
  echo "an answered token was accepted"; exit 1
fi
echo "ok: task token answered from another process"
