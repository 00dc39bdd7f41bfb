/**
 * The training worker: owns natgrad and one {@link Session}; steps it in slices of about
 * 40 ms so Pause (and a new setup) are handled between slices, and posts the new losses,
 * and at most every 150 ms the predictions to draw (regression: with the Laplace band).
 */
import { init } from 'natgrad';
import { Session, summary, type Lane } from './session.js';
import type { Backend, FromWorker, LaneUpdate, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  location: { search: string };
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker) => scope.postMessage(m);

const SLICE_MS = 40;
const VIEW_MS = 150;

let session: Session | undefined;
let sent: number[] = [];
let running = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let lastView = 0;

const params = new URLSearchParams(scope.location.search);
const backend = (params.get('backend') ?? 'auto') as Backend;
// A thread per logical processor where the page is cross-origin isolated (npm run demo:web serves
// it so); elsewhere init() falls back to one and says why. ?threads=1 turns them off.
const threadsParam = params.get('threads');
const threads = threadsParam ? Number(threadsParam) : 'auto';
const ready = init({ backend, threads }).then((info) => { post({ type: 'backend', info }); return info; });
ready.catch((e) => post(failure(e)));

scope.onmessage = (e) => {
  ready.then(() => handle(e.data)).catch((err) => { running = false; post(failure(err)); });
};

function handle(msg: ToWorker): void {
  if (msg.type === 'setup') {
    stop();
    session?.dispose();
    session = undefined;
    session = new Session(msg.config);
    sent = session.lanes.map(() => 0);
    post({ type: 'ready', info: session.info, lanes: updates(session.lanes), views: session.views(), band: session.band() });
  } else if (msg.type === 'start') {
    if (!session || running || session.done) return;
    running = true;
    timer = setTimeout(slice, 0);
  } else if (msg.type === 'pause') {
    stop();
    if (session) post({ type: 'progress', lanes: updates(session.lanes), views: session.views(), band: session.band(), running: false });
  }
}

function stop(): void {
  running = false;
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
}

function slice(): void {
  timer = undefined;
  const s = session;
  if (!s || !running) return;
  try {
    const t0 = performance.now();
    do s.step(); while (!s.done && performance.now() - t0 < SLICE_MS);
    const now = performance.now();
    const showView = s.done || now - lastView >= VIEW_MS;
    if (showView) lastView = now;
    post({ type: 'progress', lanes: updates(s.lanes), ...(showView ? { views: s.views(), band: s.band() } : {}), running: !s.done });
    if (s.done) {
      running = false;
      post({ type: 'done', summary: summary(s.lanes) });
    } else timer = setTimeout(slice, 0);
  } catch (e) {
    stop();
    post(failure(e));
  }
}

/** Each lane's losses and step times not yet sent. */
function updates(lanes: Lane[]): LaneUpdate[] {
  return lanes.map((l, i) => {
    const from = sent[i];
    sent[i] = l.losses.length;
    return {
      id: l.id, from, losses: l.losses.slice(from), stepMs: l.stepMs.slice(Math.max(0, from - 1)),
      stepsToTarget: l.stepsToTarget, finished: l.finished, error: l.error,
    };
  });
}

function failure(e: unknown): FromWorker {
  const err = e instanceof Error ? e : new Error(String(e));
  return { type: 'failed', name: err.name, message: err.message };
}
