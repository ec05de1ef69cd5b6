"""Adds up the parts' results (or, called with alert, reports the flagged rows)."""
import sys


def handler(event, context):
    if event.get("alert"):
        print("ALERT: %d rows flagged" % event["flagged"], file=sys.stderr)
        return {"alerted": True}
    parts = [p["score-part"]["Payload"] for p in event["scores"]]
    rows = sum(p["rows"] for p in parts)
    return {"rows": rows, "flagged": sum(p["flagged"] for p in parts),
            "mean": sum(p["mean"] * p["rows"] for p in parts) / rows}
