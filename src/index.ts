/**
 * natgrad: natural gradient descent and K-FAC for small neural networks, on a
 * WebAssembly SIMD float64 core with a plain-TypeScript fallback.
 *
 * @packageDocumentation
 */

// ---- Setup, errors, version -------------------------------------------------------------------------------
export { init, backendInfo, shutdown } from './backend/init.js';
export type { InitOptions, BackendInfo, LoadKernelsOptions } from './backend/init.js';
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

// ---- Kernels and backend memory (src/kernels, src/backend) --------------------------------
export type { Kernels, Ptr, BackendName, SimdBuild } from './kernels/types.js';
export { kernels, loadKernels } from './backend/init.js';
export { Mat, Workspace } from './backend/matrix.js';
/** Validated linear algebra on plain Float64Arrays (GEMM, Gram, Cholesky solves, inverses, eigendecomposition) on the active backend. */
export * as linalg from './backend/linalg.js';
export type { GemmOptions, DampingOptions, Eigh } from './backend/linalg.js';

// ---- Networks, losses, Jacobian products (src/nn) ---------------------------------------------------------
export { Net } from './nn/net.js';
export type { ParamBlock, Batch } from './nn/net.js';
export { twoLayerReLU, mlp } from './nn/models.js';
export type { TwoLayerReLUOptions, MlpOptions, InitSpec } from './nn/models.js';
export type { ActivationName } from './nn/activations.js';
export { squaredError, softmaxCrossEntropy } from './nn/losses.js';
export type { Loss, LossSpec, LossOptions, Reduction } from './nn/losses.js';
export { jacobian, vjp, jvp } from './nn/jacobian.js';
export { maskGramApplies } from './nn/gram.js';
export { registerLayer } from './nn/layer.js';
export type {
  Layer, LayerDefinition, LayerSpec, AnyLayerSpec, KindSpec, LayerPlace, GramBlockContext, CaptureView, NetShape,
} from './nn/layer.js';
export type { Activation } from './nn/activations.js';

// ---- Curvature: Kronecker blocks, the K-FAC estimator's options, damping rules (src/curvature) ------------
export { KroneckerBlock } from './curvature/kronecker.js';
export type {
  MatRef, FactorNormalization, KroneckerInversion, KroneckerDamping, FactorForm, KroneckerBlockOptions,
  KroneckerBlockSettings, ResolvedKroneckerSettings, KroneckerUpdateOptions, KroneckerInverseInfo, KroneckerConditionNumbers,
} from './curvature/kronecker.js';
export type { KfacCurvatureOptions, KfacBlockStats, FisherType, KfacNormalization } from './curvature/kfac-estimator.js';
export { piDamping, levenbergMarquardt } from './curvature/damping.js';
export type { PiDamping, LevenbergMarquardtRule, LevenbergMarquardtOptions } from './curvature/damping.js';
export { emaStep } from './curvature/ema.js';
export type { EmaStep } from './curvature/ema.js';

// ---- Optimizers (src/optim) --------------------------------------------------------------------------------
export type { Optimizer, StepOptions, StepStats, Preconditioner, PreconditionStats } from './optim/types.js';
export { ngd } from './optim/ngd.js';
export type { NgdOptions } from './optim/ngd.js';
export type { DivergenceGuardOptions } from './optim/step-safety.js';
export { kfac } from './optim/kfac.js';
export type { KfacOptimizer, KfacOptions, KfacAdaptiveOptions, KfacStepStats } from './optim/kfac.js';
export { kfacPreconditioner } from './optim/kfac-preconditioner.js';
export type { KfacPreconditionerOptions, KfacCurvatureStats, KfacPreconditioner, KfacPreconditionStats } from './optim/kfac-preconditioner.js';
export { gd, sgd, adam } from './optim/first-order.js';
export type { GdOptions, SgdOptions, AdamOptions } from './optim/first-order.js';

// ---- Training loop and diagnostics -------------------------------------------------------------------------
export { train } from './training/train.js';
export type { TrainOptions } from './training/train.js';
export type { TrainRecord, FitState } from './training/types.js';
export { gramMatrix, gramSpectrum, limitingGram, jacobianDrift, weightMovement } from './diagnostics/gram.js';
export type { GramSpectrum, LimitingGram } from './diagnostics/gram.js';
// ---- Your own data: helpers, fit, schedules, saved models, checkpoints (src/data, src/training, src/io) ------
export { oneHot, trainTestSplit, takeRows, Standardizer, LabelEncoder } from './data/index.js';
export type { SplitOptions, Split } from './data/index.js';
export { fit } from './training/fit.js';
export { evaluate, evaluateMetrics, predictClasses, predictProba } from './training/metrics.js';
export type { Metric, MetricValues, EvaluateOptions, Evaluation } from './training/metrics.js';
export type {
  FitOptions, FitResult, EpochRecord, EpochContext, EarlyStoppingOptions,
} from './training/fit.js';
export { constantLr, stepLr, exponentialLr, cosineLr } from './training/schedules.js';
export type { Schedule, ScheduleSpec } from './training/schedules.js';
export { loadNet, parseJSON } from './io/model.js';
export type { LoadOptions } from './io/model.js';
export type { DenseSpec, ModelJSON, LayerJSON, ModelColumns, StandardizerJSON } from './nn/spec.js';
export { saveCheckpoint, loadCheckpoint } from './io/checkpoint.js';
export type { CheckpointJSON, TrainingJSON, LoadedCheckpoint } from './io/checkpoint.js';
export type { OptimizerJSON, StatefulOptimizer } from './io/optimizer-state.js';

// ---- Uncertainty: the Laplace posterior and its linearised predictive (src/laplace, issue 19) -------------
export { laplace } from './laplace/laplace.js';
export type { LaplacePosterior, LaplaceOptions, LaplaceStructure, LaplacePrediction } from './laplace/laplace.js';
export type { BayesianRecord } from './laplace/bayesian.js';

// ---- Reproduction diagnostics (issue 10): eigenmodes, NTK, kernel predictor, drifts, leverage, data ---------
export { gramEigen, modeProjections, crossGram, kernelPredictor, minNormDisplacement, gramDrift, leverageScores } from './diagnostics/kernel.js';
export type { KernelOptions, Leverage } from './diagnostics/kernel.js';
export { unitSphere, nearParallelPairs, gaussianTargets, smoothTarget } from './diagnostics/data.js';
export type { UnitSphereOptions } from './diagnostics/data.js';
export { kfacPaper } from './optim/presets.js';
export type { KfacPaperOptions } from './optim/presets.js';

// ---- Physics-informed nets (issue 20): PDE problems, energy natural gradient, L-BFGS --------------------------
export { pde, PdeProblem } from './pde/problem.js';
export type { PdeOptions, PdeEquation, PdeCondition, PointFunction, SolutionErrors } from './pde/problem.js';
export type { Sampler, Box } from './pde/sample.js';
export { poisson, heat, nonlinearPoisson } from './pde/problems.js';
export type { BuiltinProblemOptions } from './pde/problems.js';
export { solvePde } from './pde/solve.js';
export type { SolvePdeOptions, PdeRecord } from './pde/solve.js';
export { engd } from './optim/engd.js';
export type { Engd, EngdOptions, EngdStepStats } from './optim/engd.js';
export { lbfgs } from './optim/lbfgs.js';
export type { Lbfgs, LbfgsOptions, LbfgsStepStats, GradientObjective } from './optim/lbfgs.js';
export type { ResidualObjective } from './optim/objective.js';
