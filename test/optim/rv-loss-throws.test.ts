import { init, twoLayerReLU, ngd, squaredError, type Loss } from '../../src/index';
import { randn } from '../helpers/random';
import { unitInputs } from '../helpers/nets';

beforeAll(async () => { await init({ backend: 'js' }); });

test.each([['guard', {}], ['adaptive', { adaptive: true }]])('%s: a custom Loss.value that throws at the trial θ leaves θ untouched', (_name, opts) => {
  const net = twoLayerReLU({ inputDim: 5, width: 16, seed: 3 });
  const n = 12, X = unitInputs(5, n, 5), Y = randn(6, n);
  const before = net.getParams();
  const base = squaredError();
  const loss: Loss = Object.create(base);
  (loss as { value: Loss['value'] }).value = function (...a: Parameters<Loss['value']>) {
    const p = net.getParams();
    if (p.some((x, i) => x !== before[i])) throw new Error('user loss failed');
    return base.value(...a);
  };
  const opt = ngd(opts as never);
  expect(() => opt.step(net, { X, Y, n }, { loss })).toThrow('user loss failed');
  const after = net.getParams();
  const changed = after.filter((x, i) => x !== before[i]).length;
  console.log(_name, 'entries of θ changed after the failed step:', changed);
  expect(changed).toBe(0);
});
