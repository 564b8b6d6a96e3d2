// The multiply-accumulate count behind percept bench's PE-Core-L estimate, against independent counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peGmac, peShape } from '../../agent/cli/bench-precisions.js';

test('the PE shape is read from the names export.py writes', () => {
  assert.deepEqual(peShape('pe-core-tiny-patch16-384-random-int8'), { width: 192, depth: 12, patch: 16, size: 384 });
  assert.deepEqual(peShape('pe-core-large-patch14-336'), { width: 1024, depth: 24, patch: 14, size: 336 });
  assert.equal(peShape('face-api-age-gender'), null);
});

test('tiny PE: linear layers and patch embedding as torch counts them, plus attention', () => {
  const s = peShape('pe-core-tiny-patch16-384')!;
  // torch.utils.flop_counter on timm's vit_pe_core_tiny_patch16_384: addmm 3.1059 + convolution 0.0849 GMAC
  // (it does not count attention); attention is 2·n²·w per block with n = 577 tokens.
  const attention = (12 * 2 * 577 * 577 * 192) / 1e9;
  assert.ok(Math.abs(peGmac(s) - attention - 3.1908) < 0.001, `${peGmac(s)}`);
});

test('PE-Core-L: about 192 GMAC a face (174 of them in linear layers)', () => {
  assert.ok(Math.abs(peGmac(peShape('pe-core-large-patch14-336')!) - 192.2) < 0.1);
});
