// Makes docs/img/preview.png, the README's picture: the agent's own preview page on a clip made from a
// public-domain photo only (Grace Hopper, U.S. Navy, shipped in Debian's facedetect examples) over a
// drawn background, rendered by headless Chromium as test/integration/preview.test.ts does.
// Run after a build: node dist/scripts/docs/preview-shot.js [OUT.png]
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { CLIP_IMAGES } from '../../agent/capture/demo-clip.js';
import { PACKAGE_ROOT } from '../../agent/lib/package-root.js';

const W = 800;
const H = 450;
const out = process.argv[2] ?? join(PACKAGE_ROOT, 'docs/img/preview.png');
const work = mkdtempSync(join(tmpdir(), 'percept-shot-'));
const cv = await loadOpenCV();

// A plain wall-and-floor background (no photo with an unclear licence), Grace standing in front of it.
const frame = new cv.Mat(H, W, cv.CV_8UC3, [150, 160, 170]);
frame.drawRectangle(new cv.Point2(0, Math.round(H * 0.72)), new cv.Point2(W, H), new cv.Vec3(90, 100, 110), -1);
const face = cv.imread(CLIP_IMAGES.grace).resize(300, 300);
face.copyTo(frame.getRegion(new cv.Rect(250, 60, 300, 300)));
const clip = join(work, 'still.avi');
const writer = new cv.VideoWriter(clip, cv.VideoWriter.fourcc('MJPG'), 5, new cv.Size(W, H), true);
for (let i = 0; i < 20; i++) writer.write(frame);
writer.release();

const port = 18000 + Math.floor(Math.random() * 1000);
const config = join(work, 'percept.yaml');
writeFileSync(config, `preview:\n  enabled: true\n  port: ${port}\n`);
const agent = spawn(
  process.execPath,
  [join(PACKAGE_ROOT, 'bin/percept.js'), 'run', '-c', config, '-s', clip, '--state-dir', join(work, 'state'), '--print-events'],
  {
    env: { ...process.env, PERCEPT_MQTT_EMBEDDED_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let stdout = '';
agent.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
try {
  const end = Date.now() + 180_000;
  // Wait for an event that carries labels, so the box on the page has them too.
  while (!stdout.includes('"entered"')) {
    if (agent.exitCode !== null || Date.now() > end) throw new Error('the agent sent no entered event');
    await new Promise((r) => setTimeout(r, 200));
  }
  const profile = mkdtempSync(join(tmpdir(), 'percept-chromium-'));
  await promisify(execFile)(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      `--screenshot=${out}`,
      `--window-size=${W},${H + 60}`,
      `http://127.0.0.1:${port}/`,
    ],
    { timeout: 120_000 },
  );
  console.log(`wrote ${out}`);
} finally {
  agent.kill('SIGTERM');
}
