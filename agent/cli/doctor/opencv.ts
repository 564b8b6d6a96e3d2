// The OpenCV the addon was built against: its video I/O backends (files and rtsp:// open through FFmpeg,
// /dev/video* through V4L2, gst: pipelines through GStreamer — capture/capture-process.ts) and the modules
// percept calls. A JetPack or hand-built OpenCV may lack any of them.
import type { SourceKind } from '../../capture/opencv-source.js';
import { fail, ok, warn, type Check, type Result } from './check.js';
import { runProbe } from './exec.js';

export type Backend = 'FFmpeg' | 'GStreamer' | 'V4L2';

/** Modules percept uses: Mats and drawing, resize/colour, image files, capture, solvePnP (head pose). */
export const NEEDED_MODULES = ['core', 'imgproc', 'imgcodecs', 'videoio', 'calib3d'];

/** Each backend's line in the "Video I/O:" section of cv.getBuildInformation(): "YES (1.22.0)", "NO", or absent. */
export function videoBackends(info: string): Record<Backend, string | null> {
  const section = /Video I\/O:\n([\s\S]*?)(?:\n\s*\n|$)/.exec(info)?.[1] ?? '';
  const find = (re: RegExp) => {
    const m = re.exec(section);
    return m && /^YES/i.test(m[1]!.trim()) ? m[1]!.trim() : null;
  };
  return {
    FFmpeg: find(/^\s*FFMPEG:\s*(.+)$/im),
    GStreamer: find(/^\s*GStreamer:\s*(.+)$/im),
    V4L2: find(/^\s*v4l\/v4l2:\s*(.+)$/im),
  };
}

export function builtModules(info: string): string[] {
  return (/To be built:\s*(.+)/.exec(info)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
}

/** The backend a source of this kind opens through (null: none, e.g. a folder of images). */
export function backendFor(kind: SourceKind | null): Backend | null {
  if (kind === 'file' || kind === 'stream') return 'FFmpeg';
  if (kind === 'v4l2') return 'V4L2';
  if (kind === 'gstreamer') return 'GStreamer';
  return null;
}

const USE: Record<Backend, string> = { FFmpeg: 'video files and rtsp://', V4L2: '/dev/video* cameras', GStreamer: 'gst: pipelines (Jetson CSI cameras)' };

export function opencvResult(version: string, info: string, kind: SourceKind | null): Result {
  const backends = videoBackends(info);
  const modules = builtModules(info);
  const summary = (Object.keys(backends) as Backend[]).map((b) => `${b} ${backends[b] ? 'yes' : 'NO'}`).join(', ');
  const head = `OpenCV ${version}: ${summary}`;
  const lacking = NEEDED_MODULES.filter((m) => !modules.includes(m));
  // An empty module list means the build information did not say (a trimmed build): not a failure of its own.
  if (modules.length && lacking.length)
    return fail(
      `${head}; lacks module${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')}`,
      `install an OpenCV 4 with ${NEEDED_MODULES.join(', ')} (Debian: libopencv-dev), then npm rebuild @u4/opencv4nodejs`,
    );
  const needed = backendFor(kind);
  if (needed && !backends[needed])
    return fail(
      `${head}; the configured source needs ${needed} (${USE[needed]})`,
      needed === 'GStreamer'
        ? 'install an OpenCV built with GStreamer (JetPack: nvidia-opencv; Debian: libopencv-dev) and rebuild the addon'
        : `install an OpenCV built with ${needed} (Debian's libopencv-dev has it) and rebuild the addon (npm rebuild @u4/opencv4nodejs)`,
    );
  const missing = (Object.keys(backends) as Backend[]).filter((b) => !backends[b]);
  if (missing.length)
    return warn(
      `${head}; without ${missing.join(', ')} no ${missing.map((b) => USE[b]).join(' or ')} (not used by this config)`,
      `only if such a source is wanted: an OpenCV built with ${missing.join(' and ')}, then npm rebuild @u4/opencv4nodejs`,
    );
  return ok(head);
}

export function opencvCheck(kind: SourceKind | null): Check {
  return {
    id: 'opencv',
    timeoutMs: 30_000,
    run: async (signal) => {
      const a = await runProbe(['opencv'], 25_000, signal);
      if (!a.ok)
        return fail(
          `the OpenCV addon does not load: ${a.error}`,
          'build it against this OpenCV: OPENCV4NODEJS_DISABLE_AUTOBUILD=1 npm rebuild @u4/opencv4nodejs (npm run setup does it)',
        );
      return opencvResult(String(a.version), String(a.info), kind);
    },
  };
}
