// Constant-velocity Kalman filter for a face box: centre x/y, width and height each follow their own
// position+velocity filter (the axes are independent under this motion model, so four 2-state filters
// are the same filter as one 8-state one with block-diagonal matrices, without a matrix library).
import type { Box } from '../detect/detector.js';

class Axis {
  x: number;
  v = 0;
  // Covariance [[pxx, pxv], [pxv, pvv]]
  pxx: number;
  pxv = 0;
  pvv: number;

  constructor(
    x0: number,
    posVar: number,
    velVar: number,
    private readonly q: number,
    private readonly r: number,
  ) {
    this.x = x0;
    this.pxx = posVar;
    this.pvv = velVar;
  }

  predict(dt: number): void {
    this.x += this.v * dt;
    // P = F P Fᵀ + Q with F = [[1, dt], [0, 1]], Q from white acceleration noise of spectral density q.
    const pxx = this.pxx + 2 * dt * this.pxv + dt * dt * this.pvv + (this.q * dt ** 3) / 3;
    const pxv = this.pxv + dt * this.pvv + (this.q * dt ** 2) / 2;
    const pvv = this.pvv + this.q * dt;
    this.pxx = pxx;
    this.pxv = pxv;
    this.pvv = pvv;
  }

  update(z: number): void {
    const s = this.pxx + this.r;
    const kx = this.pxx / s;
    const kv = this.pxv / s;
    const y = z - this.x;
    this.x += kx * y;
    this.v += kv * y;
    const pxx = (1 - kx) * this.pxx;
    const pxv = (1 - kx) * this.pxv;
    const pvv = this.pvv - kv * this.pxv;
    this.pxx = pxx;
    this.pxv = pxv;
    this.pvv = pvv;
  }
}

export class BoxKalman {
  private readonly axes: [Axis, Axis, Axis, Axis];
  private ts: number;

  /** Noise scales with the face size, so a near and a far face behave alike. */
  constructor(box: Box, ts: number) {
    const size = Math.max(box.w, box.h);
    const pos = (size * 0.1) ** 2;
    const q = (size * 2) ** 2; // px²/s³: a face can change speed by about its size per second
    const r = (size * 0.05) ** 2; // detector jitter, about 5 % of the face
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    this.axes = [
      new Axis(cx, pos, (size * 2) ** 2, q, r),
      new Axis(cy, pos, (size * 2) ** 2, q, r),
      new Axis(box.w, pos, size ** 2, q / 4, r),
      new Axis(box.h, pos, size ** 2, q / 4, r),
    ];
    this.ts = ts;
  }

  /** Moves the state to time ts (ms) and returns the predicted box. */
  predict(ts: number): Box {
    const dt = Math.max(0, (ts - this.ts) / 1000);
    if (dt > 0) for (const a of this.axes) a.predict(dt);
    this.ts = Math.max(this.ts, ts);
    return this.box();
  }

  update(box: Box, ts: number): Box {
    this.predict(ts);
    const [cx, cy, w, h] = this.axes;
    cx.update(box.x + box.w / 2);
    cy.update(box.y + box.h / 2);
    w.update(box.w);
    h.update(box.h);
    return this.box();
  }

  box(): Box {
    const [cx, cy, w, h] = this.axes.map((a) => a.x) as [number, number, number, number];
    const bw = Math.max(1, w);
    const bh = Math.max(1, h);
    return { x: cx - bw / 2, y: cy - bh / 2, w: bw, h: bh };
  }
}
