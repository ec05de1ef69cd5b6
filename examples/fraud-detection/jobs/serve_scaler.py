"""Model server of the feature scaler. CSV in: label,features...; CSV out: label,scaled
features..."""
import os
import pickle

import numpy as np

from serving import serve

scaler = pickle.load(open(os.path.join(os.environ["SM_MODEL_DIR"], "scaler.pkl"), "rb"))


def score(body):
    rows = np.array([[float(v) for v in line.split(",")] for line in body.splitlines() if line])
    scaled = scaler.transform(rows[:, 1:])
    return "\n".join(",".join([str(int(r[0]))] + ["%.6f" % v for v in s])
                     for r, s in zip(rows, scaled))


serve(score)
