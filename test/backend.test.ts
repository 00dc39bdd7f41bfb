import { init, backendInfo, kernels, loadKernels, ArgumentError, StateError, VERSION } from '../src/index';
import { wasmSimdSupported } from '../src/kernels/wasm/index';
import { readFileSync } from 'node:fs';

describe('init', () => {
  test('auto picks WASM SIMD on Node 20 (the probe validates the module)', async () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(await init()).toEqual({ backend: 'wasm', simd: true });
    expect(kernels().backend).toBe('wasm');
  });

  test('an explicit backend is honoured and reported', async () => {
    expect(await init({ backend: 'js' })).toEqual({ backend: 'js', simd: false });
    expect(backendInfo()).toEqual({ backend: 'js', simd: false });
    expect(await init({ backend: 'wasm' })).toEqual({ backend: 'wasm', simd: true });
  });

  test('the same backend instance is reused', async () => {
    expect(await loadKernels('wasm')).toBe(await loadKernels('wasm'));
  });

  test('an unknown backend is a typed error naming the option', async () => {
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow(ArgumentError);
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow(/backend/);
  });

  test('auto falls back to JS where WebAssembly SIMD cannot compile', async () => {
    const validate = WebAssembly.validate;
    (WebAssembly as { validate: unknown }).validate = () => false;
    try {
      expect(await init({ backend: 'auto' })).toEqual({ backend: 'js', simd: false });
      await expect(init({ backend: 'wasm' })).rejects.toThrow(StateError);
    } finally {
      (WebAssembly as { validate: unknown }).validate = validate;
    }
  });

  test('VERSION matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')).version);
  });
});
