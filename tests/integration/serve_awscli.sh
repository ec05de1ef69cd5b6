#!/usr/bin/env bash
# zflow serve driven by the AWS CLI (Debian's awscli 2.9, /usr/bin/aws) as a user drives Step
# Functions: machines, executions, paging, history, stop, task tokens, redrive, versions and
# aliases, tags, activities and AWS's error codes, against a server without credentials; then
# signing against a server with credentials (the right secret works, a wrong one is refused).
# The CLI's model predates versions, aliases and redrive: sfn_model.py adds them (AWS_DATA_PATH),
# as `aws configure add-model` would.
# Usage: serve_awscli.sh ZFLOW
set -euo pipefail
zflow=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

aws_cli=/usr/bin/aws
[ -x "$aws_cli" ] || fail "$aws_cli is missing: apt-get install awscli"
export HOME="$tmp/home" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=AKIDZFLOW AWS_SECRET_ACCESS_KEY=s3cret AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_DATA_PATH="$tmp/models"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
/usr/bin/python3 "$here/sfn_model.py" --cli "$tmp/models" >/dev/null || fail "cannot write the model"

# Starts `zflow serve` on a free port with the given options; sets $endpoint.
start_server() {
  local name=$1
  shift
  "$zflow" serve --port 0 --data-dir "$tmp/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  for _ in $(seq 1 200); do grep -q "listening on" "$tmp/$name.out" 2>/dev/null && break; sleep 0.05; done
  endpoint=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/$name.out" | head -n 1) \
    || { cat "$tmp/$name.err" >&2; fail "zflow serve ($name) did not start"; }
}

sfn() { "$aws_cli" --endpoint-url "$endpoint" stepfunctions "$@"; }
# `sfn ... --query Q --output text`, failing loudly when the call fails.
get() {
  local out
  out=$(sfn "$@" --output text 2>"$tmp/stderr") || fail "aws stepfunctions $1 failed: $(cat "$tmp/stderr")"
  printf '%s' "$out"
}
# `get`, its values (one page a line, tab-separated) joined by single spaces.
list() { get "$@" | tr -s '\t\n' '  ' | sed 's/ $//'; }
# Prints the Python expression $1 evaluated on the JSON document on stdin (named d).
py_json() { /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
# The same value in two places, or a failure naming what differs.
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }
# A call that must fail with AWS error code $1.
expect_error() {
  local code=$1 out
  shift
  if out=$(sfn "$@" 2>&1); then fail "aws stepfunctions $1 succeeded, expected $code: $out"; fi
  grep -q "An error occurred ($code)" <<<"$out" || fail "aws stepfunctions $1: expected $code, got: $out"
}
# Polls DescribeExecution until execution $1's status is $2 (bounded); prints the fields that
# the JMESPath list $3 (default: name) picks from that answer, tab-separated.
await_status() {
  local out status=
  for _ in $(seq 1 50); do
    out=$(get describe-execution --execution-arn "$1" --query "[status, ${3:-name}]")
    status=${out%%$'\t'*}
    [ "$status" = "$2" ] && { printf '%s' "${out#*$'\t'}"; return 0; }
    [ "$status" = RUNNING ] || break
    sleep 0.1
  done
  fail "$1 is $status, expected $2"
}
# The token the newest TaskScheduled event of execution $1 carries in its MessageBody, once it
# is there and differs from $2 (bounded).
await_token() {
  local params token=
  for _ in $(seq 1 50); do
    params=$(get get-execution-history --execution-arn "$1" --reverse-order \
      --query "events[?type=='TaskScheduled'] | [0].taskScheduledEventDetails.parameters")
    if [ "$params" != None ]; then
      token=$(py_json 'd["MessageBody"]["token"]' <<<"$params")
      [ "$token" != "${2:-}" ] && { printf '%s' "$token"; return 0; }
    fi
    sleep 0.1
  done
  fail "no new task token in the history of $1"
}

role=arn:aws:iam::123456789012:role/zflow-test
prefix=arn:aws:states:us-east-1:123456789012
pass_def='{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"got.$":"$.x"},"Next":"Q"},"Q":{"Type":"Pass","End":true}}}'
v2_def='{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v2","End":true}}}'
token_def='{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q","MessageBody":{"token.$":"$$.Task.Token","x.$":"$.x"}},"End":true}}}'
date_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?\+00:00$'

start_server open --no-auth

# ---- a state machine: create, describe, list ----
pass=$(get create-state-machine --name pass --definition "$pass_def" --role-arn "$role" \
  --tags key=team,value=ml --query stateMachineArn)
expect_eq "CreateStateMachine ARN" "$pass" "$prefix:stateMachine:pass"
out=$(get describe-state-machine --state-machine-arn "$pass" \
  --query '[name, status, type, roleArn, creationDate, definition]')
IFS=$'\t' read -r name status type role_arn created definition <<<"$out"
expect_eq "DescribeStateMachine" "$name $status $type $role_arn" "pass ACTIVE STANDARD $role"
expect_eq "DescribeStateMachine definition" "$definition" "$pass_def"
[[ "$created" =~ $date_re ]] || fail "creationDate is not a date: $created"
expect_eq "ListStateMachines" "$(get list-state-machines --query 'stateMachines[].name')" pass

# ---- several executions, followed ----
for i in 1 2 3 4 5; do
  arn=$(get start-execution --state-machine-arn "$pass" --name "e$i" --input "{\"x\":$i}" \
    --query executionArn)
  expect_eq "StartExecution ARN" "$arn" "$prefix:execution:pass:e$i"
done
for _ in $(seq 1 50); do
  done_count=$(get list-executions --state-machine-arn "$pass" --status-filter SUCCEEDED \
    --query 'length(executions)')
  [ "$done_count" = 5 ] && break
  sleep 0.1
done
expect_eq "executions SUCCEEDED" "$done_count" 5
out=$(get describe-execution --execution-arn "$prefix:execution:pass:e3" \
  --query '[name, stateMachineArn, input, output, startDate, stopDate]')
IFS=$'\t' read -r name machine input output started stopped <<<"$out"
expect_eq "DescribeExecution e3" "$name $machine $input $output" "e3 $pass {\"x\":3} {\"got\":3}"
[[ "$started" =~ $date_re && "$stopped" =~ $date_re ]] || fail "not dates: $started, $stopped"

# Pages of 2 by hand (max-items / NextToken / starting-token), newest first.
page=$(sfn list-executions --state-machine-arn "$pass" --status-filter SUCCEEDED --max-items 2 \
  --page-size 2 --output json) || fail "ListExecutions: $page"
names_of='" ".join(e["name"] for e in d["executions"])'
names=$(py_json "$names_of" <<<"$page")
expect_eq "ListExecutions page 1" "$names" "e5 e4"
seen=$names
for expected in "e3 e2" "e1"; do
  next=$(py_json 'd.get("NextToken", "")' <<<"$page")
  [ -n "$next" ] || fail "ListExecutions: no NextToken after '$seen'"
  page=$(sfn list-executions --state-machine-arn "$pass" --status-filter SUCCEEDED --max-items 2 \
    --page-size 2 --starting-token "$next" --output json) || fail "ListExecutions: $page"
  names=$(py_json "$names_of" <<<"$page")
  expect_eq "ListExecutions after '$seen'" "$names" "$expected"
  seen="$seen $names"
done
grep -q NextToken <<<"$page" && fail "ListExecutions: a NextToken after the last page"
# The CLI follows the server's tokens itself, 2 at a time.
expect_eq "ListExecutions, all pages" \
  "$(list list-executions --state-machine-arn "$pass" --page-size 2 --query 'executions[].name')" \
  "e5 e4 e3 e2 e1"
expect_eq "ListExecutions FAILED" \
  "$(get list-executions --state-machine-arn "$pass" --status-filter FAILED --query 'length(executions)')" 0

# ---- execution history, forward and reverse, in pages ----
e1="$prefix:execution:pass:e1"
forward=$(list get-execution-history --execution-arn "$e1" --page-size 2 --query 'events[].type')
expect_eq "GetExecutionHistory" "$forward" \
  "ExecutionStarted PassStateEntered PassStateExited PassStateEntered PassStateExited ExecutionSucceeded"
expect_eq "GetExecutionHistory ids" \
  "$(list get-execution-history --execution-arn "$e1" --page-size 4 --query 'events[].id')" "1 2 3 4 5 6"
reverse=$(list get-execution-history --execution-arn "$e1" --reverse-order --page-size 4 \
  --query 'events[].type')
expect_eq "GetExecutionHistory reversed" "$reverse" "$(tr ' ' '\n' <<<"$forward" | tac | paste -sd ' ')"
first=$(sfn get-execution-history --execution-arn "$e1" --max-items 3 --page-size 2 --output json) \
  || fail "GetExecutionHistory: $first"
expect_eq "GetExecutionHistory, the first 3" "$(py_json '[e["id"] for e in d["events"]]' <<<"$first")" \
  "[1, 2, 3]"
next=$(py_json 'd["NextToken"]' <<<"$first")
expect_eq "GetExecutionHistory from a token" \
  "$(list get-execution-history --execution-arn "$e1" --page-size 2 --starting-token "$next" --query 'events[].id')" \
  "4 5 6"
stamp=$(get get-execution-history --execution-arn "$e1" --query 'events[0].timestamp')
[[ "$stamp" =~ $date_re ]] || fail "timestamp is not a date: $stamp"

# ---- task tokens, stop, redrive ----
token_sm=$(get create-state-machine --name token --definition "$token_def" --role-arn "$role" \
  --query stateMachineArn)
for name in t-ok t-fail t-stop; do
  get start-execution --state-machine-arn "$token_sm" --name "$name" --input "{\"x\":\"$name\"}" \
    --query executionArn >/dev/null
done
ok="$prefix:execution:token:t-ok"
failing="$prefix:execution:token:t-fail"
stopping="$prefix:execution:token:t-stop"
ok_token=$(await_token "$ok")
fail_token=$(await_token "$failing")
await_token "$stopping" >/dev/null
expect_eq "ListExecutions RUNNING" \
  "$(get list-executions --state-machine-arn "$token_sm" --status-filter RUNNING --query 'executions[].name')" \
  "t-stop	t-fail	t-ok"

sfn send-task-success --task-token "$ok_token" --task-output '{"ok":true}' >/dev/null \
  || fail "SendTaskSuccess"
expect_eq "output after SendTaskSuccess" "$(await_status "$ok" SUCCEEDED output)" '{"ok":true}'
expect_error TaskDoesNotExist send-task-success --task-token "$ok_token" --task-output '{}'
expect_error InvalidToken send-task-success --task-token not-a-token --task-output '{}'
expect_error InvalidOutput send-task-success --task-token "$fail_token" --task-output '{nope'

sfn send-task-failure --task-token "$fail_token" --error Oops --cause "it broke" >/dev/null \
  || fail "SendTaskFailure"
expect_eq "error after SendTaskFailure" "$(await_status "$failing" FAILED 'error, cause, redriveStatus')" \
  "Oops	it broke	REDRIVABLE"

stop_date=$(get stop-execution --execution-arn "$stopping" --error Manual --cause testing \
  --query stopDate)
[[ "$stop_date" =~ $date_re ]] || fail "StopExecution stopDate: $stop_date"
expect_eq "after StopExecution" \
  "$(get describe-execution --execution-arn "$stopping" --query '[status, error, cause]')" \
  "ABORTED	Manual	testing"

# The failed one, redriven: its task is scheduled again with a new token.
redrive_date=$(get redrive-execution --execution-arn "$failing" --query redriveDate)
[[ "$redrive_date" =~ $date_re ]] || fail "RedriveExecution redriveDate: $redrive_date"
again=$(await_token "$failing" "$fail_token")
sfn send-task-success --task-token "$again" --task-output '{"second":"try"}' >/dev/null \
  || fail "SendTaskSuccess after the redrive"
expect_eq "after the redrive" "$(await_status "$failing" SUCCEEDED 'output, redriveCount')" \
  '{"second":"try"}	1'
get get-execution-history --execution-arn "$failing" --query 'events[].type' | grep -q ExecutionRedriven \
  || fail "no ExecutionRedriven event"
expect_error ExecutionNotRedrivable redrive-execution --execution-arn "$failing"

# ---- versions and aliases ----
v1=$(get publish-state-machine-version --state-machine-arn "$pass" --description one \
  --query stateMachineVersionArn)
expect_eq "PublishStateMachineVersion" "$v1" "$pass:1"
alias_arn=$(get create-state-machine-alias --name prod \
  --routing-configuration "stateMachineVersionArn=$v1,weight=100" --query stateMachineAliasArn)
expect_eq "CreateStateMachineAlias" "$alias_arn" "$pass:prod"
sfn update-state-machine --state-machine-arn "$pass" --definition "$v2_def" >/dev/null \
  || fail "UpdateStateMachine"
via=$(get start-execution --state-machine-arn "$alias_arn" --name via-alias --input '{"x":"v1"}' \
  --query executionArn)
expect_eq "an execution through the alias" \
  "$(await_status "$via" SUCCEEDED 'output, stateMachineAliasArn, stateMachineVersionArn')" \
  "{\"got\":\"v1\"}	$alias_arn	$v1"
latest=$(get start-execution --state-machine-arn "$pass" --name latest --query executionArn)
expect_eq "an execution of the machine" "$(await_status "$latest" SUCCEEDED output)" '"v2"'
v2=$(get publish-state-machine-version --state-machine-arn "$pass" --query stateMachineVersionArn)
expect_eq "PublishStateMachineVersion again" "$v2" "$pass:2"
sfn update-state-machine-alias --state-machine-alias-arn "$alias_arn" \
  --routing-configuration "stateMachineVersionArn=$v2,weight=100" --description "now two" >/dev/null \
  || fail "UpdateStateMachineAlias"
expect_eq "DescribeStateMachineAlias" \
  "$(get describe-state-machine-alias --state-machine-alias-arn "$alias_arn" --query '[name, description, routingConfiguration[0].stateMachineVersionArn, routingConfiguration[0].weight]')" \
  "prod	now two	$v2	100"
via2=$(get start-execution --state-machine-arn "$alias_arn" --name via-alias-2 --query executionArn)
expect_eq "through the updated alias" "$(await_status "$via2" SUCCEEDED output)" '"v2"'
expect_eq "ListStateMachineVersions" \
  "$(get list-state-machine-versions --state-machine-arn "$pass" --query 'stateMachineVersions[].stateMachineVersionArn')" \
  "$v2	$v1"
expect_eq "ListStateMachineAliases" \
  "$(get list-state-machine-aliases --state-machine-arn "$pass" --query 'stateMachineAliases[].stateMachineAliasArn')" \
  "$alias_arn"
expect_eq "ListExecutions of version 1" \
  "$(get list-executions --state-machine-arn "$v1" --query 'executions[].name')" via-alias
expect_eq "DescribeStateMachine of version 1" \
  "$(get describe-state-machine --state-machine-arn "$v1" --query definition)" "$pass_def"
expect_error ConflictException delete-state-machine-version --state-machine-version-arn "$v2"

# ---- tags ----
sfn tag-resource --resource-arn "$pass" --tags key=env,value=dev key=owner,value=zflow >/dev/null \
  || fail "TagResource"
expect_eq "ListTagsForResource" \
  "$(get list-tags-for-resource --resource-arn "$pass" --query 'tags[].[key, value][]')" \
  "env	dev	owner	zflow	team	ml"
sfn untag-resource --resource-arn "$pass" --tag-keys env owner >/dev/null || fail "UntagResource"
expect_eq "tags after UntagResource" \
  "$(get list-tags-for-resource --resource-arn "$pass" --query 'tags[].[key, value][]')" "team	ml"
expect_error ResourceNotFound list-tags-for-resource --resource-arn "$prefix:stateMachine:gone"

# ---- activities ----
activity=$(get create-activity --name review --query activityArn)
expect_eq "CreateActivity" "$activity" "$prefix:activity:review"
expect_eq "DescribeActivity" "$(get describe-activity --activity-arn "$activity" --query name)" review
expect_eq "ListActivities" "$(get list-activities --query 'activities[].name')" review
worker_sm=$(get create-state-machine --name reviewed --role-arn "$role" --query stateMachineArn \
  --definition "{\"StartAt\":\"Review\",\"States\":{\"Review\":{\"Type\":\"Task\",\"Resource\":\"$activity\",\"HeartbeatSeconds\":30,\"End\":true}}}")
reviewed=$(get start-execution --state-machine-arn "$worker_sm" --name doc-7 --input '{"doc":7}' \
  --query executionArn)
task=$(sfn get-activity-task --activity-arn "$activity" --worker-name w1 --output json) \
  || fail "GetActivityTask: $task"
task_input=$(py_json 'd["input"]' <<<"$task")
expect_eq "GetActivityTask input" "$task_input" '{"doc":7}'
task_token=$(py_json 'd["taskToken"]' <<<"$task")
sfn send-task-heartbeat --task-token "$task_token" >/dev/null || fail "SendTaskHeartbeat"
sfn send-task-success --task-token "$task_token" --task-output '{"approved":true}' >/dev/null \
  || fail "SendTaskSuccess for the activity"
expect_eq "the activity's output" "$(await_status "$reviewed" SUCCEEDED output)" '{"approved":true}'

# ---- errors, by code ----
expect_error ExecutionDoesNotExist describe-execution --execution-arn "$prefix:execution:pass:nope"
expect_error ExecutionDoesNotExist get-execution-history --execution-arn "$prefix:execution:pass:nope"
expect_error StateMachineDoesNotExist describe-state-machine --state-machine-arn "$prefix:stateMachine:nope"
expect_error StateMachineDoesNotExist start-execution --state-machine-arn "$prefix:stateMachine:nope"
expect_error InvalidArn describe-execution --execution-arn not-an-arn
expect_error InvalidArn describe-state-machine --state-machine-arn "$prefix:execution:pass:e1"
expect_error InvalidDefinition create-state-machine --name broken --role-arn "$role" \
  --definition '{"StartAt":"Nowhere","States":{}}'
expect_error InvalidDefinition create-state-machine --name broken --role-arn "$role" --definition '{oops'
expect_error ExecutionAlreadyExists start-execution --state-machine-arn "$pass" --name e1 --input '{"x":9}'
expect_error StateMachineAlreadyExists create-state-machine --name pass --role-arn "$role" \
  --definition "$token_def"
expect_error InvalidName create-state-machine --name "has space" --role-arn "$role" --definition "$pass_def"
expect_error InvalidExecutionInput start-execution --state-machine-arn "$pass" --input '{oops'

# ---- deletion ----
sfn delete-state-machine --state-machine-arn "$worker_sm" >/dev/null || fail "DeleteStateMachine"
expect_error StateMachineDoesNotExist describe-state-machine --state-machine-arn "$worker_sm"
sfn delete-activity --activity-arn "$activity" >/dev/null || fail "DeleteActivity"
expect_error ActivityDoesNotExist describe-activity --activity-arn "$activity"

# ---- a server with credentials: requests are signed (SigV4) ----
start_server signed --access-key-id AKIDZFLOW --secret-access-key s3cret
signed=$(get create-state-machine --name signed --definition "$pass_def" --role-arn "$role" \
  --query stateMachineArn)
run=$(get start-execution --state-machine-arn "$signed" --input '{"x":"signed"}' --query executionArn)
expect_eq "a signed execution's output" "$(await_status "$run" SUCCEEDED output)" '{"got":"signed"}'
AWS_SECRET_ACCESS_KEY=wrong expect_error InvalidSignatureException list-state-machines
AWS_ACCESS_KEY_ID=AKIDOTHER expect_error UnrecognizedClientException list-state-machines
expect_error MissingAuthenticationToken list-state-machines --no-sign-request
expect_eq "after refused requests" "$(get list-state-machines --query 'stateMachines[].name')" signed

echo "ok: the AWS CLI drove zflow serve through the whole scenario, signed and unsigned"
