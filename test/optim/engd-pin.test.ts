/**
 * ENGD's trajectory pinned across its move onto the shared damped-step driver: the losses, step
 * sizes, dampings and retries of a few short runs (grid and backtracking line searches, the Gram
 * and parameter forms, Cholesky and eigh, adaptive and fixed damping), recorded from the optimizer
 * as it was before the move (its refusal is pinned in test/pde/problem.test.ts).
 */
import { init } from '../../src/backend/init';
import { mlp } from '../../src/nn/models';
import { poisson, heat } from '../../src/pde/problems';
import { engd, type EngdOptions } from '../../src/optim/engd';

const CASES: { name: string; seed: number; width: number; options: EngdOptions; problem: 'poisson' | 'heat' }[] = [
  { name: 'grid, adaptive (defaults)', seed: 0, width: 8, options: {}, problem: 'poisson' },
  { name: 'grid, Gram form, Cholesky', seed: 1, width: 16, options: { form: 'gram', solver: 'cholesky', damping: 1e-8 }, problem: 'poisson' },
  { name: 'backtracking, fixed damping', seed: 2, width: 8, options: { lineSearch: 'backtracking', adaptive: false, damping: 1e-6 }, problem: 'heat' },
];

/** Recorded from engd() before it moved onto the driver (js backend, Node 20). */
const BEFORE: Record<string, string[]> = {
  'grid, adaptive (defaults)': [
    '58.55434087089509 49.00096154725571 0.03125 0.001 0 true param eigh',
    '49.00096154725571 45.57905369721512 0.0625 0.001 0 true param eigh',
    '45.57905369721512 20.56573115552147 0.25 0.001 0 true param eigh',
    '20.56573115552147 14.535546197667873 0.25 0.0001 0 true param eigh',
    '14.535546197667873 14.177063199351057 0.015625 0.00001 0 true param eigh',
    '14.177063199351057 13.762254194212808 0.03125 0.00001 0 true param eigh',
    '13.762254194212808 13.127329456188985 0.03125 0.00001 0 true param eigh',
    '13.127329456188985 11.870425891496808 0.0625 0.00001 0 true param eigh',
    'theta -0.08830044766066569'
  ],
  'grid, Gram form, Cholesky': [
    '63.765572284859964 61.69602677213908 0.03125 0.001 0 true gram cholesky',
    '61.69602677213908 60.85488753817092 0.015625 0.001 0 true gram cholesky',
    '60.85488753817092 59.80072424424976 0.015625 0.001 0 true gram cholesky',
    '59.80072424424976 35.265730278942414 0.25 0.001 0 true gram cholesky',
    '35.265730278942414 32.17188381320428 0.0625 0.0001 0 true gram cholesky',
    '32.17188381320428 27.533810026624113 0.0625 0.0001 0 true gram cholesky',
    '27.533810026624113 26.293986053205668 0.03125 0.0001 0 true gram cholesky',
    '26.293986053205668 25.40945094533717 0.03125 0.0001 0 true gram cholesky',
    'theta 2.7362337909981074'
  ],
  'backtracking, fixed damping': [
    '0.1612702470339292 0.16026564733634602 0.0078125 0.000001 0 true param eigh',
    '0.16026564733634602 0.15750728465773975 0.015625 0.000001 0 true param eigh',
    '0.15750728465773975 0.10872001998764215 0.0625 0.000001 0 true param eigh',
    '0.10872001998764215 0.10649736932790756 0.015625 0.000001 0 true param eigh',
    '0.10649736932790756 0.10429807927488496 0.03125 0.000001 0 true param eigh',
    '0.10429807927488496 0.09923309202055494 0.03125 0.000001 0 true param eigh',
    '0.09923309202055494 0.09298769929476734 0.0625 0.000001 0 true param eigh',
    '0.09298769929476734 0.07376887774209105 0.0625 0.000001 0 true param eigh',
    'theta 12.410016296011722'
  ]
};

function run(c: (typeof CASES)[number]): string[] {
  const problem = c.problem === 'poisson'
    ? poisson({ dim: 2, interior: { grid: 8 }, boundary: { grid: 6 } })
    : heat({ interior: { grid: 6 }, boundary: { grid: 5 } });
  const net = mlp({ sizes: [2, c.width, 1], activation: 'tanh', init: 'glorot', seed: c.seed });
  const opt = engd(c.options), out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const s = opt.step(net, problem);
    out.push([s.loss, s.lossAfter, s.lr, s.damping, s.retries, s.accepted, s.form, s.solver].join(' '));
  }
  out.push(`theta ${net.getParams().reduce((a, v) => a + v, 0)}`);
  opt.dispose();
  net.dispose();
  problem.dispose();
  return out;
}

describe('ENGD trajectory pin', () => {
  beforeAll(async () => { await init({ backend: 'js' }); });
  test.each(CASES)('$name', (c) => {
    const got = run(c), want = BEFORE[c.name];
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      const [g, w] = [got[i].split(' '), want[i].split(' ')];
      // Exact: step sizes, dampings, retries, acceptance, form, solver; losses and Σθ to 1e-10 relative
      // (the pin must hold on Node 20 and 24, whose Math may differ in the last bit).
      expect(g.length).toBe(w.length);
      for (let j = 0; j < w.length; j++) {
        const a = Number(g[j]), b = Number(w[j]);
        if (Number.isNaN(b) || (j >= 2 && g[0] !== 'theta')) expect(g[j]).toBe(w[j]);
        else expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-10 * Math.abs(b));
      }
    }
  });
});
