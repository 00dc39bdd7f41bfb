/**
 * Checkpoints: training 2N epochs equals N epochs, saveCheckpoint, loadCheckpoint in a FRESH
 * process, N more epochs, bit for bit, for every optimizer on both backends (shuffled
 * mini-batches); corrupt checkpoints raise FormatError naming the field; the CLI's
 * --checkpoint/--resume equals an uninterrupted run.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init, mlp, ngd, kfac, adam, sgd, gd, fit, saveCheckpoint, loadCheckpoint, FormatError, DivergenceError, type Optimizer, type Batch,
} from '../../src/index';
import { checksumOf } from '../../src/encoding/checksum';
import { bundle, runNode, tempDir } from '../helpers/fresh';
import { randn } from '../helpers/random';

/** The configurations resumed: name → factory. Mini-batches of 7 out of 30, shuffled every epoch. */
const CONFIGS: Record<string, () => Optimizer> = {
  'ngd fixed': () => ngd({ lr: 0.5, damping: 1e-2 }),
  'ngd adaptive': () => ngd({ lr: 1, damping: 1e-3, adaptive: true }),
  kfac: () => kfac({ lr: 0.5, damping: 1e-2 }),
  'kfac adaptive, momentum': () => kfac({ lr: 0.5, damping: 1e-2, adaptive: true, momentum: 0.5, inverseEvery: 3 }),
  adam: () => adam({ lr: 0.01 }),
  adamw: () => adam({ lr: 0.01, weightDecay: 0.1 }),
  'sgd nesterov': () => sgd({ lr: 0.05, momentum: 0.9, nesterov: true }),
  gd: () => gd({ lr: 0.05 }),
};
const N = 2;

/** The data, net and fit options every run shares (also compiled into the fresh process). */
const SHARED = `
export function data() {
  const n = 30, X = randn(11, n * 3), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) Y[i] = (X[3 * i] + X[3 * i + 1] > 0 ? 1 : 0) + (X[3 * i + 2] > 0.5 ? 1 : 0);
  return { X, Y, n };
}
export const fitOptions = { batchSize: 7, loss: 'cross-entropy', seed: 5, metrics: ['accuracy'], belowStart: false };
`;
function data(): Batch {
  const n = 30, X = randn(11, n * 3), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) Y[i] = (X[3 * i] + X[3 * i + 1] > 0 ? 1 : 0) + (X[3 * i + 2] > 0.5 ? 1 : 0);
  return { X, Y, n };
}
// belowStart, like restoreBest, acts where fit returns: a run split in two would apply it at the split too.
const fitOptions = { batchSize: 7, loss: 'cross-entropy' as const, seed: 5, metrics: ['accuracy' as const], belowStart: false };
const b64 = (p: Float64Array) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64');

test('2N epochs = N epochs + checkpoint + a fresh process resuming for N more, bit for bit, on both backends', async () => {
  const { dir, cleanup } = tempDir('natgrad-ckpt-');
  const expected: Record<string, string> = {};
  for (const backend of ['wasm', 'js'] as const) {
    await init({ backend });
    for (const [name, make] of Object.entries(CONFIGS)) {
      const key = `${backend} ${name}`;
      const whole = mlp({ sizes: [3, 6, 3], seed: 2 });
      const a = make();
      fit(whole, data(), a, { ...fitOptions, epochs: 2 * N });
      expected[key] = b64(whole.getParams());
      const half = mlp({ sizes: [3, 6, 3], seed: 2 });
      const b = make();
      const first = fit(half, data(), b, { ...fitOptions, epochs: N });
      expect(b64(half.getParams())).not.toBe(expected[key]);
      writeFileSync(join(dir, `${key}.json`), JSON.stringify(saveCheckpoint(half, b, { key }, first.state)));
      whole.dispose(); half.dispose(); a.dispose(); b.dispose();
    }
  }
  const script = bundle(`
    import { readFileSync } from 'node:fs';
    import { init, loadCheckpoint, fit } from '../src/index';
    import { randn } from './helpers/random';
    ${SHARED}
    const [dir, keys] = [process.argv[2], JSON.parse(process.argv[3])];
    const out = {};
    for (const key of keys) {
      await init({ backend: key.split(' ')[0] });
      const { net, optimizer, training, extra } = loadCheckpoint(readFileSync(dir + '/' + key + '.json', 'utf8'));
      if (extra.key !== key) throw new Error('extra lost');
      fit(net, data(), optimizer, { ...fitOptions, epochs: ${2 * N}, resume: training });
      const p = net.getParams();
      out[key] = Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64');
    }
    console.log(JSON.stringify(out));
  `, dir, 'resume');
  const resumed = JSON.parse(runNode(script, [dir, JSON.stringify(Object.keys(expected))]));
  for (const key of Object.keys(expected)) expect([key, resumed[key]]).toEqual([key, expected[key]]);
  cleanup();
});

test('in-process resume keeps optimizer state: kfac factors, adam moments, ngd damping', async () => {
  await init({ backend: 'wasm' });
  for (const make of Object.values(CONFIGS)) {
    const net = mlp({ sizes: [3, 6, 3], seed: 2 });
    const opt = make();
    const r = fit(net, data(), opt, { ...fitOptions, epochs: 1 });
    const ckpt = saveCheckpoint(net, opt, undefined, r.state);
    const again = loadCheckpoint(JSON.parse(JSON.stringify(ckpt)));
    expect(JSON.stringify(saveCheckpoint(again.net, again.optimizer, undefined, again.training))).toBe(JSON.stringify(ckpt));
    net.dispose(); opt.dispose(); again.net.dispose(); again.optimizer.dispose();
  }
});

test('step-level: full-batch train for 2N steps = N steps, checkpoint (JSON text), N more', async () => {
  await init({ backend: 'wasm' });
  const { train } = await import('../../src/index');
  for (const make of [CONFIGS['ngd adaptive'], CONFIGS['kfac adaptive, momentum'], CONFIGS.adamw]) {
    const a = mlp({ sizes: [3, 6, 3], seed: 2 }), optA = make();
    train(a, data(), optA, { steps: 6, loss: 'cross-entropy' });
    const b = mlp({ sizes: [3, 6, 3], seed: 2 }), optB = make();
    train(b, data(), optB, { steps: 3, loss: 'cross-entropy' });
    const text = JSON.stringify(saveCheckpoint(b, optB));
    b.dispose(); optB.dispose();
    const c = loadCheckpoint(text);
    train(c.net, data(), c.optimizer, { steps: 3, loss: 'cross-entropy' });
    expect(b64(c.net.getParams())).toBe(b64(a.getParams()));
    a.dispose(); optA.dispose(); c.net.dispose(); c.optimizer.dispose();
  }
});

test('K-FAC: loading survives memory growing at any allocation (a filler block slides the boundary), on both backends', async () => {
  // kfac.prev is allocated last while loading; a filler before the load, in steps of P/2
  // across the first memory size, makes each allocation in turn the one that grows memory.
  const { kernels } = await import('../../src/advanced');
  const n = 8, X = randn(3, n * 30), Y = new Float64Array(n).map((_, i) => i % 3);
  for (const backend of ['wasm', 'js'] as const) {
    await init({ backend });
    const net = mlp({ sizes: [30, 30, 30, 3], seed: 1 }), opt = kfac({ lr: 1e-3, damping: 1e-2, momentum: 0.5 });
    fit(net, { X, Y, n }, opt, { epochs: 1, loss: 'cross-entropy' });
    const text = JSON.stringify(saveCheckpoint(net, opt)), P = net.numParams;
    expect(JSON.parse(text).optimizer.state.hasDelta).toBe(true);
    net.dispose(); opt.dispose();
    await init({ backend });
    const first = kernels().memoryBytes() / 8;
    for (let f = 0; f < first + P; f += P >> 1) {
      await init({ backend });
      const filler = f ? kernels().alloc(f) : 0;
      const loaded = loadCheckpoint(text);
      expect(JSON.stringify(saveCheckpoint(loaded.net, loaded.optimizer))).toBe(text);
      loaded.net.dispose(); loaded.optimizer.dispose(); kernels().free(filler);
    }
  }
});

describe('corrupt checkpoints raise FormatError naming the field', () => {
  let good: Record<string, any>;
  beforeAll(async () => {
    await init({ backend: 'js' });
    const net = mlp({ sizes: [3, 6, 3], seed: 2 });
    const opt = adam();
    const r = fit(net, data(), opt, { ...fitOptions, epochs: 1 });
    good = JSON.parse(JSON.stringify(saveCheckpoint(net, opt, { note: 1 }, r.state)));
    net.dispose(); opt.dispose();
  });
  const cases: [string, string, (c: any) => void][] = [
    ['wrong format', 'format', (c) => { c.format = 'natgrad-model'; }],
    ['wrong version', 'version', (c) => { c.version = 0; }],
    ['corrupt model params', 'model.params.layers[0]', (c) => { c.model.params.layers[0] = 'AAAA'; }],
    ['model of another version', 'model.version', (c) => { c.model.version = 3; }],
    ['unknown optimizer', 'optimizer.type', (c) => { c.optimizer.type = 'lbfgs'; }],
    ['optimizer config out of range', 'optimizer.config.beta1', (c) => { c.optimizer.config.beta1 = 2; }],
    ['moment of the wrong size', 'optimizer.state.m', (c) => { c.optimizer.state.m.f64 = c.optimizer.state.m.f64.slice(0, 12); }],
    ['moment not encoded', 'optimizer.state.m', (c) => { c.optimizer.state.m = [1, 2, 3]; }],
    // 45 = (3 + 1)·6 + (6 + 1)·3 parameters of the 3-6-3 net.
    ['non-finite moment', 'optimizer.state.v', (c) => { c.optimizer.state.v = { f64: Buffer.from(new Float64Array(45).fill(NaN).buffer).toString('base64') }; }],
    ['negative step count', 'optimizer.state.t', (c) => { c.optimizer.state.t = -1; }],
    ['rng state out of range', 'training.rng', (c) => { c.training.rng = 2 ** 40; }],
    ['epoch not an integer', 'training.epoch', (c) => { c.training.epoch = 1.5; }],
  ];
  test.each(cases)('%s → %s', (_name, field, corrupt) => {
    const c = JSON.parse(JSON.stringify(good));
    corrupt(c);
    let err: unknown;
    try { loadCheckpoint(c); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).field).toBe(field);
  });

  test('K-FAC state: a missing block, a bad buffer name, a truncated factor', async () => {
    const net = mlp({ sizes: [3, 6, 3], seed: 2 });
    const opt = kfac({ damping: 1e-2 });
    fit(net, data(), opt, { ...fitOptions, epochs: 1 });
    const base = JSON.stringify(saveCheckpoint(net, opt));
    net.dispose(); opt.dispose();
    const expectField = (corrupt: (c: any) => void, field: string) => {
      const c = JSON.parse(base);
      corrupt(c);
      let err: unknown;
      try { loadCheckpoint(c); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as FormatError).field).toBe(field);
    };
    expectField((c) => { c.optimizer.state.estimator.blocks.pop(); }, 'optimizer.state.estimator.blocks');
    expectField((c) => { c.optimizer.state.estimator.blocks[0].buffers['__x'] = { f64: '' }; }, 'optimizer.state.estimator.blocks[0].buffers.__x');
    expectField((c) => { const b = c.optimizer.state.estimator.blocks[1].buffers['A.F']; b.f64 = b.f64.slice(0, 5); }, 'optimizer.state.estimator.blocks[1].buffers.A.F');
    expectField((c) => { c.optimizer.state.estimator.fisher = 'bogus'; }, 'optimizer.state.estimator.fisher');
    expectField((c) => { c.optimizer.config.inverseEvery = 0; }, 'optimizer.config.inverseEvery');
  });

  test('K-FAC buffers: each is checked for presence and exact length at load (primal, dual, eigen)', () => {
    const enc = (values: number[]) => ({ f64: Buffer.from(new Float64Array(values).buffer).toString('base64') });
    const save = (opt: Optimizer) => {
      const net = mlp({ sizes: [3, 6, 3], seed: 2 });
      fit(net, data(), opt, { ...fitOptions, epochs: 1 });
      const text = JSON.stringify(saveCheckpoint(net, opt));
      net.dispose(); opt.dispose();
      return text;
    };
    const primal = save(kfac({ damping: 1e-2 }));
    // form 'dual': each factor is held as its last batch X and Gram K = XXᵀ, in two slots.
    const dual = save(kfac({ damping: 1e-2, decay: 0, form: 'dual' }));
    const eigen = save(kfac({ damping: 1e-2, inversion: 'eigen' }));
    const block = 'optimizer.state.estimator.blocks[1]';
    const expectError = (base: string, corrupt: (b: any) => void, field: string, message: RegExp) => {
      const c = JSON.parse(base);
      corrupt(c.optimizer.state.estimator.blocks[1]);
      let err: unknown;
      try { loadCheckpoint(c); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FormatError);
      expect([(err as FormatError).field, (err as Error).message]).toEqual([field, expect.stringMatching(message)]);
    };
    // A validly encoded factor of the wrong length (7×7 expected) used to load and be read past.
    expectError(primal, (b) => { b.buffers['A.F'] = enc([1]); }, `${block}.buffers.A.F`, /must hold 49 values .* got 1/);
    expectError(primal, (b) => { b.buffers['S.L'] = enc(new Array(10).fill(1)); }, `${block}.buffers.S.L`, /must hold 9 values/);
    // A buffer the state needs, missing from the file, used to surface only at the first step.
    expectError(primal, (b) => { delete b.buffers['A.F']; }, `${block}.buffers.A.F`, /is missing/);
    expectError(primal, (b) => { delete b.buffers['A.inv']; }, `${block}.buffers.A.inv`, /is missing/);
    expectError(eigen, (b) => { delete b.buffers['eig.D']; }, `${block}.buffers.eig.D`, /is missing/);
    expectError(eigen, (b) => { b.buffers['A.w'] = enc([1, 2]); }, `${block}.buffers.A.w`, /must hold 7 values/);
    // Dual slots: row counts must match the stored batches and the cached inverse.
    expectError(dual, (b) => { b.A.slotRows = b.A.slotRows.map((n: number) => n + 50); b.A.invRows += 50; }, `${block}.buffers.A.X0`, /must hold at least/);
    expectError(dual, (b) => { b.A.invRows += 1; }, `${block}.A.invRows`, /must equal the rows of the active slot/);
    expectError(dual, (b) => { b.A.slotRows = [-1, 2.5]; }, `${block}.A.slotRows`, /row counts/);
    expectError(dual, (b) => { delete b.buffers["A.LK"]; }, `${block}.buffers.A.LK`, /is missing/);
    // The uncorrupted checkpoints load.
    for (const text of [primal, dual, eigen]) { const ok = loadCheckpoint(text); ok.net.dispose(); ok.optimizer.dispose(); }
  });

  test('adaptive damping outside its [min, max] is rejected at load (ngd, kfac); fixed damping is any λ ≥ 0', () => {
    const save = (opt: Optimizer) => {
      const net = mlp({ sizes: [3, 6, 3], seed: 2 });
      fit(net, data(), opt, { ...fitOptions, epochs: 1 });
      const text = JSON.stringify(saveCheckpoint(net, opt));
      net.dispose(); opt.dispose();
      return text;
    };
    // Edited on purpose and re-signed: the check under test is the damping's own.
    const withDamping = (text: string, damping: number) => { const c = JSON.parse(text); c.optimizer.state.damping = damping; c.checksum = checksumOf(c); return c; };
    const dampingOf = (loaded: { net: any; optimizer: Optimizer }) => (saveCheckpoint(loaded.net, loaded.optimizer) as any).optimizer.state.damping;
    for (const make of [() => ngd({ damping: 1e-2, adaptive: { min: 1e-6, max: 10 } }), () => kfac({ damping: 1e-2, adaptive: { min: 1e-6, max: 10 } })]) {
      const text = save(make());
      for (const damping of [1e-9, 11, 0]) {
        let err: unknown;
        try { loadCheckpoint(withDamping(text, damping)); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(FormatError);
        expect([(err as FormatError).field, (err as Error).message]).toEqual(['optimizer.state.damping', expect.stringContaining(`must be in [0.000001, 10], got ${damping}`)]);
      }
      const ok = loadCheckpoint(withDamping(text, 10));
      expect(dampingOf(ok)).toBe(10);
      ok.net.dispose(); ok.optimizer.dispose();
    }
    const fixed = loadCheckpoint(withDamping(save(ngd({ damping: 1e-2 })), 50));
    expect(dampingOf(fixed)).toBe(50);
    fixed.net.dispose(); fixed.optimizer.dispose();
  });

  test('the divergence guard settings travel with the checkpoint (ngd, kfac): off stays off, a custom one stays custom', () => {
    const custom = { factor: 3, boost: 2, maxRetries: 4, belowStart: false };
    for (const make of [ngd, kfac] as const) {
      for (const guard of [false, custom, true] as const) {
        const net = mlp({ sizes: [3, 6, 3], seed: 2 });
        const opt = make({ guard });
        // Without the guard the step may blow up the loss: fit then says so (DivergenceError); the state to save is there either way.
        try { fit(net, data(), opt, { ...fitOptions, epochs: 1 }); } catch (e) { if (!(e instanceof DivergenceError)) throw e; }
        const saved = JSON.parse(JSON.stringify(saveCheckpoint(net, opt)));
        net.dispose(); opt.dispose();
        const loaded = loadCheckpoint(saved);
        const again = (saveCheckpoint(loaded.net, loaded.optimizer) as any).optimizer.config.guard;
        expect([make.name, again]).toEqual([make.name, guard === true ? { factor: 1.5, boost: 10, maxRetries: 10, belowStart: true } : guard]);
        loaded.net.dispose(); loaded.optimizer.dispose();
      }
    }
  });

  test('a hostile extra cannot reach Object.prototype', () => {
    const text = JSON.stringify(good).replace('"extra":{', '"extra":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},');
    const loaded = loadCheckpoint(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(loaded.extra).toEqual({ note: 1 });
    const raw = loadCheckpoint(JSON.parse(text));
    expect(Object.getPrototypeOf(raw.extra)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    loaded.net.dispose(); raw.net.dispose();
  });
});

test('CLI: --epochs 4 equals --epochs 2 --checkpoint, then --resume --epochs 4 in a fresh process (model files identical)', () => {
  const { dir, cleanup } = tempDir('natgrad-cli-ckpt-');
  const cli = bundle(`import { main } from '../src/cli/main'; main(process.argv.slice(2)).then((c) => { process.exitCode = c; });`, dir, 'cli');
  const csv = join(__dirname, '..', 'fixtures', 'cli', 'classes.csv');
  for (const optimizer of ['ngd', 'kfac', 'adam', 'sgd']) {
    const common = [csv, '--target', 'label', '--optimizer', optimizer, '--batch-size', '9', '--hidden', '8', '--standardize', '--seed', '3'];
    runNode(cli, ['train', ...common, '--epochs', '4', '--out', join(dir, 'whole.json')]);
    runNode(cli, ['train', ...common, '--epochs', '2', '--checkpoint', join(dir, 'c.json'), '--out', join(dir, 'half.json')]);
    const out = runNode(cli, ['train', csv, '--resume', join(dir, 'c.json'), '--epochs', '4', '--out', join(dir, 'resumed.json')]);
    expect(out).toMatch(/resuming at epoch 2/);
    expect(out).toMatch(/^epoch 3\/4/m);
    expect([optimizer, readFileSync(join(dir, 'resumed.json'), 'utf8')]).toEqual([optimizer, readFileSync(join(dir, 'whole.json'), 'utf8')]);
  }
  cleanup();
});

test('loading an Adam, SGD or K-FAC checkpoint in a fresh process grows memory safely (~100k parameters), on both backends', async () => {
  // The state blocks are allocated while loading; on a fresh backend that allocation grows
  // memory, so a view of memory taken before it is detached (WASM) or too short (JS). The
  // fresh process saves what it loaded: the same checkpoint text, state blocks included.
  const { dir, cleanup } = tempDir('natgrad-ckpt-grow-');
  const makers: Record<string, () => Optimizer> = {
    adam: () => adam({ lr: 1e-3 }),
    sgd: () => sgd({ lr: 1e-3, momentum: 0.9 }),
    kfac: () => kfac({ lr: 1e-3, damping: 1e-2, momentum: 0.5 }),
  };
  const n = 4, X = randn(3, n * 100), Y = new Float64Array([0, 1, 1, 0]);
  const expected: Record<string, string> = {};
  for (const backend of ['wasm', 'js'] as const) {
    await init({ backend });
    for (const [name, make] of Object.entries(makers)) {
      const key = `${backend} ${name}`;
      const net = mlp({ sizes: [100, 1000, 2], seed: 1 }), opt = make();
      fit(net, { X, Y, n }, opt, { epochs: 1, loss: 'cross-entropy' });
      const text = JSON.stringify(saveCheckpoint(net, opt));
      writeFileSync(join(dir, `${key}.json`), text);
      expected[key] = createHash('sha256').update(text).digest('hex');
      net.dispose(); opt.dispose();
    }
  }
  const script = bundle(`
    import { readFileSync } from 'node:fs';
    import { createHash } from 'node:crypto';
    import { init, loadCheckpoint, saveCheckpoint } from '../src/index';
    const [dir, key] = [process.argv[2], process.argv[3]];
    await init({ backend: key.split(' ')[0] });
    const { net, optimizer } = loadCheckpoint(readFileSync(dir + '/' + key + '.json', 'utf8'));
    console.log(createHash('sha256').update(JSON.stringify(saveCheckpoint(net, optimizer))).digest('hex'));
  `, dir, 'grow');
  for (const key of Object.keys(expected)) expect([key, runNode(script, [dir, key]).trim()]).toEqual([key, expected[key]]);
  cleanup();
});
