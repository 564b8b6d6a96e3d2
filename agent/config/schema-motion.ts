// The motion-gating section (issue 22): where the face detector looks between full-frame passes.
import { Type } from '@sinclair/typebox';
import { ms, TUNE } from './schema-kit.js';

export const MotionSection = Type.Object(
  {
    // On by default since it keeps every counting scene (audience, crossing, hidden, dimming, far faces,
    // the real clip) once region tiles are cut at the full pass's scale: a kiosk is empty most of the day.
    enabled: Type.Boolean({
      default: true,
      description:
        'Detect faces only where something moved and around the tracked faces, with a full-frame pass every detector.fullFrameMs: an empty scene costs little. false: every detection pass is full-frame.',
    }),
    width: Type.Integer({ default: 320, minimum: 64, maximum: 1920, description: 'Motion is found on a grey copy this wide (px).' }),
    threshold: Type.Integer({
      default: 20,
      minimum: 1,
      maximum: 255,
      description:
        'A pixel changed when it differs from the background by more than this many grey levels (after evening out the brightness): above the sensor noise.',
    }),
    cellFraction: Type.Number({
      default: 0.25,
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'The picture is cut in 8×8 cells of the grey copy; a cell has motion when this fraction of its pixels changed (one noisy pixel never does).',
    }),
    minArea: Type.Number({ default: 0.002, minimum: 0, maximum: 1, description: 'Motion regions smaller than this fraction of the picture are ignored.' }),
    backgroundMs: ms(1000, 0, 600_000, 'What stops moving fades into the background over about this long (tracked faces stay searched around their track).'),
    lightingFraction: Type.Number({
      default: 0.4,
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'When more than this fraction of the picture changes at once it is the light (or the camera moved), not motion: the background restarts.',
    }),
    trackScale: Type.Number({
      default: 2,
      minimum: 1,
      maximum: 10,
      description: 'Around a tracked face the detector searches its predicted box scaled by this (a face moves between passes).',
    }),
    maxRegionFraction: Type.Number({
      default: 0.5,
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'When the regions to search cover more than this fraction of the frame, the whole frame is detected instead.',
    }),
  },
  {
    default: {},
    additionalProperties: false,
    ...TUNE,
    description: 'Motion gating (issue 22). Ignore zones (audience.ignoreZones) are masked from motion too.',
  },
);
