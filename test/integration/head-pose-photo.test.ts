// Head pose on real photos, roughly: Grace Hopper's frontal portrait reads as frontal, turning the photo
// changes only the roll, and mirroring a photo mirrors every face's yaw. Landmarks from YuNet.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV, type CV } from '../../agent/capture/opencv.js';
import { headPose, isLooking } from '../../agent/lib/head-pose.js';
import { FACE_API_SAMPLES, GRACE_HOPPER, requireImage } from '../helpers/images.js';
import { yunetFaces } from '../helpers/yunet-landmarks.js';

let cv: CV;
before(async () => {
  cv = await loadOpenCV();
});

// YuNet's landmarks are not exactly rotation-equivariant: on Grace Hopper turned by 20° its nose point moves
// ~9 px along an 80-px eye-to-mouth span, which reads as ~15° of pitch; at 10° it still moves a few px.
// The maths itself removes roll exactly (test/unit/head-pose.test.ts); the tolerances here are the
// detector's landmark noise (pitch from 5 points moves ~1° per 0.6% of the eye-to-mouth span).
test('a frontal portrait is frontal and still looking when the photo is turned 10°; the roll follows the turn', async () => {
  const img = cv.imread(requireImage(GRACE_HOPPER));
  const [face] = await yunetFaces(cv, img);
  const upright = headPose(face!.landmarks);
  console.log(`# Grace Hopper: yaw ${upright.yaw.toFixed(1)}°, pitch ${upright.pitch.toFixed(1)}°, roll ${upright.roll.toFixed(1)}°`);
  assert.ok(Math.abs(upright.yaw) < 10 && Math.abs(upright.pitch) < 15 && isLooking(upright), JSON.stringify(upright));
  for (const angle of [-10, 10]) {
    // getRotationMatrix2D turns counter-clockwise on screen for a positive angle; roll is clockwise-positive.
    const turned = img.warpAffine(cv.getRotationMatrix2D(new cv.Point2(256, 256), angle, 1), new cv.Size(512, 512), cv.INTER_LINEAR, cv.BORDER_REPLICATE);
    const pose = headPose((await yunetFaces(cv, turned))[0]!.landmarks);
    assert.ok(Math.abs(pose.roll - (upright.roll - angle)) < 4, `turned ${angle}°: roll ${pose.roll}`);
    console.log(`# turned ${angle}°: yaw ${pose.yaw.toFixed(1)}°, pitch ${pose.pitch.toFixed(1)}°, roll ${pose.roll.toFixed(1)}°`);
    assert.ok(
      isLooking(pose) && Math.abs(pose.yaw - upright.yaw) < 15 && Math.abs(pose.pitch - upright.pitch) < 12,
      `turned ${angle}°: ${JSON.stringify(pose)}`,
    );
  }
});

// YuNet's landmarks are not mirror-symmetric either: a face and its mirror image differ by ~7° of yaw on
// average here (up to ~20°), so the check is on signs and the mean, not on each face.
test('mirroring a photo mirrors the yaw of its clearly turned faces', async () => {
  const sums: number[] = [];
  let flipped = 0;
  for (const path of FACE_API_SAMPLES) {
    const img = cv.imread(requireImage(path));
    const mirroredFaces = await yunetFaces(cv, img.flip(1));
    for (const f of await yunetFaces(cv, img)) {
      const pose = headPose(f.landmarks);
      // Past ~50° the 5 landmarks of a near-profile face are guesses; the method is for attention (±25°).
      if (Math.abs(pose.yaw) < 15 || Math.abs(pose.yaw) > 50) continue;
      const cx = img.cols - (f.box.x + f.box.w / 2);
      const twin = mirroredFaces.find((m) => Math.abs(m.box.x + m.box.w / 2 - cx) < f.box.w / 3);
      assert.ok(twin, `${path}: mirrored face not found`);
      const mirroredYaw = headPose(twin.landmarks).yaw;
      if (Math.sign(mirroredYaw) === -Math.sign(pose.yaw)) flipped++;
      sums.push(Math.abs(pose.yaw + mirroredYaw));
    }
  }
  const meanAsymmetry = sums.reduce((a, b) => a + b, 0) / sums.length;
  console.log(
    `# ${sums.length} turned faces (15° ≤ |yaw| ≤ 50°): sign flipped on ${flipped}, mean |yaw + mirrored yaw| ${meanAsymmetry.toFixed(1)}°, max ${Math.max(...sums).toFixed(1)}°`,
  );
  assert.ok(sums.length >= 6, `only ${sums.length} turned faces in the samples`);
  assert.equal(flipped, sums.length, 'a mirrored face kept the sign of its yaw');
  assert.ok(meanAsymmetry < 12, `mirror asymmetry ${meanAsymmetry}`);
});
