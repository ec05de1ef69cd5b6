#!/usr/bin/env bash
# The zflow commands that are clients of zflow serve, as a user runs them: deploy --local
# (create, then update, with a schedule), executions list / describe / history / logs / stop /
# redrive, and what they say when an execution or the server is not there.
# Usage: serve_cli.sh ZFLOW
set -euo pipefail
zflow=$1
tmp=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

cat >"$tmp/say.py" <<'PY'
def handler(event, context):
    print("saying", event["word"])
    if event["word"] == "boom":
        raise ValueError("no booms today")
    return {"said": event["word"]}
PY
printf 'lambda:\n  say: {python: %s}\n' "$tmp/say.py" >"$tmp/zflow.profile.yaml"
cat >"$tmp/greeter.asl.json" <<'JSON'
{"StartAt": "Say", "States": {
  "Say": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "say", "Payload": {"word.$": "$.word"}},
          "ResultSelector": {"said.$": "$.Payload.said"}, "Next": "Hold"},
  "Hold": {"Type": "Choice", "Choices": [{"Variable": "$.said", "StringEquals": "wait",
           "Next": "Long"}], "Default": "Done"},
  "Long": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
  "Done": {"Type": "Pass", "End": true}}}
JSON

# Nothing listens yet: the client says how to start a server.
export ZFLOW_ENDPOINT=http://127.0.0.1:9
set +e
out=$("$zflow" executions list 2>&1); code=$?
set -e
[ "$code" = 2 ] || fail "list without a server exited $code: $out"
grep -q "start it with \`zflow serve\`" <<<"$out" || fail "no hint without a server: $out"

"$zflow" serve --port 0 --data-dir "$tmp/data" --profile "$tmp/zflow.profile.yaml" --no-auth \
  >"$tmp/serve.out" 2>"$tmp/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/serve.out" 2>/dev/null && break; sleep 0.05; done
port=$(grep -o '127.0.0.1:[0-9]*' "$tmp/serve.out" | head -1 | cut -d: -f2)
[ -n "$port" ] || fail "zflow serve did not start: $(cat "$tmp/serve.err")"
export ZFLOW_ENDPOINT=http://127.0.0.1:$port
machine=arn:aws:states:us-east-1:123456789012:stateMachine:greeter

out=$("$zflow" deploy --local "$tmp/greeter.asl.json" --schedule 'rate(1 day)')
grep -q "Deployed greeter to http://127.0.0.1:$port (created): $machine" <<<"$out" ||
  fail "deploy said: $out"
grep -q "Schedule rate(1 day)" <<<"$out" || fail "no schedule in: $out"
out=$("$zflow" deploy --local "$tmp/greeter.asl.json")
grep -q "(unchanged)" <<<"$out" || fail "a second deploy of the same file: $out"
sed -i "s/3600/7200/" "$tmp/greeter.asl.json"
out=$("$zflow" deploy --local "$tmp/greeter.asl.json")
grep -q "(updated)" <<<"$out" || fail "a deploy of a changed file did not update: $out"

# The fraud pipeline in YAML, then in Python: the same state machine, so the second is
# "unchanged" (when the Python module is built).
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$zflow" deploy --local "$root/examples/fraud-detection/fraud_pipeline.yaml")
grep -q "Deployed fraud-scoring .*(created)" <<<"$out" || fail "deploy of the YAML pipeline: $out"
if [[ -e $(dirname "$zflow")/python/zflow/__init__.py ]]; then
  out=$("$zflow" deploy --local "$root/examples/fraud-detection/fraud_pipeline.py")
  grep -q "Deployed fraud-scoring .*(unchanged)" <<<"$out" || fail "deploy of the Python pipeline: $out"
  grep -q "Schedule cron(0 6 \* \* ? \*)" <<<"$out" || fail "the Python pipeline's schedule: $out"
fi

start() {  # NAME WORD: StartExecution as any client sends it
  curl -sf -X POST "http://127.0.0.1:$port/" -H 'X-Amz-Target: AWSStepFunctions.StartExecution' \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -d "{\"stateMachineArn\": \"$machine\", \"name\": \"$1\", \"input\": \"{\\\"word\\\": \\\"$2\\\"}\"}" \
    >/dev/null || fail "StartExecution $1"
}
await() {  # NAME STATUS
  for _ in $(seq 200); do
    "$zflow" executions describe "greeter:$1" | grep -q "\"status\":\"$2\"" && return 0
    sleep 0.05
  done
  fail "greeter:$1 never became $2: $("$zflow" executions describe "greeter:$1")"
}
start hello hello
start boom boom
start waiting wait
await hello SUCCEEDED
await boom FAILED

list=$("$zflow" executions list --state-machine greeter)
for name in hello boom waiting; do grep -q "^$name " <<<"$list" || fail "$name not listed: $list"; done
grep -q "^hello .*SUCCEEDED" <<<"$list" || fail "hello is not SUCCEEDED in: $list"
[ "$("$zflow" executions list --status FAILED --json | grep -o '"name":"[a-z]*"')" = '"name":"boom"' ] ||
  fail "--status FAILED did not list boom alone"

history=$("$zflow" executions history greeter:hello)
grep -q "ExecutionStarted" <<<"$history" && grep -q "ExecutionSucceeded" <<<"$history" ||
  fail "history of hello: $history"
first=$("$zflow" executions history greeter:hello --reverse | head -1)
grep -q ExecutionSucceeded <<<"$first" || fail "--reverse starts with: $first"

logs=$("$zflow" executions logs greeter:boom)
grep -q "saying boom" <<<"$logs" || fail "logs of boom: $logs"

# Stop the waiting one, then redrive it: it runs from the state that was cut short.
for _ in $(seq 200); do
  "$zflow" executions history greeter:waiting | grep -q WaitStateEntered && break; sleep 0.05
done
"$zflow" executions stop greeter:waiting --error Manual --cause "testing" >/dev/null
"$zflow" executions describe greeter:waiting | grep -q '"status":"ABORTED"' || fail "stop"
"$zflow" executions redrive greeter:waiting >/dev/null
"$zflow" executions describe greeter:waiting | grep -q '"redriveCount":1' || fail "redrive"

set +e
out=$("$zflow" executions describe greeter:nope 2>&1); code=$?
set -e
[ "$code" = 1 ] || fail "describe of a missing execution exited $code"
grep -q "ExecutionDoesNotExist" <<<"$out" || fail "describe of a missing execution said: $out"
echo "ok: deploy, list, describe, history, logs, stop, redrive and errors through zflow serve"
