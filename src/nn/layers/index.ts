/**
 * The built-in kinds of layer, registered here (one line per kind), and the lookups the net and
 * the model reader use. A kind outside the library registers itself with `registerLayer`.
 */
import { ArgumentError, FormatError } from '../../errors.js';
import { layerDefinition, registerLayer, type AnyLayerSpec, type DenseSpec, type Layer, type LayerDefinition, type LayerPlace } from '../layer.js';
import { DenseLayer } from './dense.js';
import { FixedHeadReLULayer } from './relu-fixed-head.js';

/**
 * The dense kind: specs without a `kind` (or with kind 'dense'). The paper's hidden ReLU layer
 * under a one-output head is a {@link FixedHeadReLULayer}, a dense layer whose Gram block may
 * come from bit-packed masks.
 */
export const denseDefinition: LayerDefinition = {
  kind: 'dense',
  size(spec: AnyLayerSpec): number {
    const s = spec as DenseSpec;
    return s.outputs * (s.inputs + (s.bias ? 1 : 0));
  },
  create(spec: AnyLayerSpec, place: LayerPlace): Layer {
    const s = spec as DenseSpec;
    return FixedHeadReLULayer.fits(s, place.index, place.specs) ? new FixedHeadReLULayer(s, place) : new DenseLayer(s, place);
  },
  fromJSON(json: Record<string, unknown>, field: string): Record<string, unknown> {
    if (typeof json.bias !== 'boolean') throw new FormatError(`${field}.bias`, 'must be true or false');
    for (const key of ['weightScale', 'biasScale'] as const) {
      const v = json[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`${field}.${key}`, 'must be a finite number');
    }
    return { bias: json.bias, weightScale: json.weightScale, biasScale: json.biasScale };
  },
};

registerLayer(denseDefinition);

/** The definition of a spec's kind (dense without one); ArgumentError naming `field`.kind for an unknown kind. */
export function definitionOf(spec: AnyLayerSpec, field: string): LayerDefinition {
  const kind = spec.kind ?? 'dense';
  const def = typeof kind === 'string' ? layerDefinition(kind) : undefined;
  if (!def) throw new ArgumentError(`${field}.kind`, `unknown kind of layer ${JSON.stringify(kind)}; register it with registerLayer() first`);
  return def;
}

/** The number of parameters of a spec's block. */
export function specSize(spec: AnyLayerSpec, field: string): number {
  return definitionOf(spec, field).size(spec, field);
}
