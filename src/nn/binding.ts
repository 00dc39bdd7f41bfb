/**
 * An optimizer's or estimator's hold on one {@link Net}: its workspace and captures, and the
 * rule that ties an optimizer's state to one net at a time.
 */
import { Workspace } from '../backend/matrix.js';
import { StateError } from '../errors.js';
import { Capture } from './capture.js';
import type { Net } from './net.js';

/**
 * An optimizer's or estimator's view of one net: a workspace and a capture on the net's
 * backend, sized on the first step and reused after (so a steady-state step allocates no
 * backend memory). `bind` returns true when the net changed, so the caller resets state.
 *
 * Lifecycle: the first `bind` ties the binding (and so its optimizer's state) to that net;
 * binding another net throws StateError unless {@link release} was called in between (the
 * optimizer's `reset()`: an explicit rebind). After {@link dispose} every `bind` throws
 * StateError; a second dispose is a no-op.
 */
export class NetBinding {
  net: Net | undefined;
  ws: Workspace | undefined;
  cap: Capture | undefined;
  /** A second capture (made on first use), for a pass that must not disturb `cap`: see {@link NetBinding.swap}. */
  private second: Capture | undefined;
  private closed = false;
  private released = true;

  /** `owner` names the optimizer in errors, e.g. 'ngd()' (a function when the name is known only later). */
  constructor(private readonly ownerName: string | (() => string) = 'the optimizer') {}

  /** The optimizer's name as errors give it. */
  get owner(): string {
    return typeof this.ownerName === 'string' ? this.ownerName : this.ownerName();
  }

  bind(net: Net): boolean {
    if (this.closed) throw new StateError(`${this.owner} used after dispose()`);
    if (this.net === net && this.ws) {
      this.released = false;
      return false;
    }
    if (this.net && !this.released) {
      throw new StateError(`${this.owner} is bound to ${this.net}, not ${net}: its state (damping, momentum, curvature) belongs to that net. ` +
        'Call reset() to rebind it to another net (forgetting that state), or make one optimizer per net');
    }
    this.unbind();
    this.net = net;
    this.ws = new Workspace(net.kernels);
    this.cap = new Capture(net);
    this.released = false;
    return true;
  }

  /** The second capture: where a step evaluates its trial θ while `cap` still holds the step's own pass. */
  spare(): Capture {
    this.second ??= new Capture(this.net!);
    return this.second;
  }

  /** Exchanges `cap` and the spare capture: the accepted trial's forward pass becomes the next step's. */
  swap(): void {
    const next = this.spare();
    this.second = this.cap;
    this.cap = next;
  }

  /** Lets the next {@link bind} take another net (memory is kept until then). */
  release(): void {
    this.released = true;
  }

  /** Frees the memory; the binding refuses any later use. */
  dispose(): void {
    this.unbind();
    this.closed = true;
  }

  private unbind(): void {
    this.cap?.dispose();
    this.second?.dispose();
    this.ws?.dispose();
    this.net = this.cap = this.second = this.ws = undefined;
  }
}
