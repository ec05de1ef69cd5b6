"""Prints the figures of a fraud report's metrics.json that a reader checks first."""
import json
import sys

m = json.load(open(sys.argv[1]))
h, g = m["holdout"], m["gate"]
print("held out: %s to %s, %d transactions, %d frauds" % (h["first_day"], h["last_day"], h["rows"],
                                                          h["fraud_cases"]))
print("at threshold %.3f (%s): precision %.3f, recall %.3f (%d of %d frauds caught), ROC AUC %.3f"
      % (m["threshold"], m["threshold_rule"], h["precision"], h["recall"], h["true_positives"],
         h["fraud_cases"], h["roc_auc"]))
print("deployment gate: validation AUC %.3f %s %.2f: %s" % (
    g["value"], ">=" if g["deployed"] else "<", g["minimum"],
    "endpoint deployed" if g["deployed"] else "endpoint NOT deployed"))
