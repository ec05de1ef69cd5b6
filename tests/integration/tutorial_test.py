"""Follows docs/tutorial.md step by step: writes each "# file: NAME" block, runs each "$ "
command of the console blocks in order (zflow serve on a free port instead of 8083), and checks
what the page says they print.
Usage: tutorial_test.py ZFLOW ROOT"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

zflow, root = os.path.abspath(sys.argv[1]), sys.argv[2]
page = open(os.path.join(root, "docs", "tutorial.md"), encoding="utf-8").read()
steps = []  # ("file", name, text) or ("command", text)
for lang, body in re.findall(r"```(\w+)\n(.*?)```", page, re.S):
    if body.startswith("# file: "):
        name = body.splitlines()[0][len("# file: "):].strip()
        steps.append(("file", name, body))
    elif lang == "console":
        steps.extend(("command", line[2:]) for line in body.splitlines() if line.startswith("$ "))
assert len(steps) > 10, "the tutorial lost its steps"

work = tempfile.mkdtemp(prefix="zflow-tutorial-")
cwd = work
env = dict(os.environ, PATH=os.path.dirname(zflow) + os.pathsep + os.environ["PATH"])
env.pop("ZFLOW_S3_ROOT", None)
server = None
outputs = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


try:
    for step in steps:
        if step[0] == "file":
            with open(os.path.join(cwd, step[1]), "w", encoding="utf-8") as f:
                f.write(step[2])
            continue
        command = step[1]
        if command == "zflow serve &":
            port = free_port()
            server = subprocess.Popen([zflow, "serve", "--port", str(port)], cwd=cwd, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            env["ZFLOW_ENDPOINT"] = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            continue
        if command == "kill %1":
            server.terminate()
            server.wait(timeout=30)
            server = None
            continue
        r = subprocess.run(["bash", "-c", f'cd "{cwd}" && {command} && echo "@pwd=$(pwd)"'],
                           env=env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            fail(f"$ {command}\nexit {r.returncode}\n{r.stdout}\n{r.stderr}")
        out, _, where = r.stdout.rpartition("@pwd=")
        cwd = where.strip()
        outputs[command] = (out, r.stderr)
        print(f"ok: $ {command}")

    def output(prefix):
        return next(v for k, v in outputs.items() if k.startswith(prefix))

    out, _ = output("zflow validate pipeline.py")
    if not out.startswith("ok: churn: 20 states, schedule cron(0 6 * * ? *), IAM: "):
        fail(f"validate printed {out!r}")
    if "iam:PassRole" not in out or "lambda:InvokeFunction" not in out:
        fail(f"validate's IAM actions: {out!r}")
    if not open(os.path.join(cwd, "graph.svg")).read().lstrip().startswith("<"):
        fail("graph.svg is not SVG")
    out, err = output("zflow run pipeline.py --logs")
    if "wrote 4000 rows" not in err or not re.search(r"validation auc: 0\.[89]", err):
        fail(f"run --logs did not show the tasks' output:\n{err}")
    if not json.loads(out)["steps"]["deploy"]:
        fail("the first run did not deploy")
    logs = [f for _, _, fs in os.walk(os.path.join(cwd, ".zflow", "work", "logs")) for f in fs]
    if len(logs) < 2:
        fail(f"task logs kept: {logs}")
    out, _ = output("zflow endpoints invoke churn")
    scores = [float(v) for v in out.split()]
    if len(scores) != 2 or not all(0 <= s <= 1 for s in scores):
        fail(f"the endpoint answered {out!r}")
    out, _ = output("zflow run pipeline.py --input")
    result = json.loads(out.strip().splitlines()[-1])
    if result["status"] != "SUCCEEDED" or result["output"]["steps"]["deploy"] is not None:
        fail(f"a run below the bar: {result}")
    compiled = os.listdir(os.path.join(cwd, "out"))
    if sorted(compiled) != ["graph.svg", "statemachine.asl.json", "template.json",
                            "template.yaml"]:
        fail(f"compile wrote {compiled}")
    out, _ = output("zflow deploy --local pipeline.py")
    if "(created)" not in out or "Schedule cron(0 6 * * ? *)" not in out:
        fail(f"deploy said {out!r}")
    for delete in ("zflow endpoints delete churn", "zflow endpoints delete churn --work-dir"):
        out, _ = output(delete)
        if "churn" not in out:
            fail(f"$ {delete} said {out!r}")
    out, err = output("zflow executions start churn --wait")
    if "/ui/executions/" not in out + err or "SUCCEEDED" not in out + err:
        fail(f"executions start said {out!r} {err!r}")
    print("ok: the tutorial runs as written")
finally:
    if server is not None:
        server.terminate()
        server.wait(timeout=30)
    for work_dir in (os.path.join(cwd, ".zflow", "work"),
                     os.path.join(cwd, ".zflow", "server", "work")):
        subprocess.run([zflow, "endpoints", "delete", "churn", "--work-dir", work_dir],
                       capture_output=True)
    # Whatever the page left running (an endpoint of a step that failed half-way) goes too.
    subprocess.run(["pkill", "-f", work], capture_output=True)
    subprocess.run(["rm", "-rf", work])
