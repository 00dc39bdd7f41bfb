"""Writes scikit-learn's bundled tables as CSV files beside this script (run by hand; needs Debian's
python3-sklearn: `apt-get install -y python3-sklearn`, then `/usr/bin/python3 bench/data/export-sklearn.py`).
Raw features (diabetes unscaled), the target as the last column. Licences: see LICENSES.md."""
import csv
import os
from sklearn import datasets

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, bunch, target, classes=None):
    X, y = bunch.data, bunch.target
    header = [str(f) for f in bunch.feature_names] + [target]
    with open(os.path.join(HERE, f"{name}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row, t in zip(X, y):
            w.writerow([repr(float(v)) if float(v) != int(v) else str(int(v)) for v in row] + [classes[int(t)] if classes is not None else repr(float(t)) if float(t) != int(t) else str(int(t))])


wine = datasets.load_wine()
write("wine", wine, "cultivar", [str(c) for c in wine.target_names])
bc = datasets.load_breast_cancer()
write("breast-cancer", bc, "diagnosis", [str(c) for c in bc.target_names])
digits = datasets.load_digits()
digits.feature_names = [f"p{i}" for i in range(64)]
write("digits", digits, "digit", [str(i) for i in range(10)])
write("diabetes", datasets.load_diabetes(scaled=False), "progression")
# linnerud: three exercise counts → three body measurements (a multi-target table; all six columns as they are).
linnerud = datasets.load_linnerud()
with open(os.path.join(HERE, "linnerud.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(list(linnerud.feature_names) + list(linnerud.target_names))
    for x, y in zip(linnerud.data, linnerud.target):
        w.writerow([str(int(v)) for v in x] + [str(int(v)) for v in y])
