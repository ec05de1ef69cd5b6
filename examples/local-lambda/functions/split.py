"""Splits a batch of rows into contiguous parts."""


def handler(event, context):
    rows, parts = int(event["rows"]), int(event["parts"])
    size = -(-rows // parts)
    return {"parts": [{"start": i, "end": min(i + size, rows)} for i in range(0, rows, size)]}
