// Hardware-decoding presets: what they expand to, and the error when an element is missing. This machine
// has no Jetson or VA-API elements (nor gst-inspect-1.0, nor gstreamer1.0-plugins-bad), so opening a preset
// must fail naming each missing element and the package that ships it — while the elements it does have
// (plugins-base, plugins-good) are found, so the check is not one that always says "missing".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV } from '../../agent/capture/opencv.js';
import { OpenCvSource, SourceError, sourceKind } from '../../agent/capture/opencv-source.js';
import { expandGstPreset, GST_PRESETS, missingGstElements } from '../../agent/capture/gst-presets.js';

const opts = { loop: false, realtime: true, imageIntervalMs: 0 };

test('presets expand to the platform decoder between the depayloader and appsink', () => {
  assert.equal(sourceKind('gst-preset:jetson-h264-rtsp?url=rtsp://cam/x'), 'gstreamer');
  const j = expandGstPreset('gst-preset:jetson-h264-rtsp?url=rtsp://u:p@cam/live?a=1&b=2&latency=500');
  // url= comes last and is taken verbatim, '&' and all.
  assert.match(
    j.pipeline,
    /^rtspsrc location="rtsp:\/\/u:p@cam\/live\?a=1&b=2&latency=500" latency=200 ! rtph264depay ! h264parse ! nvv4l2decoder ! nvvidconv ! /,
  );
  assert.match(j.pipeline, /videoconvert ! video\/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false$/);
  assert.match(
    expandGstPreset('gst-preset:vaapi-h265-rtsp?latency=80&url=rtsp://cam/x').pipeline,
    /latency=80 ! rtph265depay ! h265parse ! vaapih265dec ! vaapipostproc/,
  );
  assert.match(
    expandGstPreset('gst-preset:va-h264-file?path=/srv/a.mp4').pipeline,
    /^filesrc location="\/srv\/a.mp4" ! qtdemux ! h264parse ! vah264dec ! vapostproc/,
  );
  assert.equal(GST_PRESETS.length, 12);
  assert.throws(
    () => expandGstPreset('gst-preset:jetson-av1-rtsp?url=rtsp://x'),
    /no GStreamer preset "jetson-av1-rtsp"; the presets are jetson-h264-rtsp, .*va-h265-file/,
  );
  assert.throws(() => expandGstPreset('gst-preset:jetson-h264-rtsp'), /needs url=…, e\.g\. gst-preset:jetson-h264-rtsp\?url=rtsp:\/\/camera\/stream/);
  assert.throws(() => expandGstPreset('gst-preset:jetson-h264-rtsp?latency=soon&url=rtsp://x'), /latency=soon: give the RTSP jitter buffer in ms/);
});

test('the elements this machine has are found; the hardware ones are not', async () => {
  assert.deepEqual(await missingGstElements(['appsink', 'videoconvert', 'rtspsrc', 'rtph264depay']), []);
  assert.deepEqual(await missingGstElements(['nvv4l2decoder', 'vaapih264dec', 'vah264dec']), ['nvv4l2decoder', 'vaapih264dec', 'vah264dec']);
});

test('opening a preset whose elements are missing names each one and its package', async () => {
  const cv = await loadOpenCV();
  const open = (uri: string) => new OpenCvSource(cv, uri, opts).open();
  await assert.rejects(open('gst-preset:jetson-h264-rtsp?url=rtsp://127.0.0.1:9/none'), (err: Error) => {
    assert.ok(err instanceof SourceError);
    assert.match(
      err.message,
      /^source gst-preset:jetson-h264-rtsp\?url=rtsp:\/\/127\.0\.0\.1:9\/none: GStreamer preset jetson-h264-rtsp needs elements that this machine does not have: /,
    );
    assert.match(err.message, /nvv4l2decoder \(from nvidia-l4t-gstreamer \(NVIDIA's JetPack\/L4T repository/);
    assert.match(err.message, /nvvidconv \(from nvidia-l4t-gstreamer/);
    assert.doesNotMatch(err.message, /rtspsrc|appsink/, 'only what is missing');
    return true;
  });
  await assert.rejects(open('gst-preset:vaapi-h264-rtsp?url=rtsp://127.0.0.1:9/none'), /vaapih264dec \(from gstreamer1\.0-vaapi \(and a VA driver/);
  await assert.rejects(open('gst-preset:va-h264-rtsp?url=rtsp://127.0.0.1:9/none'), /vah264dec \(from gstreamer1\.0-plugins-bad ≥ 1\.22/);
  await assert.rejects(open('gst-preset:nope'), /no GStreamer preset "nope"/);
});
