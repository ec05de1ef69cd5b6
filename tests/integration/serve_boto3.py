#!/usr/bin/python3
"""zflow serve driven by boto3 (Debian's python3-boto3 1.26) as a user drives Step Functions.

Machines, executions followed with paginators (ListExecutions with a status filter,
GetExecutionHistory forward and reverse), stop, task tokens, redrive, versions and aliases,
StartSyncExecution on an EXPRESS machine, tags, activities and AWS's error codes, against a
server without credentials; then signing against a server with credentials. Every answer is
checked against the API model as it arrives: no member the model lacks, every required member,
the right JSON types, enum values from the model's sets.

Debian's botocore predates versions, aliases and redrive: sfn_model.py adds them to the model
(AWS_DATA_PATH), as `aws configure add-model` would.

Usage: /usr/bin/python3 serve_boto3.py ZFLOW
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import sfn_model  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/zflow-test"
PREFIX = "arn:aws:states:us-east-1:123456789012"
PASS = json.dumps({"StartAt": "P", "States": {
    "P": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "Next": "Q"},
    "Q": {"Type": "Pass", "End": True}}})
V2 = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "v2", "End": True}}})
# Nothing local serves SQS: the token goes out in the TaskScheduled event only.
TOKEN = json.dumps({"StartAt": "Ask", "States": {"Ask": {
    "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                   "MessageBody": {"token.$": "$$.Task.Token", "x.$": "$.x"}},
    "End": True}}})
# Waits under a second, so a synchronous execution has something to wait for.
EXPRESS = json.dumps({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
    "P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}}})


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def expect_eq(what, got, expected):
    check(got == expected, f"{what}: expected {expected!r}, got {got!r}")


def expect_error(code, call, *args, **kwargs):
    """Calls call(*args, **kwargs), which must fail with AWS error `code` and HTTP 400."""
    try:
        result = call(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check(got == code, f"{call.__name__}: expected {code}, got {got}: {e}")
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(status == 400, f"{call.__name__}: {code} came with HTTP {status}, expected 400")
        check(e.response["Error"].get("Message"), f"{call.__name__}: {code} without a message")
        return e
    raise Failure(f"{call.__name__} succeeded, expected {code}: {result}")


# ---- answers checked against the model ----

def check_shape(value, shape, where, problems):
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{where}: {shape.name} must be an object, got {value!r}")
            return
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{where}.{key}: {shape.name} has no member {key!r}")
            elif item is not None:
                check_shape(item, shape.members[key], f"{where}.{key}", problems)
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{where}: {shape.name} lacks its required member {key!r}")
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list, got {value!r}")
            return
        for i, item in enumerate(value):
            check_shape(item, shape.member, f"{where}[{i}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{where}: must be an object, got {value!r}")
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{where}: must be a string, got {value!r}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{where}: {value!r} is not one of {shape.name}'s {shape.enum}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}: must be an integer, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: must be a boolean, got {value!r}")
    elif kind == "timestamp":
        # awsJson1_0 sends dates as epoch seconds.
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{where}: a date must be epoch seconds, got {value!r}")


def check_answer(http_response, model, **_):
    """after-call hook: the raw answer must match the operation's output shape."""
    global ANSWERS_CHECKED
    ANSWERS_CHECKED += 1
    problems = []
    name = model.name
    if not http_response.headers.get("x-amzn-RequestId"):
        problems.append(f"{name}: no x-amzn-RequestId header")
    content_type = http_response.headers.get("Content-Type", "")
    if not content_type.startswith("application/x-amz-json-1.0"):
        problems.append(f"{name}: Content-Type is {content_type!r}")
    try:
        body = json.loads(http_response.content or b"{}")
    except ValueError:
        problems.append(f"{name}: the answer is not JSON: {http_response.content[:200]!r}")
        body = None
    if http_response.status_code >= 300:
        if not isinstance(body, dict) or "__type" not in body:
            problems.append(f"{name}: an error without __type: {body!r}")
    elif body is not None and model.output_shape is not None:
        check_shape(body, model.output_shape, name, problems)
    if problems:
        SHAPE_PROBLEMS.extend(problems)


SHAPE_PROBLEMS = []
ANSWERS_CHECKED = 0


def client(endpoint, key="AKIDZFLOW", secret="s3cret", **config):
    c = boto3.session.Session().client(
        "stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config))
    c.meta.events.register("after-call.sfn", check_answer)
    CLIENTS.append(c)
    return c


CLIENTS = []


def close_clients():
    """Closes the clients' keep-alive connections: zflow serve waits for idle ones (up to its
    keep-alive timeout, 5 s) before it exits."""
    for c in CLIENTS:
        c._endpoint.http_session.close()
    CLIENTS.clear()


# ---- the server ----

class Server:
    """`zflow serve` on a free port, in its own data directory; stopped by stop()."""

    def __init__(self, zflow, data_dir, *args):
        self.log = open(data_dir + ".log", "w+")
        self.process = subprocess.Popen(
            [zflow, "serve", "--port", "0", "--data-dir", data_dir, *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.endpoint = None
        for _ in range(200):
            self.log.seek(0)
            for line in self.log:
                if "listening on http://" in line:
                    self.endpoint = line.split("listening on ")[1].split()[0]
            if self.endpoint or self.process.poll() is not None:
                break
            time.sleep(0.05)
        if not self.endpoint:
            self.log.seek(0)
            output = self.log.read()
            self.stop()
            raise Failure(f"zflow serve did not start: {output}")

    def stop(self):
        close_clients()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# ---- the scenario ----

def await_status(sfn, arn, status):
    """DescribeExecution once the execution's status is `status` (bounded polling)."""
    for _ in range(100):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] == status:
            return described
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    raise Failure(f"{arn} is {described['status']}, expected {status}")


def await_token(sfn, arn, previous=None):
    """The token of the newest TaskScheduled event, once it differs from `previous`."""
    for _ in range(100):
        events = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
        for e in events:
            if e["type"] == "TaskScheduled":
                params = json.loads(e["taskScheduledEventDetails"]["parameters"])
                token = params["MessageBody"]["token"]
                if token != previous:
                    return token
                break
        time.sleep(0.05)
    raise Failure(f"no new task token in the history of {arn}")


def machines_and_executions(sfn):
    created = sfn.create_state_machine(name="pass", definition=PASS, roleArn=ROLE,
                                       tags=[{"key": "team", "value": "ml"}])
    pass_arn = created["stateMachineArn"]
    expect_eq("CreateStateMachine ARN", pass_arn, f"{PREFIX}:stateMachine:pass")
    check(created["creationDate"].year >= 2020, f"creationDate: {created['creationDate']}")
    described = sfn.describe_state_machine(stateMachineArn=pass_arn)
    expect_eq("DescribeStateMachine",
              {k: described[k] for k in ("name", "status", "type", "roleArn", "definition")},
              {"name": "pass", "status": "ACTIVE", "type": "STANDARD", "roleArn": ROLE,
               "definition": PASS})
    expect_eq("ListStateMachines",
              [m["name"] for m in sfn.list_state_machines()["stateMachines"]], ["pass"])

    for i in range(1, 8):
        started = sfn.start_execution(stateMachineArn=pass_arn, name=f"e{i}",
                                      input=json.dumps({"x": i}, separators=(",", ":")))
        expect_eq("StartExecution ARN", started["executionArn"], f"{PREFIX}:execution:pass:e{i}")
    for i in range(1, 8):
        await_status(sfn, f"{PREFIX}:execution:pass:e{i}", "SUCCEEDED")
    e3 = sfn.describe_execution(executionArn=f"{PREFIX}:execution:pass:e3")
    expect_eq("DescribeExecution e3", (e3["name"], e3["stateMachineArn"], e3["input"], e3["output"]),
              ("e3", pass_arn, '{"x":3}', '{"got":3}'))
    check(e3["startDate"] <= e3["stopDate"], f"startDate after stopDate: {e3}")

    # The paginator follows the server's nextToken, 3 at a time.
    paginator = sfn.get_paginator("list_executions")
    pages = list(paginator.paginate(stateMachineArn=pass_arn, statusFilter="SUCCEEDED",
                                    PaginationConfig={"PageSize": 3}))
    expect_eq("ListExecutions pages", [len(p["executions"]) for p in pages], [3, 3, 1])
    check(all("nextToken" in p for p in pages[:-1]) and "nextToken" not in pages[-1],
          f"ListExecutions tokens: {[p.get('nextToken') for p in pages]}")
    expect_eq("ListExecutions, newest first",
              [e["name"] for p in pages for e in p["executions"]],
              ["e7", "e6", "e5", "e4", "e3", "e2", "e1"])
    # By hand: MaxItems and StartingToken (the paginator's own token around the server's).
    first = paginator.paginate(stateMachineArn=pass_arn,
                               PaginationConfig={"MaxItems": 4, "PageSize": 2}).build_full_result()
    expect_eq("first 4", [e["name"] for e in first["executions"]], ["e7", "e6", "e5", "e4"])
    rest = paginator.paginate(stateMachineArn=pass_arn, PaginationConfig={
        "StartingToken": first["NextToken"], "PageSize": 2}).build_full_result()
    expect_eq("the rest", [e["name"] for e in rest["executions"]], ["e3", "e2", "e1"])
    none = sfn.list_executions(stateMachineArn=pass_arn, statusFilter="FAILED")
    expect_eq("ListExecutions FAILED", none["executions"], [])

    # History, forward and reverse, 2 events a page.
    history = sfn.get_paginator("get_execution_history")
    e1 = f"{PREFIX}:execution:pass:e1"
    forward = [e for p in history.paginate(executionArn=e1, PaginationConfig={"PageSize": 2})
               for e in p["events"]]
    expect_eq("GetExecutionHistory", [e["type"] for e in forward],
              ["ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered",
               "PassStateExited", "ExecutionSucceeded"])
    expect_eq("event ids", [e["id"] for e in forward], [1, 2, 3, 4, 5, 6])
    expect_eq("previous event ids", [e["previousEventId"] for e in forward], [0, 1, 2, 3, 4, 5])
    check(all(forward[i]["timestamp"] <= forward[i + 1]["timestamp"] for i in range(5)),
          "history timestamps go backwards")
    pages = list(history.paginate(executionArn=e1, reverseOrder=True,
                                  PaginationConfig={"PageSize": 4}))
    expect_eq("reverse pages", [len(p["events"]) for p in pages], [4, 2])
    expect_eq("GetExecutionHistory reversed", [e["id"] for p in pages for e in p["events"]],
              [6, 5, 4, 3, 2, 1])
    started = forward[0]["executionStartedEventDetails"]
    expect_eq("ExecutionStarted details", (started["input"], started["roleArn"]), ('{"x":1}', ROLE))
    expect_eq("ExecutionSucceeded output", forward[-1]["executionSucceededEventDetails"]["output"],
              '{"got":1}')
    without = sfn.get_execution_history(executionArn=e1, includeExecutionData=False)["events"]
    check("input" not in without[0]["executionStartedEventDetails"],
          f"includeExecutionData=false still sent the input: {without[0]}")
    # A token of one execution is not accepted for another.
    token = sfn.get_execution_history(executionArn=e1, maxResults=2)["nextToken"]
    expect_error("InvalidToken", sfn.get_execution_history,
                 executionArn=f"{PREFIX}:execution:pass:e2", nextToken=token)
    return pass_arn


def tokens_stop_and_redrive(sfn):
    machine = sfn.create_state_machine(name="token", definition=TOKEN,
                                       roleArn=ROLE)["stateMachineArn"]
    arns = {name: sfn.start_execution(stateMachineArn=machine, name=name,
                                      input=json.dumps({"x": name}, separators=(",", ":")))["executionArn"]
            for name in ("t-ok", "t-fail", "t-stop")}
    tokens = {name: await_token(sfn, arn) for name, arn in arns.items()}
    running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
    expect_eq("ListExecutions RUNNING", [e["name"] for e in running], ["t-stop", "t-fail", "t-ok"])
    check(all("stopDate" not in e for e in running), f"running executions with a stopDate: {running}")

    sfn.send_task_success(taskToken=tokens["t-ok"], output='{"ok":true}')
    expect_eq("output after SendTaskSuccess",
              await_status(sfn, arns["t-ok"], "SUCCEEDED")["output"], '{"ok":true}')
    expect_error("TaskDoesNotExist", sfn.send_task_success, taskToken=tokens["t-ok"], output="{}")
    expect_error("InvalidToken", sfn.send_task_success, taskToken="not-a-token", output="{}")
    expect_error("InvalidOutput", sfn.send_task_success, taskToken=tokens["t-fail"], output="{no")

    sfn.send_task_failure(taskToken=tokens["t-fail"], error="Oops", cause="it broke")
    failed = await_status(sfn, arns["t-fail"], "FAILED")
    expect_eq("after SendTaskFailure", (failed["error"], failed["cause"], failed["redriveStatus"]),
              ("Oops", "it broke", "REDRIVABLE"))
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arns["t-fail"])["events"]]
    check("TaskFailed" in types and types[-1] == "ExecutionFailed", f"history: {types}")

    stopped = sfn.stop_execution(executionArn=arns["t-stop"], error="Manual", cause="testing")
    check(stopped["stopDate"].year >= 2020, f"StopExecution: {stopped}")
    described = sfn.describe_execution(executionArn=arns["t-stop"])
    expect_eq("after StopExecution", (described["status"], described["error"], described["cause"]),
              ("ABORTED", "Manual", "testing"))
    last = sfn.get_execution_history(executionArn=arns["t-stop"], reverseOrder=True,
                                     maxResults=1)["events"][0]
    expect_eq("last event after StopExecution", last["type"], "ExecutionAborted")

    # The failed one, redriven: the task is scheduled again, with a new token.
    redriven = sfn.redrive_execution(executionArn=arns["t-fail"])
    check(redriven["redriveDate"].year >= 2020, f"RedriveExecution: {redriven}")
    again = await_token(sfn, arns["t-fail"], tokens["t-fail"])
    sfn.send_task_success(taskToken=again, output='{"second":"try"}')
    done = await_status(sfn, arns["t-fail"], "SUCCEEDED")
    expect_eq("after the redrive", (done["output"], done["redriveCount"]), ('{"second":"try"}', 1))
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arns["t-fail"])["events"]]
    check("ExecutionRedriven" in types, f"no ExecutionRedriven event: {types}")
    redriven = sfn.list_executions(stateMachineArn=machine, redriveFilter="REDRIVEN")["executions"]
    expect_eq("ListExecutions REDRIVEN", [(e["name"], e.get("redriveCount")) for e in redriven],
              [("t-fail", 1)])
    expect_error("ExecutionNotRedrivable", sfn.redrive_execution, executionArn=arns["t-fail"])


def versions_and_aliases(sfn, pass_arn):
    v1 = sfn.publish_state_machine_version(stateMachineArn=pass_arn, description="one")
    expect_eq("PublishStateMachineVersion", v1["stateMachineVersionArn"], f"{pass_arn}:1")
    alias = sfn.create_state_machine_alias(
        name="prod", routingConfiguration=[{"stateMachineVersionArn": f"{pass_arn}:1", "weight": 100}])
    alias_arn = alias["stateMachineAliasArn"]
    expect_eq("CreateStateMachineAlias", alias_arn, f"{pass_arn}:prod")
    sfn.update_state_machine(stateMachineArn=pass_arn, definition=V2)
    via = sfn.start_execution(stateMachineArn=alias_arn, name="via-alias", input='{"x":"v1"}')
    described = await_status(sfn, via["executionArn"], "SUCCEEDED")
    expect_eq("through the alias", (described["output"], described["stateMachineAliasArn"],
                                    described["stateMachineVersionArn"]),
              ('{"got":"v1"}', alias_arn, f"{pass_arn}:1"))
    latest = sfn.start_execution(stateMachineArn=pass_arn, name="latest")
    expect_eq("the machine's latest", await_status(sfn, latest["executionArn"], "SUCCEEDED")["output"],
              '"v2"')
    v2 = sfn.publish_state_machine_version(stateMachineArn=pass_arn)["stateMachineVersionArn"]
    expect_eq("PublishStateMachineVersion again", v2, f"{pass_arn}:2")
    sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, description="now two",
                                   routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    expect_eq("DescribeStateMachineAlias",
              (described["name"], described["description"], described["routingConfiguration"]),
              ("prod", "now two", [{"stateMachineVersionArn": v2, "weight": 100}]))
    via2 = sfn.start_execution(stateMachineArn=alias_arn, name="via-alias-2")
    expect_eq("through the updated alias",
              await_status(sfn, via2["executionArn"], "SUCCEEDED")["output"], '"v2"')
    versions = sfn.list_state_machine_versions(stateMachineArn=pass_arn)["stateMachineVersions"]
    expect_eq("ListStateMachineVersions", [v["stateMachineVersionArn"] for v in versions],
              [v2, f"{pass_arn}:1"])
    aliases = sfn.list_state_machine_aliases(stateMachineArn=pass_arn)["stateMachineAliases"]
    expect_eq("ListStateMachineAliases", [a["stateMachineAliasArn"] for a in aliases], [alias_arn])
    expect_eq("ListExecutions of version 1",
              [e["name"] for e in sfn.list_executions(stateMachineArn=f"{pass_arn}:1")["executions"]],
              ["via-alias"])
    expect_eq("DescribeStateMachine of version 1",
              sfn.describe_state_machine(stateMachineArn=f"{pass_arn}:1")["definition"], PASS)
    for_execution = sfn.describe_state_machine_for_execution(executionArn=via["executionArn"])
    expect_eq("DescribeStateMachineForExecution", for_execution["definition"], PASS)
    expect_error("ConflictException", sfn.delete_state_machine_version, stateMachineVersionArn=v2)


def sync_express_and_test_state(endpoint):
    # botocore prefixes the host with "sync-" for StartSyncExecution; a local endpoint has no
    # such name.
    sfn = client(endpoint, inject_host_prefix=False)
    express = sfn.create_state_machine(name="fast", definition=EXPRESS, roleArn=ROLE,
                                       type="EXPRESS")["stateMachineArn"]
    began = time.monotonic()
    result = sfn.start_sync_execution(stateMachineArn=express, name="sync-1",
                                      input='{"a": 2, "b": 3}')
    check(time.monotonic() - began >= 0.9, "StartSyncExecution returned before the Wait ended")
    expect_eq("StartSyncExecution", (result["status"], result["output"]), ("SUCCEEDED", '{"sum":5}'))
    check(result["stopDate"] >= result["startDate"], f"StartSyncExecution dates: {result}")
    standard = sfn.create_state_machine(name="not-express", definition=PASS,
                                        roleArn=ROLE)["stateMachineArn"]
    expect_error("StateMachineTypeNotSupported", sfn.start_sync_execution, stateMachineArn=standard)
    # TestState goes to "sync-<host>" too.
    tested = sfn.test_state(definition=json.dumps({"Type": "Pass", "Parameters": {"y.$": "$.x"},
                                                   "Next": "Later"}),
                            roleArn=ROLE, input='{"x":3}')
    expect_eq("TestState", (tested["status"], tested["output"], tested["nextState"]),
              ("SUCCEEDED", '{"y":3}', "Later"))


def tags(sfn, pass_arn):
    sfn.tag_resource(resourceArn=pass_arn, tags=[{"key": "env", "value": "dev"},
                                                 {"key": "owner", "value": "zflow"}])
    expect_eq("ListTagsForResource", sfn.list_tags_for_resource(resourceArn=pass_arn)["tags"],
              [{"key": "env", "value": "dev"}, {"key": "owner", "value": "zflow"},
               {"key": "team", "value": "ml"}])
    sfn.untag_resource(resourceArn=pass_arn, tagKeys=["env", "owner"])
    expect_eq("after UntagResource", sfn.list_tags_for_resource(resourceArn=pass_arn)["tags"],
              [{"key": "team", "value": "ml"}])
    expect_error("ResourceNotFound", sfn.list_tags_for_resource,
                 resourceArn=f"{PREFIX}:stateMachine:gone")


def activities(sfn):
    activity = sfn.create_activity(name="review", tags=[{"key": "k", "value": "v"}])["activityArn"]
    expect_eq("CreateActivity", activity, f"{PREFIX}:activity:review")
    expect_eq("DescribeActivity", sfn.describe_activity(activityArn=activity)["name"], "review")
    expect_eq("ListActivities", [a["name"] for a in sfn.list_activities()["activities"]], ["review"])
    expect_eq("activity tags", sfn.list_tags_for_resource(resourceArn=activity)["tags"],
              [{"key": "k", "value": "v"}])
    definition = json.dumps({"StartAt": "Review", "States": {"Review": {
        "Type": "Task", "Resource": activity, "HeartbeatSeconds": 30, "End": True}}})
    machine = sfn.create_state_machine(name="reviewed", definition=definition,
                                       roleArn=ROLE)["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=machine, input='{"doc":7}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w1")
    expect_eq("GetActivityTask input", task.get("input"), '{"doc":7}')
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"approved":true}')
    expect_eq("the activity's output", await_status(sfn, run, "SUCCEEDED")["output"],
              '{"approved":true}')
    types = [e["type"] for e in sfn.get_execution_history(executionArn=run)["events"]]
    for t in ("ActivityScheduled", "ActivityStarted", "ActivitySucceeded"):
        check(t in types, f"no {t} event: {types}")
    sfn.delete_state_machine(stateMachineArn=machine)
    expect_error("StateMachineDoesNotExist", sfn.describe_state_machine, stateMachineArn=machine)
    sfn.delete_activity(activityArn=activity)
    expect_error("ActivityDoesNotExist", sfn.describe_activity, activityArn=activity)


def errors(sfn, pass_arn):
    missing = f"{PREFIX}:execution:pass:nope"
    e = expect_error("ExecutionDoesNotExist", sfn.describe_execution, executionArn=missing)
    check(missing in e.response["Error"]["Message"], f"the message does not name {missing}: {e}")
    # The modeled exception class works too.
    try:
        sfn.describe_execution(executionArn=missing)
        raise Failure("DescribeExecution of a missing execution succeeded")
    except sfn.exceptions.ExecutionDoesNotExist:
        pass
    expect_error("ExecutionDoesNotExist", sfn.get_execution_history, executionArn=missing)
    expect_error("ExecutionDoesNotExist", sfn.stop_execution, executionArn=missing)
    expect_error("StateMachineDoesNotExist", sfn.describe_state_machine,
                 stateMachineArn=f"{PREFIX}:stateMachine:nope")
    expect_error("StateMachineDoesNotExist", sfn.start_execution,
                 stateMachineArn=f"{PREFIX}:stateMachine:nope")
    expect_error("StateMachineDoesNotExist", sfn.list_executions,
                 stateMachineArn=f"{PREFIX}:stateMachine:nope")
    expect_error("InvalidArn", sfn.describe_execution, executionArn="not-an-arn")
    expect_error("InvalidArn", sfn.describe_state_machine, stateMachineArn=f"{PREFIX}:execution:pass:e1")
    expect_error("InvalidArn", sfn.start_execution, stateMachineArn="arn:aws:sqs:us-east-1:1:q")
    expect_error("InvalidDefinition", sfn.create_state_machine, name="broken", roleArn=ROLE,
                 definition='{"StartAt":"Nowhere","States":{}}')
    expect_error("InvalidDefinition", sfn.create_state_machine, name="broken", roleArn=ROLE,
                 definition="{oops")
    expect_error("InvalidDefinition", sfn.update_state_machine, stateMachineArn=pass_arn,
                 definition='{"StartAt":"Nowhere","States":{}}')
    expect_error("ExecutionAlreadyExists", sfn.start_execution, stateMachineArn=pass_arn, name="e1",
                 input='{"x":9}')
    expect_error("StateMachineAlreadyExists", sfn.create_state_machine, name="pass", roleArn=ROLE,
                 definition=TOKEN)
    expect_error("InvalidName", sfn.create_state_machine, name="has space", roleArn=ROLE,
                 definition=PASS)
    expect_error("InvalidExecutionInput", sfn.start_execution, stateMachineArn=pass_arn,
                 input="{oops")
    expect_error("InvalidToken", sfn.list_executions, stateMachineArn=pass_arn, nextToken="forged")


def signed(zflow, tmp):
    server = Server(zflow, os.path.join(tmp, "signed"), "--access-key-id", "AKIDZFLOW",
                    "--secret-access-key", "s3cret")
    try:
        sfn = client(server.endpoint)
        machine = sfn.create_state_machine(name="signed", definition=PASS,
                                           roleArn=ROLE)["stateMachineArn"]
        run = sfn.start_execution(stateMachineArn=machine, input='{"x":"signed"}')["executionArn"]
        expect_eq("a signed execution's output", await_status(sfn, run, "SUCCEEDED")["output"],
                  '{"got":"signed"}')
        expect_error("InvalidSignatureException",
                     client(server.endpoint, secret="wrong").list_state_machines)
        expect_error("UnrecognizedClientException",
                     client(server.endpoint, key="AKIDOTHER").list_state_machines)
        expect_eq("after refused requests",
                  [m["name"] for m in sfn.list_state_machines()["stateMachines"]], ["signed"])
    finally:
        server.stop()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    zflow = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="zflow-boto3-")
    try:
        os.environ["AWS_DATA_PATH"] = os.path.join(tmp, "models")
        for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            os.environ.pop(variable, None)
        os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        sfn_model.write_model(os.environ["AWS_DATA_PATH"])
        server = Server(zflow, os.path.join(tmp, "open"), "--no-auth")
        try:
            sfn = client(server.endpoint)
            pass_arn = machines_and_executions(sfn)
            tokens_stop_and_redrive(sfn)
            versions_and_aliases(sfn, pass_arn)
            sync_express_and_test_state(server.endpoint)
            tags(sfn, pass_arn)
            activities(sfn)
            errors(sfn, pass_arn)
        finally:
            server.stop()
        signed(zflow, tmp)
        check(ANSWERS_CHECKED > 100, f"only {ANSWERS_CHECKED} answers were checked against the model")
        check(not SHAPE_PROBLEMS, "answers that do not match the API model:\n  " +
              "\n  ".join(SHAPE_PROBLEMS))
    except (Failure, ClientError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        for problem in SHAPE_PROBLEMS:
            print(f"  model mismatch: {problem}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"ok: boto3 {boto3.__version__} drove zflow serve through the whole scenario, signed and "
          f"unsigned ({ANSWERS_CHECKED} answers checked against the model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
