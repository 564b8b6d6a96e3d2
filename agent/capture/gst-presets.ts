// Hardware-decoding presets for GStreamer sources: `gst-preset:<platform>-<codec>-<input>?…` expands to
// a gst: pipeline that decodes on the platform's video engine instead of the CPU — Jetson
// (nvv4l2decoder + nvvidconv), Intel/AMD VA-API through gstreamer-vaapi (vaapih264dec) or through the
// newer va plugin (vah264dec). Written from the vendors' documented pipelines; untested here (no such
// hardware). Every element is looked for before the pipeline is started, so a missing one is an error
// that names it and the package that ships it, not OpenCV's silent "cannot be opened".
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const GST_PRESET_PREFIX = 'gst-preset:';

interface ElementInfo {
  /** Plugin files that hold the element (looked for when gst-inspect-1.0 is not installed). */
  plugins: string[];
  pkg: string;
}

const GOOD = 'gstreamer1.0-plugins-good';
const BAD = 'gstreamer1.0-plugins-bad';
const BASE = 'gstreamer1.0-plugins-base';
const L4T = "nvidia-l4t-gstreamer (NVIDIA's JetPack/L4T repository; `sudo apt install nvidia-l4t-gstreamer`)";
const VAAPI = 'gstreamer1.0-vaapi (and a VA driver: intel-media-va-driver or mesa-va-drivers)';
const VA = 'gstreamer1.0-plugins-bad ≥ 1.22 (and a VA driver: intel-media-va-driver or mesa-va-drivers)';

export const ELEMENTS: Record<string, ElementInfo> = {
  rtspsrc: { plugins: ['libgstrtsp.so'], pkg: GOOD },
  rtph264depay: { plugins: ['libgstrtp.so'], pkg: GOOD },
  rtph265depay: { plugins: ['libgstrtp.so'], pkg: GOOD },
  filesrc: { plugins: ['libgstcoreelements.so'], pkg: 'libgstreamer1.0-0' },
  qtdemux: { plugins: ['libgstisomp4.so'], pkg: GOOD },
  h264parse: { plugins: ['libgstvideoparsersbad.so'], pkg: BAD },
  h265parse: { plugins: ['libgstvideoparsersbad.so'], pkg: BAD },
  videoconvert: { plugins: ['libgstvideoconvertscale.so', 'libgstvideoconvert.so'], pkg: BASE },
  appsink: { plugins: ['libgstapp.so'], pkg: BASE },
  nvv4l2decoder: { plugins: ['libgstnvvideo4linux2.so'], pkg: L4T },
  nvvidconv: { plugins: ['libgstnvvidconv.so'], pkg: L4T },
  vaapih264dec: { plugins: ['libgstvaapi.so'], pkg: VAAPI },
  vaapih265dec: { plugins: ['libgstvaapi.so'], pkg: VAAPI },
  vaapipostproc: { plugins: ['libgstvaapi.so'], pkg: VAAPI },
  vah264dec: { plugins: ['libgstva.so'], pkg: VA },
  vah265dec: { plugins: ['libgstva.so'], pkg: VA },
  vapostproc: { plugins: ['libgstva.so'], pkg: VA },
};

type Codec = 'h264' | 'h265';
/** Decoder and converter to system-memory BGRx, per platform. */
const PLATFORMS: Record<string, (c: Codec) => string[]> = {
  jetson: () => ['nvv4l2decoder', 'nvvidconv'],
  vaapi: (c) => [`vaapi${c}dec`, 'vaapipostproc'],
  va: (c) => [`va${c}dec`, 'vapostproc'],
};
const INPUTS = ['rtsp', 'file'] as const;
export const GST_PRESETS = Object.keys(PLATFORMS).flatMap((p) => (['h264', 'h265'] as const).flatMap((c) => INPUTS.map((i) => `${p}-${c}-${i}`)));

export interface ExpandedPreset {
  name: string;
  /** The GStreamer pipeline, without the gst: prefix. */
  pipeline: string;
  /** Every element it uses, in pipeline order. */
  elements: string[];
}

/** Parameters after '?': `url` or `path` comes last and takes the rest verbatim (an RTSP URL may hold '&'). */
function parseParams(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = query;
  while (rest) {
    const m = /^([a-z]+)=/.exec(rest);
    if (!m) throw new Error(`cannot read the parameters "${query}": write name=value pairs joined by &, url= or path= last`);
    const key = m[1]!;
    rest = rest.slice(m[0].length);
    if (key === 'url' || key === 'path') {
      out[key] = rest;
      break;
    }
    const amp = rest.indexOf('&');
    out[key] = amp < 0 ? rest : rest.slice(0, amp);
    rest = amp < 0 ? '' : rest.slice(amp + 1);
  }
  return out;
}

/** `gst-preset:NAME?params` → the pipeline; throws a message naming what is wrong and what is accepted. */
export function expandGstPreset(uri: string): ExpandedPreset {
  const body = uri.slice(GST_PRESET_PREFIX.length);
  const q = body.indexOf('?');
  const name = q < 0 ? body : body.slice(0, q);
  const [platform, codec, input] = name.split('-') as [string, Codec, (typeof INPUTS)[number]];
  const decode = PLATFORMS[platform];
  if (!decode || !GST_PRESETS.includes(name)) throw new Error(`no GStreamer preset "${name}"; the presets are ${GST_PRESETS.join(', ')}`);
  const params = parseParams(q < 0 ? '' : body.slice(q + 1));
  const src =
    input === 'rtsp'
      ? { key: 'url', elements: ['rtspsrc', `rtp${codec}depay`], head: (v: string) => `rtspsrc location="${v}" latency=${latency(params)} ! rtp${codec}depay` }
      : { key: 'path', elements: ['filesrc', 'qtdemux'], head: (v: string) => `filesrc location="${v}" ! qtdemux` };
  const value = params[src.key];
  if (!value)
    throw new Error(
      `preset ${name} needs ${src.key}=…, e.g. ${GST_PRESET_PREFIX}${name}?${src.key === 'url' ? 'url=rtsp://camera/stream' : 'path=/srv/clip.mp4'}`,
    );
  if (value.includes('"')) throw new Error(`preset ${name}: the ${src.key} cannot contain a double quote`);
  const [decoder, converter] = decode(codec) as [string, string];
  const elements = [...src.elements, `${codec}parse`, decoder, converter, 'videoconvert', 'appsink'];
  // The converter downloads to system memory as BGRx; videoconvert makes the BGR OpenCV reads. One buffer,
  // dropped when late: a live camera's newest frame matters, not a backlog.
  const pipeline = `${src.head(value)} ! ${codec}parse ! ${decoder} ! ${converter} ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false`;
  return { name, pipeline, elements };
}

function latency(params: Record<string, string>): number {
  const v = params.latency ?? '200';
  if (!/^\d+$/.test(v)) throw new Error(`latency=${v}: give the RTSP jitter buffer in ms, e.g. latency=200`);
  return Number(v);
}

function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

/** Where GStreamer looks for plugins: its environment variables, then the distributions' folders. */
function pluginDirs(): string[] {
  const env = ['GST_PLUGIN_PATH_1_0', 'GST_PLUGIN_PATH', 'GST_PLUGIN_SYSTEM_PATH_1_0', 'GST_PLUGIN_SYSTEM_PATH'].flatMap((k) =>
    (process.env[k] ?? '').split(delimiter),
  );
  const triplets = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf'];
  const std = ['/usr/lib', '/usr/local/lib'].flatMap((root) => [join(root, 'gstreamer-1.0'), ...triplets.map((t) => join(root, t, 'gstreamer-1.0'))]);
  return [...env, ...std].filter(Boolean);
}

const inspectExists = (bin: string, element: string) =>
  new Promise<boolean>((resolve) => {
    execFile(bin, ['--exists', element], { timeout: 10_000 }, (err) => resolve(!err));
  });

/**
 * The elements GStreamer does not have here. gst-inspect-1.0 (gstreamer1.0-tools) answers exactly when it
 * is installed; without it the element's plugin file is looked for where GStreamer loads plugins from.
 */
export async function missingGstElements(elements: string[]): Promise<string[]> {
  const bin = onPath('gst-inspect-1.0');
  const dirs = bin ? [] : pluginDirs();
  const missing: string[] = [];
  for (const e of new Set(elements)) {
    const found = bin ? await inspectExists(bin, e) : (ELEMENTS[e]?.plugins ?? []).some((p) => dirs.some((d) => existsSync(join(d, p))));
    if (!found) missing.push(e);
  }
  return missing;
}

/** One sentence per missing element: the element and the package that ships it. */
export function missingElementsMessage(preset: string, missing: string[]): string {
  const list = missing.map((e) => `${e} (from ${ELEMENTS[e]?.pkg ?? 'an unknown package'})`).join('; ');
  return `GStreamer preset ${preset} needs element${missing.length > 1 ? 's' : ''} that this machine does not have: ${list}. Install the package, or use a gst:<pipeline> of your own`;
}
