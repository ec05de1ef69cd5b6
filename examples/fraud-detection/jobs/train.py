"""SageMaker training in script mode: a gradient-boosting fraud classifier.

Reads every CSV file of the train channel (label first, no header, rows in day order). The
latest 20% of the rows validate: the validation AUC (which the pipeline's MetricDefinitions pick
up from the log and the deployment is gated on), the decision threshold (the one with the best
F1 on validation: fraud is rare, so 0.5 would flag almost nothing), and permutation feature
importances. The model and evaluation.json (threshold, validation figures, importances) go to
SM_MODEL_DIR."""
import argparse
import glob
import json
import os
import pickle
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score

import features

p = argparse.ArgumentParser()
p.add_argument("--n_estimators", type=int, default=100)
p.add_argument("--max_depth", type=int, default=3)
p.add_argument("--learning_rate", type=float, default=0.1)
p.add_argument("--validation_fraction", type=float, default=0.2)
a = p.parse_args()

files = sorted(glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "**", "*"), recursive=True))
files = [f for f in files if os.path.isfile(f)]
if not files:
    open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write(
        "ClientError: the train channel has no files")
    sys.exit(1)
data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
y, X = data[:, 0].astype(int), data[:, 1:]
cut = int(len(y) * (1 - a.validation_fraction))
if cut < 1 or cut >= len(y) or y[:cut].sum() == 0 or y[cut:].sum() == 0:
    open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write(
        "ClientError: %d rows are too few to train and validate (both parts need fraud cases)"
        % len(y))
    sys.exit(1)
model = HistGradientBoostingClassifier(max_iter=a.n_estimators, max_depth=a.max_depth,
                                       learning_rate=a.learning_rate, random_state=0)
model.fit(X[:cut], y[:cut])
score = model.predict_proba(X[cut:])[:, 1]
auc = roc_auc_score(y[cut:], score)
precision, recall, thresholds = precision_recall_curve(y[cut:], score)
f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
best = int(np.argmax(f1))
threshold = float(thresholds[best])
importance = permutation_importance(model, X[cut:], y[cut:], scoring="roc_auc", n_repeats=3,
                                    random_state=0)
evaluation = {
    "threshold": threshold,
    "threshold_rule": "the best F1 on the validation rows",
    "validation": {"rows": int(len(y) - cut), "fraud_rate": float(y[cut:].mean()),
                   "roc_auc": float(auc), "f1": float(f1[best]),
                   "precision": float(precision[best]), "recall": float(recall[best]),
                   "f1_at_0.5": float(f1_score(y[cut:], score >= 0.5))},
    "train_rows": int(cut),
    "feature_importances": dict(zip(features.NAMES, map(float, importance.importances_mean))),
}
print("trained on %d rows, validated on the latest %d rows, %d features"
      % (cut, len(y) - cut, X.shape[1]))
print("validation auc: %.4f" % auc)
print("validation f1: %.4f at threshold %.4f (precision %.3f, recall %.3f; f1 at 0.5: %.4f)"
      % (f1[best], threshold, precision[best], recall[best], evaluation["validation"]["f1_at_0.5"]))
pickle.dump(model, open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb"))
json.dump(evaluation, open(os.path.join(os.environ["SM_MODEL_DIR"], "evaluation.json"), "w"),
          indent=2)
