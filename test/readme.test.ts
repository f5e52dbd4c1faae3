// The README's fifteen-line API example runs as written (with the package import pointed at
// the sources), so the first thing a user copies is known to work.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the README API example runs', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  expect(block, 'a ```ts block in README.md').not.toBeNull();
  const entry = fileURLToPath(new URL('../src/node/index.ts', import.meta.url));
  const code = block![1].replace(/from 'unrolled'/, `from ${JSON.stringify(entry)}`) +
    '\nexport const result = { loss, gradNorm, clipped, grads, dh0, logits, hN, cN, ids, bytes };\n';
  const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, code);
    const { result } = await import(file);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.gradNorm).toBeGreaterThan(0);
    expect(Object.keys(result.grads)).toContain('weight_hh_l0');
    expect(result.logits.length).toBe(64 * 32 * 65);
    expect(result.ids.length).toBe(200);
    expect(result.bytes.length).toBeGreaterThan(8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
