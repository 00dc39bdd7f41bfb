/**
 * Checkpoints: the parameters, the optimizer's whole state and the data-order
 * state of a run, as one JSON object, so that a run resumed in a fresh process
 * continues bit for bit (`saveCheckpoint` / `loadCheckpoint`). Loading validates
 * like {@link loadNet} (FormatError naming the field, no prototype reachable).
 */
import { kernels as activeKernels } from '../backend/init.js';
import { FormatError } from '../errors.js';
import type { FitState } from '../training/types.js';
import type { Kernels } from '../kernels/types.js';
import type { Net } from '../nn/net.js';
import { specSize } from '../nn/layers/index.js';
import type { Optimizer } from '../optim/types.js';
import { decodeF64, describe, encodeF64 } from '../encoding/codec.js';
import { checksumOf, verifyChecksum } from '../encoding/checksum.js';
import type { ModelJSON } from '../nn/spec.js';
import { decodeModel, int, netFromDecoded, object, parseJSON } from './model.js';
import { optimizerFromJSON, optimizerToJSON, type OptimizerJSON } from './optimizer-state.js';

/** The JSON form of {@link FitState}: the same fields, the kept parameters as base64 float64. */
export interface TrainingJSON extends Omit<FitState, 'best'> {
  /** Early-stopping bookkeeping, when enabled. */
  best?: Omit<NonNullable<FitState['best']>, 'params'> & {
    /** That epoch's parameters (base64 float64), when kept. */
    params?: string;
  };
}

/**
 * A checkpoint (version 2; version 1, the same without `checksum`, still loads). `extra` is the
 * caller's own JSON data, returned as saved.
 */
export interface CheckpointJSON {
  /** Always 'natgrad-checkpoint'. */
  format: 'natgrad-checkpoint';
  /** The format version: 2 (1: files written before checksums, still read). */
  version: 1 | 2;
  /** The net, as `net.toJSON()` saves it. */
  model: ModelJSON;
  /** The optimizer's type, configuration and whole state. */
  optimizer: OptimizerJSON;
  /** The {@link FitState} to resume `fit` from, when one was given. */
  training?: TrainingJSON;
  /** The caller's own JSON data. */
  extra?: unknown;
  /** `crc32:` and 8 hex digits: the CRC-32 of the other members' JSON text (required from version 2). */
  checksum?: string;
}

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The net with the saved parameters. */
  net: Net;
  /** The optimizer with its saved state, bound to `net`. */
  optimizer: Optimizer;
  /** The fit state to pass as `fit(…, { resume: training })`, when the checkpoint has one. */
  training?: FitState;
  /** The caller's `extra` data, as saved. */
  extra?: unknown;
}

/**
 * Captures a run: `net`'s parameters (exact), `optimizer`'s configuration and whole state
 * (moments, step counts, damping, K-FAC factors and inverses…), the caller's `extra` (any
 * JSON value) and, from `fit`'s `onEpoch` context or result, the data-order state.
 *
 * @param net the network
 * @param optimizer the optimizer that trains it (any of natgrad's but `lbfgs`, which cannot be checkpointed)
 * @param extra the caller's own data, any JSON value (stored as a plain copy)
 * @param training the fit state to resume from (`ctx.state` in `onEpoch`, or `result.state`)
 * @returns the checkpoint as JSON data; `JSON.stringify` it to save
 * @example
 * fit(net, data, opt, { epochs: 10, batchSize: 32, onEpoch: (r, ctx) => {
 *   writeFileSync('ckpt.json', JSON.stringify(saveCheckpoint(net, opt, { note: 'run 1' }, ctx.state)));
 * } });
 */
export function saveCheckpoint(net: Net, optimizer: Optimizer, extra?: unknown, training?: FitState): CheckpointJSON {
  const json: CheckpointJSON = { format: 'natgrad-checkpoint', version: 2, model: net.toJSON(), optimizer: optimizerToJSON(optimizer, net) };
  if (training) {
    const t: TrainingJSON = { epoch: training.epoch, step: training.step, rng: training.rng };
    if (training.best) {
      t.best = { loss: training.best.loss, epoch: training.best.epoch, wait: training.best.wait };
      if (training.best.params) t.best.params = encodeF64(training.best.params);
    }
    if (training.bayesian) t.bayesian = { prior: training.bayesian.prior, noise: training.bayesian.noise };
    json.training = t;
  }
  if (extra !== undefined) json.extra = plainJSON(extra, 'extra');
  json.checksum = checksumOf(json as unknown as Record<string, unknown>);
  return json;
}

/**
 * Rebuilds the net (on the active backend, or `options.kernels`), the optimizer with its state
 * and the training state from a checkpoint object or its JSON text, validating everything first;
 * throws FormatError naming the field of anything corrupt or inconsistent, or content that does not
 * match its checksum (any changed byte of a file written by `JSON.stringify`).
 *
 * @param json a {@link CheckpointJSON} object, or its JSON text
 * @param options the backend to build the net on
 * @returns the net, the optimizer with its state, the fit state and the caller's extra data
 * @example
 * const { net, optimizer, training } = loadCheckpoint(readFileSync('ckpt.json', 'utf8'));
 * fit(net, data, optimizer, { epochs: 20, batchSize: 32, resume: training });
 */
export function loadCheckpoint(json: unknown, options: { kernels?: Kernels } = {}): LoadedCheckpoint {
  const o = object(typeof json === 'string' ? parseJSON(json) : json, 'checkpoint');
  if (o.format !== 'natgrad-checkpoint') throw new FormatError('format', `must be 'natgrad-checkpoint', got ${describe(o.format)}`);
  if (o.version !== 1 && o.version !== 2) throw new FormatError('version', `unsupported version ${describe(o.version)}; this natgrad reads versions 1 and 2`);
  const model = decodeModel(o.model, 'model.');
  let training: FitState | undefined;
  if (o.training !== undefined) {
    const t = object(o.training, 'training');
    training = { epoch: int(t.epoch, 'training.epoch', 0, Number.MAX_SAFE_INTEGER), step: int(t.step, 'training.step', 0, Number.MAX_SAFE_INTEGER), rng: int(t.rng, 'training.rng', 0, 2 ** 32 - 1) };
    if (t.best !== undefined) {
      const b = object(t.best, 'training.best');
      const loss = typeof b.loss === 'number' || b.loss === null ? (b.loss ?? Infinity) : NaN;
      if (Number.isNaN(loss)) throw new FormatError('training.best.loss', `must be a number, got ${describe(b.loss)}`);
      training.best = { loss, epoch: int(b.epoch, 'training.best.epoch', 0, Number.MAX_SAFE_INTEGER), wait: int(b.wait, 'training.best.wait', 0, Number.MAX_SAFE_INTEGER) };
      const P = model.specs.reduce((s, L, l) => s + (L.trainable ? specSize(L, `model.architecture.layers[${l}]`) : 0), 0);
      if (b.params !== undefined) training.best.params = decodeF64(b.params, 'training.best.params', P);
    }
    // Checkpoints written before δ, σ were saved have none: a bayesian run resumed from one starts them afresh.
    if (t.bayesian !== undefined) {
      const b = object(t.bayesian, 'training.bayesian');
      training.bayesian = { prior: positive(b.prior, 'training.bayesian.prior'), noise: positive(b.noise, 'training.bayesian.noise') };
    }
  }
  const extra = o.extra === undefined ? undefined : plainJSON(o.extra, 'extra');
  const k = options.kernels ?? activeKernels();
  // The optimizer's state is validated before the net is allocated, so a bad file leaks nothing.
  const restore = optimizerFromJSON(o.optimizer, model, 'optimizer');
  const net = netFromDecoded(model, k);
  let optimizer: Optimizer;
  try {
    optimizer = restore(net);
  } catch (e) {
    net.dispose();
    throw e;
  }
  try {
    // Last, so that a damaged field is named by its own check before the whole-file one.
    verifyChecksum(o, o.version !== 1, '', typeof json === 'string' ? json : undefined);
  } catch (e) {
    optimizer.dispose();
    net.dispose();
    throw e;
  }
  const loaded: LoadedCheckpoint = { net, optimizer };
  if (training) loaded.training = training;
  if (extra !== undefined) loaded.extra = extra;
  return loaded;
}

/**
 * A deep copy of a JSON value made of fresh plain objects and arrays (no key `__proto__`,
 * `constructor` or `prototype` survives); anything that is not JSON data is a FormatError.
 */
export function plainJSON(v: unknown, field: string, depth = 0): unknown {
  if (depth > 64) throw new FormatError(field, 'is nested too deeply');
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new FormatError(field, `holds ${v}; JSON numbers are finite`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => plainJSON(x, `${field}[${i}]`, depth + 1));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v as object)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      const x = (v as Record<string, unknown>)[key];
      if (x !== undefined) Object.defineProperty(out, key, { value: plainJSON(x, `${field}.${key}`, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  throw new FormatError(field, `holds ${typeof v}, which is not JSON data`);
}

/** A finite number > 0 (δ or σ of Bayesian regularisation), or FormatError naming `field`. */
function positive(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new FormatError(field, `must be a finite number > 0, got ${describe(v)}`);
  return v;
}
