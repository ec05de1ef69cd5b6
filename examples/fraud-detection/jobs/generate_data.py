"""A deterministic synthetic card-transactions data set with a few percent fraud, spread over
the days up to --end-day (the pipeline trains on the earlier days and scores the latest week).

    python3 generate_data.py --rows 100000 --output s3://zflow-local/fraud/raw/transactions.csv
"""
import argparse
import datetime

import numpy as np
import pandas as pd

import s3local

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, default=100000)
p.add_argument("--seed", type=int, default=7)
p.add_argument("--output", required=True)
p.add_argument("--end-day", default="2026-11-21")
p.add_argument("--days", type=int, default=35)
a = p.parse_args()

rng = np.random.default_rng(a.seed)
n = a.rows
end = datetime.date.fromisoformat(a.end_day)
day = np.sort(rng.integers(0, a.days, n))
days = np.array([(end - datetime.timedelta(days=a.days - 1 - int(d))).isoformat() for d in range(a.days)])
hour = rng.integers(0, 24, n)
online = rng.random(n) < 0.35
amount = np.round(rng.lognormal(3.4, 0.9, n), 2)
distance = np.round(rng.exponential(12.0, n), 1)
card_age = rng.integers(1, 3650, n)
tx_24h = rng.poisson(2.0, n)
category = rng.integers(0, 10, n)
# Fraud is more likely at night, online, far from home, for large amounts, on new cards and in
# bursts; the logit is tuned for about 3% fraud.
logit = (-6.9 + 1.6 * ((hour < 6) | (hour > 22)) + 1.1 * online + 0.04 * np.minimum(distance, 80)
         + 1.0 * np.log1p(amount / 100) + 1.5 * (card_age < 60) + 0.4 * tx_24h
         + 0.8 * (category == 7))
fraud = rng.random(n) < 1 / (1 + np.exp(-logit))
df = pd.DataFrame({"transaction_id": np.arange(1, n + 1), "day": days[day], "amount": amount,
                   "hour": hour,
                   "merchant_category": category, "distance_km": distance,
                   "online": online.astype(int), "card_age_days": card_age,
                   "tx_last_24h": tx_24h, "is_fraud": fraud.astype(int)})
df.to_csv(s3local.ensure_dir(a.output), index=False)
print("wrote %d rows (%.2f%% fraud, %s to %s) to %s"
      % (n, 100 * fraud.mean(), days[0], days[-1], a.output))
