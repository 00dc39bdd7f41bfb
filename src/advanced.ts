/**
 * natgrad/advanced: the parts below the training surface, for building your own optimizer,
 * curvature estimate or kernel experiment: the kernels and the backend's memory handles,
 * validated linear algebra on plain arrays, Jacobian products, Kronecker blocks and the
 * K-FAC estimator's options, damping rules and moving averages, the K-FAC preconditioner,
 * and the types of the file formats and of the less common options and records.
 *
 * @packageDocumentation
 */

// ---- Kernels and backend memory (src/kernels, src/backend) ------------------------------------------------
export type { Kernels, Ptr, BackendName, SimdBuild } from './kernels/types.js';
export { kernels, loadKernels } from './backend/init.js';
export type { LoadKernelsOptions } from './backend/init.js';
export { Mat, Workspace } from './backend/matrix.js';
/** Validated linear algebra on plain Float64Arrays (GEMM, Gram, Cholesky solves, inverses, eigendecomposition) on the active backend. */
export * as linalg from './backend/linalg.js';
export type { GemmOptions, DampingOptions, Eigh } from './backend/linalg.js';

// ---- Networks: layout, specs, Jacobian products (src/nn) --------------------------------------------------
export type { ParamBlock } from './nn/net.js';
export type { DenseSpec } from './nn/spec.js';
export type { Reduction } from './nn/losses.js';
export { jacobian, vjp, jvp } from './nn/jacobian.js';
export { maskGramApplies } from './nn/gram.js';

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

// ---- Optimizers: step options, the K-FAC preconditioner and its records (src/optim) -----------------------
export type { StepOptions, Preconditioner, PreconditionStats } from './optim/types.js';
export type { KfacAdaptiveOptions, KfacStepStats } from './optim/kfac.js';
export { kfacPreconditioner } from './optim/kfac-preconditioner.js';
export type { KfacPreconditionerOptions, KfacCurvatureStats, KfacPreconditioner, KfacPreconditionStats } from './optim/kfac-preconditioner.js';

// ---- Training callbacks and schedules (src/training) ------------------------------------------------------
export type { EpochContext, OptimizerChoice, OptimizerChoiceInput } from './training/fit.js';
export { chooseOptimizer } from './training/fit.js';

// ---- Raw tables: preprocessing saved with the model (src/data/preprocess.ts, issue 18) --------------------
export { TablePreprocessor, detectTask, predictTable, evaluateTable } from './data/preprocess.js';
export type { TablePreprocessorOptions, CellError, TablePredictions, TableScores } from './data/preprocess.js';
export type { Schedule } from './training/schedules.js';

// ---- File formats: saved models and checkpoints (src/nn/spec.ts, src/io) ----------------------------------
export type { ModelJSON, LayerJSON, ModelColumns, StandardizerJSON, TablePreprocessingJSON, InputColumnJSON, TargetJSON } from './nn/spec.js';
export type { LoadOptions } from './io/model.js';
export type { CheckpointJSON, TrainingJSON, LoadedCheckpoint } from './io/checkpoint.js';
export type { OptimizerJSON, StatefulOptimizer } from './io/optimizer-state.js';

// ---- Uncertainty: the Laplace posterior's structures and predictions (src/laplace) ------------------------
export type { LaplaceStructure, LaplacePrediction } from './laplace/laplace.js';

// ---- Physics-informed nets (issue 20): PDE problems, energy natural gradient, L-BFGS ----------------------
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

// ---- The layer seam: a new kind of layer is one definition and one registration (src/nn/layer.ts) --------
export { registerLayer } from './nn/layer.js';
export type {
  Layer, LayerDefinition, LayerSpec, AnyLayerSpec, KindSpec, LayerPlace, GramBlockContext, TaylorHook, CaptureView, NetShape,
} from './nn/layer.js';
export type { Activation } from './nn/activations.js';
