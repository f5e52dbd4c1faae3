// The README's fifteen-line API example runs as written (with the package import pointed at
// the sources), so the first thing a user copies is known to work.
import { expect, it } from 'vitest';
import { runBlock, tsBlocks } from './docs/code-blocks.js';

it('the README API example runs', async () => {
  const [block] = tsBlocks('README.md');
  expect(block, 'a ```ts block in README.md').toBeDefined();
  const { result } = (await runBlock(
    block,
    '\nexport const result = { loss, gradNorm, clipped, grads, dh0, logits, hN, cN, ids, bytes };\n',
  )) as {
    result: {
      loss: number;
      gradNorm: number;
      grads: Record<string, unknown>;
      logits: ArrayLike<number>;
      ids: ArrayLike<number>;
      bytes: Uint8Array;
    };
  };
  expect(Number.isFinite(result.loss)).toBe(true);
  expect(result.gradNorm).toBeGreaterThan(0);
  expect(Object.keys(result.grads)).toContain('weight_hh_l0');
  expect(result.logits.length).toBe(64 * 32 * 65);
  expect(result.ids.length).toBe(200);
  expect(result.bytes.length).toBeGreaterThan(8);
});
