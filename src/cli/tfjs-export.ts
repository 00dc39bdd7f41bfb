/// <reference types="node" />
/**
 * `--export-tfjs DIR`: the trained net as a TF.js layers model (DIR/model.json and
 * DIR/weights.bin, the files `tf.loadLayersModel` reads). TF.js is an optional peer
 * dependency, imported only here, only when asked for.
 */
import type { Net } from '../index.js';
import { toTfjs, type TfLike, type TfModelLike } from '../tfjs.js';
import { CliError } from './args.js';
import { writeFolderAtomic } from './output.js';

const PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu'];

interface TfCore {
  tensor: TfLike['tensor'];
  setBackend(name: string): Promise<boolean>;
  io: { withSaveHandler(f: (a: Artifacts) => Promise<unknown>): unknown };
}
interface Artifacts {
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightData: ArrayBuffer | ArrayBuffer[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Loads the TF.js packages, or says which to install. */
async function loadTf(): Promise<{ core: TfCore; layers: Omit<TfLike, 'tensor'> }> {
  try {
    const core = (await import('@tensorflow/tfjs-core')) as unknown as TfCore;
    await import('@tensorflow/tfjs-backend-cpu');
    const layers = (await import('@tensorflow/tfjs-layers')) as unknown as Omit<TfLike, 'tensor'>;
    await core.setBackend('cpu');
    return { core, layers };
  } catch {
    throw new CliError(`--export-tfjs needs TF.js: npm install ${PACKAGES.join(' ')}`);
  }
}

/** Checks that the TF.js packages load (before a long training run whose export would fail); throws CliError naming them. */
export async function checkTfjs(): Promise<void> {
  await loadTf();
}

export async function exportTfjs(net: Net, dir: string): Promise<void> {
  const { core, layers } = await loadTf();
  const model = toTfjs<TfModelLike & { save(h: unknown): Promise<unknown>; dispose?(): void }>(net, { ...layers, tensor: core.tensor } as TfLike);
  let artifacts: Artifacts | undefined;
  await model.save(core.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts!;
  const data = Array.isArray(a.weightData) ? concat(a.weightData) : new Uint8Array(a.weightData);
  const json = {
    modelTopology: a.modelTopology,
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy ?? 'natgrad',
    convertedBy: `natgrad`,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  };
  writeFolderAtomic(dir, { 'model.json': JSON.stringify(json), 'weights.bin': data });
  model.dispose?.();
}

function concat(parts: ArrayBuffer[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(new Uint8Array(p), o); o += p.byteLength; }
  return out;
}
