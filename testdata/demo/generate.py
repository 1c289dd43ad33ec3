"""Regenerate the demo's synthetic data: python3 generate.py

The demo is a made-up loan-approval model. Its rows are drawn from a fixed
seed, so the files it writes never change; no real person is in them.
"""
import csv
import json
import math
import random

rng = random.Random(20240601)
rows = []
features = []
for i in range(1, 401):
    sex = rng.choice(["female", "male"])
    age_band = rng.choice(["18-29", "30-49", "50+"])
    income = round(rng.lognormvariate(10.6, 0.45), 2)
    debt_ratio = round(min(max(rng.gauss(0.35, 0.15), 0.0), 1.0), 3)
    logit = 2.2 * (math.log(income) - 10.6) - 4.0 * (debt_ratio - 0.35) + rng.gauss(0, 0.9)
    label = 1 if logit > 0 else 0
    score = 1 / (1 + math.exp(-(2.0 * (math.log(income) - 10.6) - 3.6 * (debt_ratio - 0.35) + rng.gauss(0, 0.6))))
    score = round(score, 4)
    prediction = 1 if score >= 0.5 else 0
    rows.append({"id": i, "label": label, "prediction": prediction, "score": score, "sex": sex, "age_band": age_band})
    features.append({"id": i, "income": income, "debt_ratio": debt_ratio, "sex": sex, "age_band": age_band, "label": label})

with open("eval/predictions.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)

with open("data/eval.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(features[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(features)

with open("models/model.json", "w") as f:
    json.dump({"kind": "logistic-regression", "features": ["log_income", "debt_ratio"],
               "coefficients": [2.0, -3.6], "intercept_offset": [10.6, 0.35]}, f, indent=2)
    f.write("\n")
