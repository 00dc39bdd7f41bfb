/**
 * natgrad/diagnostics: the paper's measuring tools and the reproduction's helpers. The Gram
 * matrix G = JJᵀ of a net and its spectrum, the limiting Gram of the two-layer ReLU net,
 * Jacobian drift and weight movement, eigenmodes and mode projections, cross Gram, the kernel
 * predictor and minimum-norm displacement, leverage scores, the seeded data generators of
 * `natgrad reproduce`, and the paper's K-FAC configuration.
 *
 * @packageDocumentation
 */
export { gramMatrix, gramSpectrum, limitingGram, jacobianDrift, weightMovement } from './gram.js';
export type { GramSpectrum, LimitingGram } from './gram.js';
export { gramEigen, modeProjections, crossGram, kernelPredictor, minNormDisplacement, gramDrift, leverageScores } from './kernel.js';
export type { KernelOptions, Leverage } from './kernel.js';
export { unitSphere, nearParallelPairs, gaussianTargets, smoothTarget } from './data.js';
export type { UnitSphereOptions } from './data.js';
export { kfacPaper } from '../optim/presets.js';
export type { KfacPaperOptions } from '../optim/presets.js';
