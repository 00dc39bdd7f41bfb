import { loadKernels } from '../../src/backend';
import type { BackendName, Kernels } from '../../src/kernels/types';

/** Every backend, for describe.each: each behaviour test runs once per backend. */
export const BACKENDS: BackendName[] = ['wasm', 'js'];

export function kernelsFor(name: BackendName): Promise<Kernels> {
  return loadKernels(name);
}
