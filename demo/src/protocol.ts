/** Messages between the page and the training worker. */
import type { BackendInfo } from 'natgrad';
import type { Band, DemoConfig, OptimizerId, SessionInfo, Summary } from './config.js';

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

export type FromWorker =
  | { type: 'backend'; info: BackendInfo }
  /** `views` (and, for regression, `band`) come at most every 150 ms. */
  | { type: 'ready'; info: SessionInfo; lanes: LaneUpdate[]; views?: number[][]; band?: Band }
  | { type: 'progress'; lanes: LaneUpdate[]; views?: number[][]; band?: Band; running: boolean }
  | { type: 'done'; summary: Summary }
  /** Setup failed, or the worker itself hit an error: the message is shown; the worker stays usable. */
  | { type: 'failed'; name: string; message: string };
