// The detector port with a memory of its latest pass: which faces it found on which frame, before the
// audience gate filters them. The local preview draws them beside the visits, so an installer sees a face
// that was found but not counted (too far, in an ignore zone, static) apart from one never found.
import type { Frame } from '../capture/frame.js';
import type { Box, Detection, FaceDetector } from './detector.js';

/** A pass older than this (media clock) is not shown: its faces have moved on. */
const SHOW_FOR_MS = 1000;

export class LastPassDetector implements FaceDetector {
  private last: { ts: number; boxes: Box[] } | null = null;

  constructor(private readonly inner: FaceDetector) {
    if (inner.detectRegions) this.detectRegions = (frame, regions) => this.inner.detectRegions!(frame, regions).then((d) => this.keep(frame, d));
  }

  readonly detectRegions?: (frame: Frame, regions: Box[]) => Promise<Detection[]>;

  get name(): string {
    return this.inner.name;
  }

  detect(frame: Frame): Promise<Detection[]> {
    return this.inner.detect(frame).then((d) => this.keep(frame, d));
  }

  /** The boxes of the latest pass when it was on this frame or shortly before (media clock); else none. */
  boxesAt(ts: number): Box[] {
    const l = this.last;
    return l && ts >= l.ts && ts - l.ts <= SHOW_FOR_MS ? l.boxes : [];
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private keep(frame: Frame, found: Detection[]): Detection[] {
    this.last = { ts: frame.ts, boxes: found.map((d) => d.box) };
    return found;
  }
}
