/// <reference types="node" />
/**
 * The Laplace posterior in the CLI: `train --laplace` fits it after training and saves it with the
 * model (src/cli/posterior-file.ts); `predict --uncertainty` and `evaluate` read it back.
 */
import { laplace, loadNet, NatgradError, type Batch, type Net } from '../index.js';
import type { LaplacePosterior, LaplaceStructure } from '../laplace/laplace.js';
import { decodePosterior, posteriorToJSON, restorePosterior, savedPosteriorValues, withPosterior, type DecodedPosterior } from './posterior-file.js';
import type { ModelJSON } from '../nn/spec.js';
import { CliError } from './args.js';
import { fmt, libraryError, loadJsonFile } from './common.js';

/** The values of `--laplace-structure`. */
export const LAPLACE_STRUCTURES = ['auto', 'full', 'kfac', 'diagonal', 'last-layer'] as const;

/** The most values 'auto' lets a saved 'full' posterior hold (the training data: 2^18 values, about 2.8 MB of file). */
export const SAVED_FULL_LIMIT = 1 << 18;
/** 'auto' uses 'last-layer' for a net with only its output layer trainable up to this many weights. */
const LAST_LAYER_LIMIT = 2048;

/**
 * The structure `--laplace-structure auto` saves, chosen by what the file will hold: a net whose only
 * trainable layer is its dense output layer (the linear model the CLI may write) takes 'last-layer', which
 * is then the exact posterior in (k·(d + 1))² + k·(d + 1) values; otherwise 'full' while n·k ≤ 2048 and its
 * saved training data, n·(d + k) values, stays within {@link SAVED_FULL_LIMIT}; else 'kfac' when every
 * layer is at most 2048 wide, else 'diagonal' (laplace's own 'auto' then decides memory).
 */
export function savedStructure(net: Net, n: number, classifier: boolean, requested: LaplaceStructure): LaplaceStructure {
  if (requested !== 'auto') return requested;
  const trainable = net.layers.filter((L) => L.trainable), last = net.layers[net.layers.length - 1];
  if (trainable.length === 1 && trainable[0] === last && last.kronecker && net.outputDim * last.inA <= LAST_LAYER_LIMIT) return 'last-layer';
  if (n * net.outputDim <= 2048 && savedPosteriorValues(net, 'full', n, classifier) <= SAVED_FULL_LIMIT) return 'auto';
  return trainable.every((L) => !L.kronecker || (L.inA <= 2048 && L.outputs <= 2048)) ? 'kfac' : 'diagonal';
}

/**
 * The saved model of `net` with its Laplace posterior on the training rows `train` (the net's terms):
 * fitted with `structure` ('auto': {@link savedStructure}), δ (and σ for a regression) tuned by maximising the log marginal likelihood on
 * the training rows (`optimize()`). One line says what was fitted and how many bytes it adds. When the
 * posterior cannot be fitted (memory, no finite maximiser of the evidence) a warning says why and the
 * model is returned without one.
 */
export function modelWithPosterior(net: Net, train: Batch, structure: LaplaceStructure, classifier: boolean, targetScale: number | undefined,
  say: (s: string) => void): ModelJSON {
  const model = net.toJSON();
  let post: LaplacePosterior | undefined;
  try {
    post = laplace(net, train, { loss: classifier ? 'cross-entropy' : 'squared-error', structure: savedStructure(net, train.n, classifier, structure) });
    const tuned = post.optimize();
    const saved = withPosterior(model, posteriorToJSON(post, train));
    const bytes = JSON.stringify(saved).length - JSON.stringify(model).length;
    const noise = classifier ? '' : `, noise σ ${fmt(tuned.noise)}${targetScale !== undefined ? ` (${fmt(tuned.noise * targetScale)} in the target's units)` : ''}`;
    say(`laplace: '${post.structure}' posterior on the ${train.n} training rows, prior δ ${fmt(tuned.prior)}${noise} by the evidence (log marginal likelihood ${fmt(tuned.logMarginalLikelihood)}); it adds ${bytes} bytes to the model file`);
    return saved;
  } catch (e) {
    if (!(e instanceof NatgradError)) throw e;
    say(`warning: --laplace: ${e.message}; the model is written without a posterior`);
    return model;
  } finally {
    post?.dispose();
  }
}

/** A loaded model and, when asked for and present, its saved posterior (checked, not yet rebuilt). */
export interface LoadedModel {
  net: Net;
  posterior?: DecodedPosterior;
}

/**
 * Reads a saved model; with `posterior`, also checks its saved Laplace posterior when it has one. A bad
 * file (the posterior member included) is a one-line CliError naming it and the field.
 */
export function loadModelWithPosterior(file: string, posterior: boolean): LoadedModel {
  return loadJsonFile(file, (json, text) => {
    const net = loadNet(text);
    const member = (json as { posterior?: unknown }).posterior;
    if (!posterior || member === undefined) return { net };
    try {
      const decoded = decodePosterior(member, net);
      if ((decoded.likelihood === 'categorical') !== !!net.labels) throw new CliError(`${file}: posterior.likelihood '${decoded.likelihood}' does not fit a ${net.labels ? 'classifier' : 'regression'}`);
      return { net, posterior: decoded };
    } catch (e) {
      net.dispose();
      throw e;
    }
  });
}

/** The saved posterior of `m`, rebuilt; exit 2 with a clear message for a model saved without one. */
export function posteriorOf(m: LoadedModel, file: string, flag: string): LaplacePosterior {
  if (!m.posterior) {
    throw new CliError(`${flag}: ${file} has no Laplace posterior (it was trained without --laplace); train it again with natgrad train --laplace`);
  }
  try {
    return restorePosterior(m.net, m.posterior);
  } catch (e) {
    // The saved rows of 'full' are fitted again: a backend with too little memory fails here (exit 1).
    return libraryError(e);
  }
}

/**
 * Per output, the factor that takes a regression output's standard deviation from the net's terms to the
 * target's units: the target's std when the model's preprocessing scales its targets, else 1.
 */
export function targetScales(net: Net): number[] {
  const p = net.preprocessing;
  if (p && p.type === 'table' && p.target.kind === 'numbers') return [...p.target.std];
  return new Array<number>(net.outputDim).fill(1);
}
