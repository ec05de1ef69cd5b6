"""Lambda function: tells the team a pipeline run failed (here: on stderr, the function's log)."""
import json
import sys


def handler(event, context):
    print("PIPELINE FAILED: %s" % json.dumps(event), file=sys.stderr)
    return {"sent": True}
