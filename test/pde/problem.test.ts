/**
 * PDE problems as residual objectives: samplers, the Jacobian and gradient against finite
 * differences (the Gauss–Newton linearisation of a nonlinear term is its exact Jacobian), ENGD
 * and L-BFGS on small problems, and the bad inputs of the issue (typed errors, net untouched).
 */
import { init, kernels } from '../../src/backend/init';
import { mlp } from '../../src/nn/models';
import { pde, type PdeProblem } from '../../src/pde/problem';
import { heat, nonlinearPoisson, poisson } from '../../src/pde/problems';
import { solvePde } from '../../src/pde/solve';
import { engd } from '../../src/optim/engd';
import { lbfgs } from '../../src/optim/lbfgs';
import type { ResidualObjective } from '../../src/optim/objective';
import { ArgumentError, NonFiniteError, ShapeError, StateError } from '../../src/errors';
import { Net } from '../../src/nn/net';
import { DenseLayer } from '../../src/nn/layers/dense';
import { registerLayer, type DenseSpec, type LayerDefinition } from '../../src/nn/layer';
import { allClose } from '../helpers/allclose';
import { BACKENDS } from '../helpers/backends';

const { sin, PI } = Math;

/** A dense layer under another kind, its taylor hook removed: everything but the PDE pass works. */
const NO_TAYLOR: LayerDefinition = {
  kind: 'no-taylor',
  size: (spec) => spec.outputs * (spec.inputs + 1),
  create: (spec, place) => Object.assign(Object.create(new DenseLayer({ ...spec, bias: true, weightScale: 1, biasScale: 1 } as DenseSpec, place)),
    { kind: 'no-taylor', taylor: undefined }),
  fromJSON: () => ({}),
};
const small = () => poisson({ dim: 2, interior: { grid: 8 }, boundary: { grid: 6 } });
const tanhNet = (seed = 0, width = 8) => mlp({ sizes: [2, width, 1], activation: 'tanh', init: 'glorot', seed });

/** r and J (N × P) of an objective at the net's θ, copied out. */
function linearization(net: Net, obj: ResidualObjective): { r: Float64Array; J: Float64Array; loss: number } {
  const k = kernels(), N = obj.residuals, P = net.numParams;
  const r = k.alloc(N), J = k.alloc(N * P);
  const loss = obj.linearize(net, r, J, P);
  const out = { r: k.f64().slice(r >> 3, (r >> 3) + N), J: k.f64().slice(J >> 3, (J >> 3) + N * P), loss };
  k.free(r);
  k.free(J);
  return out;
}

describe('samplers', () => {
  beforeAll(async () => { await init(); });

  test("Poisson 2-D has the paper's points: a 30 × 30 interior grid and 30 points per side, inside the square", () => {
    const p = poisson({ dim: 2 });
    expect(p.sizes).toEqual([{ name: 'interior', points: 900 }, { name: 'boundary', points: 120 }]);
    expect(p.residuals).toBe(1020);
    const X = p.points('interior');
    expect(X.every((v) => v > 0 && v < 1)).toBe(true);
    const B = p.points('boundary');
    for (let i = 0; i < 120; i++) {
      const x = B[2 * i], y = B[2 * i + 1];
      expect(x === 0 || x === 1 || y === 0 || y === 1).toBe(true);
    }
  });

  test('random samplers are seeded: the same seed gives the same points, another seed others', () => {
    const a = poisson({ dim: 5, seed: 3 }).points('boundary'), b = poisson({ dim: 5, seed: 3 }).points('boundary');
    const c = poisson({ dim: 5, seed: 4 }).points('boundary');
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBe(500 * 5);
    for (let i = 0; i < 500; i++) expect(Array.from(a.subarray(5 * i, 5 * i + 5)).some((v) => v === 0 || v === 1)).toBe(true);
  });

  test('heat: boundary points on the spatial faces over all times, initial points at t = 0', () => {
    const p = heat();
    expect(p.sizes.map((s) => s.name)).toEqual(['interior', 'boundary', 'initial']);
    const B = p.points('boundary'), I = p.points('initial');
    for (let i = 0; i < B.length / 2; i++) expect(B[2 * i] === 0 || B[2 * i] === 1).toBe(true);
    for (let i = 0; i < I.length / 2; i++) expect(I[2 * i + 1]).toBe(0);
  });
});

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test.each([
    ['Poisson', () => small()],
    ['nonlinear −Δu + u³ = f', () => nonlinearPoisson({ interior: { grid: 6 }, boundary: { grid: 5 } })],
    ['heat', () => heat({ interior: { grid: 6 }, boundary: { grid: 5 } })],
  ] as [string, () => PdeProblem][])('%s: Jacobian rows match central differences of the residuals; the gradient is Jᵀr', (_name, make) => {
    const problem = make(), net = tanhNet(1, 5), P = net.numParams, N = problem.residuals;
    const { r, J, loss } = linearization(net, problem);
    expect(loss).toBeCloseTo(0.5 * r.reduce((s, v) => s + v * v, 0), 12);
    const theta = net.getParams(), h = 1e-6, fd = new Float64Array(N * P);
    for (let p = 0; p < P; p++) {
      const t = theta.slice();
      t[p] += h; net.setParams(t); const up = linearization(net, problem).r;
      t[p] -= 2 * h; net.setParams(t); const down = linearization(net, problem).r;
      for (let i = 0; i < N; i++) fd[i * P + p] = (up[i] - down[i]) / (2 * h);
    }
    net.setParams(theta);
    allClose(J, fd, { rtol: 1e-6, atol: 1e-7, cols: P, label: 'J' });
    const k = kernels(), g = k.alloc(P);
    expect(problem.lossAndGradient(net, g)).toBeCloseTo(loss, 12);
    const jtr = new Float64Array(P);
    for (let i = 0; i < N; i++) for (let p = 0; p < P; p++) jtr[p] += J[i * P + p] * r[i];
    allClose(k.f64().slice(g >> 3, (g >> 3) + P), jtr, { rtol: 1e-10, atol: 1e-12, label: 'gradient' });
    k.free(g);
    problem.dispose();
    net.dispose();
  });

  test('ENGD: the parameter and Gram forms take the same step; 40 steps lower a small Poisson loss by > 100 and its error by > 10', () => {
    const problem = small();
    const a = tanhNet(2, 16), b = tanhNet(2, 16);
    const sa = engd({ form: 'param', damping: 1e-6 }).step(a, problem), sb = engd({ form: 'gram', damping: 1e-6 }).step(b, problem);
    expect(sa.form).toBe('param');
    expect(sb.form).toBe('gram');
    expect(sa.lr).toBe(sb.lr);
    allClose(a.getParams(), b.getParams(), { rtol: 1e-8, atol: 1e-10, label: 'θ after one step' });
    const before = problem.errors(a).l2;
    const opt = engd();
    let last = sa;
    for (let i = 0; i < 40; i++) last = opt.step(a, problem);
    expect(last.accepted).toBe(true);
    expect(last.lossAfter!).toBeLessThan(1e-2 * sa.loss);
    expect(problem.errors(a).l2).toBeLessThan(0.1 * before);
    for (const x of [a, b]) x.dispose();
    problem.dispose();
  });

  test('ENGD with backtracking takes the first step size of the grid that lowers the loss', () => {
    const problem = small(), net = tanhNet(3);
    const s = engd({ lineSearch: 'backtracking' }).step(net, problem);
    expect(s.accepted).toBe(true);
    expect(s.lossAfter!).toBeLessThan(s.loss);
    expect(Math.log2(1 / s.lr) % 1).toBe(0);
    net.dispose();
    problem.dispose();
  });

  test('a step that lowers no loss is retried with more damping, then refused with θ bit-for-bit unchanged', () => {
    const problem = small(), net = tanhNet(4);
    // An objective whose loss is not finite away from the current θ: no step size can be accepted.
    const theta0 = net.getParams();
    const hostile: ResidualObjective = {
      residuals: problem.residuals,
      loss: (n) => (n.getParams().every((v, i) => v === theta0[i]) ? problem.loss(n) : NaN),
      lossAndGradient: (n, g) => problem.lossAndGradient(n, g),
      linearize: (n, r, J, ld) => problem.linearize(n, r, J, ld),
      dispose: () => problem.dispose(),
    };
    const s = engd({ maxRetries: 2 }).step(net, hostile);
    expect(s.accepted).toBe(false);
    expect(s.retries).toBe(3);
    expect(net.getParams()).toEqual(theta0);
    net.dispose();
    problem.dispose();
  });

  test('an eigendecomposition that fails (syev returns non-zero) gives no direction: retried, then refused with θ unchanged', () => {
    const problem = small(), net = tanhNet(7), opt = engd({ maxRetries: 2 });
    // A first step leaves the workspace's eigenvectors behind; a failed syev must not reuse them.
    expect(opt.step(net, problem).accepted).toBe(true);
    const theta = net.getParams(), spy = jest.spyOn(net.kernels, 'syev').mockReturnValue(1);
    try {
      const s = opt.step(net, problem);
      expect(spy).toHaveBeenCalledTimes(3);
      expect(s.accepted).toBe(false);
      expect(s.retries).toBe(3);
      expect(net.getParams()).toEqual(theta);
    } finally {
      spy.mockRestore();
    }
    expect(opt.step(net, problem).accepted).toBe(true);
    net.dispose();
    problem.dispose();
  });

  test('L-BFGS lowers the loss every step and beats gradient descent over the same iterations', () => {
    const problem = small(), a = tanhNet(5), b = tanhNet(5);
    const opt = lbfgs();
    let prev = Infinity;
    for (let i = 0; i < 30; i++) {
      const s = opt.step(a, problem);
      expect(s.loss).toBeLessThanOrEqual(prev);
      prev = s.lossAfter ?? s.loss;
    }
    const gd = solvePde(b, problem, { optimizer: 'gd', iterations: 30, lr: 1e-2, evaluateEvery: 0 });
    expect(problem.loss(a)).toBeLessThan(gd[gd.length - 1].loss);
    for (const x of [a, b]) x.dispose();
    problem.dispose();
  });

  test('L-BFGS minimises a convex quadratic ½‖Aθ − c‖² to its least-squares solution', () => {
    const net = mlp({ sizes: [2, 3, 1], activation: 'tanh', seed: 1 }), P = net.numParams, N = 25;
    const A = Float64Array.from({ length: N * P }, (_, i) => Math.sin(1.7 * i + 0.3) + (i % (P + 1) === 0 ? 2 : 0));
    const c = Float64Array.from({ length: N }, (_, i) => Math.cos(i));
    const quadratic = {
      lossAndGradient(n: Net, g: number): number {
        const t = n.getParams(), r = new Float64Array(N), grad = new Float64Array(P);
        for (let i = 0; i < N; i++) { let s = -c[i]; for (let p = 0; p < P; p++) s += A[i * P + p] * t[p]; r[i] = s; }
        for (let i = 0; i < N; i++) for (let p = 0; p < P; p++) grad[p] += A[i * P + p] * r[i];
        kernels().f64().set(grad, g >> 3);
        return 0.5 * r.reduce((s, v) => s + v * v, 0);
      },
    };
    const opt = lbfgs({ memory: 20 });
    let s = opt.step(net, quadratic);
    for (let i = 0; i < 60 && s.gradNorm > 1e-9; i++) s = opt.step(net, quadratic);
    expect(s.gradNorm).toBeLessThan(1e-6);
    // The normal equations AᵀAθ = Aᵀc hold at the result.
    const t = net.getParams(), res = new Float64Array(P);
    for (let i = 0; i < N; i++) {
      let r = -c[i];
      for (let p = 0; p < P; p++) r += A[i * P + p] * t[p];
      for (let p = 0; p < P; p++) res[p] += A[i * P + p] * r;
    }
    allClose(res, new Float64Array(P), { atol: 1e-6, label: 'Aᵀ(Aθ − c)' });
    net.dispose();
  });

  test('solvePde records iterations, loss, time and errors; Adam runs on the same objective', () => {
    const problem = small(), net = tanhNet(6);
    const h = solvePde(net, problem, { optimizer: 'adam', iterations: 12, evaluateEvery: 5, lr: 1e-2 });
    expect(h.map((r) => r.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(h.filter((r) => r.errors).map((r) => r.iteration)).toEqual([5, 10, 12]);
    expect(h[11].loss).toBeLessThan(h[0].loss);
    expect(h[11].errors!.h1).toBeGreaterThan(0);
    net.dispose();
    problem.dispose();
  });

  describe('bad input', () => {
    const square = { lower: [0, 0], upper: [1, 1] };

    test('ReLU under a Laplacian: ArgumentError naming the layer; the net is untouched', () => {
      const net = mlp({ sizes: [2, 4, 1], activation: 'relu', seed: 1 }), theta = net.getParams();
      expect(() => engd().step(net, small())).toThrow(ArgumentError);
      expect(() => small().loss(net)).toThrow(/layers\[0\]\.activation: 'relu' has no second derivative/);
      expect(net.getParams()).toEqual(theta);
      net.dispose();
    });

    test('a layer kind without the derivative-carrying hook: ArgumentError naming the layer and its kind; the net is untouched', () => {
      registerLayer(NO_TAYLOR);
      const dense = (inputs: number, outputs: number, activation: 'tanh' | 'identity') => ({ inputs, outputs, bias: true, activation, weightScale: 1, biasScale: 1, trainable: true });
      const values = [12, 20, 5].map((m, l) => Float64Array.from({ length: m }, (_, i) => Math.sin(3 * l + i) / 2));
      const net = new Net(kernels(), [dense(2, 4, 'tanh'), { kind: 'no-taylor', inputs: 4, outputs: 4, activation: 'tanh', trainable: true }, dense(4, 1, 'identity')], values);
      expect(net.predict(new Float64Array([0.5, 0.5]), 1)[0]).toEqual(expect.any(Number));
      const theta = net.getParams(), problem = small();
      expect(() => problem.loss(net)).toThrow(ArgumentError);
      expect(() => problem.loss(net)).toThrow(/layers\[1\]: a 'no-taylor' layer has no derivative-carrying pass/);
      expect(() => engd().step(net, problem)).toThrow(/layers\[1\]/);
      expect(() => lbfgs().step(net, problem)).toThrow(/layers\[1\]/);
      expect(net.getParams()).toEqual(theta);
      net.dispose();
      problem.dispose();
    });

    test('a disposed net: StateError from loss, gradient, linearisation and errors (its freed block may hold another net)', () => {
      const problem = small(), a = tanhNet(0);
      expect(Number.isFinite(problem.loss(a))).toBe(true);
      a.dispose();
      const b = tanhNet(7);
      expect(() => problem.loss(a)).toThrow(StateError);
      expect(() => problem.errors(a, { points: 100 })).toThrow(StateError);
      const k = kernels(), g = k.alloc(a.numParams);
      expect(() => problem.lossAndGradient(a, g)).toThrow(StateError);
      k.free(g);
      expect(() => engd().step(a, problem)).toThrow(StateError);
      expect(Number.isFinite(problem.loss(b))).toBe(true);
      b.dispose();
      problem.dispose();
    });

    test('solvePde: a misspelled option is an ArgumentError naming it; a clock that returns NaN is refused', () => {
      const problem = small(), net = tanhNet(1), theta = net.getParams();
      expect(() => solvePde(net, problem, { iteration: 5 } as never)).toThrow(/iteration/);
      expect(() => solvePde(net, problem, { iteration: 5 } as never)).toThrow(ArgumentError);
      expect(() => solvePde(net, problem, { optimizer: 'gd', iterations: 3, clock: () => NaN })).toThrow(/clock: must return a finite number/);
      expect(net.getParams()).toEqual(theta);
      net.dispose();
      problem.dispose();
    });

    test('a source or boundary function with a non-finite value: NonFiniteError naming the point', () => {
      const source = (x: Float64Array) => (x[0] > 0.5 && x[1] > 0.5 ? 1 / 0 : 0);
      expect(() => pde({ domain: square, equation: { laplacian: -1 }, source, interior: { grid: 4 } })).toThrow(NonFiniteError);
      expect(() => pde({ domain: square, equation: { laplacian: -1 }, source, interior: { grid: 4 } })).toThrow(/source: returned Infinity at point 10, x = \(0\.6, 0\.6\)/);
      expect(() => pde({ domain: square, equation: { laplacian: -1 }, interior: { grid: 4 }, boundary: { value: () => NaN } }))
        .toThrow(/boundary\.value: returned NaN at point 0/);
    });

    test('an empty or degenerate domain, or no points: ArgumentError saying so', () => {
      expect(() => pde({ domain: { lower: [0, 1], upper: [1, 1] }, equation: { laplacian: -1 }, interior: { grid: 4 } }))
        .toThrow(/domain: coordinate 1 is \[1, 1\]: an empty or degenerate interval/);
      expect(() => pde({ domain: { lower: [], upper: [] }, equation: { laplacian: -1 }, interior: { grid: 4 } })).toThrow(ArgumentError);
      expect(() => pde({ domain: square, equation: { laplacian: -1 }, interior: { grid: 0 } })).toThrow(/interior: needs at least one point/);
      expect(() => pde({ domain: square, equation: { laplacian: -1 }, interior: { random: 0 } })).toThrow(ArgumentError);
    });

    test('a net whose input dimension does not match the problem: ShapeError; the net is untouched', () => {
      const net = mlp({ sizes: [3, 4, 1], activation: 'tanh', seed: 1 }), theta = net.getParams();
      expect(() => engd().step(net, small())).toThrow(ShapeError);
      expect(() => small().loss(net)).toThrow(/net: has 3 inputs but the problem's points have 2 coordinates/);
      expect(net.getParams()).toEqual(theta);
      net.dispose();
    });

    test('coefficients of the wrong length and unknown options are refused', () => {
      expect(() => pde({ domain: square, equation: { gradient: [1] }, interior: { grid: 3 } })).toThrow(ShapeError);
      expect(() => engd({ lineSearch: 'wolfe' as 'grid' })).toThrow(ArgumentError);
      expect(() => lbfgs({ c1: 0.95 })).toThrow(/0 < c1 < c2 < 1/);
    });
  });

  void sin;
  void PI;
});
