// The preview's annotations, drawn with OpenCV on a copy of the frame: a box per person present with a
// short id and its fused labels, "looking"/"not looking" and ignore zones when the frame carries them,
// the classifier's minimum face size as a square to compare faces with, and the frame rate.
import type { CV, Mat } from '../capture/opencv.js';
import type { Box } from '../detect/detector.js';
import type { FrameDone } from './events.js';

/** BGR. Green boxes are what the integration test looks for in the screenshot. */
export const BOX_COLOUR: [number, number, number] = [0, 255, 0];
const LOOKING_AWAY: [number, number, number] = [0, 200, 255];
const ZONE_COLOUR: [number, number, number] = [0, 0, 255];
const TEXT_BG: [number, number, number] = [0, 0, 0];
const WHITE: [number, number, number] = [255, 255, 255];

/** Ignore zones, when a frame carries them (drawn if present). */
interface OptionalFrame {
  ignoreZones?: Box[];
}

export interface DrawOptions {
  minFacePx: number;
  fps: number;
}

export function annotate(cv: CV, frame: FrameDone & OptionalFrame, src: Mat, o: DrawOptions): Mat {
  const mat = src.copy();
  const scale = Math.max(0.4, Math.min(1.2, mat.cols / 1280));
  const thick = Math.max(2, Math.round(3 * scale));
  const vec = (c: [number, number, number]) => new cv.Vec3(c[0], c[1], c[2]);
  const pt = (x: number, y: number) => new cv.Point2(Math.round(x), Math.round(y));
  /** y is the label's bottom edge, or its top edge when `below` (so it never covers the box above it). */
  const label = (text: string, x: number, y: number, colour = WHITE, below = false) => {
    const { size } = cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, 0.6 * scale, 1);
    const top = below ? y : Math.max(0, y - size.height - 6);
    mat.drawRectangle(pt(x, top), pt(x + size.width + 6, top + size.height + 6), vec(TEXT_BG), -1);
    mat.putText(text, pt(x + 3, top + size.height + 2), cv.FONT_HERSHEY_SIMPLEX, 0.6 * scale, vec(colour), 1, cv.LINE_AA);
  };

  for (const z of frame.ignoreZones ?? []) {
    mat.drawRectangle(pt(z.x, z.y), pt(z.x + z.w, z.y + z.h), vec(ZONE_COLOUR), thick);
    label('ignored', z.x + 2, z.y + 20 * scale, [200, 200, 255]);
  }
  for (const p of frame.people) {
    const b = p.box;
    const colour = p.looking === false ? LOOKING_AWAY : BOX_COLOUR;
    mat.drawRectangle(pt(b.x, b.y), pt(b.x + b.w, b.y + b.h), vec(colour), thick);
    const labels = [p.labels.gender, p.labels.age, p.labels.emotion].filter(Boolean).join(' ');
    label(`${p.person.slice(0, 8)}${labels ? ` ${labels}` : ''}`, b.x, b.y - 2);
    if (p.looking !== undefined) label(p.looking ? 'looking' : 'not looking', b.x, b.y + b.h + thick + 2, colour, true);
  }
  // The minimum face size at the bottom left: faces smaller than this square are tracked, not classified.
  const s = o.minFacePx;
  const x0 = 10;
  const y1 = mat.rows - 10;
  mat.drawRectangle(pt(x0, y1 - s), pt(x0 + s, y1), vec(WHITE), 1);
  label(`min face ${s}px`, x0 + s + 6, y1);
  label(`${o.fps.toFixed(1)} fps  ${frame.people.length} present`, 10, 24 * scale + 8);
  return mat;
}
