// The docs are self-contained: no file of the repository cites a design brief that lives outside
// it (by its name or by the path of the folder beside the repository that holds it), and every
// pointer of the form docs/equations.md#<anchor>, in a comment or a doc, names a heading that
// docs/equations.md really has (GitHub's slugs).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EQUATIONS = 'docs/equations.md';

// dependencies, version control, and build output (gitignored, regenerated from the sources)
const SKIP_ANYWHERE = new Set(['node_modules', '.git', 'dist', 'dist-bench']);
const SKIP_AT_ROOT = new Set(['build', 'build-bench', 'test/artifacts']);

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    const rel = relative(ROOT, path).replaceAll('\\', '/');
    if (e.isDirectory()) {
      if (SKIP_ANYWHERE.has(e.name) || SKIP_AT_ROOT.has(rel) || rel.startsWith('test/.docs-')) continue;
      out.push(...files(path));
    } else if (e.isFile() && statSync(path).size < 8 << 20) {
      out.push(path);
    }
  }
  return out;
}

/** Text files only: anything with a NUL byte (Wasm, images, archives) is skipped. */
const TEXTS: { rel: string; text: string }[] = [];
for (const path of files(ROOT)) {
  const bytes = readFileSync(path);
  if (bytes.includes(0)) continue;
  TEXTS.push({ rel: relative(ROOT, path).replaceAll('\\', '/'), text: bytes.toString('utf8') });
}

// Spelled in pieces, so that this file does not match itself.
const BRIEF = 'SP' + 'EC';
const SHARED = '..' + '/shared';
const BRIEF_WORD = new RegExp(`\\b${BRIEF}\\b`, 'g');
/** A command-line metavariable of that name (`--schedule NAME`, `value: 'NAME'`) is not a citation. */
function isMetavariable(line: string, at: number): boolean {
  const before = line.slice(0, at),
    after = line.slice(at + BRIEF.length);
  if (/--[\w-]+[ =]$/.test(before)) return true;
  return /['"`]$/.test(before) && /^['"`]/.test(after);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

describe('docs/equations.md and the pointers to it', () => {
  const doc = TEXTS.find((f) => f.rel === EQUATIONS);
  const anchors = headingAnchors(doc?.text ?? '');

  it('exists and has a section for every cell, both directions', () => {
    expect(doc).toBeDefined();
    for (const cell of ['rnn', 'lstm', 'gru']) {
      expect(anchors).toContain(`${cell}-forward`);
      expect(anchors).toContain(`${cell}-backward`);
    }
    for (const a of ['losses', 'gradient-clipping', 'optimizers', 'learning-rate-schedules', 'initialisation', 'truncated-bptt']) {
      expect(anchors).toContain(a);
    }
  });

  it('no file cites the external brief', () => {
    const found: string[] = [];
    for (const { rel, text } of TEXTS) {
      text.split('\n').forEach((line, i) => {
        if (line.includes(SHARED)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
        for (const m of line.matchAll(BRIEF_WORD)) {
          if (!isMetavariable(line, m.index ?? 0)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(found).toEqual([]);
  });

  it('every docs/equations.md#<anchor> names a heading of docs/equations.md', () => {
    const cited = /docs\/equations\.md#([\p{L}\p{N}_-]+)/gu;
    const missing: string[] = [];
    let citations = 0;
    for (const { rel, text } of TEXTS) {
      text.split('\n').forEach((line, i) => {
        for (const m of line.matchAll(cited)) {
          citations++;
          if (!anchors.has(m[1])) missing.push(`${rel}:${i + 1}: #${m[1]}`);
        }
      });
    }
    expect(missing).toEqual([]);
    expect(citations).toBeGreaterThan(0);
  });

  it('its own links (#anchor) name its headings', () => {
    const missing = [...(doc?.text ?? '').matchAll(/\]\(#([^)\s]+)\)/g)].map((m) => m[1]).filter((a) => !anchors.has(a));
    expect(missing).toEqual([]);
  });
});
