#!/usr/bin/env python3
"""Build multiclass and regression predictions from the UCI Adult data and
compute their metrics with scikit-learn, as a reference for auditpack.

Usage: adult_reference.py ADULT_DATA OUTPUT_DIR

The "models" are fixed rules plus seeded noise (numpy seed 7), so the
files are the same on every run. The multiclass task predicts
marital-status from age, sex and relationship and gives every class a score
rounded to three decimals (which makes ties); the regression task predicts
hours-per-week from education-num, age and sex. Both files keep race and
sex as group columns. The script writes OUTPUT_DIR/multiclass.csv and
OUTPUT_DIR/regression.csv and prints the reference values as JSON, shaped
like auditpack's evaluation objects. internal/metrics'
TestAdultAgainstScikitLearn compares them with auditpack's results.
"""

import json
import os
import sys

import numpy as np
import pandas as pd
from sklearn import metrics as skm

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
           "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]


def load(path):
    return pd.read_csv(path, header=None, names=COLUMNS, skipinitialspace=True, dtype=str, keep_default_na=False)


def multiclass(data, out):
    rng = np.random.default_rng(7)
    classes = sorted(data["marital-status"].unique())
    index = {c: i for i, c in enumerate(classes)}
    y = data["marital-status"].map(index).to_numpy()
    raw = rng.random((len(data), len(classes)))
    age = data["age"].astype(int).to_numpy()
    married = index["Married-civ-spouse"]
    never = index["Never-married"]
    raw[:, married] += np.where(data["relationship"].isin(["Husband", "Wife"]), 2.0, 0.0)
    raw[:, never] += np.where(age < 28, 1.5, 0.0)
    raw[np.arange(len(data)), y] += rng.random(len(data))
    scores = np.round(raw / raw.sum(axis=1, keepdims=True), 3)
    prediction = scores.argmax(axis=1)
    frame = pd.DataFrame({"label": [classes[i] for i in y], "prediction": [classes[i] for i in prediction],
                          "race": data["race"], "sex": data["sex"]})
    for k, c in enumerate(classes):
        frame["score_" + str(k)] = [f"{v:.3f}" for v in scores[:, k]]
    frame.to_csv(os.path.join(out, "multiclass.csv"), index=False)

    labels = list(range(len(classes)))
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, prediction, labels=labels, zero_division=0)
    per_class = {}
    for k, c in enumerate(classes):
        per_class[c] = {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]),
                        "support": int(support[k]), "rocAuc": float(skm.roc_auc_score(y == k, scores[:, k]))}
    aucs = np.array([per_class[c]["rocAuc"] for c in classes])
    result = {
        "accuracy": skm.accuracy_score(y, prediction),
        "balancedAccuracy": skm.balanced_accuracy_score(y, prediction),
        "macroPrecision": skm.precision_score(y, prediction, average="macro", zero_division=0),
        "macroRecall": skm.recall_score(y, prediction, average="macro"),
        "macroF1": skm.f1_score(y, prediction, average="macro"),
        "weightedPrecision": skm.precision_score(y, prediction, average="weighted", zero_division=0),
        "weightedRecall": skm.recall_score(y, prediction, average="weighted"),
        "weightedF1": skm.f1_score(y, prediction, average="weighted"),
        "microPrecision": skm.precision_score(y, prediction, average="micro"),
        "microRecall": skm.recall_score(y, prediction, average="micro"),
        "microF1": skm.f1_score(y, prediction, average="micro"),
        "top2Accuracy": skm.top_k_accuracy_score(y, scores, k=2, labels=labels),
        "top3Accuracy": skm.top_k_accuracy_score(y, scores, k=3, labels=labels),
        "logLoss": skm.log_loss(y, scores, labels=labels),
        "macroRocAuc": float(aucs.mean()),
        "weightedRocAuc": float(np.average(aucs, weights=support)),
    }
    groups = {}
    for column in ["race", "sex"]:
        per_group = {}
        for name, part in pd.DataFrame({"y": y, "p": prediction, "g": data[column]}).groupby("g"):
            per_group[name] = {"count": len(part), "accuracy": skm.accuracy_score(part.y, part.p),
                               "balancedAccuracy": skm.balanced_accuracy_score(part.y, part.p)}
        accuracy = [g["accuracy"] for g in per_group.values()]
        groups[column] = {"groups": per_group, "fairness": {
            "accuracyDifference": max(accuracy) - min(accuracy), "accuracyRatio": min(accuracy) / max(accuracy)}}
    matrix = skm.confusion_matrix(y, prediction, labels=labels).tolist()
    return {"classes": classes, "confusionMatrix": matrix, "perClass": per_class,
            "metrics": {k: float(v) for k, v in result.items()}, "groups": groups}


def regression(data, out):
    rng = np.random.default_rng(7)
    y = data["hours-per-week"].astype(float).to_numpy()
    education = data["education-num"].astype(float).to_numpy()
    age = data["age"].astype(float).to_numpy()
    male = (data["sex"] == "Male").to_numpy()
    predicted = np.round(30 + 0.8 * education + 0.05 * age + 3 * male + rng.normal(0, 4, len(data)), 2)
    pd.DataFrame({"hours": data["hours-per-week"], "predicted": [f"{v:.2f}" for v in predicted],
                  "race": data["race"], "sex": data["sex"]}).to_csv(os.path.join(out, "regression.csv"), index=False)
    errors = predicted - y
    result = {
        "mae": skm.mean_absolute_error(y, predicted),
        "mse": skm.mean_squared_error(y, predicted),
        "rmse": skm.mean_squared_error(y, predicted, squared=False),
        "r2": skm.r2_score(y, predicted),
        "mape": skm.mean_absolute_percentage_error(y, predicted),
        "medianAbsoluteError": skm.median_absolute_error(y, predicted),
        "maxError": skm.max_error(y, predicted),
        "meanError": float(np.mean(errors)),
    }
    groups = {}
    for column in ["race", "sex"]:
        per_group = {}
        for name, part in pd.DataFrame({"y": y, "p": predicted, "g": data[column]}).groupby("g"):
            per_group[name] = {"count": len(part), "mae": skm.mean_absolute_error(part.y, part.p),
                               "rmse": skm.mean_squared_error(part.y, part.p, squared=False),
                               "r2": skm.r2_score(part.y, part.p)}
        mae = [g["mae"] for g in per_group.values()]
        groups[column] = {"groups": per_group, "fairness": {"maeDifference": max(mae) - min(mae), "maeRatio": min(mae) / max(mae)}}
    return {"metrics": {k: float(v) for k, v in result.items()}, "groups": groups}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: adult_reference.py ADULT_DATA OUTPUT_DIR")
    data = load(sys.argv[1])
    json.dump({"multiclass": multiclass(data, sys.argv[2]), "regression": regression(data, sys.argv[2])},
              sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
