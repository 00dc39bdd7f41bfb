/**
 * A Laplace posterior saved with its model (`natgrad train --laplace`) and restored for prediction
 * (`natgrad predict --uncertainty`, `natgrad evaluate`). It lives with the CLI, the one writer and reader
 * of the member (bundled into dist/cli.mjs; the library's own files are unchanged).
 *
 * ## Where it lives in the model file
 * An optional member `posterior` of the saved model object (model format version 2, unchanged: the
 * member is covered by the file's CRC-32 like every other member; a model without it is byte for byte
 * what it was, and a natgrad that does not know the member loads the file as a plain model). The
 * member carries its own format name and version: `{ format: 'natgrad-laplace', version: 1, … }`.
 *
 * ## What it holds (values are float64, base64 as `{ f64: … }`)
 * Always: `structure`, `likelihood` ('gaussian' | 'categorical'), δ (`prior`), σ (`noise`) and the
 * evidence's data terms `count` (n·k) and `misfit` (‖y − f‖², or −log p(y | θ*)); θ* is the model's
 * own parameters. Then what prediction needs of each structure:
 * - 'full': the training data in the net's terms, `data: { n, X, Y }` (n × d inputs, n × k targets or n
 *   class indices): J̃ and the Gram are recomputed from them and θ* when the file is read (one training
 *   pass and one Cholesky of order n·k), rather than storing the (n·k) × P Jacobian. n·(d + k) values
 *   (n·(d + 1) for a classifier).
 * - 'kfac': per trainable layer μ (m × inA) and the eigenvectors of its two factors (inA², m²):
 *   Σ_l (inA² + m² + m·inA) values; a layer of another kind its diagonal, `size` values.
 * - 'diagonal': per trainable layer μ: Σ_l size = P values (as many as the weights).
 * - 'last-layer': the eigenvectors and eigenvalues of the output layer's GGN block: P_L² + P_L values,
 *   P_L = k·(h + 1).
 * In the file each value takes 8·4/3 ≈ 10.7 bytes (base64), plus a few hundred bytes of JSON.
 */
import { ArgumentError, FormatError } from '../errors.js';
import { Workspace } from '../backend/matrix.js';
import { checksumOf } from '../encoding/checksum.js';
import { describe } from '../encoding/codec.js';
import { encodeState, StateReader } from '../encoding/state.js';
import { softmaxCrossEntropy, squaredError } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import type { ModelJSON } from '../nn/spec.js';
import type { EvidenceTerms } from '../laplace/evidence.js';
import { FactoredForm, LastLayerForm, type FactoredFactors, type LastLayerFactors, type PosteriorForm, type ResolvedStructure } from '../laplace/forms.js';
import { laplace, LaplacePosterior } from '../laplace/laplace.js';

/** The `format` of a saved posterior. */
export const POSTERIOR_FORMAT = 'natgrad-laplace';
/** The versions of the saved posterior this natgrad reads. */
export const POSTERIOR_VERSION = 1;

const STRUCTURES: readonly ResolvedStructure[] = ['full', 'kfac', 'diagonal', 'last-layer'];

/** A saved posterior, checked against its net (see the module documentation). */
export interface DecodedPosterior {
  structure: ResolvedStructure;
  likelihood: EvidenceTerms['likelihood'];
  prior: number;
  noise: number;
  count: number;
  misfit: number;
  /** 'full': the training data in the net's terms. */
  data?: Batch;
  /** 'kfac', 'diagonal', 'last-layer': the factors. */
  factors?: FactoredFactors | LastLayerFactors;
}

/**
 * The number of float64 values the saved posterior of `structure` holds for `net` and n training rows
 * (the size formulas of the module documentation).
 */
export function savedPosteriorValues(net: Net, structure: ResolvedStructure, n: number, classifier: boolean): number {
  const k = net.outputDim;
  if (structure === 'full') return n * (net.inputDim + (classifier ? 1 : k));
  if (structure === 'last-layer') {
    const PL = k * net.layers[net.layers.length - 1].inA;
    return PL * PL + PL;
  }
  let values = 0;
  for (const L of net.layers) {
    if (!L.trainable) continue;
    values += structure === 'kfac' && L.kronecker ? L.inA * L.inA + L.outputs * L.outputs + L.outputs * L.inA : L.size;
  }
  return values;
}

/**
 * The JSON of `post` (fitted on `data`, the net's training set in the net's terms): the `posterior`
 * member of a saved model.
 */
export function posteriorToJSON(post: LaplacePosterior, data: Batch): Record<string, unknown> {
  const { terms, factors } = post.savedState();
  const out: Record<string, unknown> = {
    format: POSTERIOR_FORMAT, version: POSTERIOR_VERSION, structure: post.structure, likelihood: terms.likelihood,
    prior: post.prior, noise: post.noise, count: terms.count, misfit: terms.misfit,
  };
  if (post.structure === 'full') out.data = { n: data.n, X: encodeState(Float64Array.from(data.X)), Y: encodeState(Float64Array.from(data.Y)) };
  else if (factors && 'Q' in factors) Object.assign(out, encodeState({ Q: factors.Q, mu: factors.mu }) as object);
  else if (factors) out.blocks = factors.blocks.map((b) => encodeState({ layer: b.layer, mu: b.mu, ...(b.qa ? { qa: b.qa } : {}), ...(b.qs ? { qs: b.qs } : {}) }));
  return out;
}

/**
 * A copy of a saved model with `posterior` as its member `posterior` (before `checksum`, which is
 * recomputed over the whole): what `natgrad train --laplace` writes.
 */
export function withPosterior(model: ModelJSON, posterior: Record<string, unknown>): ModelJSON {
  const out = { ...model } as ModelJSON & { posterior?: unknown };
  delete out.checksum;
  out.posterior = posterior;
  out.checksum = checksumOf(out as unknown as Record<string, unknown>);
  return out;
}

/**
 * Checks the `posterior` member of a saved model (untrusted) against `net`, the model it was loaded
 * with; FormatError naming the field (`field`.…) for anything that does not fit. Nothing is allocated.
 */
export function decodePosterior(json: unknown, net: Net, field = 'posterior'): DecodedPosterior {
  const r = new StateReader(json, field);
  if (r.has('format') && (json as { format: unknown }).format !== POSTERIOR_FORMAT) {
    throw new FormatError(`${field}.format`, `must be '${POSTERIOR_FORMAT}', got ${describe((json as { format: unknown }).format)}`);
  }
  if (!r.has('format')) throw new FormatError(`${field}.format`, `must be '${POSTERIOR_FORMAT}', got nothing`);
  const version = r.integer('version', 1);
  if (version !== POSTERIOR_VERSION) throw new FormatError(`${field}.version`, `unsupported version ${version}; this natgrad reads version ${POSTERIOR_VERSION}`);
  const structure = r.choice('structure', STRUCTURES);
  const likelihood = r.choice('likelihood', ['gaussian', 'categorical'] as const);
  const prior = r.number('prior', { min: Number.MIN_VALUE }), noise = r.number('noise', { min: Number.MIN_VALUE });
  const count = r.integer('count', 1), misfit = r.number('misfit', { min: 0 });
  const k = net.outputDim, d = net.inputDim;
  if (likelihood === 'categorical' && noise !== 1) throw new FormatError(`${field}.noise`, `must be 1 for a categorical likelihood, got ${noise}`);
  const out: DecodedPosterior = { structure, likelihood, prior, noise, count, misfit };
  if (count % k !== 0) throw new FormatError(`${field}.count`, `must be n·k for the net's k = ${k} outputs, got ${count}`);
  const trainable = net.layers.map((L, l) => ({ L, l })).filter(({ L }) => L.trainable);
  if (structure === 'full') {
    const data = r.object('data');
    const n = data.integer('n', 1);
    if (n * k !== count) throw new FormatError(`${field}.data.n`, `is ${n}, but count ${count} is n·k with k = ${k}`);
    const X = data.f64('X', n * d);
    const Y = data.f64('Y', likelihood === 'gaussian' ? n * k : n);
    if (likelihood === 'categorical') {
      const bad = Y.findIndex((y) => !(Number.isInteger(y) && y >= 0 && y < k));
      if (bad >= 0) throw new FormatError(`${field}.data.Y`, `element ${bad} is ${Y[bad]}, not a class index in [0, ${k})`);
    }
    out.data = { X, Y, n };
  } else if (structure === 'last-layer') {
    const last = net.layers[net.layers.length - 1];
    if (!last.trainable || !last.kronecker) throw new FormatError(`${field}.structure`, "is 'last-layer', but the model's output layer is not a trainable dense layer");
    const PL = k * last.inA;
    out.factors = { Q: r.f64('Q', PL * PL), mu: nonNegative(r.f64('mu', PL), `${field}.mu`) };
  } else {
    const blocks = r.objects('blocks', trainable.length);
    out.factors = {
      blocks: blocks.map((b, i) => {
        const { L, l } = trainable[i];
        const layer = b.integer('layer', 0);
        if (layer !== l) throw new FormatError(`${b.field}.layer`, `must be ${l} (the model's trainable layer number ${i}), got ${layer}`);
        const kron = structure === 'kfac' && L.kronecker;
        const m = L.kronecker ? L.outputs : L.size, inA = L.kronecker ? L.inA : 1;
        const block: FactoredFactors['blocks'][number] = { layer, mu: nonNegative(b.f64('mu', m * inA), `${b.field}.mu`) };
        if (kron) {
          block.qa = b.f64('qa', inA * inA);
          block.qs = b.f64('qs', m * m);
        } else if (b.has('qa') || b.has('qs')) {
          throw new FormatError(`${b.field}.${b.has('qa') ? 'qa' : 'qs'}`, `has no place in a '${structure}' block${L.kronecker ? '' : ` of a '${L.kind}' layer`}`);
        }
        return block;
      }),
    };
  }
  return out;
}

/** The array, or FormatError naming `field` when an eigenvalue is negative. */
function nonNegative(a: Float64Array, field: string): Float64Array {
  const bad = a.findIndex((v) => v < 0);
  if (bad >= 0) throw new FormatError(field, `element ${bad} is ${a[bad]}; eigenvalues of a Gauss–Newton matrix are ≥ 0`);
  return a;
}

/**
 * The posterior a saved model carries, rebuilt on `net` (the model, at θ*) from {@link decodePosterior}'s
 * result: 'full' is fitted again on the saved training data; the other structures are restored from their
 * factors. The caller disposes it.
 */
export function restorePosterior(net: Net, saved: DecodedPosterior): LaplacePosterior {
  const gaussian = saved.likelihood === 'gaussian';
  if (saved.structure === 'full') {
    return laplace(net, saved.data!, { loss: gaussian ? 'squared-error' : 'cross-entropy', prior: saved.prior, ...(gaussian ? { noise: saved.noise } : {}), structure: 'full' });
  }
  if (!saved.factors) throw new ArgumentError('saved', `a '${saved.structure}' posterior needs its factors`);
  const ws = new Workspace(net.kernels);
  let form: PosteriorForm;
  try {
    form = saved.structure === 'last-layer'
      ? new LastLayerForm(net, saved.factors as LastLayerFactors, ws)
      : new FactoredForm(net, saved.factors as FactoredFactors, ws, saved.structure);
  } catch (e) {
    ws.dispose();
    throw e;
  }
  const terms: EvidenceTerms = { likelihood: saved.likelihood, count: saved.count, misfit: saved.misfit, weightNormSq: form.weightNormSq };
  return new LaplacePosterior(net, undefined, form, gaussian ? squaredError() : softmaxCrossEntropy(), terms, saved.prior, saved.noise);
}
