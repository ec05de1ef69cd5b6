"""s3:// URIs on this machine: zflow maps s3://bucket/key to $ZFLOW_S3_ROOT/bucket/key."""
import os


def path(uri):
    if not uri.startswith("s3://"):
        return uri
    bucket, _, key = uri[5:].partition("/")
    if ".." in key.split("/"):
        raise ValueError("refusing a key with '..': %s" % uri)
    return os.path.join(os.environ.get("ZFLOW_S3_ROOT", ".zflow/s3"), bucket, key)


def ensure_dir(uri):
    p = path(uri)
    os.makedirs(p if uri.endswith("/") else os.path.dirname(p), exist_ok=True)
    return p
