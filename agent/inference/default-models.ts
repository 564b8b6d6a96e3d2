import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-root.js';

export { PACKAGE_ROOT };

/** The open-weight models converted at setup by models/face-api/convert.ts… */
export const DEFAULT_MODELS = {
  detector: resolve(PACKAGE_ROOT, 'models/face-api/ssd-mobilenetv1'),
  ageGender: resolve(PACKAGE_ROOT, 'models/face-api/age-gender'),
  expression: resolve(PACKAGE_ROOT, 'models/face-api/face-expression'),
  /** 128-d face descriptor for short-term re-identification (kind "embedding"). */
  embedder: resolve(PACKAGE_ROOT, 'models/face-api/face-recognition'),
  /** …and fetched at setup from the model catalog (models/catalog.json): preferred when present. */
  yunet: resolve(PACKAGE_ROOT, 'models/yunet/yunet-n'),
};
