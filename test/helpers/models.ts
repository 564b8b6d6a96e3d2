export { DEFAULT_MODELS, PACKAGE_ROOT } from '../../agent/inference/default-models.js';
