/**
 * Saved models: the JSON format `net.toJSON()` writes and {@link loadNet} reads.
 * Files are untrusted: everything is checked against the schema before a single
 * value reaches the backend, each failure a {@link FormatError} naming the field,
 * and no key of the input (`__proto__`, `constructor`) is ever copied onto an
 * object, so a hostile file cannot touch a prototype. Nothing is evaluated.
 */
import { kernels as activeKernels } from '../backend/init.js';
import { ArgumentError, FormatError } from '../errors.js';
import type { Kernels } from '../kernels/types.js';
import { Standardizer } from '../data/index.js';
import { TablePreprocessor } from '../data/preprocess.js';
import type { ActivationName } from '../nn/activations.js';
import { Net } from '../nn/net.js';
import { definitionOf } from '../nn/layers/index.js';
import type { AnyLayerSpec, DenseSpec, ModelColumns, ModelJSON } from '../nn/spec.js';
import { decodeF64, describe } from '../encoding/codec.js';
import { verifyChecksum } from '../encoding/checksum.js';

const ACTIVATIONS: readonly ActivationName[] = ['relu', 'leaky-relu', 'tanh', 'sigmoid', 'softplus', 'gelu', 'identity'];
/** Limits that keep a hostile file from asking for absurd memory before anything is allocated. */
const MAX_LAYERS = 1024;
const MAX_UNITS = 1 << 24;
const MAX_PARAMS = 1 << 28;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON.parse that drops `__proto__`, `constructor` and `prototype` keys at every depth, so the
 * parsed value can be handled by code that copies keys without risk. Throws FormatError (field
 * `file`, or `what`) for text that is not JSON, with the parser's position.
 *
 * @param text JSON text
 * @param what the field name FormatError reports (default 'file')
 * @returns the parsed value
 * @example
 * parseJSON('{"__proto__": {"x": 1}, "a": 2}'); // { a: 2 }
 * parseJSON('{"a":', 'model.json');             // throws FormatError, field 'model.json'
 */
export function parseJSON(text: string, what = 'file'): unknown {
  if (typeof text !== 'string') throw new FormatError(what, `must be JSON text, got ${describe(text)}`);
  try {
    return JSON.parse(text, (key, value) => (FORBIDDEN.has(key) ? undefined : value));
  } catch (e) {
    throw new FormatError(what, `is not valid JSON (${(e as Error).message})`);
  }
}

/** A validated, decoded model: the specs and values the Net constructor takes, plus metadata. */
export interface DecodedModel {
  specs: AnyLayerSpec[];
  values: Float64Array[];
  preprocessing?: Standardizer | TablePreprocessor;
  labels?: string[];
  columns?: ModelColumns;
}

/** The model format versions this natgrad reads. */
export const MODEL_VERSIONS = [1, 2];

/**
 * Checks a saved model against the schema of its version and decodes it; throws FormatError
 * naming the first bad field (with `prefix`, e.g. 'model.' inside a checkpoint), then checks the
 * checksum (required from version 2) against the content and, when given, the file's `text`.
 */
export function decodeModel(json: unknown, prefix = '', text?: string): DecodedModel {
  const o = object(json, prefix.replace(/\.$/, '') || 'model');
  if (o.format !== 'natgrad-model') throw new FormatError(`${prefix}format`, `must be 'natgrad-model', got ${describe(o.format)}`);
  if (!MODEL_VERSIONS.includes(o.version as number)) {
    throw new FormatError(`${prefix}version`, `unsupported version ${describe(o.version)}; this natgrad reads versions ${MODEL_VERSIONS.join(' and ')}`);
  }
  const arch = object(o.architecture, `${prefix}architecture`);
  const layers = array(arch.layers, `${prefix}architecture.layers`);
  if (layers.length < 1 || layers.length > MAX_LAYERS) throw new FormatError(`${prefix}architecture.layers`, `must hold 1 to ${MAX_LAYERS} layers, got ${layers.length}`);
  const specs: AnyLayerSpec[] = [];
  const sizes: number[] = [];
  let total = 0;
  layers.forEach((raw, l) => {
    const f = `${prefix}architecture.layers[${l}]`;
    const L = object(raw, f);
    if (L.kind !== undefined && L.kind !== 'dense') {
      const spec = decodeLayerOfKind(L, f, l > 0 ? specs[l - 1].outputs : undefined);
      const size = sizeOfKind(spec, f);
      total += size;
      if (total > MAX_PARAMS) throw new FormatError(`${prefix}architecture`, `has more than ${MAX_PARAMS} parameters`);
      specs.push(spec);
      sizes.push(size);
      return;
    }
    const inputs = int(L.inputs, `${f}.inputs`), outputs = int(L.outputs, `${f}.outputs`);
    const bias = bool(L.bias, `${f}.bias`), trainable = bool(L.trainable, `${f}.trainable`);
    if (typeof L.activation !== 'string' || !ACTIVATIONS.includes(L.activation as ActivationName)) {
      throw new FormatError(`${f}.activation`, `must be one of ${ACTIVATIONS.join(', ')}, got ${describe(L.activation)}`);
    }
    const weightScale = finite(L.weightScale, `${f}.weightScale`), biasScale = finite(L.biasScale, `${f}.biasScale`);
    if (l > 0 && specs[l - 1].outputs !== inputs) {
      throw new FormatError(`${f}.inputs`, `is ${inputs} but layer ${l - 1} has ${specs[l - 1].outputs} outputs`);
    }
    const size = outputs * (inputs + (bias ? 1 : 0));
    total += size;
    if (total > MAX_PARAMS) throw new FormatError(`${prefix}architecture`, `has more than ${MAX_PARAMS} parameters`);
    specs.push({ inputs, outputs, bias, activation: L.activation as ActivationName, weightScale, biasScale, trainable });
    sizes.push(size);
  });
  if (specs[specs.length - 1].activation !== 'identity') {
    throw new FormatError(`${prefix}architecture.layers[${specs.length - 1}].activation`, "the last layer must be 'identity'");
  }
  const params = object(o.params, `${prefix}params`);
  if (params.dtype !== 'float64-le-base64') throw new FormatError(`${prefix}params.dtype`, `must be 'float64-le-base64', got ${describe(params.dtype)}`);
  const blobs = array(params.layers, `${prefix}params.layers`);
  if (blobs.length !== specs.length) throw new FormatError(`${prefix}params.layers`, `has ${blobs.length} entries, the architecture ${specs.length} layers`);
  const values = specs.map((_, l) => decodeF64(blobs[l], `${prefix}params.layers[${l}]`, sizes[l]));
  const model: DecodedModel = { specs, values };
  const inputDim = specs[0].inputs, outputDim = specs[specs.length - 1].outputs;
  if (o.preprocessing !== undefined) {
    const table = (o.preprocessing as { type?: unknown } | null)?.type === 'table';
    model.preprocessing = table
      ? TablePreprocessor.fromJSON(o.preprocessing, `${prefix}preprocessing`, inputDim, outputDim)
      : Standardizer.fromJSON(o.preprocessing, `${prefix}preprocessing`, inputDim);
  }
  if (o.labels !== undefined) {
    const labels = strings(o.labels, `${prefix}labels`);
    if (labels.length !== outputDim) throw new FormatError(`${prefix}labels`, `has ${labels.length} class names, the net ${outputDim} outputs`);
    if (new Set(labels).size !== labels.length) throw new FormatError(`${prefix}labels`, 'has a class name twice');
    model.labels = labels;
  }
  if (o.columns !== undefined) {
    const c = object(o.columns, `${prefix}columns`);
    const inputs = strings(c.inputs, `${prefix}columns.inputs`), targets = strings(c.targets, `${prefix}columns.targets`);
    if (model.preprocessing instanceof TablePreprocessor) {
      // The table's columns are encoded (one-hot, …) into the net's inputs: the names are the table's.
      if (JSON.stringify(inputs) !== JSON.stringify(model.preprocessing.inputColumns)) throw new FormatError(`${prefix}columns.inputs`, 'must be the input columns of preprocessing');
    } else if (inputs.length !== inputDim) throw new FormatError(`${prefix}columns.inputs`, `has ${inputs.length} names, the net ${inputDim} inputs`);
    model.columns = { inputs, targets };
  }
  verifyChecksum(o, o.version !== 1, prefix, text);
  return model;
}

/**
 * A saved layer of a registered kind other than dense: the shared fields checked here, the kind's
 * own by its definition's fromJSON. FormatError naming the field (an unknown kind included).
 */
function decodeLayerOfKind(L: Record<string, unknown>, f: string, previousOutputs: number | undefined): AnyLayerSpec {
  if (typeof L.kind !== 'string') throw new FormatError(`${f}.kind`, `must be the name of a registered kind of layer, got ${describe(L.kind)}`);
  const kind = L.kind;
  const inputs = int(L.inputs, `${f}.inputs`), outputs = int(L.outputs, `${f}.outputs`);
  const trainable = bool(L.trainable, `${f}.trainable`);
  if (typeof L.activation !== 'string' || !ACTIVATIONS.includes(L.activation as ActivationName)) {
    throw new FormatError(`${f}.activation`, `must be one of ${ACTIVATIONS.join(', ')}, got ${describe(L.activation)}`);
  }
  if (previousOutputs !== undefined && previousOutputs !== inputs) {
    throw new FormatError(`${f}.inputs`, `is ${inputs} but the layer before has ${previousOutputs} outputs`);
  }
  const shared = { kind, inputs, outputs, activation: L.activation as ActivationName, trainable };
  let def;
  try {
    def = definitionOf(shared, f);
  } catch {
    throw new FormatError(`${f}.kind`, `is ${JSON.stringify(kind)}, a kind of layer this program has not registered`);
  }
  let own: Record<string, unknown>;
  try {
    own = def.fromJSON(L, f);
  } catch (e) {
    throw asFormatError(e, f, kind);
  }
  if (own === null || typeof own !== 'object') throw new FormatError(f, `the '${kind}' layer's fromJSON() gave ${describe(own)}, not an object of its fields`);
  return { ...own, ...shared };
}

/**
 * The block size of a saved layer of a registered kind: its definition's size(), whose refusal of the
 * spec (an ArgumentError, by the seam's contract, or any other throw) is a FormatError of the file here,
 * as is a size that is not a non-negative integer.
 */
function sizeOfKind(spec: AnyLayerSpec, f: string): number {
  let size: number;
  try {
    size = definitionOf(spec, f).size(spec, f);
  } catch (e) {
    throw asFormatError(e, f, String(spec.kind));
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new FormatError(f, `the '${String(spec.kind)}' layer's size() gave ${describe(size)}, not a non-negative integer`);
  return size;
}

/**
 * What a kind's size() or fromJSON() threw about a saved layer, as the FormatError of the file: a
 * FormatError as it is, an ArgumentError naming its argument, anything else naming the layer `f`.
 */
function asFormatError(e: unknown, f: string, kind: string): FormatError {
  if (e instanceof FormatError) return e;
  const why = e instanceof ArgumentError ? e.message.slice(e.argument.length + 2) : e instanceof Error ? e.message : String(e);
  return new FormatError(e instanceof ArgumentError ? e.argument : f, `the '${kind}' layer refuses it: ${why}`);
}

/** Options of {@link loadNet}. */
export interface LoadOptions {
  /** Backend to build the net on (default: the active one from `init()`). */
  kernels?: Kernels;
}

/**
 * Rebuilds a Net from `net.toJSON()` (the object or its JSON text), on the active backend
 * unless `options.kernels` says otherwise. Validates everything first; throws FormatError
 * naming the field for a wrong format or version, sizes, truncated or corrupt or
 * non-finite parameters, an inconsistent architecture, or content that does not match its
 * checksum (any changed byte of a file written by `JSON.stringify(net)`).
 *
 * @param json a {@link ModelJSON} object, or its JSON text
 * @param options the backend to build the net on
 * @returns a new Net with the saved architecture and exact parameters
 * @example
 * writeFileSync('model.json', JSON.stringify(net));
 * const same = loadNet(readFileSync('model.json', 'utf8'));
 */
export function loadNet(json: unknown, options: LoadOptions = {}): Net {
  const model = typeof json === 'string' ? decodeModel(parseJSON(json), '', json) : decodeModel(json);
  return netFromDecoded(model, options.kernels ?? activeKernels());
}

/** Builds the Net of a decoded model on `k`. @internal */
export function netFromDecoded(model: DecodedModel, k: Kernels): Net {
  const net = new Net(k, model.specs, model.values);
  if (model.preprocessing) net.preprocessing = model.preprocessing.toJSON();
  if (model.labels) net.labels = model.labels;
  if (model.columns) net.columns = model.columns;
  return net;
}

// Schema readers: each returns the checked value or throws FormatError naming the field.

export function object(v: unknown, field: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(field, `must be an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new FormatError(field, `must be an array, got ${describe(v)}`);
  return v;
}

export function int(v: unknown, field: string, min = 1, max = MAX_UNITS): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new FormatError(field, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

export function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(field, `must be a finite number, got ${describe(v)}`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new FormatError(field, `must be true or false, got ${describe(v)}`);
  return v;
}

export function strings(v: unknown, field: string): string[] {
  const a = array(v, field);
  a.forEach((s, i) => { if (typeof s !== 'string') throw new FormatError(`${field}[${i}]`, `must be a string, got ${describe(s)}`); });
  return [...(a as string[])];
}
