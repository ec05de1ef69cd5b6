"""Databricks job: the performance report of a batch of predictions, as a PDF (ROC and
precision-recall curves, metrics) plus metrics.json next to it."""
import argparse
import glob
import json
import os

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
a = p.parse_args()

files = sorted(glob.glob(os.path.join(s3local.path(a.predictions), "*.out")))
if not files:
    raise SystemExit("no prediction files under %s" % a.predictions)
data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
y, score = data[:, 0].astype(int), data[:, 1]
auc = roc_auc_score(y, score)
ap = average_precision_score(y, score)
tn, fp, fn, tp = confusion_matrix(y, score >= 0.5).ravel()
metrics = {"rows": int(len(y)), "fraud_rate": float(y.mean()), "roc_auc": float(auc),
           "average_precision": float(ap), "threshold": 0.5, "true_positives": int(tp),
           "false_positives": int(fp), "false_negatives": int(fn), "true_negatives": int(tn)}

pdf_path = s3local.ensure_dir(a.output)
with PdfPages(pdf_path) as pdf:
    fig, ax = plt.subplots(figsize=(8.27, 5))
    ax.axis("off")
    ax.set_title("Fraud model performance report", fontsize=16)
    text = "\n".join("%-20s %s" % (k, ("%.4f" % v) if isinstance(v, float) else v)
                     for k, v in metrics.items())
    ax.text(0.02, 0.9, text, family="monospace", fontsize=11, va="top")
    pdf.savefig(fig)
    plt.close(fig)
    fpr, tpr, _ = roc_curve(y, score)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot(fpr, tpr, label="ROC (AUC = %.3f)" % auc)
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.legend(loc="lower right")
    pdf.savefig(fig)
    plt.close(fig)
    precision, recall, _ = precision_recall_curve(y, score)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot(recall, precision, label="PR (AP = %.3f)" % ap)
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.legend(loc="upper right")
    pdf.savefig(fig)
    plt.close(fig)
json.dump(metrics, open(os.path.join(os.path.dirname(pdf_path), "metrics.json"), "w"), indent=2)
print("report: %s (ROC AUC %.4f, AP %.4f)" % (a.output, auc, ap))
