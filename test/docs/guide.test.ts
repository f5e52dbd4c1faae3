// Every TypeScript block of docs/guide.md runs as written.
import { describe, expect, it } from 'vitest';
import { runBlock, tsBlocks } from './code-blocks.js';

const blocks = tsBlocks('docs/guide.md');

describe('docs/guide.md', () => {
  it('has the examples the guide promises', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });
  blocks.forEach((code, i) => {
    const title =
      code
        .split('\n')
        .find((l) => l.startsWith('import'))
        ?.slice(0, 80) ?? `block ${i + 1}`;
    it(`block ${i + 1} runs: ${title}`, async () => {
      await expect(runBlock(code)).resolves.toBeDefined();
    });
  });
});
