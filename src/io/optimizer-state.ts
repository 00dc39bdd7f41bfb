/**
 * The optimizers in checkpoints: `{ type, config, state }`, where `type` names the factory,
 * `config` is the options that rebuild the optimizer with it, and `state` is the optimizer's
 * whole mutable state ({@link StatefulOptimizer}), encoded exactly by encoding/state.ts.
 */
import { ArgumentError, FormatError, NatgradError } from '../errors.js';
import type { Net } from '../nn/net.js';
import { adam, gd, sgd } from '../optim/first-order.js';
import { kfac } from '../optim/kfac.js';
import { ngd } from '../optim/ngd.js';
import type { Optimizer } from '../optim/types.js';
import { describe } from '../encoding/codec.js';
import { object, type DecodedModel } from './model.js';
import { encodeState, StateReader, type StateValue } from '../encoding/state.js';

/** An optimizer in a checkpoint. */
export interface OptimizerJSON {
  /** Which optimizer: 'ngd', 'kfac', 'gd', 'sgd' or 'adam'. */
  type: string;
  /** The factory options that rebuild it. */
  config: Record<string, unknown>;
  /** Its whole mutable state. */
  state: unknown;
}

/** What an optimizer implements to be checkpointed (all of natgrad's but `lbfgs`). */
export interface StatefulOptimizer extends Optimizer {
  /** The factory options (JSON data) that rebuild this optimizer. */
  checkpointConfig(): Record<string, unknown>;
  /** Its whole mutable state (moments, step counts, damping, factors, inverses, generators…), copied. */
  saveState(): { [key: string]: StateValue };
  /** Restores a {@link saveState} on `net` (binding the optimizer to it); throws FormatError naming a bad field. */
  loadState(net: Net, state: StateReader): void;
}

/** The factories by type name. */
const FACTORIES: Record<string, (config: never) => Optimizer> = { gd, sgd, adam, ngd, kfac };

function stateful(opt: Optimizer): opt is StatefulOptimizer {
  const o = opt as Partial<StatefulOptimizer>;
  return typeof o.saveState === 'function' && typeof o.loadState === 'function' && typeof o.checkpointConfig === 'function';
}

/** The checkpoint form of `optimizer`. */
export function optimizerToJSON(optimizer: Optimizer, net: Net): OptimizerJSON {
  if (!optimizer || !Object.prototype.hasOwnProperty.call(FACTORIES, optimizer.name) || !stateful(optimizer)) {
    throw new ArgumentError('optimizer', `${String(optimizer?.name)} cannot be checkpointed (natgrad's ${Object.keys(FACTORIES).join(', ')} can)`);
  }
  void net;
  return { type: optimizer.name, config: optimizer.checkpointConfig(), state: encodeState(optimizer.saveState()) };
}

/**
 * Validates the type and configuration of an optimizer's checkpoint form; returns the builder
 * that makes it and loads its state on a net (disposing it when the state is bad).
 */
export function optimizerFromJSON(json: unknown, model: DecodedModel, field: string): (net: Net) => Optimizer {
  void model;
  const o = object(json, field);
  const type = o.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(FACTORIES, type)) {
    throw new FormatError(`${field}.type`, `must be one of ${Object.keys(FACTORIES).join(', ')}, got ${describe(type)}`);
  }
  const config = object(o.config, `${field}.config`);
  let make: () => Optimizer;
  try {
    const probe = FACTORIES[type](config as never);
    probe.dispose();
    make = () => FACTORIES[type](config as never);
  } catch (e) {
    if (e instanceof ArgumentError) throw new FormatError(`${field}.config.${e.argument}`, e.message.slice(e.argument.length + 2));
    if (e instanceof NatgradError) throw new FormatError(`${field}.config`, e.message);
    throw e;
  }
  const state = new StateReader(o.state, `${field}.state`);
  return (net) => {
    const opt = make();
    try {
      (opt as StatefulOptimizer).loadState(net, state);
    } catch (e) {
      opt.dispose();
      throw e;
    }
    return opt;
  };
}
