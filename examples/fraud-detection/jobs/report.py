"""Databricks job: the model's report on the held-out days, as a PDF plus metrics.json next to
it. The held-out days were never seen in training; the decision threshold is the one training
chose on its validation rows, and the report says how it does on data it did not pick it on:
the data summary, the threshold and why, the confusion matrix there, ROC and precision-recall
curves with the operating point marked, feature importances, and the deployment gate."""
import argparse
import glob
import json
import os
import tarfile

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from sklearn.metrics import (average_precision_score, confusion_matrix, precision_recall_curve,
                             roc_auc_score, roc_curve)

import s3local

p = argparse.ArgumentParser()
p.add_argument("--predictions", required=True)
p.add_argument("--output", required=True)
p.add_argument("--model", required=True, help="the trained model.tar.gz (its evaluation.json)")
p.add_argument("--summary", required=True, help="the preprocessing step's data summary")
p.add_argument("--min-auc", type=float, required=True, help="the deployment gate")
a = p.parse_args()

files = sorted(glob.glob(os.path.join(s3local.path(a.predictions), "*.out")))
if not files:
    raise SystemExit("no prediction files under %s" % a.predictions)
data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
y, score = data[:, 0].astype(int), data[:, 1]
with tarfile.open(s3local.path(a.model)) as tar:
    member = next((m for m in tar.getmembers() if os.path.basename(m.name) == "evaluation.json"),
                  None)
    if member is None:
        raise SystemExit("%s has no evaluation.json (was it trained by train.py?)" % a.model)
    evaluation = json.load(tar.extractfile(member))
summary = json.load(open(s3local.path(a.summary)))
threshold = evaluation["threshold"]
flagged = score >= threshold
tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, flagged, labels=[0, 1]).ravel())
auc = roc_auc_score(y, score)
ap = average_precision_score(y, score)
precision = tp / max(tp + fp, 1)
recall = tp / max(tp + fn, 1)
f1 = 2 * precision * recall / max(precision + recall, 1e-12)
validation_auc = evaluation["validation"]["roc_auc"]
deployed = validation_auc >= a.min_auc
metrics = {
    "holdout": {"rows": int(len(y)), "fraud_cases": int(y.sum()), "fraud_rate": float(y.mean()),
                "first_day": summary["holdout"]["first_day"],
                "last_day": summary["holdout"]["last_day"],
                "roc_auc": float(auc), "average_precision": float(ap),
                "precision": precision, "recall": recall, "f1": f1,
                "true_positives": tp, "false_positives": fp, "false_negatives": fn,
                "true_negatives": tn},
    "threshold": threshold, "threshold_rule": evaluation["threshold_rule"],
    "validation": evaluation["validation"],
    "train": summary["train"],
    "gate": {"metric": "validation:auc", "value": validation_auc, "minimum": a.min_auc,
             "deployed": deployed},
    "feature_importances": evaluation["feature_importances"],
}


def page_text(pdf, title, lines):
    fig, ax = plt.subplots(figsize=(8.27, 11.69))
    ax.axis("off")
    ax.set_title(title, fontsize=16, loc="left")
    ax.text(0.0, 0.97, "\n".join(lines), family="monospace", fontsize=10, va="top")
    pdf.savefig(fig)
    plt.close(fig)


pdf_path = s3local.ensure_dir(a.output)
h, v, t = metrics["holdout"], evaluation["validation"], summary["train"]
with PdfPages(pdf_path) as pdf:
    page_text(pdf, "Fraud model report: held-out days", [
        "Data",
        "  training   %s to %s  %7d rows  fraud rate %.2f%%" % (t["first_day"], t["last_day"], t["rows"], 100 * t["fraud_rate"]),
        "  validation the latest %d training rows        fraud rate %.2f%%" % (v["rows"], 100 * v["fraud_rate"]),
        "  held out   %s to %s  %7d rows  fraud rate %.2f%% (%d cases)" % (h["first_day"], h["last_day"], h["rows"], 100 * h["fraud_rate"], h["fraud_cases"]),
        "",
        "Decision threshold: %.4f" % threshold,
        "  chosen as %s (F1 %.3f there: precision %.3f," % (evaluation["threshold_rule"], v["f1"], v["precision"]),
        "  recall %.3f; a 0.5 threshold would give F1 %.3f, since fraud is rare)" % (v["recall"], v["f1_at_0.5"]),
        "",
        "On the held-out days, at that threshold",
        "  ROC AUC            %.4f" % auc,
        "  average precision  %.4f" % ap,
        "  precision          %.4f   (%d of %d flagged are fraud)" % (precision, tp, tp + fp),
        "  recall             %.4f   (%d of %d frauds caught)" % (recall, tp, tp + fn),
        "  F1                 %.4f" % f1,
        "",
        "  Confusion matrix     flagged   not flagged",
        "    fraud            %9d   %11d" % (tp, fn),
        "    legitimate       %9d   %11d" % (fp, tn),
        "",
        "Deployment gate",
        "  validation AUC %.4f %s the minimum %.2f: the endpoint %s" % (
            validation_auc, ">=" if deployed else "<", a.min_auc,
            "was deployed" if deployed else "was NOT deployed"),
    ])
    fpr, tpr, _ = roc_curve(y, score)
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.plot(fpr, tpr, label="ROC, held out (AUC = %.3f)" % auc)
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.plot(fp / max(fp + tn, 1), recall, "o", color="crimson", markersize=8,
            label="operating point (threshold %.3f)" % threshold)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate (recall)")
    ax.set_title("ROC curve, held-out days")
    ax.legend(loc="lower right")
    pdf.savefig(fig)
    plt.close(fig)
    curve_p, curve_r, _ = precision_recall_curve(y, score)
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.plot(curve_r, curve_p, label="precision-recall, held out (AP = %.3f)" % ap)
    ax.axhline(y.mean(), linestyle="--", color="grey", label="base rate %.3f" % y.mean())
    ax.plot(recall, precision, "o", color="crimson", markersize=8,
            label="operating point (threshold %.3f)" % threshold)
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_title("Precision-recall curve, held-out days")
    ax.legend(loc="upper right")
    pdf.savefig(fig)
    plt.close(fig)
    names = list(evaluation["feature_importances"])
    values = [evaluation["feature_importances"][n] for n in names]
    order = np.argsort(values)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.barh([names[i] for i in order], [values[i] for i in order], color="steelblue")
    ax.set_xlabel("Drop in validation ROC AUC when the feature is shuffled")
    ax.set_title("Feature importances (permutation, validation rows)")
    fig.tight_layout()
    pdf.savefig(fig)
    plt.close(fig)
json.dump(metrics, open(os.path.join(os.path.dirname(pdf_path), "metrics.json"), "w"), indent=2)
print("report: %s (held out %s to %s: ROC AUC %.4f, precision %.3f, recall %.3f at threshold %.4f)"
      % (a.output, h["first_day"], h["last_day"], auc, precision, recall, threshold))
