/**
 * natgrad: natural gradient descent and K-FAC for small neural networks, on a
 * WebAssembly SIMD float64 core with a plain-TypeScript fallback.
 *
 * @packageDocumentation
 */
export { init, backendInfo } from './backend.js';
export type { InitOptions, BackendInfo } from './backend.js';
export * as linalg from './linalg.js';
export type { GemmOptions, DampingOptions, Eigh } from './linalg.js';
export {
  NatgradError, ShapeError, NonFiniteError, NotPositiveDefiniteError, ConvergenceError, ArgumentError, StateError,
} from './errors.js';
export type { Kernels, Ptr, BackendName } from './kernels/types.js';
export { Mat, Workspace } from './matrix.js';
export { kernels, loadKernels } from './backend.js';
export const VERSION = '0.1.0';
export { Net } from './nn/net.js';
export type { ParamBlock } from './nn/net.js';
export { twoLayerReLU, mlp } from './nn/models.js';
export type { TwoLayerReLUOptions, MlpOptions, InitSpec } from './nn/models.js';
export type { ActivationName } from './nn/activations.js';
export { squaredError, softmaxCrossEntropy } from './nn/losses.js';
export type { Loss, LossSpec, LossOptions, Reduction } from './nn/losses.js';
export { jacobian, vjp } from './nn/jacobian.js';
export { ngd } from './optim/ngd.js';
export type { NgdOptions, LevenbergMarquardtOptions } from './optim/ngd.js';
export { gd, sgd, adam } from './optim/first-order.js';
export type { GdOptions, SgdOptions, AdamOptions } from './optim/first-order.js';
export type { Optimizer, Batch, StepOptions, StepStats } from './optim/types.js';
export { train, evaluate } from './train.js';
export type { TrainOptions, TrainRecord } from './train.js';
export { gramMatrix, gramSpectrum, limitingGram, jacobianDrift, weightMovement } from './diagnostics.js';
export type { GramSpectrum, LimitingGram } from './diagnostics.js';
export { jvp } from './nn/jacobian.js';
export { kfac, kfacPreconditioner } from './optim/kfac.js';
export type {
  KfacOptimizer, KfacOptions, KfacCurvatureOptions, KfacPreconditionerOptions, KfacAdaptiveOptions, KfacStepStats, KfacBlockStats,
  KfacPreconditioner, KfacPreconditionStats, FisherType, KfacNormalization,
} from './optim/kfac.js';
export type { Preconditioner, PreconditionStats } from './optim/types.js';
export { KroneckerBlock } from './curvature/kronecker.js';
export type {
  MatRef, FactorNormalization, KroneckerInversion, KroneckerDamping, FactorForm, KroneckerBlockOptions,
  KroneckerUpdateOptions, KroneckerInverseInfo, KroneckerConditionNumbers,
} from './curvature/kronecker.js';
export { piDamping, levenbergMarquardt } from './curvature/damping.js';
export type { PiDamping, LevenbergMarquardtRule } from './curvature/damping.js';
export { emaStep } from './curvature/ema.js';
export type { EmaStep } from './curvature/ema.js';
// Reproduction diagnostics (issue 10): eigenmodes, NTK, kernel predictor, drift, leverage, data, MNIST, presets.
export { gramEigen, modeProjections, crossGram, kernelPredictor, minNormDisplacement, gramDrift, leverageScores } from './diagnostics/kernel.js';
export type { KernelOptions, Leverage } from './diagnostics/kernel.js';
export { unitSphere, nearParallelPairs, gaussianTargets, smoothTarget } from './diagnostics/data.js';
export type { UnitSphereOptions } from './diagnostics/data.js';
export { loadMnist } from './diagnostics/mnist.js';
export type { MnistOptions, MnistData } from './diagnostics/mnist.js';
export { kfacPaper } from './presets.js';
export type { KfacPaperOptions } from './presets.js';
