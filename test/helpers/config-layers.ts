// Config layers as a test builds them: a file layer and nothing else unless `more` says so.
import type { ConfigLayers } from '../../agent/config/load.js';

export const layersOf = (file: object, more: Partial<ConfigLayers> = {}): ConfigLayers => ({
  file: file as Record<string, unknown>,
  overrides: {},
  environment: {},
  flags: {},
  fileName: null,
  overridesFile: null,
  ...more,
});
