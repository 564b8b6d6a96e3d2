// The reason a source did not open, picked from the capture process's last lines: GLib's assertion
// noise, which GStreamer may write after its real warning, never hides the warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { because } from '../../agent/capture/source-kind.js';

const WARNING = 'GStreamer warning: unable to start pipeline';
const CRITICAL = "(node:4242): GStreamer-CRITICAL **: 10:41:22.123: gst_object_unref: assertion '((GObject *) object)->ref_count > 0' failed";

test('the last three lines, joined', () => {
  assert.equal(because(['a', 'b', 'c', 'd']), ': b / c / d');
  assert.equal(because([]), '');
});

test('assertion lines written after the reason are left out, in either order', () => {
  assert.equal(because([WARNING, CRITICAL, CRITICAL, CRITICAL]), `: ${WARNING}`);
  assert.equal(because([CRITICAL, WARNING, CRITICAL]), `: ${WARNING}`);
  assert.equal(because(['[tcp] Connection refused', CRITICAL, WARNING]), `: [tcp] Connection refused / ${WARNING}`);
});

test('only assertion lines: they are still shown, better than nothing', () => {
  assert.equal(because([CRITICAL]), `: ${CRITICAL}`);
});
