#!/usr/bin/python3
"""The kill loop: zflow serve is killed with SIGKILL at random moments while executions with
tasks and waits run, and restarted each time. At the end every execution must have succeeded
with the right output, every task completion must be in its history exactly once (none lost,
none applied twice), and nothing may have been started twice that had finished.

    serve_kill_loop.py ZFLOW [--executions 1000] [--kills 20] [--seed N]
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:kill-loop"
DEFINITION = {
    "StartAt": "Inc1",
    "States": {
        "Inc1": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "inc",
                                "Payload": {"n.$": "$.n", "id.$": "$$.Execution.Name", "step": "1"}},
                 "ResultSelector": {"n.$": "$.Payload.n"}, "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Inc2"},
        "Inc2": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "inc",
                                "Payload": {"n.$": "$.n", "id.$": "$$.Execution.Name", "step": "2"}},
                 "ResultSelector": {"n.$": "$.Payload.n"}, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


class Server:
    def __init__(self, zflow, data_dir, profile, env):
        self.zflow, self.data_dir, self.profile, self.env = zflow, data_dir, profile, env
        self.proc = None
        self.port = None
        self.lock = threading.Lock()

    def start(self):
        args = [self.zflow, "serve", "--no-auth", "--data-dir", self.data_dir,
                "--profile", self.profile, "--port", str(self.port or 0)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env, text=True)
        line = proc.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m:
            err = proc.stderr.read()
            raise SystemExit("zflow serve did not start: %r %s" % (line, err))
        with self.lock:
            self.proc, self.port = proc, int(m.group(1))
        # Drain the pipes so the server never blocks on them.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        return re.search(r"resumed (\d+)", line).group(1)

    def kill(self):
        with self.lock:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def call(self, action, body, attempts=200):
        """One API call, retried while the server is down (killed and not yet back)."""
        for _ in range(attempts):
            req = urllib.request.Request(
                "http://127.0.0.1:%d/" % self.port, data=json.dumps(body).encode(),
                headers={"X-Amz-Target": "AWSStepFunctions." + action,
                         "Content-Type": "application/x-amz-json-1.0"})
            try:
                with urllib.request.urlopen(req, timeout=30) as res:
                    return json.loads(res.read())
            except urllib.error.HTTPError as e:
                payload = json.loads(e.read() or b"{}")
                return {"__error": payload.get("__type", "").split("#")[-1],
                        "message": payload.get("message")}
            except (urllib.error.URLError, ConnectionError, OSError, http.client.HTTPException):
                # Down, or killed while it answered (a response cut short): ask again.
                time.sleep(0.05)
        raise SystemExit("the server did not answer %s" % action)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("zflow")
    p.add_argument("--executions", type=int, default=1000)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=int(time.time()))
    args = p.parse_args()
    rng = random.Random(args.seed)
    print("seed %d: %d executions, %d kills" % (args.seed, args.executions, args.kills))

    work = tempfile.mkdtemp(prefix="zflow-kill-loop-")
    try:
        log = os.path.join(work, "invocations.log")
        here = os.path.dirname(os.path.abspath(__file__))
        profile = os.path.join(work, "zflow.profile.yaml")
        with open(profile, "w") as f:
            f.write("lambda:\n  inc: {python: %s}\n" % os.path.join(here, "kill_loop", "inc.py"))
        env = dict(os.environ, ZFLOW_KILL_LOOP_LOG=log)
        server = Server(args.zflow, os.path.join(work, "data"), profile, env)
        server.start()
        r = server.call("CreateStateMachine", {"name": "kill-loop", "definition": json.dumps(DEFINITION),
                                               "roleArn": "arn:aws:iam::123456789012:role/r"})
        assert "stateMachineArn" in r, r

        started = threading.Event()
        def submit():
            for i in range(args.executions):
                r = server.call("StartExecution", {"stateMachineArn": MACHINE, "name": "e%d" % i,
                                                   "input": json.dumps({"n": i})})
                # A retry after a kill may find the execution already recorded (and finished).
                assert "executionArn" in r or r.get("__error") == "ExecutionAlreadyExists", r
            started.set()
        submitter = threading.Thread(target=submit)
        submitter.start()

        resumed = []
        for k in range(args.kills):
            time.sleep(rng.uniform(0.05, 0.6))
            server.kill()
            resumed.append(int(server.start()))
        submitter.join()
        print("resumed after each kill:", resumed)

        deadline = time.time() + 600
        while True:
            r = server.call("ListExecutions", {"stateMachineArn": MACHINE, "statusFilter": "RUNNING",
                                               "maxResults": 1})
            if not r["executions"]:
                break
            if time.time() > deadline:
                raise SystemExit("executions still running after 10 minutes")
            time.sleep(0.2)

        invocations = {}
        with open(log) as f:
            for line in f:
                invocations[line.strip()] = invocations.get(line.strip(), 0) + 1
        failures = []
        reruns = 0
        for i in range(args.executions):
            arn = "arn:aws:states:us-east-1:123456789012:execution:kill-loop:e%d" % i
            d = server.call("DescribeExecution", {"executionArn": arn})
            if d.get("status") != "SUCCEEDED" or json.loads(d["output"]) != {"n": i + 2}:
                failures.append("e%d: %s %s %s" % (i, d.get("status"), d.get("output"), d.get("cause")))
                continue
            events, token = [], None
            while True:
                body = {"executionArn": arn, "maxResults": 1000}
                if token:
                    body["nextToken"] = token
                h = server.call("GetExecutionHistory", body)
                events += h["events"]
                token = h.get("nextToken")
                if not token:
                    break
            ids = [e["id"] for e in events]
            if ids != list(range(1, len(ids) + 1)):
                failures.append("e%d: event ids are not 1..n: %s" % (i, ids))
            succeeded = [e for e in events if e["type"] == "TaskSucceeded"]
            scheduled = [e for e in events if e["type"] == "TaskScheduled"]
            if len(succeeded) != 2 or len(scheduled) != 2:
                failures.append("e%d: %d TaskScheduled, %d TaskSucceeded (want 2 and 2)"
                                % (i, len(scheduled), len(succeeded)))
            for step in ("1", "2"):
                n = invocations.get("e%d %s" % (i, step), 0)
                if n == 0:
                    failures.append("e%d step %s: the task never ran" % (i, step))
                reruns += max(0, n - 1)
        # A task runs again only when a kill caught it in flight (dispatched, answer not yet
        # recorded): at most the tasks in flight at each kill.
        print("tasks run again after a kill caught them in flight: %d" % reruns)
        # zflow serve runs 8 task handlers at a time; a kill catches at most those running and
        # those that answered in the turn of the loop whose commit it cut short.
        if reruns > 16 * args.kills:
            failures.append("%d tasks ran again, more than the 16 a kill can catch in flight, %d "
                            "times" % (reruns, args.kills))
        if failures:
            print("\n".join(failures[:50]))
            raise SystemExit("%d problems" % len(failures))
        print("ok: %d executions succeeded through %d kills; no completion lost or applied twice"
              % (args.executions, args.kills))
        server.kill()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
