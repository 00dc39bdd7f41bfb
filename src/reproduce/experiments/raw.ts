/**
 * The paper's raw methods, and training that frees what it allocated. Every experiment trains through these so
 * that (a) the method measured is the one the paper analyses — fixed η and λ, no divergence guard, so a step
 * that raises the loss stays and is measured — and (b) each optimizer's workspaces are released as soon as its
 * run ends, so memory does not pile up from one experiment (or width) to the next.
 */
import { gd, ngd, train, type Batch, type Net, type Optimizer, type TrainOptions, type TrainRecord } from '../../index.js';
import { kfacPaper } from '../../optim/presets.js';

/** Exact NGD (Eq. 3) with a fixed step and damping and the divergence guard off. */
export const rawNgd = (lr: number, damping: number): Optimizer => ngd({ lr, damping, guard: false });

/** Plain gradient descent (it has no guard to switch off). */
export const rawGd = (lr: number): Optimizer => gd({ lr });

/** K-FAC as the paper analyses it ({@link kfacPaper}) with the divergence guard off. */
export const rawKfac = (lr: number): Optimizer => kfacPaper({ lr, guard: false });

/** `train`, then the optimizer's dispose() (also when training throws). */
export function trainOnce(net: Net, data: Batch, opt: Optimizer, options: TrainOptions): TrainRecord[] {
  try {
    return train(net, data, opt, options);
  } finally {
    opt.dispose();
  }
}

/** Runs `fn`, then disposes every resource (also when `fn` throws). */
export function disposing<T>(resources: { dispose(): void }[], fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const r of resources) r.dispose();
  }
}
