"""Model server of the fraud classifier. CSV in: [label,]scaled features; CSV out: [label,]score."""
import os
import pickle

import numpy as np

from serving import serve

model = pickle.load(open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "rb"))


def score(body):
    rows = np.array([[float(v) for v in line.split(",")] for line in body.splitlines() if line])
    labelled = rows.shape[1] == model.n_features_in_ + 1
    scores = model.predict_proba(rows[:, 1:] if labelled else rows)[:, 1]
    return "\n".join(("%d,%.6f" % (r[0], s)) if labelled else "%.6f" % s
                     for r, s in zip(rows, scores))


serve(score)
