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
