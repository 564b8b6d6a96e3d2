// Motion on a small grey copy of the frame, so that the face detector runs only where something moved
// (issue 22). A running background (an exponential average with a time constant, so it behaves the same
// at 10 and 25 fps) is compared with each frame after both are brought to the same mean brightness: a
// global lighting change (lights dimming, auto-exposure) scales every pixel alike and cancels out. What
// still changes over most of the picture (a camera knocked, a light switched on in one corner) is a
// lighting change too: the background restarts from this frame and no region is reported. Changed pixels
// are counted per cell of a coarse grid; a cell counts when enough of its pixels changed — one noisy
// pixel never does — and touching cells become one region. The grid work is a few tens of thousands of
// bytes per frame: plain loops are cheaper than Mat round trips through the addon.
import type { CV } from '../capture/opencv.js';
import { detectionPixels, type Frame } from '../capture/frame.js';
import type { Box } from '../lib/geometry.js';
import { insidePolygon } from '../lib/camera-geometry.js';

export interface MotionOptions {
  /** Width of the grey copy, px (its height keeps the frame's aspect ratio). */
  width: number;
  /** Grey-level difference (0–255, after brightness normalisation) above which a pixel changed. */
  threshold: number;
  /** Fraction of a grid cell's pixels that must change for the cell to count. */
  cellFraction: number;
  /** Regions smaller than this fraction of the picture are dropped. */
  minArea: number;
  /** Time constant of the background, ms: something that stops moving fades into it over about this long. */
  backgroundMs: number;
  /** When more than this fraction of the cells changed at once, it is a lighting change, not motion. */
  lightingFraction: number;
  /** Normalised polygons (x, y from the top left) where motion is ignored: the audience's ignore zones. */
  ignoreZones: readonly (readonly (readonly [number, number])[])[];
}

export interface MotionResult {
  /** Regions with motion, frame pixels. */
  regions: Box[];
  /** Fraction of (unmasked) cells that changed. */
  changed: number;
  /** This frame was taken as a lighting change (or the first frame): the background restarted. */
  reset: boolean;
}

/** Grid cell side on the grey copy, px. */
const CELL = 8;

export class MotionDetector {
  private background: Float32Array | null = null;
  private backgroundMean = 0;
  private lastTs = 0;
  private size = { width: 0, height: 0 };
  private mask: Uint8Array = new Uint8Array(0);
  private maskKey = '';

  constructor(
    private readonly cv: CV,
    private readonly opts: MotionOptions,
  ) {}

  /** The grey copy of a frame, as bytes (width × height). */
  private grey(frame: Frame): { data: Uint8Array; width: number; height: number } {
    const width = Math.max(CELL * 2, Math.min(this.opts.width, frame.width));
    const height = Math.max(CELL * 2, Math.round((frame.height * width) / frame.width));
    // INTER_AREA averages the pixels it folds together: sensor noise shrinks with the picture.
    const small = detectionPixels(frame).mat.resize(height, width, 0, 0, this.cv.INTER_AREA).cvtColor(this.cv.COLOR_BGR2GRAY);
    return { data: new Uint8Array(small.getData()), width, height };
  }

  /** Motion in this frame against the background so far; the first frame (and any size change) reports none. */
  detect(frame: Frame): MotionResult {
    const g = this.grey(frame);
    const mean = meanOf(g.data);
    const cols = Math.floor(g.width / CELL);
    const rows = Math.floor(g.height / CELL);
    this.updateMask(cols, rows);
    if (!this.background || g.width !== this.size.width || g.height !== this.size.height) {
      this.restart(g, mean, frame.ts);
      return { regions: [], changed: 0, reset: true };
    }
    const bg = this.background;
    // Compare at the background's brightness: a frame at half the light is doubled before the difference.
    const gain = mean > 1 ? this.backgroundMean / mean : 1;
    const counts = new Uint16Array(cols * rows);
    const { threshold } = this.opts;
    for (let y = 0; y < rows * CELL; y++) {
      const row = y * g.width;
      const cellRow = ((y / CELL) | 0) * cols;
      for (let x = 0; x < cols * CELL; x++) {
        const i = row + x;
        if (Math.abs(g.data[i]! * gain - bg[i]!) > threshold) counts[cellRow + ((x / CELL) | 0)]!++;
      }
    }
    const need = this.opts.cellFraction * CELL * CELL;
    const hot = new Uint8Array(cols * rows);
    let on = 0;
    let open = 0;
    for (let c = 0; c < hot.length; c++) {
      if (this.mask[c]) continue;
      open++;
      if (counts[c]! >= need) {
        hot[c] = 1;
        on++;
      }
    }
    const changed = open ? on / open : 0;
    if (changed > this.opts.lightingFraction) {
      this.restart(g, mean, frame.ts);
      return { regions: [], changed, reset: true };
    }
    this.blend(g.data, gain, frame.ts);
    const sx = frame.width / g.width;
    const sy = frame.height / g.height;
    const minCells = this.opts.minArea * cols * rows;
    const regions = components(hot, cols, rows)
      .filter((c) => c.cells >= minCells)
      .map((c) => ({ x: c.x0 * CELL * sx, y: c.y0 * CELL * sy, w: (c.x1 - c.x0 + 1) * CELL * sx, h: (c.y1 - c.y0 + 1) * CELL * sy }));
    return { regions, changed, reset: false };
  }

  private restart(g: { data: Uint8Array; width: number; height: number }, mean: number, ts: number): void {
    this.background = Float32Array.from(g.data);
    this.backgroundMean = mean;
    this.size = { width: g.width, height: g.height };
    this.lastTs = ts;
  }

  /** The background moves toward this frame (at the background's brightness) by the elapsed time. */
  private blend(data: Uint8Array, gain: number, ts: number): void {
    const bg = this.background!;
    const dt = Math.max(0, ts - this.lastTs);
    this.lastTs = ts;
    const a = this.opts.backgroundMs > 0 ? 1 - Math.exp(-dt / this.opts.backgroundMs) : 1;
    let sum = 0;
    for (let i = 0; i < bg.length; i++) {
      const v = bg[i]! + a * (data[i]! * gain - bg[i]!);
      bg[i] = v;
      sum += v;
    }
    this.backgroundMean = sum / bg.length;
  }

  /** Cells whose centre is inside an ignore zone never count (rebuilt when the zones or the grid change). */
  private updateMask(cols: number, rows: number): void {
    const key = `${cols}x${rows}:${JSON.stringify(this.opts.ignoreZones)}`;
    if (key === this.maskKey) return;
    this.maskKey = key;
    this.mask = new Uint8Array(cols * rows);
    if (!this.opts.ignoreZones.length) return;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const p = { x: (c + 0.5) / cols, y: (r + 0.5) / rows };
        if (this.opts.ignoreZones.some((z) => insidePolygon(p, z))) this.mask[r * cols + c] = 1;
      }
  }
}

function meanOf(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return data.length ? sum / data.length : 0;
}

interface Component {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  cells: number;
}

/** Groups of hot cells touching (8 neighbours, and one cell of gap: a moving person is rarely solid). */
function components(hot: Uint8Array, cols: number, rows: number): Component[] {
  const seen = new Uint8Array(hot.length);
  const out: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < hot.length; start++) {
    if (!hot[start] || seen[start]) continue;
    const comp = { x0: cols, y0: rows, x1: -1, y1: -1, cells: 0 };
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const cx = i % cols;
      const cy = (i / cols) | 0;
      comp.cells++;
      comp.x0 = Math.min(comp.x0, cx);
      comp.x1 = Math.max(comp.x1, cx);
      comp.y0 = Math.min(comp.y0, cy);
      comp.y1 = Math.max(comp.y1, cy);
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          const nx = cx + dx;
          const ny = cy + dy;
          if (nx < 0 || ny < 0 || nx >= cols || ny >= rows) continue;
          const j = ny * cols + nx;
          if (hot[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
    }
    out.push(comp);
  }
  return out;
}
