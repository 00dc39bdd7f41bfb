/**
 * The training worker: owns natgrad and one {@link Session} (or, for the Poisson problem, one
 * {@link PdeSession}); steps it in slices of about 40 ms so Pause (and a new setup) are handled
 * between slices, and posts the new losses, and at most every 150 ms the predictions to draw
 * (regression: with the Laplace band; Poisson: the heat maps of u and |u − u*|).
 */
import { init } from 'natgrad';
import { Session, summary, type Lane } from './session.js';
import { PdeSession } from './pde-session.js';
import type { Backend, FromWorker, LaneUpdate, PdeUpdate, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  location: { search: string };
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker) => scope.postMessage(m);

const SLICE_MS = 40;
const VIEW_MS = 150;

let session: Session | PdeSession | undefined;
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
    if (msg.config.problem === 'poisson') {
      const s = (session = new PdeSession(msg.config));
      sent = [0];
      post({ type: 'pde-ready', info: s.info, update: pdeUpdate(s, true) });
    } else {
      const s = (session = new Session(msg.config));
      sent = s.lanes.map(() => 0);
      post({ type: 'ready', info: s.info, lanes: updates(s.lanes), views: s.views(), band: s.band() });
    }
  } else if (msg.type === 'start') {
    if (!session || running || session.done) return;
    running = true;
    timer = setTimeout(slice, 0);
  } else if (msg.type === 'pause') {
    stop();
    if (session) post(progress(session, true));
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
    post(progress(s, showView));
    if (s.done) {
      running = false;
      post(s instanceof PdeSession ? { type: 'pde-done', summary: s.summary() } : { type: 'done', summary: summary(s.lanes) });
    } else timer = setTimeout(slice, 0);
  } catch (e) {
    stop();
    post(failure(e));
  }
}

/** What happened since the last message; with the views to draw when `view`. A paused session reports running: false. */
function progress(s: Session | PdeSession, view: boolean): FromWorker {
  const live = running && !s.done;
  if (s instanceof PdeSession) return { type: 'pde-progress', update: pdeUpdate(s, view), running: live };
  return { type: 'progress', lanes: updates(s.lanes), ...(view ? { views: s.views(), band: s.band() } : {}), running: live };
}

/** The Poisson run's records not yet sent. */
function pdeUpdate(s: PdeSession, view: boolean): PdeUpdate {
  const from = sent[0];
  sent[0] = s.loss.length;
  return {
    from, loss: s.loss.slice(from), l2: s.l2.slice(from), stepMs: s.stepMs.slice(Math.max(0, from - 1)), lr: s.lr.slice(Math.max(0, from - 1)),
    ...(view ? { maps: s.views() } : {}), finished: s.done, error: s.error,
  };
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
