// Vite configuration of the demo page (web/). `import … from 'unrolled'` resolves to this
// repository through the package's own exports map (the repository is the package), exactly as
// it would from node_modules with the browser's conditions: "." → dist/index.js (not the "node"
// entry). Vite then follows dist/'s new URL('../../build/unrolled.*.wasm', import.meta.url) and
// new Worker(new URL('./trainer-worker.js', import.meta.url)), emitting the worker bundle and
// the Wasm cores as assets.
//
// Used by scripts/demo-server.mjs (npm run demo) and test/web/*.test.ts:
//   build({ configFile: 'web/vite.config.ts', build: { outDir } })
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

type Exports = string | null | { [key: string]: Exports };

/** Node's exports-map lookup (subpaths, "*" patterns, nested conditions), for the given conditions. */
function resolveExports(map: Exports, subpath: string, conditions: readonly string[]): string | null {
  const pick = (target: Exports, star: string | null): string | null => {
    if (target === null) return null;
    if (typeof target === 'string') return star === null ? target : target.replaceAll('*', star);
    for (const [key, value] of Object.entries(target)) {
      if (key === 'default' || conditions.includes(key)) {
        const r = pick(value, star);
        if (r !== null) return r;
      }
    }
    return null;
  };
  const bySubpath = typeof map === 'object' && map !== null && Object.keys(map).some((k) => k.startsWith('.'));
  const table: Record<string, Exports> = bySubpath ? (map as Record<string, Exports>) : { '.': map };
  if (subpath in table) return pick(table[subpath], null);
  for (const [key, value] of Object.entries(table)) {
    const i = key.indexOf('*');
    if (i >= 0 && subpath.startsWith(key.slice(0, i)) && subpath.endsWith(key.slice(i + 1)) && subpath.length >= key.length - 1) {
      return pick(value, subpath.slice(i, subpath.length - (key.length - i - 1)));
    }
  }
  return null;
}

/** Resolves the package's own name (and its subpaths) through its exports map. */
function selfReference(): Plugin {
  const pkg = JSON.parse(readFileSync(`${repo}package.json`, 'utf8')) as { name: string; exports: Exports };
  const conditions = ['browser', 'import', 'module'];
  return {
    name: 'unrolled:self-reference',
    enforce: 'pre',
    resolveId(id) {
      if (id !== pkg.name && !id.startsWith(`${pkg.name}/`)) return null;
      const subpath = `.${id.slice(pkg.name.length)}`;
      const target = resolveExports(pkg.exports, subpath, conditions);
      if (!target)
        throw new Error(`"${id}": the package's exports map has no entry for ${subpath} under the conditions ${conditions.join(', ')}`);
      return fileURLToPath(new URL(target, `file://${repo}`));
    },
  };
}

export default defineConfig({
  root: web,
  base: './', // relative URLs: the built page works from any directory or sub-path
  logLevel: 'warn',
  publicDir: false,
  plugins: [selfReference()],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0, // the .wasm cores stay files, fetched (and compiled) on demand
    reportCompressedSize: false,
  },
  server: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
});
