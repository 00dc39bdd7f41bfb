"""scikit-learn on the same splits as bench/tables.mjs (run by hand after it, not in CI):
a linear model (LogisticRegression / LinearRegression) and a small MLP (MLPClassifier / MLPRegressor,
one hidden layer of 32, adam, sklearn's other defaults) through the usual
preprocessing (median / most-frequent imputation, standard scaling, one-hot text columns).
Writes bench/results/tables-sklearn.json, which bench/tables.mjs puts beside its own numbers.

    apt-get install -y python3-sklearn && /usr/bin/python3 bench/sklearn-tables.py
"""
import csv
import json
import os
import platform
import time

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SPLITS = os.path.join(ROOT, "bench", "results", "tables")
RESULTS = json.load(open(os.path.join(ROOT, "bench", "results", "tables.json")))


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


out = {}
for r in RESULTS["results"]:
    name, task = r["table"], r["task"]
    header, train = read(os.path.join(SPLITS, f"{name}-train.csv"))
    _, test = read(os.path.join(SPLITS, f"{name}-test.csv"))
    targets, ignore = r["target"].split(","), r["ignore"]
    ts = [header.index(target) for target in targets]
    cols = [j for j, h in enumerate(header) if j not in ts and h not in ignore]
    numeric = [j for j in cols if all(row[j] == "" or is_number(row[j]) for row in train)]
    text = [j for j in cols if j not in numeric]

    def frame(rows):
        X = np.empty((len(rows), len(cols)), dtype=object)
        for i, row in enumerate(rows):
            for k, j in enumerate(cols):
                X[i, k] = (float(row[j]) if row[j] != "" else np.nan) if j in numeric else (row[j] if row[j] != "" else np.nan)
        return X

    Xtr, Xte = frame(train), frame(test)
    if task == "classification":
        ytr, yte = [row[ts[0]] for row in train], [row[ts[0]] for row in test]
    else:  # r² averaged over the target columns (r2_score's default), as natgrad evaluate reports it
        ytr = np.array([[row[t] for t in ts] for row in train], dtype=float)
        yte = np.array([[row[t] for t in ts] for row in test], dtype=float)
        if len(ts) == 1:
            ytr, yte = ytr[:, 0], yte[:, 0]
    num_idx = [cols.index(j) for j in numeric]
    txt_idx = [cols.index(j) for j in text]

    def prep():
        parts = [("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num_idx)]
        if txt_idx:
            parts.append(("txt", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), txt_idx))
        return ColumnTransformer(parts)

    scores = {}
    if task == "classification":
        models = {"linear": LogisticRegression(max_iter=5000),
                  "mlp": MLPClassifier(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)}
    else:
        models = {"linear": LinearRegression(),
                  "mlp": MLPRegressor(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)}
    for kind, model in models.items():
        pipe = make_pipeline(prep(), model)
        t0 = time.perf_counter()
        pipe.fit(Xtr, ytr)
        pred = pipe.predict(Xte)
        scores[kind] = float(accuracy_score(yte, pred) if task == "classification" else r2_score(yte, pred))
        scores[f"{kind}_seconds"] = round(time.perf_counter() - t0, 3)
    out[name] = scores
    print(name, scores)

json.dump({"env": {"sklearn": sklearn.__version__, "python": platform.python_version(), "loadavg": list(os.getloadavg())}, "tables": out},
          open(os.path.join(ROOT, "bench", "results", "tables-sklearn.json"), "w"), indent=2)
