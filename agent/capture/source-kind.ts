// What kind of source a URI names, and the error a source fails with.
import { existsSync, statSync } from 'node:fs';
import { GST_PRESET_PREFIX } from './gst-presets.js';
import { EXIT_SOURCE } from '../lib/exit-codes.js';

export class SourceError extends Error {
  readonly exitCode = EXIT_SOURCE;
  constructor(
    readonly uri: string,
    message: string,
  ) {
    super(`source ${uri}: ${message}`);
    this.name = 'SourceError';
  }
}

export type SourceKind = 'file' | 'v4l2' | 'stream' | 'gstreamer' | 'images';

export function sourceKind(uri: string): SourceKind {
  if (uri.startsWith('gst:') || uri.startsWith(GST_PRESET_PREFIX)) return 'gstreamer';
  // Any device path is a live V4L2 source: /dev/videoN, and the stable names installers use
  // (/dev/v4l/by-id/…, /dev/v4l/by-path/…, udev symlinks). Only /dev/shm holds ordinary files.
  if (uri.startsWith('/dev/') && !uri.startsWith('/dev/shm/')) return 'v4l2';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return 'stream';
  if (existsSync(uri) && statSync(uri).isDirectory()) return 'images';
  return 'file';
}

/**
 * GLib's assertion lines ("GStreamer-CRITICAL **: 10:41:22.123: gst_object_unref: assertion '…' failed"):
 * a library tripping over itself while it fails, written in no fixed order with the real reason.
 */
const ASSERTION = /-CRITICAL \*\*:.*assertion .* failed/;

/** The capture process's last words, for the error of a failed open: "…: Connection refused" (assertion noise left out unless it is all there is). */
export function because(lines: string[]): string {
  const reasons = lines.filter((l) => !ASSERTION.test(l));
  const shown = (reasons.length ? reasons : lines).slice(-3);
  return shown.length ? `: ${shown.join(' / ')}` : '';
}
