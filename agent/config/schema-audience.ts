// The config sections of what the camera sees as an audience: who counts as a viewer and where they are
// (nearest person's direction and distance). Part of the data path's sections (schema-sections.ts).
import { Type } from '@sinclair/typebox';
import { TUNE } from './schema-kit.js';

export const AudienceSections = {
  audience: Type.Object(
    {
      minViewerFacePx: Type.Integer({
        default: 36,
        minimum: 0,
        maximum: 4096,
        description: 'Faces smaller than this (larger side, frame px) are far passers-by: counted as opportunities to see, but they open no visit.',
      }),
      ignoreZones: Type.Array(
        Type.Array(Type.Tuple([Type.Number({ minimum: 0, maximum: 1 }), Type.Number({ minimum: 0, maximum: 1 })]), { minItems: 3, maxItems: 64 }),
        {
          default: [],
          maxItems: 32,
          description: 'Polygons in fractions of the frame (x, y from the top left); faces centred inside are ignored (a mirror, a window, a TV).',
        },
      ),
      staticAfterS: Type.Integer({
        default: 60,
        minimum: 0,
        maximum: 86400,
        description: 'A face that has not moved for this long (a poster, a photo, a screen) stops counting. 0: never.',
      }),
      staticTolerance: Type.Number({
        default: 0.1,
        minimum: 0,
        maximum: 1,
        description: 'How far a face may wander (fraction of its size) and still count as not moving.',
      }),
      lookYawDeg: Type.Number({ default: 25, minimum: 0, maximum: 90, description: 'Looking at the camera: head turned at most this far left or right…' }),
      lookPitchDeg: Type.Number({ default: 20, minimum: 0, maximum: 90, description: '…and at most this far up or down.' }),
      minGlanceMs: Type.Integer({ default: 500, minimum: 0, maximum: 60000, description: 'A looking spell this long counts as a glance.' }),
      watcherMinMs: Type.Integer({
        default: 1000,
        minimum: 0,
        maximum: 3600000,
        description: 'A viewer who looked this long during a content play is a watcher.',
      }),
      nearestMaxHz: Type.Number({
        default: 10,
        minimum: 0,
        maximum: 10,
        description: 'How often {root}/nearest is published while someone is present (0: never).',
      }),
    },
    { default: {}, additionalProperties: false, ...TUNE },
  ),
  camera: Type.Object(
    {
      hfovDeg: Type.Number({
        default: 70,
        exclusiveMinimum: 0,
        maximum: 179,
        description: "Horizontal field of view of the camera (degrees), for the nearest person's direction.",
      }),
      vfovDeg: Type.Number({ default: 43, exclusiveMinimum: 0, maximum: 179, description: 'Vertical field of view (degrees).' }),
      faceWidthM: Type.Number({ default: 0.15, exclusiveMinimum: 0, maximum: 1, description: 'Typical face width (metres), for the distance estimate.' }),
    },
    { default: {}, additionalProperties: false, ...TUNE },
  ),
};
