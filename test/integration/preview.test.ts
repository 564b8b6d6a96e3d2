// The local preview, end to end: a real agent on a clip with a face serves the annotated page; headless
// Chromium (Debian `chromium`) renders it, and the screenshot has the drawn box colour where the agent
// says the face is and the ignore zone's red along the configured polygon (not its bounding box). The MJPEG stream is multipart JPEG; a non-loopback bind is a config error (78).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadOpenCV, type CV } from '../../agent/capture/opencv.js';
import { CLIP_IMAGES } from '../helpers/clips.js';
import { freePort } from '../helpers/mosquitto.js';
import { runPercept, startPercept, type Running } from '../helpers/agent-process.js';
import { BOX_COLOUR, ZONE_COLOUR } from '../../agent/features/preview-draw.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/temp.js';

const work = tempDir('percept-preview-');
const W = 640;
const H = 360;
let cv: CV;
let agent: Running;
let port: number;
/** An ignore zone right of the face (fractions of the frame): a quadrilateral with one slanted edge. */
const ZONE: [number, number][] = [
  [0.8, 0.55],
  [0.97, 0.55],
  [0.97, 0.95],
  [0.88, 0.95],
];

/** A clip where Grace Hopper stands still (looped by the agent): she stays present while the page loads. */
function stillClip(): string {
  const frame = cv.imread(CLIP_IMAGES.background).resize(H, W);
  cv.imread(CLIP_IMAGES.grace)
    .resize(260, 260)
    .copyTo(frame.getRegion(new cv.Rect(190, 50, 260, 260)));
  const path = join(work, 'still.avi');
  const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc('MJPG'), 5, new cv.Size(W, H), true);
  for (let i = 0; i < 20; i++) writer.write(frame);
  writer.release();
  return path;
}

before(async () => {
  cv = await loadOpenCV();
  port = await freePort();
  const config = join(work, 'percept.yaml');
  writeFileSync(config, `preview:\n  enabled: true\n  port: ${port}\naudience:\n  ignoreZones: [${JSON.stringify(ZONE)}]\n`);
  agent = startPercept(['run', '-c', config, '-s', stillClip(), '--state-dir', join(work, 'state'), '--print-events'], {
    PERCEPT_MQTT_EMBEDDED_PORT: '0',
  });
});

after(async () => {
  agent?.child.kill('SIGTERM');
  await agent?.exited;
});

async function entered(): Promise<{ x: number; y: number; w: number; h: number }> {
  const line = await waitFor(
    () =>
      agent
        .stdout()
        .split('\n')
        .find((l) => l.includes('"entered"')),
    120_000,
    'an entered event',
    {
      detail: () => `stderr:\n${agent.stderr()}`,
      giveUp: () => agent.child.exitCode !== null && `the agent exited (${agent.child.exitCode})`,
    },
  );
  return (JSON.parse(line) as { box: { x: number; y: number; w: number; h: number } }).box;
}

test('headless Chromium shows the page with a box drawn around the face', async () => {
  const rel = await entered();
  const shot = join(work, 'preview.png');
  const profile = tempDir('percept-chromium-');
  await promisify(execFile)(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      `--screenshot=${shot}`,
      // Tall enough for the legend under the frame: a scrollbar would narrow the page and scale the frame.
      `--window-size=${W},${H + 160}`,
      `http://127.0.0.1:${port}/`,
    ],
    { timeout: 120_000 },
  );
  const png = cv.imread(shot);
  assert.ok(png.cols >= W && png.rows >= H, `screenshot ${png.cols}x${png.rows}`);
  // The page shows the frame at its natural size at the top left: frame pixels are screenshot pixels.
  const box = { x: rel.x * W, y: rel.y * H, w: rel.w * W, h: rel.h * H };
  const is =
    ([b, g, r]: [number, number, number]) =>
    (x: number, y: number) => {
      const v = png.atRaw(Math.round(y), Math.round(x)) as unknown as number[];
      return Math.abs(v[0]! - b) < 70 && Math.abs(v[1]! - g) < 70 && Math.abs(v[2]! - r) < 70;
    };
  const isBox = is(BOX_COLOUR);
  const slack = (f: (x: number, y: number) => boolean) => (x: number, y: number) =>
    [-2, -1, 0, 1, 2].some((dx) => [-2, -1, 0, 1, 2].some((dy) => f(x + dx, y + dy)));
  // Along the bottom and side edges (the label sits on the top one), with a pixel or two of slack.
  const near = slack(isBox);
  const samples = Array.from({ length: 10 }, (_, i) => (i + 0.5) / 10);
  const onEdges = [
    ...samples.map((t) => near(box.x + t * box.w, box.y + box.h)),
    ...samples.map((t) => near(box.x, box.y + t * box.h)),
    ...samples.map((t) => near(box.x + box.w, box.y + t * box.h)),
  ];
  assert.ok(onEdges.filter(Boolean).length >= 27, `box colour on ${onEdges.filter(Boolean).length}/30 edge points of ${JSON.stringify(box)}`);
  // …and not in the middle of the face, nor in the sky far from anyone.
  assert.ok(!isBox(box.x + box.w / 2, box.y + box.h / 2), 'the face itself is not painted over');
  assert.ok(!isBox(W - 30, 60), 'no box where nobody is');

  // The ignore zone: red along its right, bottom and slanted left edges (its label sits under the top one).
  const px = ZONE.map(([fx, fy]) => [fx * (W - 1), fy * (H - 1)] as const);
  const nearZone = slack(is(ZONE_COLOUR));
  const edges = [1, 2, 3].flatMap((i) => {
    const [a, b] = [px[i]!, px[(i + 1) % px.length]!];
    return samples.map((t) => nearZone(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])));
  });
  assert.ok(edges.filter(Boolean).length >= 27, `zone red on ${edges.filter(Boolean).length}/30 edge points`);
  // A polygon, not its bounding box: nothing red on the box's left edge below the slanted one.
  assert.ok(!nearZone(px[0]![0], 0.92 * (H - 1)), 'the zone is drawn as its polygon');
  assert.ok(!is(ZONE_COLOUR)(box.x + box.w / 2, box.y + box.h / 2), 'no red on the face');
});

test('the MJPEG stream is multipart JPEG while someone watches', async () => {
  await entered();
  const { type, body } = await new Promise<{ type: string; body: Buffer }>((resolve, reject) => {
    const req = get(`http://127.0.0.1:${port}/stream.mjpg`, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.indexOf('--perceptframe', 1) > 0 && all.indexOf('--perceptframe') !== all.lastIndexOf('--perceptframe')) {
          req.destroy();
          resolve({ type: String(res.headers['content-type']), body: all });
        }
      });
    });
    req.once('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('no two frames within 60 s')));
  });
  assert.match(type, /^multipart\/x-mixed-replace; boundary=perceptframe$/);
  const start = body.indexOf('\r\n\r\n') + 4;
  assert.deepEqual([...body.subarray(start, start + 3)], [0xff, 0xd8, 0xff], 'each part is a JPEG');
});

test('a non-loopback preview host is refused (exit 78) with the fix named', async () => {
  const config = join(work, 'open.yaml');
  writeFileSync(config, 'preview:\n  enabled: true\n  host: 0.0.0.0\n');
  const res = await runPercept(['run', '-c', config, '-s', join(work, 'still.avi'), '--state-dir', join(work, 'state2'), '--exit-on-eof'], {
    PERCEPT_MQTT_EMBEDDED_PORT: '0',
  });
  assert.equal(res.code, 78, res.stderr);
  assert.match(res.stderr, /preview\.host: \\?"0\.0\.0\.0\\?" is not a loopback address.*preview\.allowNonLoopback: true/);
});
