/**
 * The optimizers' configuration and state in checkpoints: each optimizer type has
 * one codec that writes `{ type, config, state }` and rebuilds the optimizer from it.
 */
import { ArgumentError, FormatError } from '../errors.js';
import type { Net } from '../nn/net.js';
import type { Optimizer } from '../optim/types.js';
import { describe } from './codec.js';
import { object, type DecodedModel } from './model.js';

/** An optimizer in a checkpoint: its factory name, the options it was made with, and its state. */
export interface OptimizerJSON {
  type: string;
  config: Record<string, unknown>;
  state: Record<string, unknown>;
}

/** Writes one optimizer type, and reads it back (validating, then building on a net). */
interface Codec {
  save(opt: Optimizer, net: Net): OptimizerJSON;
  load(json: Record<string, unknown>, model: DecodedModel, field: string): (net: Net) => Optimizer;
}

const CODECS: Record<string, Codec> = {};

/** The checkpoint form of `optimizer` (which must have stepped `net`, or not stepped at all). */
export function optimizerToJSON(optimizer: Optimizer, net: Net): OptimizerJSON {
  const codec = Object.prototype.hasOwnProperty.call(CODECS, optimizer?.name) ? CODECS[optimizer.name] : undefined;
  if (!codec) throw new ArgumentError('optimizer', `${String(optimizer?.name)} cannot be checkpointed (supported: ${Object.keys(CODECS).join(', ') || 'none yet'})`);
  return codec.save(optimizer, net);
}

/** Validates an optimizer's checkpoint form against the model; returns its builder. */
export function optimizerFromJSON(json: unknown, model: DecodedModel, field: string): (net: Net) => Optimizer {
  const o = object(json, field);
  const type = o.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(CODECS, type)) {
    throw new FormatError(`${field}.type`, `must be one of ${Object.keys(CODECS).join(', ') || '(none)'}, got ${describe(type)}`);
  }
  return CODECS[type].load(o, model, field);
}
