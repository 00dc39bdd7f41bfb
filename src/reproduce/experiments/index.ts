/** The experiments of `natgrad reproduce`, in report order. */
import type { Experiment } from '../types.js';
import { e1 } from './e1.js';
import { e2 } from './e2.js';
import { e3 } from './e3.js';
import { e4 } from './e4.js';
import { e5 } from './e5.js';
import { e6 } from './e6.js';
import { e7 } from './e7.js';
import { e8 } from './e8.js';
import { f1 } from './f1.js';

export const EXPERIMENTS: Experiment<object>[] = [e1, e2, e3, e4, e5, e6, e7, e8, f1] as unknown as Experiment<object>[];
export const IDS = EXPERIMENTS.map((e) => e.id);
