"""A Lambda stand-in for the kill loop: adds one to n, and logs each invocation to a file so the
test can count how often each task ran."""
import os
import random
import time


def handler(event, context):
    with open(os.environ["ZFLOW_KILL_LOOP_LOG"], "a") as log:
        log.write("%s %s\n" % (event["id"], event["step"]))
    time.sleep(random.uniform(0, 0.2))
    return {"n": event["n"] + 1}
