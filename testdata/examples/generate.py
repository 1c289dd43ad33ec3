#!/usr/bin/env python3
"""Write the synthetic example inputs under testdata/examples (seeded, so
the files are the same on every run). Run from this directory."""

import csv
import gzip
import random

rng = random.Random(11)
GROUPS = [("north", "f"), ("north", "m"), ("south", "f"), ("south", "m")]

# multiclass: an iris-like three-class problem with per-class scores.
with open("multiclass/predictions.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["label", "prediction", "p_setosa", "p_versicolor", "p_virginica", "region", "sex"])
    classes = ["setosa", "versicolor", "virginica"]
    for i in range(300):
        label = i % 3
        raw = [rng.random() for _ in classes]
        raw[label] += rng.random() * 1.5
        total = sum(raw)
        scores = [round(x / total, 3) for x in raw]
        prediction = max(range(3), key=lambda k: (scores[k], -k))
        region, sex = GROUPS[rng.randrange(4)]
        w.writerow([classes[label], classes[prediction], *scores, region, sex])

# regression: semicolon-separated and gzip-compressed, as European exports are.
with gzip.open("regression/predictions.csv.gz", "wt", newline="") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(["price", "predicted_price", "region", "sex"])
    for _ in range(400):
        region, sex = GROUPS[rng.randrange(4)]
        price = round(rng.uniform(50, 500), 2)
        bias = 8 if region == "south" else 0
        w.writerow([price, round(price + rng.gauss(bias, 20), 2), region, sex])

# latency: milliseconds with RFC 3339 timestamps, 10 requests a second.
with open("latency/requests.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["latency_ms", "started_at"])
    for i in range(200):
        w.writerow([round(rng.lognormvariate(3.5, 0.4), 1), f"2024-05-01T12:{i // 600:02d}:{(i // 10) % 60:02d}.{i % 10}00Z"])

# robustness: a binary model on clean inputs and on inputs with noise added.
clean = open("robustness/clean.csv", "w", newline="")
noisy = open("robustness/noisy.csv", "w", newline="")
wc, wn = csv.writer(clean), csv.writer(noisy)
for w in (wc, wn):
    w.writerow(["id", "label", "prediction", "score", "region", "sex"])
for i in range(500):
    region, sex = GROUPS[rng.randrange(4)]
    label = 1 if rng.random() < 0.4 else 0
    score = min(max(0.3 * label + 0.7 * rng.random(), 0), 1)
    noisy_score = min(max(score + rng.gauss(0, 0.15), 0), 1)
    wc.writerow([i, label, int(score >= 0.5), f"{score:.4f}", region, sex])
    wn.writerow([i, label, int(noisy_score >= 0.5), f"{noisy_score:.4f}", region, sex])
clean.close()
noisy.close()
