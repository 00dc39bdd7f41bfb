/**
 * natgrad: natural gradient descent and K-FAC for small neural networks, on a
 * WebAssembly SIMD float64 core with a plain-TypeScript fallback.
 *
 * This entry holds what you train with: the backend's setup, networks and losses, the
 * optimizers, `train` and `fit`, evaluation, data helpers, schedules, saved models and
 * checkpoints, the Laplace posterior. The paper's measuring tools are in
 * `natgrad/diagnostics`; kernels, memory handles, Kronecker blocks, damping rules, the file
 * formats' types and other parts below the surface in `natgrad/advanced`.
 *
 * @packageDocumentation
 */

// ---- Setup, errors, version -------------------------------------------------------------------------------
export { init, backendInfo, shutdown } from './backend/init.js';
export type { InitOptions, BackendInfo } from './backend/init.js';
export {
  NatgradError, ShapeError, NonFiniteError, NotPositiveDefiniteError, ConvergenceError, ArgumentError, StateError, FormatError, DivergenceError,
  OutOfMemoryError, BackendError,
} from './errors.js';
/**
 * The library's version (the `version` of its package.json).
 *
 * @example
 * console.log(`natgrad ${VERSION}`);
 */
export const VERSION = '0.2.0';

// ---- Networks and losses (src/nn) -------------------------------------------------------------------------
export { Net } from './nn/net.js';
export type { Batch } from './nn/net.js';
export { twoLayerReLU, mlp } from './nn/models.js';
export type { TwoLayerReLUOptions, MlpOptions, InitSpec } from './nn/models.js';
export type { ActivationName } from './nn/activations.js';
export { squaredError, softmaxCrossEntropy } from './nn/losses.js';
export type { Loss, LossSpec, LossOptions } from './nn/losses.js';

// ---- Optimizers (src/optim) --------------------------------------------------------------------------------
export type { Optimizer, StepStats } from './optim/types.js';
export { ngd } from './optim/ngd.js';
export type { NgdOptions } from './optim/ngd.js';
export type { DivergenceGuardOptions } from './optim/step-safety.js';
export { kfac } from './optim/kfac.js';
export type { KfacOptimizer, KfacOptions } from './optim/kfac.js';
export { gd, sgd, adam } from './optim/first-order.js';
export type { GdOptions, SgdOptions, AdamOptions } from './optim/first-order.js';

// ---- Training and evaluation (src/training) ---------------------------------------------------------------
export { train } from './training/train.js';
export type { TrainOptions } from './training/train.js';
export { fit } from './training/fit.js';
export type { FitOptions, FitResult, EpochRecord, EarlyStoppingOptions } from './training/fit.js';
export type { TrainRecord, FitState } from './training/types.js';
export { evaluate, predictClasses, predictProba } from './training/metrics.js';
export type { Metric, MetricValues, EvaluateOptions, Evaluation } from './training/metrics.js';
export { constantLr, stepLr, exponentialLr, cosineLr } from './training/schedules.js';
export type { ScheduleSpec } from './training/schedules.js';

// ---- Your own data, saved models, checkpoints (src/data, src/io) ------------------------------------------
export { oneHot, trainTestSplit, takeRows, Standardizer, LabelEncoder } from './data/index.js';
export type { SplitOptions, Split } from './data/index.js';
export { loadNet, parseJSON } from './io/model.js';
export { saveCheckpoint, loadCheckpoint } from './io/checkpoint.js';

// ---- Uncertainty: the Laplace posterior and its linearised predictive (src/laplace, issue 19) -------------
export { laplace } from './laplace/laplace.js';
export type { LaplacePosterior, LaplaceOptions } from './laplace/laplace.js';
export type { BayesianRecord } from './laplace/bayesian.js';
