"""Databricks job: raw transactions -> model features (label first, no header, the SageMaker CSV
convention), and the fitted feature scaler as a SageMaker model artifact."""
import argparse
import io
import os
import pickle
import tarfile

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

import s3local

p = argparse.ArgumentParser()
p.add_argument("--day", required=True)
p.add_argument("--output", required=True)
p.add_argument("--input", default="s3://zflow-local/fraud/raw/transactions.csv")
p.add_argument("--scaler", default="s3://zflow-local/fraud/scaler/model.tar.gz")
a = p.parse_args()

raw = pd.read_csv(s3local.path(a.input))
if raw.empty:
    raise SystemExit("no transactions in %s" % a.input)
features = pd.DataFrame({
    "log_amount": np.log1p(raw["amount"]),
    "night": ((raw["hour"] < 6) | (raw["hour"] > 22)).astype(int),
    "online": raw["online"],
    "distance_km": raw["distance_km"].clip(upper=200),
    "new_card": (raw["card_age_days"] < 60).astype(int),
    "tx_last_24h": raw["tx_last_24h"],
    "category_7": (raw["merchant_category"] == 7).astype(int),
})
out = pd.concat([raw["is_fraud"], features], axis=1)
out.to_csv(os.path.join(s3local.ensure_dir(a.output), "transactions.csv"), header=False, index=False)

scaler = StandardScaler().fit(features.values)
blob = pickle.dumps(scaler)
info = tarfile.TarInfo("scaler.pkl")
info.size = len(blob)
with tarfile.open(s3local.ensure_dir(a.scaler), "w:gz") as tar:
    tar.addfile(info, io.BytesIO(blob))
print("day %s: %d rows, %d features -> %s" % (a.day, len(out), features.shape[1], a.output))
