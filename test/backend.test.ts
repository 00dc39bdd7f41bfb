import { init, backendInfo, ArgumentError, StateError, VERSION } from '../src/index';
import { kernels, loadKernels } from '../src/advanced';
import { wasmSimdSupported } from '../src/kernels/wasm/index';
import { readFileSync } from 'node:fs';

describe('init', () => {
  test('options are strict: an unknown key names the closest valid one, a wrong type names its type', async () => {
    await expect(init({ bakend: 'js' } as never)).rejects.toThrow(/bakend.*did you mean 'backend'/);
    await expect(init({ threads: true } as never)).rejects.toThrow(ArgumentError);
    await expect(init({ maxMemoryBytes: '1e6' } as never)).rejects.toThrow(/got the string "1e6"/);
    await expect(loadKernels('js', { backend: 'js' } as never)).rejects.toThrow(ArgumentError);
  });

  const relaxed = wasmSimdSupported('relaxed');
  const autoBuild = relaxed ? 'relaxed' : 'baseline';
  const max = 2 ** 31;

  test('auto picks WASM SIMD on Node ≥ 20 (the probe validates the module), relaxed where the engine validates it', async () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(await init()).toEqual({ backend: 'wasm', simd: true, simdBuild: autoBuild, maxMemoryBytes: max, threads: 1, threadsUnavailable: null });
    expect(kernels().backend).toBe('wasm');
    expect(kernels().simdBuild).toBe(autoBuild);
  });

  test('relaxed SIMD validates exactly on engines that ship it (Node ≥ 22; not Node 20)', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(relaxed).toBe(major >= 22);
  });

  test('an explicit backend is honoured and reported', async () => {
    expect(await init({ backend: 'js' })).toEqual({ backend: 'js', simd: false, simdBuild: null, maxMemoryBytes: max, threads: 1, threadsUnavailable: null });
    expect(backendInfo()).toEqual({ backend: 'js', simd: false, simdBuild: null, maxMemoryBytes: max, threads: 1, threadsUnavailable: null });
    expect(await init({ backend: 'wasm' })).toEqual({ backend: 'wasm', simd: true, simdBuild: autoBuild, maxMemoryBytes: max, threads: 1, threadsUnavailable: null });
  });

  test('an explicit SIMD build is honoured, or refused with a typed error where the engine lacks it', async () => {
    expect((await init({ simd: 'baseline' })).simdBuild).toBe('baseline');
    if (relaxed) expect((await init({ simd: 'relaxed' })).simdBuild).toBe('relaxed');
    else await expect(init({ simd: 'relaxed' })).rejects.toThrow(StateError);
    await expect(init({ simd: 'fma' as never })).rejects.toThrow(ArgumentError);
    await expect(init({ backend: 'js', simd: 'baseline' })).rejects.toThrow(/simd/);
    expect((await init({ backend: 'js', simd: 'auto' })).simdBuild).toBeNull();
  });

  test('maxMemoryBytes gives a fresh backend with that ceiling, reported by init()', async () => {
    const shared = await loadKernels('wasm');
    const info = await init({ maxMemoryBytes: (8 << 20) + 100 });
    expect(info.maxMemoryBytes).toBe(8 << 20);
    expect(kernels()).not.toBe(shared);
    expect((await init({ backend: 'js', maxMemoryBytes: 8 << 20 })).maxMemoryBytes).toBe(8 << 20);
    await expect(init({ maxMemoryBytes: 1000 })).rejects.toThrow(ArgumentError);
    await expect(init({ backend: 'js', maxMemoryBytes: Number.NaN })).rejects.toThrow(ArgumentError);
  });

  test('the same backend instance is reused (per build)', async () => {
    expect(await loadKernels('wasm')).toBe(await loadKernels('wasm'));
    expect(await loadKernels('wasm', { simd: 'baseline' })).toBe(await loadKernels('wasm', { simd: 'baseline' }));
  });

  test('an unknown backend is a typed error naming the option', async () => {
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow(ArgumentError);
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow(/backend/);
  });

  test('auto falls back to JS where WebAssembly SIMD cannot compile', async () => {
    const validate = WebAssembly.validate;
    (WebAssembly as { validate: unknown }).validate = () => false;
    try {
      expect(await init({ backend: 'auto' })).toMatchObject({ backend: 'js', simd: false, simdBuild: null });
      await expect(init({ backend: 'wasm' })).rejects.toThrow(StateError);
    } finally {
      (WebAssembly as { validate: unknown }).validate = validate;
    }
  });

  test('VERSION matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')).version);
  });
});
