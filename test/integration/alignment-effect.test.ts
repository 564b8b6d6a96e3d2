// Does alignment help? The converted age/gender, expression and recognition nets on every face of the
// parity photos (Grace Hopper, Messi, face-api's 22 sample faces), upright and with the photo turned by
// ±20° about the face, with box crops (the YuNet box) vs aligned crops (5 landmarks → template). Prints
// the figures and checks the crop mode each converted manifest declares (CROP_MODES in
// models/face-api/convert.ts): for age/gender the one that gets more genders right (stability does not
// help when the label is wrong: aligned tight crops turned Grace Hopper male), for the others the
// steadier one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV, type Mat } from '../../agent/capture/opencv.js';
import { loadManifest, type ModelManifest, type CropMode } from '../../agent/inference/manifest.js';
import { writeFaceInput } from '../../agent/inference/preprocess.js';
import { WorkerSession } from '../../agent/inference/worker-session.js';
import { embeddingDistance } from '../../agent/classify/embedder.js';
import type { FaceRegion } from '../../agent/classify/classifier.js';
import { CROP_MODES, SAME_PERSON_BELOW } from '../../models/face-api/convert.js';
import { DEFAULT_MODELS } from '../helpers/models.js';
import { FACE_API_SAMPLES, GRACE_HOPPER, MESSI, requireImage } from '../helpers/images.js';
import { yunetFaces } from '../helpers/yunet-landmarks.js';

const sessionOpts = {
  providers: ['cpu'],
  intraOpThreads: 2,
  verifySha256: false,
};
const ANGLES = [0, -20, 20];
const MODES: CropMode[] = ['box', 'aligned-5pt'];
let cv: CV;
const sessions: Record<'ageGender' | 'expression' | 'recognition', WorkerSession> = {} as never;

/** One face seen at each angle: the photo turned about the face centre, the face found again by YuNet. */
interface Views {
  male: boolean;
  views: { img: Mat; face: FaceRegion }[];
}
const people: Views[] = [];

before(async () => {
  cv = await loadOpenCV();
  sessions.ageGender = await WorkerSession.open(loadManifest(DEFAULT_MODELS.ageGender), sessionOpts);
  sessions.expression = await WorkerSession.open(loadManifest(DEFAULT_MODELS.expression), sessionOpts);
  sessions.recognition = await WorkerSession.open(loadManifest(DEFAULT_MODELS.embedder), sessionOpts);
  for (const path of [GRACE_HOPPER, MESSI, ...FACE_API_SAMPLES]) {
    const img = cv.imread(requireImage(path));
    for (const f of await yunetFaces(cv, img)) {
      const cx = f.box.x + f.box.w / 2;
      const cy = f.box.y + f.box.h / 2;
      const views: Views['views'] = [];
      for (const angle of ANGLES) {
        const turned = angle
          ? img.warpAffine(cv.getRotationMatrix2D(new cv.Point2(cx, cy), angle, 1), new cv.Size(img.cols, img.rows), cv.INTER_LINEAR, cv.BORDER_REPLICATE)
          : img;
        const found = (await yunetFaces(cv, turned)).sort(
          (a, b) => Math.hypot(a.box.x + a.box.w / 2 - cx, a.box.y + a.box.h / 2 - cy) - Math.hypot(b.box.x + b.box.w / 2 - cx, b.box.y + b.box.h / 2 - cy),
        )[0];
        assert.ok(
          found && Math.hypot(found.box.x + found.box.w / 2 - cx, found.box.y + found.box.h / 2 - cy) < f.box.w / 2,
          `${path}: face at ${angle}° not found again`,
        );
        views.push({
          img: turned,
          face: { ...found.box, landmarks: found.landmarks },
        });
      }
      people.push({ male: path === MESSI, views });
    }
  }
});

after(async () => {
  await Promise.all(Object.values(sessions).map((s) => s.close()));
});

async function run(net: keyof typeof sessions, crop: CropMode, view: Views['views'][number]): Promise<Record<string, Float32Array>> {
  const base = sessions[net].loaded.manifest;
  // Box crops as the face-api nets were fed (the detector box, no margin); aligned with the converter's margin.
  const m: ModelManifest = {
    ...base,
    input: {
      ...base.input,
      crop,
      cropMargin: crop === 'box' ? 0 : CROP_MODES[net].cropMargin,
    },
  };
  const [, , h, w] = m.input.shape as number[];
  const t = new Float32Array(3 * w! * h!);
  writeFaceInput(cv, view.img, view.face, m, 0, t, 0);
  const { outputs } = await sessions[net].run({
    input: { data: t, dims: [1, 3, h!, w!] },
  });
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.data]));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const argmax = (xs: Float32Array) => xs.indexOf(Math.max(...xs));

test('alignment effect on the converted nets (upright vs ±20°)', async () => {
  assert.ok(people.length >= 24, `only ${people.length} faces found`);
  const genderRightBy: Partial<Record<CropMode, number>> = {};
  const instability: Record<string, Record<CropMode, number>> = {
    ageGender: { box: 0, 'aligned-5pt': 0 },
    expression: { box: 0, 'aligned-5pt': 0 },
    recognition: { box: 0, 'aligned-5pt': 0 },
  };
  for (const mode of MODES) {
    let genderRight = 0;
    let genderFlips = 0;
    let views = 0;
    const ageSpread: number[] = [];
    const exprL1: number[] = [];
    let exprSame = 0;
    const embedShift: number[] = [];
    for (const p of people) {
      const ag = await Promise.all(p.views.map((v) => run('ageGender', mode, v)));
      const ex = await Promise.all(p.views.map((v) => run('expression', mode, v)));
      const em = await Promise.all(p.views.map((v) => run('recognition', mode, v)));
      const male = ag.map((o) => o.gender![0]! > 0.5);
      genderRight += male.filter((m) => m === p.male).length;
      genderFlips += male.slice(1).filter((m) => m !== male[0]).length;
      views += male.length;
      const ages = ag.map((o) => o.age![0]!);
      ageSpread.push(Math.max(...ages) - Math.min(...ages));
      for (let k = 1; k < p.views.length; k++) {
        exprL1.push(ex[k]!.expression!.reduce((s, v, i) => s + Math.abs(v - ex[0]!.expression![i]!), 0));
        if (argmax(ex[k]!.expression!) === argmax(ex[0]!.expression!)) exprSame++;
        embedShift.push(embeddingDistance(em[k]!.embedding!, em[0]!.embedding!, 'euclidean'));
      }
    }
    const pairs = people.length * (ANGLES.length - 1);
    instability.ageGender![mode] = mean(ageSpread) + (10 * genderFlips) / pairs;
    genderRightBy[mode] = genderRight;
    instability.expression![mode] = mean(exprL1);
    instability.recognition![mode] = mean(embedShift);
    console.log(
      `# ${mode.padEnd(11)}: gender right ${genderRight}/${views} (flips vs upright ${genderFlips}/${pairs}); ` +
        `age spread over 0/±20° mean ${mean(ageSpread).toFixed(1)} y, max ${Math.max(...ageSpread).toFixed(1)} y; ` +
        `expression top label kept ${exprSame}/${pairs}, mean L1 ${mean(exprL1).toFixed(3)}; ` +
        `embedding upright→turned mean ${mean(embedShift).toFixed(3)}, max ${Math.max(...embedShift).toFixed(3)}, over ${SAME_PERSON_BELOW}: ${embedShift.filter((d) => d >= SAME_PERSON_BELOW).length}/${pairs}`,
    );
  }
  {
    const chosen = CROP_MODES.ageGender.crop;
    const other = chosen === 'box' ? 'aligned-5pt' : 'box';
    assert.ok(
      genderRightBy[chosen]! >= genderRightBy[other]!,
      `ageGender: the manifest declares ${chosen} but ${other} gets more genders right (${genderRightBy[other]} vs ${genderRightBy[chosen]})`,
    );
  }
  for (const net of ['expression', 'recognition'] as const) {
    const chosen = CROP_MODES[net].crop;
    const other = chosen === 'box' ? 'aligned-5pt' : 'box';
    assert.ok(
      instability[net]![chosen] <= instability[net]![other],
      `${net}: the manifest declares ${chosen} but ${other} is steadier here (${instability[net]![other].toFixed(3)} vs ${instability[net]![chosen].toFixed(3)})`,
    );
  }
});
