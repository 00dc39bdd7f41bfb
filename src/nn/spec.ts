/**
 * The plain-data forms of a network, with no behaviour: the layer specs the `Net`
 * constructor takes, and the saved-model JSON that `net.toJSON()` writes and `loadNet` reads
 * (with the preprocessing a model carries). Both the net and the readers and writers of
 * files (io/, data/) stand on this module, so neither imports the other for a type.
 */
import type { ActivationName } from './activations.js';

/** What every layer spec holds: its shape, the activation on its outputs, and whether it trains. */
export interface LayerSpec {
  /** The registered kind; absent (or 'dense') for a dense layer. */
  kind?: string;
  /** Width of the layer's input H. */
  inputs: number;
  /** Width of its outputs Z. */
  outputs: number;
  /** φ applied to this layer's outputs before the next layer reads them; must be 'identity' on the last layer. */
  activation: ActivationName;
  /** Whether the layer's parameters are in the flat trainable vector. */
  trainable: boolean;
}

/** Shape and role of one dense layer, as given to the `Net` constructor. */
export interface DenseSpec extends LayerSpec {
  /** Width of the layer's input (without the bias column). */
  inputs: number;
  /** Number of units. */
  outputs: number;
  /** Whether the layer has a bias (a ones column in its effective input). */
  bias: boolean;
  /** φ applied to this layer's pre-activations; must be 'identity' on the last layer. */
  activation: ActivationName;
  /** s: the layer computes s·H·Wᵀ (1/√inputs in the NTK parameterisation). */
  weightScale: number;
  /** β: the bias enters as β·b. */
  biasScale: number;
  /** Whether the layer's parameters are in the flat trainable vector. */
  trainable: boolean;
}

/** The JSON form of a `Standardizer` (mean and std as base64 of little-endian float64, exact). */
export interface StandardizerJSON {
  /** Always 'standardize'. */
  type: 'standardize';
  /** Column means (base64 float64). */
  mean: string;
  /** Column standard deviations, all > 0 (base64 float64). */
  std: string;
}

/** One input column of a {@link TablePreprocessingJSON}: a number column's imputed value and z-score, or a text column's categories. */
export type InputColumnJSON =
  | {
    /** The column's name in the table's header. */
    name: string;
    /** A number column: imputed, then standardised. */
    kind: 'number';
    /** The value an empty cell takes (the training rows' median). */
    impute: number;
    /** The mean subtracted. */
    mean: number;
    /** The scale divided by. */
    std: number;
  }
  | {
    /** The column's name in the table's header. */
    name: string;
    /** A text column: imputed, then one-hot encoded. */
    kind: 'category';
    /** The value an empty cell takes (the training rows' most frequent). */
    impute: string;
    /** The categories, in the order of their one-hot inputs. */
    categories: string[];
  };

/** The target part of a {@link TablePreprocessingJSON}: class names, or the scales of regression targets. */
export type TargetJSON =
  | {
    /** One class column. */
    kind: 'classes';
    /** The target column's name. */
    name: string;
    /** The class labels, in the order of the outputs. */
    classes: string[];
  }
  | {
    /** One or more regression columns, scaled. */
    kind: 'numbers';
    /** The target columns' names, in the order of the outputs. */
    names: string[];
    /** Per output: the mean subtracted from the target. */
    mean: number[];
    /** Per output: the scale the target is divided by (predictions are scaled back). */
    std: number[];
  };

/** The JSON form of a `TablePreprocessor` (data/preprocess.ts): what a model trained on a raw table stores as `preprocessing`. */
export interface TablePreprocessingJSON {
  /** Always 'table'. */
  type: 'table';
  /** The input columns, in the order the encoded features are laid out. */
  inputs: InputColumnJSON[];
  /** How targets are encoded and outputs decoded. */
  target: TargetJSON;
}

/** Input and target column names of the table a model was trained on. */
export interface ModelColumns {
  /** The input (feature) columns, in the order the net reads them. */
  inputs: string[];
  /** The target columns. */
  targets: string[];
}

/** A spec of a registered kind other than dense: the shared fields, the kind, and the kind's own options. */
export interface KindSpec extends LayerSpec {
  /** The registered kind. */
  kind: string;
  /** The kind's own options (read by its {@link LayerDefinition}). */
  [option: string]: unknown;
}

/** A spec of any registered kind of layer: a dense one (no `kind`), or one whose `kind` names its definition. */
export type AnyLayerSpec = DenseSpec | KindSpec;

/**
 * One layer of {@link ModelJSON.architecture}: the Net constructor's spec — a {@link DenseSpec}
 * (no `kind`), or a spec with the `kind` of a registered layer and that kind's own fields.
 */
export type LayerJSON = AnyLayerSpec;

/**
 * A saved model (version 2; version 1, the same without `checksum`, still loads).
 * - `architecture.layers[l]`: layer l's shape and role ({@link DenseSpec}; a layer of another
 *   registered kind adds `kind` and its own fields);
 * - `params.layers[l]`: layer l's outputs × (inputs + bias) matrix [W | b], row-major (another
 *   kind's block in its own layout), as base64 of its little-endian float64 bytes (exact);
 * - `preprocessing` (optional): a Standardizer's mean/std over the inputs, or (version 2) a
 *   TablePreprocessor's column encodings, imputed values and target scales;
 * - `labels` (optional): class names of a classifier, one per output;
 * - `columns` (optional, beside the fields): the input and target column names;
 * - `checksum`: CRC-32 of the canonical JSON of all the other members (encoding/checksum.ts), so a
 *   changed byte is a FormatError rather than a silently different model.
 */
export interface ModelJSON {
  /** Always 'natgrad-model'. */
  format: 'natgrad-model';
  /** The format version: 2 (1: files written before checksums, still read). */
  version: 1 | 2;
  /** The layers' shapes and roles. */
  architecture: {
    /** One spec per layer, input to output. */
    layers: LayerJSON[];
  };
  /** The parameters, exact. */
  params: {
    /** How each layer's values are encoded: base64 of little-endian float64. */
    dtype: 'float64-le-base64';
    /** Layer l's block: for a dense layer its outputs × (inputs + bias) matrix [W | b], row-major. */
    layers: string[];
  };
  /** A `Standardizer` of the inputs, or a table's whole preprocessing (a `TablePreprocessor`). */
  preprocessing?: StandardizerJSON | TablePreprocessingJSON;
  /** Class names of a classifier, one per output. */
  labels?: string[];
  /** The input and target column names of the training table. */
  columns?: ModelColumns;
  /** `crc32:` and 8 hex digits: the CRC-32 of the other members' JSON text (required from version 2). */
  checksum?: string;
}
