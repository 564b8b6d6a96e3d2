// npm run lint (part): no import cycle between files, and agent/ folders layered bottom-up — a folder
// imports only from folders listed before it, so no cycle between folders can form either.
const LAYERS = ['contract', 'lib', 'config', 'capture', 'inference', 'detect', 'classify', 'track', 'publish', 'features', 'service', 'cli'];

const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `agent/${layer} may import only from ${LAYERS.slice(0, i + 1).join(', ')} (see ARCHITECTURE.md)`,
  severity: 'error',
  from: { path: `^agent/${layer}/` },
  to: { path: `^agent/(${LAYERS.slice(i + 1).join('|') || '$^'})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'import cycles make start-up order and tests fragile', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'agent-not-from-tests',
      comment: 'product code never imports test fixtures',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^test/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
