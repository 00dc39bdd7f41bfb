/**
 * The paper's hidden layer: a trainable dense ReLU layer directly under a one-output linear head
 * whose weights all have one magnitude w (the fixed ±1/√m head of `twoLayerReLU`, Zhang, Martens
 * & Grosse 2019). When the loss's factor β is the same for every example (squared error),
 * B[i, r] = β·s·(±w)·[z_ir ≥ 0], so its Gram block's B·Bᵀ is (β·s·w)²·popcount(mask_i AND mask_j):
 * counted exactly from bit-packed masks (`maskGramLower`) instead of an n×n×m float product. The
 * forward pass packs the masks in its ReLU pass (`reluPack`, into the capture). Whatever breaks
 * that (a head weight of another magnitude after training it, a loss factor that varies, two
 * captures) takes the dense layer's float path.
 */
import type { Ptr } from '../../kernels/types.js';
import type { Workspace } from '../../backend/matrix.js';
import type { AnyLayerSpec, CaptureView, DenseSpec, GramBlockContext, LayerPlace, NetShape } from '../layer.js';
import { DenseLayer } from './dense.js';

/** A dense ReLU layer that knows it sits under a fixed equal-magnitude head: its Gram block may come from masks. */
export class FixedHeadReLULayer extends DenseLayer {
  /** The layer's index in its net (the head is the next layer). */
  readonly index: number;

  constructor(spec: DenseSpec, place: LayerPlace) {
    super(spec, place);
    this.index = place.index;
  }

  /**
   * Whether a dense spec at `index` of `specs` is the paper's hidden layer: ReLU, and the next
   * (last) layer a dense one with one output.
   */
  static fits(spec: AnyLayerSpec, index: number, specs: readonly AnyLayerSpec[]): boolean {
    const head = specs[index + 1];
    return spec.activation === 'relu' && index === specs.length - 2 && (head.kind ?? 'dense') === 'dense' && head.outputs === 1;
  }

  protected override outputGram(ctx: GramBlockContext, N: number): void {
    if (ctx.capA === ctx.capB && ctx.maskGram && maskBlock(ctx.capA, ctx.l, ctx.ws, ctx.target)) return;
    super.outputGram(ctx, N);
  }
}

/**
 * Whether the structure of `net` lets the Gram block of layer l (default: the first trainable
 * layer) come from bit-packed masks: a trainable ReLU layer directly under the last layer, which
 * has one output and weights of equal magnitude. (At each step the loss's per-example factor must
 * also be the same for all examples, as squared error's is; gramFromCaptures checks that too.)
 *
 * @param net the network
 * @param l the layer whose Gram block is asked about (default: the first trainable one)
 * @example
 * maskGramApplies(twoLayerReLU({ inputDim: 8, width: 1024 }));           // true: the paper's net
 * maskGramApplies(mlp({ sizes: [8, 64, 64, 1], activation: 'relu' }));   // false: the float path
 */
export function maskGramApplies(net: NetShape, l = net.firstTrainable): boolean {
  return net.layers[l] instanceof FixedHeadReLULayer && headScale(net, l) !== null;
}

/** s·w of the head above layer l when the structure allows the mask Gram, else null. */
function headScale(net: NetShape, l: number): number | null {
  const layers = net.layers;
  if (l < 0 || l !== layers.length - 2) return null;
  const L = layers[l], head = layers[l + 1];
  if (!L.trainable || L.act.name !== 'relu' || head.outputs !== 1) return null;
  const h = net.kernels.f64(), w0 = head.ptr >> 3;
  const w = Math.abs(h[w0]);
  for (let r = 1; r < head.inputs; r++) if (Math.abs(h[w0 + r]) !== w) return null;
  return w === 0 || !Number.isFinite(w) ? null : head.weightScale * w;
}

/**
 * The constant c with B_l = c·(±1 per column)·mask for this capture, or null: the head's s·w times
 * the loss factor β, which must be one value for every example.
 */
function maskScale(cap: CaptureView, l: number): number | null {
  const sw = headScale(cap.net, l);
  if (sw === null || cap.q !== 1) return null;
  const h = cap.net.kernels.f64(), b = cap.b[cap.b.length - 1] >> 3;
  const beta = h[b];
  for (let i = 1; i < cap.n; i++) if (h[b + i] !== beta) return null;
  const c = beta * sw;
  return c === 0 || !Number.isFinite(c) ? null : c;
}

/**
 * The lower triangle of target (n × n) ← B_l B_lᵀ from layer l's bit-packed ReLU mask, when maskScale
 * allows it (the Gram of one capture, which is mirrored once it is summed); false (nothing written)
 * otherwise. The mask is the one the forward pass packed into the capture when it is still that of
 * Z_l, else packed from Z_l here.
 */
function maskBlock(cap: CaptureView, l: number, ws: Workspace, target: Ptr): boolean {
  const c = maskScale(cap, l);
  if (c === null) return false;
  const kernels = cap.net.kernels, n = cap.n, m = cap.net.layers[l].outputs, words = Math.ceil(m / 64);
  let masks = cap.masksValid?.[l] === true ? cap.masks?.[l] ?? 0 : 0;
  if (masks === 0) {
    masks = ws.get('gram.mask', n * words);
    kernels.packMask(n, m, cap.z[l], m, masks);
  }
  kernels.maskGramLower(n, words, masks, c * c, target, n);
  return true;
}
