"""Databricks job: raw transactions -> model features (label first, no header, the SageMaker CSV
convention), split in time: the last --holdout-days days up to --day are held out (the model
never sees them; the report scores them), the earlier days train the model, in day order so
that training can validate on its latest part. Also writes the fitted feature scaler (fitted on
the training days only) as a SageMaker model artifact, and a summary of the split."""
import argparse
import datetime
import io
import json
import os
import pickle
import tarfile

import pandas as pd
from sklearn.preprocessing import StandardScaler

import features
import s3local

p = argparse.ArgumentParser()
p.add_argument("--day", required=True)
p.add_argument("--output", required=True)
p.add_argument("--input", default="s3://zflow-local/fraud/raw/transactions.csv")
p.add_argument("--scaler", default="s3://zflow-local/fraud/scaler/model.tar.gz")
p.add_argument("--summary", default="")
p.add_argument("--holdout-days", type=int, default=7)
a = p.parse_args()

raw = pd.read_csv(s3local.path(a.input))
if raw.empty:
    raise SystemExit("no transactions in %s" % a.input)
last = datetime.date.fromisoformat(a.day)
first_holdout = (last - datetime.timedelta(days=a.holdout_days - 1)).isoformat()
raw = raw[raw["day"] <= last.isoformat()].sort_values(["day", "transaction_id"], kind="stable")
train = raw[raw["day"] < first_holdout]
holdout = raw[raw["day"] >= first_holdout]
if train.empty or holdout.empty:
    raise SystemExit("day %s: %d training rows and %d held-out rows; both must be non-empty "
                     "(is the data up to that day?)" % (a.day, len(train), len(holdout)))
for name, part in (("train", train), ("holdout", holdout)):
    out = pd.concat([part["is_fraud"], features.compute(part)], axis=1)
    path = os.path.join(s3local.ensure_dir(a.output + name + "/"), "transactions.csv")
    out.to_csv(path, header=False, index=False)

scaler = StandardScaler().fit(features.compute(train).values)
blob = pickle.dumps(scaler)
info = tarfile.TarInfo("scaler.pkl")
info.size = len(blob)
with tarfile.open(s3local.ensure_dir(a.scaler), "w:gz") as tar:
    tar.addfile(info, io.BytesIO(blob))

summary = {
    "train": {"rows": int(len(train)), "fraud_rate": float(train["is_fraud"].mean()),
              "first_day": str(train["day"].min()), "last_day": str(train["day"].max())},
    "holdout": {"rows": int(len(holdout)), "fraud_rate": float(holdout["is_fraud"].mean()),
                "first_day": str(holdout["day"].min()), "last_day": str(holdout["day"].max())},
    "features": features.NAMES,
}
if a.summary:
    json.dump(summary, open(s3local.ensure_dir(a.summary), "w"), indent=2)
print("day %s: %d training rows (%s to %s), %d held-out rows (%s to %s), %d features -> %s"
      % (a.day, len(train), summary["train"]["first_day"], summary["train"]["last_day"],
         len(holdout), summary["holdout"]["first_day"], summary["holdout"]["last_day"],
         len(features.NAMES), a.output))
