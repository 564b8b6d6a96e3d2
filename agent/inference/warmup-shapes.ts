// Which input shapes a model's worker runs on zeros before it reports ready. onnxruntime's CPU arena (a
// BFC arena that extends itself by powers of two and never gives memory back) and its memory patterns
// (planned per input shape) grow each time a batch size is seen for the first time. The classifier and
// the embedder get 1…maxBatch faces a call, and large batches are rare (several faces at once), so the
// agent's RSS climbed for ~10 minutes of a soak; in a probe of the default nets (scripts/soak-probe.ts),
// batch sizes 2…8 seen for the first time added ~140 MiB (102 MiB with MALLOC_ARENA_MAX=2, as the unit
// runs). Warmed at load, half or more of that growth happens at start, where a MemoryMax set too low
// shows at once and not hours later; the rest is the main thread's own input buffers. Raising maxBatch
// while running grows it again, once, by the new sizes. A model too slow to warm within a few seconds
// (the research model on a CPU) is not warmed: worker-start.ts WARMUP_BUDGET_MS.
import type { ModelManifest } from './manifest.js';

export interface WarmupShape {
  input: string;
  dims: number[];
}

/**
 * Batch sizes batches…1 of the manifest's input, when only its first (batch) dimension is symbolic; none
 * for a model with a fixed batch or other symbolic dimensions (a detector's input follows the frame size,
 * one shape that reaches its plateau on the first frame).
 */
export function warmupShapes(m: ModelManifest, batches: number): WarmupShape[] {
  const [batch, ...rest] = m.input.shape;
  if (typeof batch === 'number' || !rest.every((d): d is number => typeof d === 'number')) return [];
  // Largest first: the arena's first extension is the largest, and the smaller batches are carved from it.
  const largest = Math.max(0, Math.floor(batches));
  const sizes = Array.from({ length: largest }, (_, i) => largest - i);
  return sizes.map((n) => ({ input: m.input.name, dims: [n, ...rest] }));
}
