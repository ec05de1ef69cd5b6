"""Whole-process timings of the zflow command line, side by side with what it is measured
against: `zflow run` of a 10,000-state Pass chain next to aws-local-stepfunctions running the
same file in node, `zflow validate` throughput on a large definition, and `zflow --help` next to
/bin/true. Prints medians and ratios.

    /usr/bin/python3 bench/cli_vs_oracle.py build/zflow tests/node_modules
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

zflow, modules = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))


def chain(path, n=10000):
    states = {"S%d" % i: {"Type": "Pass", "Result": {"i": i}, "ResultPath": "$.last",
                          "Next": "S%d" % (i + 1)} for i in range(n - 1)}
    states["S%d" % (n - 1)] = {"Type": "Pass", "End": True}
    with open(path, "w") as f:
        json.dump({"Comment": "%d Pass states" % n, "StartAt": "S0", "States": states}, f,
                  separators=(",", ":"))


def median_ms(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            raise SystemExit("%s failed: %s" % (" ".join(argv), done.stderr.decode()[-500:]))
    return statistics.median(times)


with tempfile.TemporaryDirectory() as tmp:
    definition = os.path.join(tmp, "chain.json")
    chain(definition)
    size = os.path.getsize(definition)
    true_ms = median_ms(["/bin/true"], 200)
    help_ms = median_ms([zflow, "--help"], 200)
    validate_ms = median_ms([zflow, "validate", definition], 20)
    run_ms = median_ms([zflow, "run", definition], 20)
    oracle_ms = median_ms(["node", os.path.join(here, "oracle_run.mjs"), modules, definition], 3)
    print("definition: 10,000 Pass states, %.0f KB" % (size / 1000))
    print("zflow --help       %8.2f ms   /bin/true %.2f ms   difference %.2f ms (target <= 3)"
          % (help_ms, true_ms, help_ms - true_ms))
    print("zflow validate     %8.1f ms   %.1f MB/s (target >= 100)" % (validate_ms, size / validate_ms / 1000))
    print("zflow run          %8.1f ms" % run_ms)
    print("oracle (node)      %8.1f ms   zflow run is %.1fx faster (target >= 50)"
          % (oracle_ms, oracle_ms / run_ms))
