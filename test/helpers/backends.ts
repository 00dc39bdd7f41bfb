import { loadKernels } from '../../src/backend/init';
import { wasmSimdSupported } from '../../src/kernels/wasm/index';
import type { BackendName, Kernels } from '../../src/kernels/types';

/** Every backend, for describe.each: each behaviour test runs once per backend. */
export const BACKENDS: BackendName[] = ['wasm', 'js'];

/** A backend, or the baseline SIMD128 build of the WASM one ('wasm' is the build init() picks). */
export type Variant = BackendName | 'wasm-baseline';

/**
 * For the kernel tests: every backend, plus the baseline WASM build where 'wasm' is the relaxed-SIMD
 * one (engines that validate relaxed SIMD: Node ≥ 22), so both builds meet the oracles.
 */
export const KERNEL_VARIANTS: Variant[] = wasmSimdSupported('relaxed') ? ['wasm', 'wasm-baseline', 'js'] : ['wasm', 'js'];

export function kernelsFor(name: Variant): Promise<Kernels> {
  return name === 'wasm-baseline' ? loadKernels('wasm', { simd: 'baseline' }) : loadKernels(name);
}
