import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (this file is dist/agent/inference/default-models.js once built). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The open-weight models converted at setup by models/face-api/convert.ts… */
export const DEFAULT_MODELS = {
  detector: resolve(PACKAGE_ROOT, 'models/face-api/ssd-mobilenetv1'),
  ageGender: resolve(PACKAGE_ROOT, 'models/face-api/age-gender'),
  expression: resolve(PACKAGE_ROOT, 'models/face-api/face-expression'),
  /** …and fetched at setup from the model catalog (models/catalog.json): preferred when present. */
  yunet: resolve(PACKAGE_ROOT, 'models/yunet/yunet-n'),
};
