// Runs the TypeScript examples of the project's Markdown docs as written, with the package import
// pointed at the sources, so that the code a user copies is known to work.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Each package specifier a doc may import, and the source file it stands for under Node. */
const ENTRIES: Record<string, string> = {
  unrolled: 'src/node/index.ts',
  'unrolled/node': 'src/node/index.ts',
  'unrolled/data': 'src/node/data-entry.ts',
  'unrolled/tasks': 'src/tasks-entry.ts',
  'unrolled/safetensors': 'src/node/safetensors-entry.ts',
  'unrolled/gradients': 'src/gradients-entry.ts',
};

/** The ```ts blocks of a Markdown file (path relative to the repository). */
export function tsBlocks(markdownPath: string): string[] {
  const text = readFileSync(join(ROOT, markdownPath), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/**
 * Imports `code` as a module from a scratch directory under test/ (so that vitest transforms it),
 * after pointing `from 'unrolled'` (and its subpaths) at the sources; `epilogue` is appended (e.g. exports to check).
 */
export async function runBlock(code: string, epilogue = ''): Promise<Record<string, unknown>> {
  const source =
    code.replace(/from '(unrolled(?:\/\w+)?)'/g, (whole, specifier: string) =>
      specifier in ENTRIES ? `from ${JSON.stringify(join(ROOT, ENTRIES[specifier]))}` : whole,
    ) + epilogue;
  const dir = mkdtempSync(join(ROOT, 'test', '.docs-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, source);
    return await import(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
