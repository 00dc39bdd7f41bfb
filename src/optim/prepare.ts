/**
 * What every optimizer does before and after its step: validates the step's inputs
 * (net, batch, loss) and evaluates the loss at the current parameters.
 */
import { ArgumentError, ShapeError, StateError } from '../errors.js';
import { resolveLoss, type Loss } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import { checkDim } from '../validate.js';
import type { StepOptions } from './types.js';

/** Validates the net, batch and loss of a step; returns the loss. */
export function prepareStep(net: Net, batch: Batch, options: StepOptions | undefined): Loss {
  if (!net || typeof net.predict !== 'function') throw new ArgumentError('net', 'must be a Net (from twoLayerReLU or mlp)');
  if (net.disposed) throw new StateError('Net used after dispose()');
  if (net.numParams === 0) throw new ArgumentError('net', 'has no trainable parameters');
  if (!batch || typeof batch !== 'object') throw new ArgumentError('batch', 'must be { X, Y, n }');
  const { X, Y, n } = batch;
  checkDim('n', n);
  if (n < 1) throw new ShapeError('n', 'a step needs at least one example');
  net.checkInput(X, n);
  const loss = resolveLoss(options?.loss);
  loss.checkTargets(Y, n, net.outputDim);
  return loss;
}

/** The loss at the net's current parameters on `batch` (a forward pass on the net's own scratch). */
export function lossAt(net: Net, batch: Batch, loss: Loss): number {
  const out = net.evaluate(batch.X, batch.n).output;
  // Read the memory only after evaluate(): its first call allocates and may grow memory, detaching older views.
  return loss.value(net.kernels.f64(), out >> 3, batch.Y, batch.n, net.outputDim);
}
