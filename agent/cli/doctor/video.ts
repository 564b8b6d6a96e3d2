// The configured source and the cameras present. Node has no V4L2 ioctls: a camera's formats come from
// v4l2-ctl (v4l-utils) when it is installed.
import { constants } from 'node:fs';
import { access, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { sourceKind, type SourceKind } from '../../capture/opencv-source.js';
import { fail, ok, skip, warn, type Check, type Result } from './check.js';
import { lastLine, runTool } from './exec.js';

export interface Format {
  fourcc: string;
  /** "WxH" with its highest frame rate (0: not said). */
  sizes: { size: string; fps: number }[];
}

/** `v4l2-ctl --list-formats-ext` output as formats with their sizes. */
export function parseFormats(text: string): Format[] {
  const formats: Format[] = [];
  for (const line of text.split('\n')) {
    const f = /^\s*\[\d+\]:\s*'([^']+)'/.exec(line);
    if (f) formats.push({ fourcc: f[1]!, sizes: [] });
    const s = /^\s*Size:\s*\w+\s+(\d+x\d+)/.exec(line);
    if (s) formats.at(-1)?.sizes.push({ size: s[1]!, fps: 0 });
    const i = /^\s*Interval:.*\(([\d.]+) fps\)/.exec(line);
    const last = formats.at(-1)?.sizes.at(-1);
    if (i && last) last.fps = Math.max(last.fps, Number(i[1]));
  }
  return formats;
}

const pixels = (size: string) => size.split('x').reduce((a, b) => a * Number(b), 1);

/** "MJPG up to 1920x1080@30 (6 sizes), YUYV up to 640x480@30 (3 sizes)". */
export function summariseFormats(formats: Format[]): string {
  if (!formats.length) return 'no capture formats (a metadata node, or the camera is busy)';
  return formats
    .map((f) => {
      const best = [...f.sizes].sort((a, b) => pixels(b.size) - pixels(a.size))[0];
      if (!best) return f.fourcc;
      return `${f.fourcc} up to ${best.size}${best.fps ? `@${Math.round(best.fps)}` : ''} (${f.sizes.length} size${f.sizes.length > 1 ? 's' : ''})`;
    })
    .join(', ');
}

async function cameraLine(dev: string, signal: AbortSignal): Promise<{ text: string; toolMissing: boolean }> {
  const name = (await readFile(`/sys/class/video4linux/${dev}/name`, 'utf8').catch(() => '')).trim();
  const r = await runTool('v4l2-ctl', ['--list-formats-ext', '-d', `/dev/${dev}`], 5000, signal);
  const label = `/dev/${dev}${name ? ` (${name})` : ''}`;
  if (r.missing) return { text: label, toolMissing: true };
  if (r.code !== 0) return { text: `${label}: v4l2-ctl failed: ${lastLine(r.stderr) || `exit ${r.code}`}`, toolMissing: false };
  return { text: `${label}: ${summariseFormats(parseFormats(r.stdout))}`, toolMissing: false };
}

export function camerasCheck(kind: SourceKind | null): Check {
  return {
    id: 'cameras',
    timeoutMs: 30_000,
    run: async (signal) => {
      const devs = (await readdir('/dev').catch(() => [] as string[]))
        .filter((d) => /^video\d+$/.test(d))
        .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
      const live = kind === 'v4l2';
      if (!devs.length) {
        if (live)
          return fail('no camera: no /dev/video* at all', 'plug the camera in (dmesg says whether the kernel sees it; a CSI camera needs gst: instead)');
        return warn(
          `no camera (no /dev/video*); not needed: ${kind ? `the source is a ${kind}` : 'no source is set'}`,
          'for a live source plug in a USB camera; ls /dev/v4l/by-id/ then names it',
        );
      }
      const lines: string[] = [];
      let toolMissing = false;
      for (const d of devs) {
        const c = await cameraLine(d, signal);
        lines.push(c.text);
        toolMissing ||= c.toolMissing;
      }
      const detail = `${devs.length} camera node${devs.length > 1 ? 's' : ''}: ${lines.join('; ')}`;
      if (toolMissing) return warn(`${detail}; formats unknown (v4l2-ctl is not installed)`, 'apt install v4l-utils, then doctor lists each camera’s formats');
      return ok(detail);
    },
  };
}

function reachable(host: string, port: number, ms: number, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: ms, signal });
    s.once('connect', () => {
      s.destroy();
      resolve(null);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(`no answer within ${ms / 1000} s`);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const PORTS: Record<string, number> = { 'rtsp:': 554, 'rtsps:': 322, 'http:': 80, 'https:': 443, 'rtmp:': 1935 };

export async function sourceResult(uri: string, signal: AbortSignal): Promise<Result> {
  if (!uri.trim())
    return warn(
      'no source.uri: the agent starts and waits for one',
      'set source.uri in the config (a video file, /dev/videoN, rtsp://…, gst:<pipeline> or a folder of images)',
    );
  const kind = sourceKind(uri);
  const fixPath = 'correct source.uri, or put the file there (readable by the service user)';
  if (kind === 'gstreamer') return skip('a gst: pipeline: doctor does not start it', 'percept run -s "gst:…" --exit-on-eof shows whether it opens');
  if (kind === 'stream') {
    const url = new URL(uri);
    const port = Number(url.port) || PORTS[url.protocol] || 0;
    if (!port) return skip(`${url.protocol} stream: no port to try`, 'percept run shows whether it opens');
    const why = await reachable(url.hostname, port, 3000, signal);
    if (why) return fail(`${url.protocol}//${url.host}: ${why}`, 'check the camera is on and source.uri names its address and port');
    return ok(`${url.protocol}//${url.hostname}:${port} accepts connections (the stream itself is opened by percept run)`);
  }
  if (kind === 'v4l2') {
    const real = await realpath(uri).catch(() => null);
    if (!real) return fail(`${uri} is not present`, 'plug the camera in, or correct source.uri (ls /dev/v4l/by-id/ lists cameras by name)');
    return ok(`camera ${uri}${real !== uri ? ` → ${real}` : ''}`);
  }
  try {
    const st = await stat(uri);
    await access(uri, constants.R_OK);
    if (kind === 'images') return ok(`folder of images ${uri}`);
    if (!st.isFile()) return fail(`${uri} is not a regular file`, fixPath);
    return ok(`file ${uri} (${(st.size / 1e6).toFixed(1)} MB)`);
  } catch (err) {
    return fail(`${uri}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, fixPath);
  }
}

export function sourceCheck(uri: string): Check {
  return { id: 'source', timeoutMs: 10_000, run: (signal) => sourceResult(uri, signal) };
}

/** The kind of the configured source; null when none is set. */
export const kindOf = (uri: string): SourceKind | null => (uri.trim() ? sourceKind(uri) : null);
