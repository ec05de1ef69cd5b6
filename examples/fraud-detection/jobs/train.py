"""SageMaker training in script mode: a gradient-boosting fraud classifier.

Reads every CSV file of the train channel (label first, no header), holds out 20% to report the
validation AUC (the pipeline's MetricDefinitions pick it up from the log), and saves the model
to SM_MODEL_DIR."""
import argparse
import glob
import os
import pickle
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

p = argparse.ArgumentParser()
p.add_argument("--n_estimators", type=int, default=100)
p.add_argument("--max_depth", type=int, default=3)
p.add_argument("--learning_rate", type=float, default=0.1)
a = p.parse_args()

files = sorted(glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "**", "*"), recursive=True))
files = [f for f in files if os.path.isfile(f)]
if not files:
    open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write(
        "ClientError: the train channel has no files")
    sys.exit(1)
data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
y, X = data[:, 0].astype(int), data[:, 1:]
rng = np.random.default_rng(0)
valid = rng.random(len(y)) < 0.2
model = HistGradientBoostingClassifier(max_iter=a.n_estimators, max_depth=a.max_depth,
                                       learning_rate=a.learning_rate, random_state=0)
model.fit(X[~valid], y[~valid])
auc = roc_auc_score(y[valid], model.predict_proba(X[valid])[:, 1])
print("trained on %d rows, %d features" % ((~valid).sum(), X.shape[1]))
print("validation auc: %.4f" % auc)
pickle.dump(model, open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb"))
