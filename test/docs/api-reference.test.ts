// docs/api is generated from the doc comments by TypeDoc (`npm run docs`); it must say what the
// code says, so the suite generates it again into a scratch directory and compares.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

it('docs/api is what TypeDoc generates from the sources now (run `npm run docs` after changing a public doc comment)', {
  timeout: 120_000,
}, () => {
  const out = mkdtempSync(join(tmpdir(), 'unrolled-api-'));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', out, '--logLevel', 'Warn'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const fresh = files(out)
      .map((f) => relative(out, f))
      .sort();
    const committed = files(join(ROOT, 'docs/api'))
      .map((f) => relative(join(ROOT, 'docs/api'), f))
      .sort();
    expect(committed).toEqual(fresh);
    for (const f of fresh) expect(readFileSync(join(ROOT, 'docs/api', f), 'utf8'), f).toBe(readFileSync(join(out, f), 'utf8'));
    expect(fresh.length).toBeGreaterThan(5);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
