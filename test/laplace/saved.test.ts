/**
 * A posterior saved with its model (src/cli/posterior-file.ts): the file still loads as a plain model
 * (checksum over the new member), the restored posterior predicts exactly what the fitted one did,
 * the saved size is the documented formula, and a damaged member is a FormatError naming the field.
 */
import { init, mlp, laplace, loadNet, parseJSON, FormatError, type Net } from '../../src/index';
import { decodePosterior, posteriorToJSON, restorePosterior, savedPosteriorValues, withPosterior } from '../../src/cli/posterior-file';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { scaleNet } from '../helpers/scale-layer';

const STRUCTURES = ['full', 'kfac', 'diagonal', 'last-layer'] as const;

function problem(kind: 'se' | 'ce') {
  const n = 12, d = 3, k = kind === 'se' ? 2 : 3;
  const net = mlp({ sizes: [d, 6, 5, k], activation: 'tanh', seed: 4 });
  const X = randn(1, n * d), Xt = randn(2, 7 * d).map((x) => 2 * x);
  const Y = kind === 'se' ? randn(3, n * k) : Float64Array.from({ length: n }, (_, i) => i % k);
  return { net, X, Y, n, Xt, k };
}

/** Every float64 value in a saved posterior member ({ f64: base64 }): bytes / 8. */
function savedValues(o: unknown): number {
  if (Array.isArray(o)) return o.reduce((s: number, x) => s + savedValues(x), 0);
  if (o && typeof o === 'object') {
    const f = (o as { f64?: string }).f64;
    if (typeof f === 'string') return (f.length / 4) * 3 / 8 - (f.endsWith('==') ? 2 / 8 : f.endsWith('=') ? 1 / 8 : 0);
    return Object.values(o).reduce((s: number, x) => s + savedValues(x), 0);
  }
  return 0;
}

describe.each(BACKENDS)('a posterior saved with its model (%s)', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  describe.each(STRUCTURES)('%s', (structure) => {
    test.each(['se', 'ce'] as const)('%s: the file loads as a model; the restored posterior predicts and scores exactly as the fitted one; size as documented', (kind) => {
      const { net, X, Y, n, Xt, k } = problem(kind);
      const gaussian = kind === 'se';
      const post = laplace(net, { X, Y, n }, { loss: gaussian ? 'squared-error' : 'cross-entropy', structure });
      post.optimize();
      const member = posteriorToJSON(post, { X, Y, n });
      expect(Math.round(savedValues(member))).toBe(savedPosteriorValues(net, structure, n, !gaussian));
      const text = JSON.stringify(withPosterior(net.toJSON(), member));
      const plain = loadNet(text);                       // the checksum covers the member
      expect(Array.from(plain.getParams())).toEqual(Array.from(net.getParams()));
      const restored = restorePosterior(plain, decodePosterior((parseJSON(text) as { posterior: unknown }).posterior, plain));
      expect(restored.structure).toBe(structure);
      expect(restored.prior).toBe(post.prior);
      expect(restored.noise).toBe(post.noise);
      expect(restored.logMarginalLikelihood()).toBe(post.logMarginalLikelihood());
      const a = post.predict(Xt, 7), b = restored.predict(Xt, 7);
      expect(Array.from(b.mean)).toEqual(Array.from(a.mean));
      expect(Array.from(b.variance)).toEqual(Array.from(a.variance));
      if (!gaussian) expect(Array.from(restored.predictProba(Xt, 7))).toEqual(Array.from(post.predictProba(Xt, 7)));
      void k;
      post.dispose(); restored.dispose(); plain.dispose(); net.dispose();
    });
  });

  test('a model without a posterior is written and read as before; a changed byte of the member fails the checksum', () => {
    const { net, X, Y, n } = problem('se');
    const before = JSON.stringify(net.toJSON());
    const post = laplace(net, { X, Y, n }, { structure: 'diagonal' });
    const text = JSON.stringify(withPosterior(net.toJSON(), posteriorToJSON(post, { X, Y, n })));
    expect(JSON.stringify(net.toJSON())).toBe(before);
    expect(text.startsWith(before.slice(0, before.indexOf('"checksum"')))).toBe(true);
    const broken = text.replace('"prior":', '"prior":1');
    let err: unknown;
    try { loadNet(broken); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).field).toBe('checksum');
    post.dispose(); net.dispose();
  });

  test('a damaged posterior member is a FormatError naming the field, before anything is allocated', () => {
    const { net, X, Y, n } = problem('se');
    const posts = (['full', 'kfac', 'last-layer'] as const).map((structure) => laplace(net, { X, Y, n }, { structure, prior: 1, noise: 0.5 }));
    const [full, kfac, last] = posts.map((p) => JSON.parse(JSON.stringify(posteriorToJSON(p, { X, Y, n }))));
    const cases: [Record<string, any>, (o: Record<string, any>) => void, string][] = [
      [full, (o) => { o.format = 'x'; }, 'posterior.format'],
      [full, (o) => { o.version = 2; }, 'posterior.version'],
      [full, (o) => { o.structure = 'huge'; }, 'posterior.structure'],
      [full, (o) => { o.prior = 0; }, 'posterior.prior'],
      [full, (o) => { o.noise = -1; }, 'posterior.noise'],
      [full, (o) => { o.data.n = 5; }, 'posterior.data.n'],
      [full, (o) => { o.data.X.f64 = o.data.X.f64.slice(0, 8); }, 'posterior.data.X'],
      [kfac, (o) => { o.blocks.pop(); }, 'posterior.blocks'],
      [kfac, (o) => { o.blocks[1].layer = 0; }, 'posterior.blocks[1].layer'],
      [kfac, (o) => { delete o.blocks[2].qs; }, 'posterior.blocks[2].qs'],
      [last, (o) => { o.mu = full.data.Y; }, 'posterior.mu'],
    ];
    for (const [base, damage, field] of cases) {
      const o = JSON.parse(JSON.stringify(base));
      damage(o);
      let err: unknown;
      try { decodePosterior(o, net); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FormatError);
      expect([field, (err as FormatError).field]).toEqual([field, field]);
    }
    for (const p of posts) p.dispose();
    net.dispose();
  });

  test("a layer of another kind: 'kfac' and 'diagonal' save its diagonal block and restore it exactly", () => {
    const net: Net = scaleNet(2, 4, 1, 3), n = 9, X = randn(1, n * 2), Y = randn(2, n), Xt = randn(3, 10);
    for (const structure of ['kfac', 'diagonal'] as const) {
      const post = laplace(net, { X, Y, n }, { structure, prior: 0.6, noise: 0.3 });
      const member = JSON.parse(JSON.stringify(posteriorToJSON(post, { X, Y, n })));
      expect(Math.round(savedValues(member))).toBe(savedPosteriorValues(net, structure, n, false));
      const restored = restorePosterior(net, decodePosterior(member, net));
      expect(Array.from(restored.predict(Xt, 5).variance)).toEqual(Array.from(post.predict(Xt, 5).variance));
      post.dispose(); restored.dispose();
    }
    net.dispose();
  });
});
