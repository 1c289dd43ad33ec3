#!/usr/bin/env python3
"""Compute auditpack's evaluation metrics with scikit-learn, as a reference.

Usage: compas_reference.py PREDICTIONS.csv

Reads a predictions CSV with the columns label, prediction, score, race and
sex (positive label 1) and prints JSON shaped like auditpack's evaluation
object: source.rows, confusionMatrix, metrics and groups. Overall metrics
come from sklearn.metrics. The per-group rates and the fairness measures use
numpy and pandas and follow fairlearn's definitions: differences and ratios
between the largest and the smallest group value. A value that cannot be
computed is null. internal/metrics' TestCompasAgainstScikitLearn compares
this output with metrics.Evaluate.
"""

import json
import sys

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

POSITIVE = "1"
GROUP_COLUMNS = ["race", "sex"]


def rate(numerator, denominator):
    """Return numerator/denominator as a float, or None for a zero denominator."""
    return None if denominator == 0 else float(numerator) / float(denominator)


def overall(y_true, y_pred, score):
    # labels=[0, 1] fixes the layout [[tn, fp], [fn, tp]] even if a class is absent.
    tn, fp, fn, tp = (int(v) for v in skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel())
    both_classes = len(np.unique(y_true)) == 2
    probabilities = bool(((score >= 0) & (score <= 1)).all())
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balancedAccuracy": skm.balanced_accuracy_score(y_true, y_pred) if both_classes else None,
        "precision": skm.precision_score(y_true, y_pred, zero_division=0) if tp + fp else None,
        "recall": skm.recall_score(y_true, y_pred, zero_division=0) if tp + fn else None,
        "specificity": skm.recall_score(y_true, y_pred, pos_label=0, zero_division=0) if tn + fp else None,
        "fpr": rate(fp, fp + tn),
        "fnr": rate(fn, fn + tp),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0) if 2 * tp + fp + fn else None,
        "rocAuc": skm.roc_auc_score(y_true, score) if both_classes else None,
        "brierScore": skm.brier_score_loss(y_true, score) if probabilities else None,
        "averagePrecision": skm.average_precision_score(y_true, score) if tp + fn else None,
        "logLoss": skm.log_loss(y_true, score, labels=[0, 1]) if probabilities else None,
        "expectedCalibrationError": expected_calibration_error(y_true, score, 10) if probabilities else None,
        "positives": tp + fn,
        "negatives": tn + fp,
        "predictedPositives": tp + fp,
    }
    matrix = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    return matrix, {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in result.items()}


def expected_calibration_error(y_true, score, bins):
    """Return the count-weighted mean |fraction positive - mean score| over
    the non-empty bins of sklearn.calibration.calibration_curve (uniform)."""
    fraction, mean_score = calibration_curve(y_true, score, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], score), minlength=bins)
    counts = counts[counts != 0]
    return float(np.sum(counts / len(score) * np.abs(fraction - mean_score)))


def group_rates(frame):
    y_true, y_pred = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    tp = int(((y_true == 1) & (y_pred == 1)).sum())
    fp = int(((y_true == 0) & (y_pred == 1)).sum())
    tn = int(((y_true == 0) & (y_pred == 0)).sum())
    fn = int(((y_true == 1) & (y_pred == 0)).sum())
    count = len(frame)
    return {
        "count": count,
        "positives": tp + fn,
        "baseRate": rate(tp + fn, count),
        "selectionRate": rate(tp + fp, count),
        "tpr": rate(tp, tp + fn),
        "fpr": rate(fp, fp + tn),
        "fnr": rate(fn, fn + tp),
        "precision": rate(tp, tp + fp),
        "accuracy": skm.accuracy_score(y_true, y_pred),
    }


def between_groups(values):
    """Return (max - min, min / max) over values, None where undefined."""
    if any(v is None for v in values):
        return None, None
    high, low = max(values), min(values)
    return high - low, (None if high == 0 else low / high)


def fairness(groups):
    selection = [g["selectionRate"] for g in groups.values()]
    dp_difference, dp_ratio = between_groups(selection)
    tpr_difference, tpr_ratio = between_groups([g["tpr"] for g in groups.values()])
    fpr_difference, fpr_ratio = between_groups([g["fpr"] for g in groups.values()])
    eo_difference = None if tpr_difference is None or fpr_difference is None else max(tpr_difference, fpr_difference)
    eo_ratio = None if tpr_ratio is None or fpr_ratio is None else min(tpr_ratio, fpr_ratio)
    return {
        "demographicParityDifference": dp_difference,
        "demographicParityRatio": dp_ratio,
        "equalizedOddsDifference": eo_difference,
        "equalizedOddsRatio": eo_ratio,
        "disparateImpactRatio": dp_ratio,
        "fourFifthsRule": None if dp_ratio is None else bool(dp_ratio >= 0.8),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: compas_reference.py PREDICTIONS.csv")
    data = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
    frame = pd.DataFrame({
        "y_true": (data["label"] == POSITIVE).astype(int),
        "y_pred": (data["prediction"] == POSITIVE).astype(int),
        "score": data["score"].astype(float),
    })
    matrix, overall_metrics = overall(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(), frame["score"].to_numpy())

    groups = {}
    for column in GROUP_COLUMNS:
        frame["group"] = data[column]
        per_group = {str(name): group_rates(part) for name, part in frame.groupby("group", sort=True)}
        groups[column] = {"column": column, "minGroupSize": 0, "excludedGroups": [],
                          "groups": per_group, "fairness": fairness(per_group)}

    json.dump({
        "source": {"rows": len(data)},
        "confusionMatrix": matrix,
        "metrics": overall_metrics,
        "groups": groups,
    }, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
