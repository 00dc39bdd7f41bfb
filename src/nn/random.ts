/**
 * The library's one source of randomness: a seeded generator in TypeScript, so
 * initial weights and mini-batch orders are the same numbers on every backend.
 */

const { sqrt, log, cos, floor, imul, PI } = Math;

/**
 * Seeded pseudo-random numbers: mulberry32 for uniforms, Box–Muller for normals
 * (two uniforms per normal, no cached spare, so a draw sequence depends only on
 * the seed and the number of calls).
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator's whole state (a uint32): `new Rng(0).setState(r.getState())` continues r's sequence exactly. */
  getState(): number {
    return this.state;
  }

  /** Restores a state from {@link Rng.getState}. */
  setState(state: number): this {
    this.state = state >>> 0;
    return this;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal N(0, 1). */
  normal(): number {
    const u = this.uniform();
    const v = this.uniform();
    return sqrt(-2 * log(1 - u)) * cos(2 * PI * v);
  }

  /** −1 or +1 with equal probability. */
  sign(): number {
    return this.uniform() < 0.5 ? -1 : 1;
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = floor(this.uniform() * (i + 1));
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
