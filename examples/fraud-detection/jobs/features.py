"""The model's features, computed from raw transactions (shared by preprocessing, training and
the report, so names and order agree)."""
import numpy as np
import pandas as pd

NAMES = ["log_amount", "night", "online", "distance_km", "new_card", "tx_last_24h", "category_7"]


def compute(raw):
    return pd.DataFrame({
        "log_amount": np.log1p(raw["amount"]),
        "night": ((raw["hour"] < 6) | (raw["hour"] > 22)).astype(int),
        "online": raw["online"],
        "distance_km": raw["distance_km"].clip(upper=200),
        "new_card": (raw["card_age_days"] < 60).astype(int),
        "tx_last_24h": raw["tx_last_24h"],
        "category_7": (raw["merchant_category"] == 7).astype(int),
    })[NAMES]
