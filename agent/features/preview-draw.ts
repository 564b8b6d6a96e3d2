// The preview's annotations, drawn with OpenCV on a copy of the frame: the configured zones (polygons),
// the detector's raw faces of the latest pass (thin boxes: what was found before the audience gate took
// far, zoned and static faces out), a box per person present with a short id and its fused labels,
// "looking"/"not looking", the classifier's minimum face size as a square to compare faces with, and the
// processing rate. Every label is placed inside the frame (preview-layout.ts), never cut by its edge.
import type { CV, Mat } from '../capture/opencv.js';
import type { FrameDone } from './events.js';
import { placeLabel, polygonLabelAnchor, polygonPixels } from './preview-layout.js';

type BGR = [number, number, number];
/** BGR. Green boxes are what the integration test looks for in the screenshot. */
export const BOX_COLOUR: BGR = [0, 255, 0];
/** Ignore zones: pure red, which the screenshot test looks for along a zone's edge. */
export const ZONE_COLOUR: BGR = [0, 0, 255];
/** Raw detections: magenta, a colour no visit box uses. */
export const DETECTION_COLOUR: BGR = [255, 0, 255];
const LOOKING_AWAY: BGR = [0, 200, 255];
const TEXT_BG: BGR = [0, 0, 0];
const WHITE: BGR = [255, 255, 255];

export interface DrawOptions {
  minFacePx: number;
  /** Frames processed per second (the pipeline's rate, not the preview's). */
  fps: number;
  /** audience.ignoreZones: polygons in fractions of the frame. */
  ignoreZones: readonly (readonly (readonly [number, number])[])[];
}

export function annotate(cv: CV, frame: FrameDone, src: Mat, o: DrawOptions): Mat {
  const mat = src.copy();
  const scale = Math.max(0.4, Math.min(1.2, mat.cols / 1280));
  const thick = Math.max(2, Math.round(3 * scale));
  const vec = (c: BGR) => new cv.Vec3(c[0], c[1], c[2]);
  const pt = (x: number, y: number) => new cv.Point2(Math.round(x), Math.round(y));
  /** y is the label's bottom edge, or its top edge when `below` (so it never covers the box above it). */
  const label = (text: string, x: number, y: number, colour = WHITE, below = false) => {
    const { size } = cv.getTextSize(text, cv.FONT_HERSHEY_SIMPLEX, 0.6 * scale, 1);
    const r = placeLabel(x, y, size.width + 6, size.height + 6, mat.cols, mat.rows, below);
    mat.drawRectangle(pt(r.x, r.y), pt(r.x + r.w - 1, r.y + r.h - 1), vec(TEXT_BG), -1);
    mat.putText(text, pt(r.x + 3, r.y + size.height + 2), cv.FONT_HERSHEY_SIMPLEX, 0.6 * scale, vec(colour), 1, cv.LINE_AA);
  };

  for (const zone of o.ignoreZones) {
    const px = polygonPixels(zone, mat.cols, mat.rows);
    mat.drawPolylines([px.map(([x, y]) => pt(x, y))], true, vec(ZONE_COLOUR), thick);
    const [ax, ay] = polygonLabelAnchor(px);
    label('ignored', ax + thick, ay + thick, [200, 200, 255], true);
  }
  for (const d of frame.detections ?? []) mat.drawRectangle(pt(d.x, d.y), pt(d.x + d.w, d.y + d.h), vec(DETECTION_COLOUR), 1);
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
  const faces = frame.detections ? `  ${frame.detections.length} detected` : '';
  label(`processing ${o.fps.toFixed(1)} fps  ${frame.people.length} present${faces}`, 10, 24 * scale + 8);
  return mat;
}
