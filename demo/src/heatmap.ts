/**
 * A heat map drawn straight into a canvas's ImageData: one pixel per grid cell, scaled up by CSS.
 * Cheap enough to redraw with every view the worker sends (an Observable Plot raster with its legend
 * took a long task of up to a few hundred milliseconds per redraw on a loaded machine); Plot is used
 * only once, for the colour scheme.
 */
import * as Plot from '@observablehq/plot';

/** 256 RGB triples of a Plot colour scheme, from its low end to its high end. */
function palette(scheme: Plot.ColorScheme): Uint8Array {
  const scale = Plot.scale({ color: { type: 'linear', scheme, domain: [0, 1] } });
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = String(scale.apply(i / 255));
    const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
    const rgb = hex ? hex.slice(1).map((h) => parseInt(h, 16)) : (c.match(/\d+/g) ?? ['0', '0', '0']).map(Number);
    out.set(rgb.slice(0, 3), 3 * i);
  }
  return out;
}

export interface HeatMapOptions {
  /** Cells per side. */
  size: number;
  title: string;
  /** data-testid of the figure. */
  testid: string;
  scheme: Plot.ColorScheme;
  /** 'log': colour by log10 of the value over the current values' decades; 'linear': over `domain`. */
  type: 'linear' | 'log';
  /** The linear map's fixed domain (values outside are clamped). */
  domain?: [number, number];
  /** CSS pixels per side. */
  pixels?: number;
}

export class HeatMap {
  readonly figure: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly image: ImageData;
  private readonly colors: Uint8Array;
  private readonly low: HTMLElement;
  private readonly high: HTMLElement;

  constructor(private readonly o: HeatMapOptions) {
    const px = `${o.pixels ?? 220}px`;
    this.colors = palette(o.scheme);
    this.figure = document.createElement('figure');
    this.figure.dataset.testid = o.testid;
    this.figure.className = 'heatmap';
    const cap = document.createElement('figcaption');
    cap.textContent = o.title;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'map';
    this.canvas.width = this.canvas.height = o.size;
    Object.assign(this.canvas.style, { width: px, height: px });
    this.image = new ImageData(o.size, o.size);
    // The colour bar: the palette left to right, its end values below.
    const bar = document.createElement('canvas');
    bar.className = 'bar';
    bar.width = 256;
    bar.height = 1;
    Object.assign(bar.style, { width: px, height: '10px' });
    const strip = new ImageData(256, 1);
    for (let i = 0; i < 256; i++) strip.data.set([...this.colors.subarray(3 * i, 3 * i + 3), 255], 4 * i);
    bar.getContext('2d')!.putImageData(strip, 0, 0);
    const ends = document.createElement('div');
    ends.className = 'ends';
    ends.style.width = px;
    this.low = document.createElement('span');
    this.high = document.createElement('span');
    ends.append(this.low, this.high);
    this.figure.append(cap, this.canvas, bar, ends);
  }

  /** Draws `values` (size × size, row-major from the top row). */
  draw(values: ArrayLike<number>): void {
    const { size, type } = this.o, n = size * size, px = this.image.data, colors = this.colors;
    let lo: number, hi: number;
    const t = new Float64Array(n);
    if (type === 'log') {
      // Whole decades around the values (an exact zero counts as 1e-16: below anything float64 shows here).
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < n; i++) {
        t[i] = Math.log10(Math.max(values[i], 1e-16));
        lo = Math.min(lo, t[i]);
        hi = Math.max(hi, t[i]);
      }
      lo = Math.floor(lo);
      hi = Math.max(Math.ceil(hi), lo + 1);
      this.low.textContent = `1e${lo}`;
      this.high.textContent = `1e${hi}`;
    } else {
      [lo, hi] = this.o.domain ?? [0, 1];
      for (let i = 0; i < n; i++) t[i] = values[i];
      this.low.textContent = String(lo);
      this.high.textContent = String(hi);
    }
    for (let i = 0; i < n; i++) {
      const v = (t[i] - lo) / (hi - lo);
      const k = 3 * Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
      px[4 * i] = colors[k];
      px[4 * i + 1] = colors[k + 1];
      px[4 * i + 2] = colors[k + 2];
      px[4 * i + 3] = 255;
    }
    this.canvas.getContext('2d')!.putImageData(this.image, 0, 0);
  }
}
