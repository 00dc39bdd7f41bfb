/**
 * The checkpoint state of a Kronecker block (kronecker.ts) and of its two factors
 * (kronecker-factor.ts): what is saved, and the checks a restored state passes before a
 * single value reaches the block (a bad field is a FormatError naming it).
 */
import type { Kernels } from '../kernels/types.js';
import type { StateReader, StateValue } from '../encoding/state.js';
import { FormatError } from '../errors.js';
import type { BlockBuffers, Factor, KroneckerInversion } from './kronecker-factor.js';

/** What the cached inverse was built with; see {@link KroneckerBlock.inverse}. */
export interface KroneckerInverseInfo {
  /** λ given to updateInverse. */
  damping: number;
  /** The π of the split ('pi' damping), else 1. */
  pi: number;
  /** Damping added to A: π·√λ ('pi'), 0 ('exact'). */
  dampingA: number;
  /** Damping added to S: √λ/π ('pi'), 0 ('exact'). */
  dampingS: number;
  /** Form A was inverted in. */
  formA: 'primal' | 'dual';
  /** Form S was inverted in. */
  formS: 'primal' | 'dual';
  /** updateFactors calls the inverse reflects. */
  updates: number;
}

/** The length a saved buffer must have: exactly (fixed-size statistics), or at least (room for a batch). */
type BufferLength = { exactly: number } | { atLeast: number };

/** A factor's bookkeeping (its buffers are saved with the block's). */
export function saveFactorState(f: Factor): { [key: string]: StateValue } {
  return {
    form: f.form, slotRows: [...f.slotRows], slotAlpha: [...f.slotAlpha], pending: f.pending, active: f.active,
    invForm: f.invForm, invMu: f.invMu, invRows: f.invRows, invAlpha: f.invAlpha,
  };
}

/** Restores {@link saveFactorState} into `f`; a bad field throws FormatError naming it. */
export function loadFactorState(f: Factor, r: StateReader): void {
  const forms = ['primal', 'dual'] as const;
  f.form = r.choice('form', forms);
  const rows = r.numbers('slotRows', 2), alpha = r.numbers('slotAlpha', 2);
  if (!rows.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new FormatError(`${r.field}.slotRows`, `must be two row counts (integers ≥ 0), got ${rows.join(', ')}`);
  f.slotRows[0] = rows[0]; f.slotRows[1] = rows[1];
  f.slotAlpha[0] = alpha[0]; f.slotAlpha[1] = alpha[1];
  f.pending = r.integer('pending', 0, 1);
  f.active = r.integer('active', -1, 1);
  f.invForm = r.choice('invForm', forms);
  f.invMu = r.number('invMu', { min: 0 });
  f.invRows = r.integer('invRows');
  f.invAlpha = r.number('invAlpha');
  // The cached dual inverse was built from the active slot's batch: their row counts agree.
  const activeRows = f.active >= 0 ? f.slotRows[f.active] : 0;
  if (f.invRows !== activeRows) throw new FormatError(`${r.field}.invRows`, `must equal the rows of the active slot (${activeRows}), got ${f.invRows}`);
}

/**
 * The exact length of each buffer of this factor that a checkpoint may hold (its
 * bookkeeping loaded first), and which of them the state needs: the statistics once
 * updated, the cached inverse's buffers once inverted (`inverse`: how).
 */
export function factorSavedBuffers(f: Factor, updated: boolean, inverse: 'cholesky' | 'eigen' | undefined, explicitInverse: boolean): { lengths: Map<string, BufferLength>; required: string[] } {
  const { name, dim } = f, square = { exactly: dim * dim };
  // Dual buffers keep the room of the largest batch they held: at least the saved rows' worth.
  const lengths = new Map<string, BufferLength>([
    [`${name}.F`, square], [`${name}.L`, square], [`${name}.inv`, square], [`${name}.U`, square], [`${name}.w`, { exactly: dim }],
    [`${name}.LK`, { atLeast: f.invRows * f.invRows }],
  ]);
  for (const s of [0, 1]) {
    lengths.set(`${name}.X${s}`, { atLeast: f.slotRows[s] * dim });
    lengths.set(`${name}.K${s}`, { atLeast: f.slotRows[s] * f.slotRows[s] });
  }
  const required: string[] = [];
  const dualSlot = (s: number) => { if (s >= 0) required.push(`${name}.X${s}`, `${name}.K${s}`); };
  if (updated) {
    if (f.form === 'primal') required.push(`${name}.F`);
    else dualSlot(f.pending);
  }
  if (inverse === 'eigen') required.push(`${name}.F`, `${name}.w`, `${name}.U`);
  else if (inverse === 'cholesky' && f.invForm === 'primal') required.push(`${name}.L`, ...(explicitInverse ? [`${name}.inv`] : []));
  else if (inverse === 'cholesky') { dualSlot(f.active); required.push(`${name}.LK`); }
  return { lengths, required };
}

/** A block's counters and the description of its cached inverse: the state besides its factors and buffers. */
export interface BlockCounters {
  emaWeight: number;
  updatesCount: number;
  version: number;
  eigenVersion: number;
  info: KroneckerInverseInfo | undefined;
}

/** The parts of a block its state is read from and restored into. */
export interface BlockParts {
  readonly kernels: Kernels;
  readonly ws: BlockBuffers;
  readonly A: Factor;
  readonly S: Factor;
  readonly inversion: KroneckerInversion;
  readonly outputs: number;
  readonly inDim: number;
}

/**
 * The block's whole state (checkpoints): EMA weight, counters, the cached inverse's
 * description, both factors' bookkeeping and every buffer (statistics, Cholesky factors,
 * inverses, eigenbases), so a restored block continues bit for bit.
 */
export function saveBlockState(b: BlockParts, c: BlockCounters): { [key: string]: StateValue } {
  return {
    emaWeight: c.emaWeight, updatesCount: c.updatesCount, version: c.version, eigenVersion: c.eigenVersion,
    info: c.info ? { ...c.info } : null, A: saveFactorState(b.A), S: saveFactorState(b.S), buffers: b.ws.save(b.kernels.f64()),
  };
}

/**
 * Restores {@link saveBlockState}: the factors' bookkeeping and the buffers into `b`, the
 * counters returned for the block to take; a bad field throws FormatError naming it.
 */
export function loadBlockState(b: BlockParts, r: StateReader): BlockCounters {
  const emaWeight = r.number('emaWeight', { min: 0 });
  const updatesCount = r.integer('updatesCount'), version = r.integer('version'), eigenVersion = r.integer('eigenVersion', -1);
  let info: KroneckerInverseInfo | undefined;
  if (r.has('info')) {
    const i = r.object('info'), forms = ['primal', 'dual'] as const;
    info = {
      damping: i.number('damping', { min: 0 }), pi: i.number('pi'), dampingA: i.number('dampingA'), dampingS: i.number('dampingS'),
      formA: i.choice('formA', forms), formS: i.choice('formS', forms), updates: i.integer('updates'),
    };
  }
  const o = r.object('buffers');
  const buffers: { [name: string]: Float64Array } = {};
  for (const name of o.keys()) {
    if (!/^[A-Za-z][A-Za-z0-9.]*$/.test(name)) throw new FormatError(`${o.field}.${name}`, 'is not a buffer name');
    buffers[name] = o.f64(name, undefined, true);
  }
  loadFactorState(b.A, r.object('A'));
  loadFactorState(b.S, r.object('S'));
  checkSavedBuffers(b, o.field, buffers, updatesCount > 0, info ? b.inversion : undefined);
  b.ws.load(b.kernels, buffers);
  return { emaWeight, updatesCount, version, eigenVersion, info };
}

/**
 * Every buffer the restored state reads must be present with its expected length (a short
 * one would be read past): exactly the factor's size for the statistics, inverses and
 * eigenbases, at least the saved rows' worth for dual batches (they keep the room of the
 * largest batch held). FormatError naming `field`.name otherwise. Scratch buffers (resized
 * on use) may have any length.
 */
function checkSavedBuffers(b: BlockParts, field: string, buffers: { [name: string]: Float64Array }, updated: boolean, inverse: 'cholesky' | 'eigen' | undefined): void {
  const a = factorSavedBuffers(b.A, updated, inverse, true), s = factorSavedBuffers(b.S, updated, inverse, false);
  const lengths = new Map<string, BufferLength>([...a.lengths, ...s.lengths, ['eig.D', { exactly: b.outputs * b.inDim }]]);
  const required = [...a.required, ...s.required, ...(inverse === 'eigen' ? ['eig.D'] : [])];
  for (const name of required) {
    if (!Object.hasOwn(buffers, name)) throw new FormatError(`${field}.${name}`, 'is missing (the saved state needs it)');
  }
  for (const [name, values] of Object.entries(buffers)) {
    const expected = lengths.get(name);
    if (!expected) continue;
    const ok = 'exactly' in expected ? values.length === expected.exactly : values.length >= expected.atLeast;
    if (!ok) {
      const want = 'exactly' in expected ? `${expected.exactly}` : `at least ${expected.atLeast}`;
      throw new FormatError(`${field}.${name}`, `must hold ${want} values for this ${b.outputs}×${b.inDim} block and its saved row counts, got ${values.length}`);
    }
  }
}
