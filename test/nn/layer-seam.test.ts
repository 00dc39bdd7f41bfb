/**
 * The layer seam (src/nn/layer.ts) proven from outside src/: a layer defined only in the tests (test/helpers/scale-layer.ts) — an
 * element-wise scale y = s ⊙ x with trainable s — registered once, put between dense layers,
 * checked against finite differences, and trained with ngd (Gram and parameter forms) and with
 * kfac, whose estimator gives it the diagonal fallback block.
 */
import { Matrix, solve } from 'ml-matrix';
import { init, kfac, ngd, loadNet, squaredError, FormatError, ArgumentError } from '../../src/index';
import { jacobian, jvp, vjp, kernels, Mat, registerLayer, type KfacStepStats, type AnyLayerSpec, type LayerDefinition, type LayerPlace } from '../../src/advanced';
import { Net } from '../../src/nn/net';
import { BACKENDS } from '../helpers/backends';
import { fdJacobian, relErr } from '../helpers/nets';
import { ScaleLayer, scaleNet } from '../helpers/scale-layer';
import { randn } from '../helpers/random';
import { checksumOf } from '../../src/encoding/checksum';

// Two kinds whose create() fails: one refuses its spec, one makes a layer with a wrong size (the net would
// lay out and read its block wrongly).
registerLayer({ kind: 'seam-throws', size: (spec) => spec.inputs, create: () => { throw new ArgumentError('layers[0]', 'refused'); }, fromJSON: () => ({}) });
// A kind whose saved-file reader refuses every file with a plain Error (the contract asks a FormatError).
registerLayer({
  kind: 'seam-strict-json', size: (spec) => spec.inputs, create: (spec, place) => new ScaleLayer(spec, place),
  fromJSON: () => { throw new Error('needs its own field "gain"'); },
});
registerLayer({
  kind: 'seam-wrong-size', size: (spec) => spec.inputs,
  create: (spec, place) => Object.assign(new ScaleLayer(spec, place), { size: 2 * spec.inputs, cols: 2 * spec.inputs }), fromJSON: () => ({}),
});

function lossOf(net: Net, X: Float64Array, Y: Float64Array, n: number): number {
  const U = net.predict(X, n);
  let s = 0;
  for (let i = 0; i < U.length; i++) s += (U[i] - Y[i]) ** 2;
  return s / 2;
}

describe.each(BACKENDS)('a layer defined outside src/ (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });

  test.each([true, false])('its Jacobian, J·v and Jᵀu match central finite differences (scale layer trainable: %s)', (trainScale) => {
    const n = 7, d = 3, k = 2, net = scaleNet(d, 5, k, 11, trainScale);
    const X = randn(3, n * d);
    const J = jacobian(net, X, n), Jfd = fdJacobian(net, X, n);
    expect(J.length).toBe(n * k * net.numParams);
    expect(relErr(J, Jfd)).toBeLessThan(1e-7);
    const P = net.numParams, N = n * k;
    const v = randn(4, P), u = randn(5, N);
    const Jv = new Float64Array(N), Jtu = new Float64Array(P);
    for (let r = 0; r < N; r++) for (let c = 0; c < P; c++) { Jv[r] += J[r * P + c] * v[c]; Jtu[c] += J[r * P + c] * u[r]; }
    expect(relErr(jvp(net, X, n, v), Jv)).toBeLessThan(1e-12);
    expect(relErr(vjp(net, X, n, u), Jtu)).toBeLessThan(1e-12);
    net.dispose();
  });

  test.each(['gram', 'param'] as const)('one ngd step in the %s form is −η(JᵀJ + λI)⁻¹g from the explicit Jacobian', (form) => {
    const n = 6, d = 3, k = 2, net = scaleNet(d, 4, k, 21);
    const X = randn(6, n * d), Y = randn(7, n * k);
    const P = net.numParams, J = jacobian(net, X, n), U = net.predict(X, n);
    const Jm = new Matrix(Array.from({ length: n * k }, (_, r) => Array.from(J.subarray(r * P, (r + 1) * P))));
    const r = Matrix.columnVector(Array.from(U, (x, i) => x - Y[i]));
    const g = Jm.transpose().mmul(r), lambda = 0.05, eta = 0.9;
    const expected = solve(Jm.transpose().mmul(Jm).add(Matrix.eye(P, P).mul(lambda)), g).mul(-eta).to1DArray();
    const before = net.getParams();
    const opt = ngd({ lr: eta, damping: lambda, form, guard: false });
    const stats = opt.step(net, { X, Y, n }, { loss: squaredError() });
    expect(stats.form).toBe(form);
    const delta = net.getParams().map((t, i) => t - before[i]);
    expect(relErr(delta, expected)).toBeLessThan(1e-9);
    opt.dispose();
    net.dispose();
  });

  test.each(['gram', 'param'] as const)('ngd (%s form) trains a net with the scale layer', (form) => {
    const n = 12, d = 2, k = 1, net = scaleNet(d, 6, k, 31);
    const X = randn(8, n * d), Y = X.filter((_, i) => i % 2 === 0).map((x, i) => Math.sin(2 * x) * Math.cos(X[2 * i + 1]));
    const start = lossOf(net, X, Y, n);
    const opt = ngd({ damping: 1e-3, form });
    for (let t = 0; t < 15; t++) expect(opt.step(net, { X, Y, n }).form).toBe(form);
    expect(lossOf(net, X, Y, n)).toBeLessThan(start * 1e-3);
    opt.dispose();
    net.dispose();
  });

  test("kfac trains it, with a diagonal block for the scale layer (K-FAC's fallback) and Kronecker blocks for the dense ones", () => {
    const n = 16, d = 2, k = 1, net = scaleNet(d, 6, k, 41);
    const X = randn(9, n * d), Y = X.filter((_, i) => i % 2 === 0).map((x, i) => Math.tanh(x - X[2 * i + 1]));
    const start = lossOf(net, X, Y, n);
    const opt = kfac({ lr: 0.5, damping: 1e-2, inverseEvery: 1 });
    let stats!: KfacStepStats;
    for (let t = 0; t < 40; t++) stats = opt.step(net, { X, Y, n }) as KfacStepStats;
    expect(lossOf(net, X, Y, n)).toBeLessThan(start * 0.1);
    const blocks = stats.blocks!;
    expect(blocks.map((b) => [b.layer, b.kind ?? 'kronecker'])).toEqual([[0, 'kronecker'], [1, 'diagonal'], [2, 'kronecker']]);
    expect(blocks[1].condition.block).toBeGreaterThanOrEqual(1);
    opt.dispose();
    net.dispose();
  });

  test.each([['loss', 1], ['sum', 16]] as const)("kfac's diagonal block is c·Σ_rows J̃² of the scale layer's columns (exact Fisher, normalization '%s': c = %d)", (normalization, c) => {
    const n = 16, d = 2, k = 1, net = scaleNet(d, 5, k, 43);
    const X = randn(12, n * d), Y = randn(13, n * k);
    const J = jacobian(net, X, n), P = net.numParams, off = net.layout()[1].offset, m = 5;
    const want = new Float64Array(m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) want[j] += c * J[i * P + off + j] ** 2;
    const opt = kfac({ lr: 0.1, damping: 1e-2, inverseEvery: 1, fisher: 'exact', normalization });
    opt.step(net, { X, Y, n });
    const state = (opt as unknown as { saveState(): unknown }).saveState() as { estimator: { blocks: { kind?: string; D?: Float64Array }[] } };
    const block = state.estimator.blocks[1];
    expect(block.kind).toBe('diagonal');
    expect(relErr(block.D!, want)).toBeLessThan(1e-12);
    opt.dispose();
    net.dispose();
  });

  test("a kind whose create() throws, or makes a layer unlike its spec, leaves no backend memory behind", () => {
    const k = kernels();
    const dense = (inputs: number, outputs: number) => ({ inputs, outputs, bias: true, activation: 'identity' as const, weightScale: 1, biasScale: 1, trainable: true });
    const specs = (kind: string) => [{ kind, inputs: 3, outputs: 3, activation: 'identity' as const, trainable: true }, dense(3, 1)];
    const values = [new Float64Array(3).fill(1), new Float64Array(4).fill(1)];
    for (const [kind, message] of [['seam-throws', /refused/], ['seam-wrong-size', /layers\[0\].*size 6.*say 3/]] as const) {
      // First fit: a freed block of the same size comes back at the same place unless something still holds it.
      const probe = new Mat(k, 1, 64), at = probe.ptr;
      probe.dispose();
      expect(() => new Net(k, specs(kind), values)).toThrow(message);
      const again = new Mat(k, 1, 64);
      expect(again.ptr).toBe(at);
      again.dispose();
    }
  });

  test('registerLayer refuses a definition without its three functions, naming the missing one (nothing registered)', () => {
    const create = (spec: AnyLayerSpec, place: LayerPlace) => new ScaleLayer(spec, place);
    expect(() => registerLayer({ kind: 'seam-no-size', create, fromJSON: () => ({}) } as unknown as LayerDefinition)).toThrow(/definition\.size: must be a function/);
    expect(() => registerLayer({ kind: 'seam-no-json', size: () => 1, create } as unknown as LayerDefinition)).toThrow(/definition\.fromJSON: must be a function/);
    expect(() => new Net(kernels(), [{ kind: 'seam-no-size', inputs: 1, outputs: 1, activation: 'identity', trainable: true }], [new Float64Array(1)])).toThrow(/unknown kind of layer/);
  });

  test("a saved layer its kind's size() refuses is a FormatError of the file, naming the layer", () => {
    const net = scaleNet(3, 5, 2, 52);
    const json = JSON.parse(JSON.stringify(net));
    json.architecture.layers[1].outputs = 6;
    json.architecture.layers[2].inputs = 6;
    delete json.checksum;
    json.version = 1;
    let err: unknown;
    try { loadNet(json).dispose(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).field).toBe('architecture.layers[1]');
    expect((err as Error).message).toMatch(/scale layer has as many outputs as inputs/);
    net.dispose();
  });

  test("a saved layer its kind's fromJSON() refuses with a plain Error is a FormatError of the file, naming the layer", () => {
    const net = scaleNet(3, 5, 2, 53);
    const json = JSON.parse(JSON.stringify(net));
    json.architecture.layers[1].kind = 'seam-strict-json';
    json.checksum = checksumOf(json);
    let err: unknown;
    try { loadNet(json).dispose(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).field).toBe('architecture.layers[1]');
    expect((err as Error).message).toMatch(/needs its own field "gain"/);
    net.dispose();
  });

  test('the saved model names the kind and loads back to the same predictions', () => {
    const n = 4, net = scaleNet(3, 5, 2, 51), X = randn(10, n * 3);
    const json = JSON.parse(JSON.stringify(net));
    expect(json.architecture.layers[1]).toEqual({ kind: 'scale', inputs: 5, outputs: 5, activation: 'tanh', trainable: true });
    const again = loadNet(json);
    expect(Array.from(again.predict(X, n))).toEqual(Array.from(net.predict(X, n)));
    expect(again.layout().map((b) => [b.layer, b.rows, b.cols])).toEqual([[0, 5, 4], [1, 1, 5], [2, 2, 6]]);
    again.dispose();
    net.dispose();
  });
});
