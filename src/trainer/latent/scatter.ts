/**
 * The scatter of test μ on a plane as a colour PNG: one dot per test image coloured by its label,
 * the prior N(0, I)'s 1σ/2σ/3σ circles (radius 1, 2, 3 on any orthonormal plane through the origin),
 * the axes through the origin, and the run's fixed prior noise as dark crosses: where the data sits
 * against where prior samples land. Drawn pixel by pixel (no fonts: the command prints the legend).
 */
import { PNG } from 'pngjs';

type Rgb = readonly [number, number, number];

/** Ten distinguishable colours for labels 0–9 (Tableau 10); other labels reuse them modulo 10. */
export const LABEL_COLOURS: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];
export const LABEL_COLOUR_NAMES = ['blue', 'orange', 'green', 'red', 'purple', 'brown', 'pink', 'grey', 'olive', 'cyan'];
const UNLABELLED: Rgb = LABEL_COLOURS[0];
const BACKGROUND: Rgb = [255, 255, 255];
const AXIS: Rgb = [210, 210, 210];
const CIRCLE: Rgb = [90, 90, 90];
const PRIOR: Rgb = [0, 0, 0];

export interface ScatterFigure {
  /** x, y of each point (plane coordinates). */
  points: Float64Array;
  labels?: ArrayLike<number>;
  /** x, y of each prior sample. */
  prior: Float64Array;
  /** Width and height in pixels. */
  size: number;
}

/** Half the width shown, in plane units: every point and the 3σ circle, with a margin. */
export function scatterExtent(figure: Pick<ScatterFigure, 'points' | 'prior'>): number {
  let m = 3;
  for (const values of [figure.points, figure.prior]) for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m * 1.08;
}

class Canvas {
  readonly png: PNG;
  constructor(readonly size: number) {
    this.png = new PNG({ width: size, height: size });
    for (let o = 0; o < this.png.data.length; o += 4) this.set(o, BACKGROUND, 1);
  }

  private set(o: number, c: Rgb, alpha: number): void {
    const d = this.png.data;
    for (let k = 0; k < 3; k++) d[o + k] = Math.round(d[o + k] * (1 - alpha) + c[k] * alpha);
    d[o + 3] = 255;
  }

  plot(x: number, y: number, c: Rgb, alpha = 1): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.size || py >= this.size) return;
    this.set((py * this.size + px) * 4, c, alpha);
  }

  disc(x: number, y: number, r: number, c: Rgb, alpha: number): void {
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r + r) this.plot(x + dx, y + dy, c, alpha);
  }

  circle(cx: number, cy: number, r: number, c: Rgb): void {
    const n = Math.max(64, Math.ceil(2 * Math.PI * r * 2));
    for (let k = 0; k < n; k++) this.plot(cx + r * Math.cos((2 * Math.PI * k) / n), cy + r * Math.sin((2 * Math.PI * k) / n), c);
  }

  cross(x: number, y: number, r: number, c: Rgb): void {
    for (let k = -r; k <= r; k++) {
      this.plot(x + k, y + k, c);
      this.plot(x + k, y - k, c);
    }
  }
}

/** The figure as a PNG of size × size pixels; y grows upwards. */
export function renderScatter(figure: ScatterFigure): Buffer {
  const { size } = figure;
  const canvas = new Canvas(size);
  const scale = size / 2 / scatterExtent(figure);
  const c = size / 2;
  const px = (x: number) => c + x * scale;
  const py = (y: number) => c - y * scale;
  for (let k = 0; k < size; k++) {
    canvas.plot(k, c, AXIS);
    canvas.plot(c, k, AXIS);
  }
  const n = figure.points.length / 2;
  for (let i = 0; i < n; i++) {
    const label = figure.labels?.[i];
    const colour = label === undefined ? UNLABELLED : LABEL_COLOURS[label % LABEL_COLOURS.length];
    canvas.disc(px(figure.points[2 * i]), py(figure.points[2 * i + 1]), 2, colour, 0.6);
  }
  for (const r of [1, 2, 3]) canvas.circle(c, c, r * scale, CIRCLE);
  for (let i = 0; i < figure.prior.length / 2; i++) canvas.cross(px(figure.prior[2 * i]), py(figure.prior[2 * i + 1]), 3, PRIOR);
  return PNG.sync.write(canvas.png, { colorType: 2 });
}
