#!/usr/bin/env python3
"""The Python stack a user would otherwise reach for: pandas reads the
predictions, scikit-learn computes the overall metrics, pandas groupby the
per-group rates and the fairness gaps. It computes what auditpack's
binary-classification evaluation reports for the same file and prints a
few numbers so that the two can be checked against each other.

Usage: baseline.py PREDICTIONS.csv
"""

import json
import sys

import numpy as np
import pandas as pd
from sklearn import metrics as skm


def main():
    data = pd.read_csv(sys.argv[1])
    y, p, s = data["label"].to_numpy(), data["prediction"].to_numpy(), data["score"].to_numpy()
    tn, fp, fn, tp = skm.confusion_matrix(y, p, labels=[0, 1]).ravel()
    overall = {
        "accuracy": skm.accuracy_score(y, p),
        "balancedAccuracy": skm.balanced_accuracy_score(y, p),
        "precision": skm.precision_score(y, p),
        "recall": skm.recall_score(y, p),
        "specificity": skm.recall_score(y, p, pos_label=0),
        "f1": skm.f1_score(y, p),
        "rocAuc": skm.roc_auc_score(y, s),
        "averagePrecision": skm.average_precision_score(y, s),
        "brierScore": skm.brier_score_loss(y, s),
        "logLoss": skm.log_loss(y, s),
        "fpr": fp / (fp + tn),
        "fnr": fn / (fn + tp),
    }
    fairness = {}
    for column in ["race", "sex"]:
        frame = pd.DataFrame({"y": y, "p": p, "g": data[column]})
        frame["tp"] = (frame.y == 1) & (frame.p == 1)
        frame["fp"] = (frame.y == 0) & (frame.p == 1)
        grouped = frame.groupby("g")
        sums = grouped[["y", "p", "tp", "fp"]].sum()
        count = grouped.size()
        selection = sums.p / count
        tpr = sums.tp / sums.y
        fpr = sums.fp / (count - sums.y)
        fairness[column] = {
            "demographicParityDifference": float(selection.max() - selection.min()),
            "demographicParityRatio": float(selection.min() / selection.max()),
            "equalizedOddsDifference": float(max(tpr.max() - tpr.min(), fpr.max() - fpr.min())),
        }
    json.dump({"metrics": {k: float(v) for k, v in overall.items()}, "fairness": fairness}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
