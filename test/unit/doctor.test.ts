// doctor's judgements on machines this one is not: a Jetson, a JetPack OpenCV without FFmpeg, a camera's
// formats, an arm64 onnxruntime without GPU providers, a clock that does not sync, a check that hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, type Check } from '../../agent/cli/doctor/check.js';
import { clockResult, serviceResult } from '../../agent/cli/doctor/host.js';
import { opencvResult } from '../../agent/cli/doctor/opencv.js';
import { jetsonResult, osResult } from '../../agent/cli/doctor/platform.js';
import { loaderReason, providerResult } from '../../agent/cli/doctor/providers.js';
import { parseFormats, summariseFormats } from '../../agent/cli/doctor/video.js';

const buildInfo = (ffmpeg: string, modules = 'calib3d core imgcodecs imgproc videoio') =>
  `General configuration for OpenCV 4.8.0\n  OpenCV modules:\n    To be built:                 ${modules}\n\n` +
  `  Video I/O:\n    FFMPEG:                      ${ffmpeg}\n    GStreamer:                   YES (1.20.3)\n    v4l/v4l2:                    YES (linux/videodev2.h)\n\n` +
  `  Parallel framework:            pthreads\n`;

test('OpenCV: a build without FFmpeg fails a file source, only warns for a gst: pipeline; a missing module fails', () => {
  const file = opencvResult('4.8.0', buildInfo('NO'), 'file');
  assert.equal(file.status, 'fail');
  assert.match(file.detail, /FFmpeg NO, GStreamer yes, V4L2 yes; the configured source needs FFmpeg/);
  const gst = opencvResult('4.8.0', buildInfo('NO'), 'gstreamer');
  assert.equal(gst.status, 'warn');
  assert.match(gst.detail, /without FFmpeg no video files and rtsp:\/\//);
  assert.equal(opencvResult('4.8.0', buildInfo('YES'), 'v4l2').status, 'ok');
  const lacking = opencvResult('4.8.0', buildInfo('YES', 'core imgproc imgcodecs videoio'), null);
  assert.equal(lacking.status, 'fail');
  assert.match(lacking.detail, /lacks module calib3d/);
});

test("a camera's formats from v4l2-ctl: each fourcc with its largest size and best rate", () => {
  const text = `ioctl: VIDIOC_ENUM_FMT
\tType: Video Capture

\t[0]: 'MJPG' (Motion-JPEG, compressed)
\t\tSize: Discrete 640x480
\t\t\tInterval: Discrete 0.033s (30.000 fps)
\t\tSize: Discrete 1920x1080
\t\t\tInterval: Discrete 0.033s (30.000 fps)
\t\t\tInterval: Discrete 0.067s (15.000 fps)
\t[1]: 'YUYV' (YUYV 4:2:2)
\t\tSize: Discrete 640x480
\t\t\tInterval: Discrete 0.033s (30.000 fps)
`;
  assert.equal(summariseFormats(parseFormats(text)), 'MJPG up to 1920x1080@30 (2 sizes), YUYV up to 640x480@30 (1 size)');
  assert.match(summariseFormats(parseFormats('ioctl: VIDIOC_ENUM_FMT\n\tType: Video Capture\n')), /no capture formats/);
});

test('the machine: a Jetson with its L4T release, a Raspberry Pi is not one, a distribution setup does not know', () => {
  const orin = jetsonResult('NVIDIA Jetson Orin Nano Developer Kit\0', '# R36 (release), REVISION: 3.0, GCID: 36191598, BOARD: generic, EABI: aarch64\n');
  assert.deepEqual(orin, { status: 'ok', detail: 'NVIDIA Jetson Orin Nano Developer Kit; L4T R36.3.0' });
  assert.equal(jetsonResult('Raspberry Pi 4 Model B Rev 1.4\0', null).status, 'skip');
  assert.equal(jetsonResult('NVIDIA Jetson Nano Developer Kit\0', null).status, 'warn');
  assert.equal(osResult('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\nVERSION_ID="22.04"\n').status, 'ok');
  assert.equal(osResult('PRETTY_NAME="Fedora Linux 40"\nID=fedora\nVERSION_ID=40\n').status, 'warn');
});

test('providers: arm64 onnxruntime-node has no cuda — fail when asked for, warn when not, with the Jetson fix', () => {
  const answer = { ok: false as const, inBuild: false, runtime: '1.30.0', error: 'not in this onnxruntime-node build (it has cpu)', stderr: '' };
  const facts = { arch: 'arm64', jetson: true, driver: null };
  const asked = providerResult('cuda', 0, answer, facts);
  assert.equal(asked.status, 'fail');
  assert.match(asked.detail, /CPU-only; asked for by inference\.providers #1/);
  assert.match(asked.fix!, /build onnxruntime with CUDA\/TensorRT for JetPack.*or remove cuda from inference\.providers/);
  assert.equal(providerResult('cuda', -1, answer, facts).status, 'warn');
  const coloured =
    '\u001b[1;31m2026 [E:onnxruntime] Failed to load library /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file\u001b[m\n';
  assert.equal(loaderReason(coloured), 'libonnxruntime_providers_cuda.so: libcublasLt.so.12: cannot open shared object file');
});

test('clock and service: not synchronised only warns, a failed service fails, no systemd skips', () => {
  const ran = (stdout: string, code = 0) => ({ code, signal: null, stdout, stderr: '', missing: false, timedOut: false });
  assert.equal(clockResult(ran('yes\n'), false).status, 'ok');
  assert.equal(clockResult(ran('no\n'), false).status, 'warn');
  assert.equal(clockResult(null, true).status, 'ok');
  assert.match(clockResult(null, false).detail, /^unknown/);
  assert.equal(serviceResult(ran('failed\n', 3), 'loaded').status, 'fail');
  assert.equal(serviceResult(ran('inactive\n', 3), 'not-found').status, 'skip');
  assert.equal(serviceResult(null, null).status, 'skip');
});

test('a check that hangs is abandoned at its deadline and told to stop; one that throws is a fail line', async () => {
  let aborted = false;
  const hangs: Check = {
    id: 'hangs',
    timeoutMs: 100,
    run: (signal) =>
      new Promise(() => {
        signal.addEventListener('abort', () => (aborted = true));
      }),
  };
  const line = await runCheck(hangs);
  assert.equal(line.status, 'fail');
  assert.match(line.detail, /no answer within 0\.1 s/);
  assert.ok(aborted);
  const throws = await runCheck({ id: 'throws', timeoutMs: 1000, run: () => Promise.reject(new Error('boom')) });
  assert.equal(throws.status, 'fail');
  assert.match(throws.detail, /boom/);
});
