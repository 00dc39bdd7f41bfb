/** Messages between the page and the training worker. */
import type { BackendInfo } from 'natgrad';
import type { Band, DemoConfig, OptimizerId, PdeInfo, PdeSummary, SessionInfo, Summary } from './config.js';

export type Backend = 'auto' | 'wasm' | 'js';

export type ToWorker =
  /** (Re)creates the comparison from `config`, discarding the current one. */
  | { type: 'setup'; config: DemoConfig }
  | { type: 'start' }
  | { type: 'pause' };

/** A lane's news since the last message: losses and step times appended from index `from`. */
export interface LaneUpdate {
  id: OptimizerId;
  from: number;
  losses: number[];
  stepMs: number[];
  stepsToTarget: number | null;
  finished: boolean;
  error?: { name: string; message: string };
}

/** A Poisson run's news since the last message: its records appended from iteration `from`. */
export interface PdeUpdate {
  from: number;
  /** Loss and relative L² error after iterations from, from + 1, … (index 0: the initial net). */
  loss: number[];
  l2: number[];
  /** Step times and line-search step sizes of iterations from + 1, … */
  stepMs: number[];
  lr: number[];
  /** u and |u − u*| on the heat-map grid (row-major from the top), at most every 150 ms. */
  maps?: { u: number[]; error: number[] };
  finished: boolean;
  error?: { name: string; message: string };
}

export type FromWorker =
  | { type: 'backend'; info: BackendInfo }
  /** `views` (and, for regression, `band`) come at most every 150 ms. */
  | { type: 'ready'; info: SessionInfo; lanes: LaneUpdate[]; views?: number[][]; band?: Band }
  | { type: 'progress'; lanes: LaneUpdate[]; views?: number[][]; band?: Band; running: boolean }
  | { type: 'done'; summary: Summary }
  /** The Poisson problem's counterparts of ready, progress and done. */
  | { type: 'pde-ready'; info: PdeInfo; update: PdeUpdate }
  | { type: 'pde-progress'; update: PdeUpdate; running: boolean }
  | { type: 'pde-done'; summary: PdeSummary }
  /** Setup failed, or the worker itself hit an error: the message is shown; the worker stays usable. */
  | { type: 'failed'; name: string; message: string };
