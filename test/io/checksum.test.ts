/**
 * Model and checkpoint files carry a CRC-32 of their payload: every single changed byte of a small
 * file is a FormatError (never a silently different model), and files written before checksums
 * (version 1, no checksum) still load.
 */
import { init, mlp, adam, loadNet, loadCheckpoint, saveCheckpoint, FormatError, NatgradError } from '../../src/index';
import { crc32 } from '../../src/encoding/checksum';
import { BACKENDS } from '../helpers/backends';

const MASKS = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff];

/** Every position of `text` XORed with every mask: the error each load raised, or 'loaded'. */
function flipEveryByte(text: string, load: (s: string) => { dispose(): void }): Map<string, number> {
  const bytes = Buffer.from(text, 'utf8');
  const outcomes = new Map<string, number>();
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of MASKS) {
      const copy = Buffer.from(bytes);
      copy[i] ^= mask;
      let outcome: string;
      try {
        load(copy.toString('utf8')).dispose();
        outcome = `loaded (byte ${i} ^ ${mask})`;
      } catch (e) {
        outcome = e instanceof FormatError ? 'FormatError' : `${(e as Error).name}: ${(e as Error).message}`;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }
  return outcomes;
}

test('crc32 of the standard check string', () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
});

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('a model file: every flipped byte is a FormatError', () => {
    const net = mlp({ sizes: [2, 2, 2], seed: 1 });
    net.labels = ['no', 'yes'];
    const text = JSON.stringify(net);
    net.dispose();
    expect(JSON.parse(text).checksum).toMatch(/^crc32:[0-9a-f]{8}$/);
    const outcomes = flipEveryByte(text, (s) => loadNet(s));
    expect([...outcomes.keys()]).toEqual(['FormatError']);
    expect(outcomes.get('FormatError')).toBe(Buffer.byteLength(text) * MASKS.length);
  });

  test('a checkpoint file: every flipped byte is a FormatError', () => {
    const net = mlp({ sizes: [2, 1], seed: 2 });
    const opt = adam({ lr: 0.1 });
    opt.step(net, { X: new Float64Array([1, 2, 3, 4]), Y: new Float64Array([1, 0]), n: 2 });
    const text = JSON.stringify(saveCheckpoint(net, opt, { note: 1.5e-7 }, { epoch: 1, step: 1, rng: 7 }));
    opt.dispose();
    net.dispose();
    const outcomes = flipEveryByte(text, (s) => {
      const c = loadCheckpoint(s);
      return { dispose: () => { c.optimizer.dispose(); c.net.dispose(); } };
    });
    expect([...outcomes.keys()]).toEqual(['FormatError']);
  });

  test('a value that parses the same but is spelled otherwise (1e-7 → 1E-7) is caught in the file text', () => {
    const net = mlp({ sizes: [2, 1], seed: 2 });
    const opt = adam({ lr: 0.1 });
    const text = JSON.stringify(saveCheckpoint(net, opt, { note: 1.5e-7 }));
    expect(text).toContain('1.5e-7');
    expect(() => loadCheckpoint(text.replace('1.5e-7', '1.5E-7'))).toThrow(/^checksum: the text differs from what was written at character \d+/);
    // The same content pretty-printed is not a corruption: the checksum is of the values, not of the layout.
    const pretty = loadCheckpoint(JSON.stringify(JSON.parse(text), null, 2));
    pretty.net.dispose(); pretty.optimizer.dispose();
    opt.dispose();
    net.dispose();
  });

  test('files without a checksum (version 1) still load; a version-2 file without one does not', () => {
    const net = mlp({ sizes: [3, 2], seed: 4 });
    const json = net.toJSON() as unknown as Record<string, unknown>;
    const params = net.getParams();
    net.dispose();
    const { checksum: _drop, ...rest } = json;
    const old = loadNet({ ...rest, version: 1 });
    expect(old.getParams()).toEqual(params);
    old.dispose();
    expect(() => loadNet(rest)).toThrow(/^checksum: is missing/);
    let err: unknown;
    try { loadNet({ ...json, labels: ['a', 'b'] }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(NatgradError);
    expect((err as FormatError).message).toMatch(/^checksum: mismatch \(stored crc32:[0-9a-f]{8}, the content gives crc32:[0-9a-f]{8}\)/);
  });
});
