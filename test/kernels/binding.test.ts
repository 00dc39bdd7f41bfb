import { WasmKernels, ABI_VERSION, wasmBytes } from '../../src/kernels/wasm/index';
import { KERNEL_NAMES } from '../../src/kernels/types';
import { BackendError, NatgradError } from '../../src/errors';
import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';

/** A stand-in for a module's exports: every export the binding needs, as no-op functions. */
function fakeExports(): Record<string, unknown> {
  const ex: Record<string, unknown> = { ABI_VERSION };
  for (const name of [...KERNEL_NAMES, 'alloc', 'free', 'pendingAllocation', 'clearPendingAllocation', 'gemmPanel', 'maskGramRows', 'mirrorLowerRows', 'solveLeafPanel', 'threadScratchBytes', 'useThreadScratch']) {
    ex[name] = () => 0;
  }
  return ex;
}
const memory = () => new WebAssembly.Memory({ initial: 16, maximum: 16 });

describe('the WASM binding', () => {
  test('binds every listed kernel of the real module as a function', async () => {
    for (const variant of KERNEL_VARIANTS) {
      const k = await kernelsFor(variant);
      for (const name of KERNEL_NAMES) expect(typeof k[name]).toBe('function');
    }
  });

  test('the real module exports every listed kernel', async () => {
    const mod = await WebAssembly.compile(wasmBytes('baseline'));
    const exported = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
    expect(KERNEL_NAMES.filter((n) => !exported.has(n))).toEqual([]);
  });

  test.each(['gemm', 'maskGram', 'alloc', 'pendingAllocation', 'gemmPanel'])('a module without %s is refused at load with a typed error naming it', (name) => {
    const ex = fakeExports();
    delete ex[name];
    expect(() => new WasmKernels(ex, memory(), 'baseline', 16)).toThrow(BackendError);
    try {
      new WasmKernels(ex, memory(), 'baseline', 16);
    } catch (e) {
      expect((e as NatgradError).code).toBe('E_BACKEND');
      expect((e as Error).message).toContain(name);
    }
  });

  test('an export that is not a function counts as missing', () => {
    const ex = fakeExports();
    ex.potrf = 7;
    expect(() => new WasmKernels(ex, memory(), 'baseline', 16)).toThrow(/potrf/);
  });

  test('an ABI mismatch is a BackendError naming both versions', () => {
    const ex = fakeExports();
    ex.ABI_VERSION = ABI_VERSION + 1;
    expect(() => new WasmKernels(ex, memory(), 'baseline', 16)).toThrow(BackendError);
    expect(() => new WasmKernels(ex, memory(), 'baseline', 16)).toThrow(new RegExp(`ABI version ${ABI_VERSION + 1}.*expects ${ABI_VERSION}`));
    // The module exports its version as a global; that form is read too.
    ex.ABI_VERSION = new WebAssembly.Global({ value: 'i32' }, ABI_VERSION);
    expect(() => new WasmKernels(ex, memory(), 'baseline', 16)).not.toThrow();
  });
});
