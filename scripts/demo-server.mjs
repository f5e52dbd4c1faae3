#!/usr/bin/env node
// npm run demo — builds the demo page (web/) with Vite when it is missing or older than its
// inputs, then serves the built page on 127.0.0.1 with the headers that make a page
// cross-origin isolated (COOP same-origin + COEP require-corp: SharedArrayBuffer is available,
// so the training worker runs the threads build with a pool of workers), and prints the URL.
//
//   node scripts/demo-server.mjs [--port N] [--rebuild] [--out DIR]
//     --port N    port to listen on (default: $PORT, else a free one)
//     --rebuild   build even when the output looks up to date
//     --out DIR   where the built page goes (default: web/dist)
//
// Needs `npm run build` first (the page imports the package's dist/ and build/*.wasm).
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WEB = join(ROOT, 'web');
const CONFIG = join(WEB, 'vite.config.ts');
export const DEFAULT_OUT = join(WEB, 'dist');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers that make the page cross-origin isolated (crossOriginIsolated === true). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** Newest modification time of the files under `dir` (skipping `skip` directories). */
function newest(dir, skip = new Set()) {
  let t = 0;
  if (!existsSync(dir)) return t;
  const st = statSync(dir);
  if (!st.isDirectory()) return st.mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!skip.has(p)) t = Math.max(t, newest(p, skip));
    } else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** The package's build that the page imports; throws a helpful error when it is missing. */
function checkPackageBuilt() {
  const need = [
    'dist/index.js',
    'dist/worker/trainer-worker.js',
    'build/unrolled.simd.wasm',
    'build/unrolled.scalar.wasm',
    'build/unrolled.relaxed.wasm',
    'build/unrolled.threads.wasm',
    'build/unrolled.threads-relaxed.wasm',
  ];
  const missing = need.filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first (the demo bundles the built package)`);
}

/** True when `outDir` holds a build newer than everything it was built from. */
export function isDemoFresh(outDir = DEFAULT_OUT) {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  const inputs = Math.max(
    newest(WEB, new Set([resolve(outDir), join(WEB, 'dist')])),
    newest(join(ROOT, 'dist')),
    newest(join(ROOT, 'build')),
    newest(join(ROOT, 'package.json')),
    newest(join(ROOT, 'node_modules', 'uplot', 'package.json')),
  );
  return built >= inputs;
}

/** Builds the demo with Vite into `outDir`; resolves with the emitted file names. */
export async function buildDemo(outDir = DEFAULT_OUT) {
  checkPackageBuilt();
  const { build } = await import('vite');
  await build({ configFile: CONFIG, logLevel: 'warn', build: { outDir: resolve(outDir), emptyOutDir: true } });
  return readdirSync(outDir, { recursive: true }).map(String);
}

/** Serves `dir` on 127.0.0.1:`port` (0: a free port) with the isolation headers. */
export async function serveDir(dir, port = 0) {
  const root = await realpath(resolve(dir));
  const within = (p) => p === root || p.startsWith(root + sep);
  const send = (res, status, text) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...ISOLATION_HEADERS });
    res.end(text);
  };
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
      let pathname;
      try {
        pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      } catch {
        return send(res, 400, 'bad request');
      }
      if (pathname.includes('\0') || pathname.includes('\\')) return send(res, 400, 'bad request');
      let file = resolve(root, `.${pathname}`);
      if (!within(file)) return send(res, 403, 'forbidden');
      try {
        file = await realpath(file);
        if (!within(file)) return send(res, 403, 'forbidden');
        let st = await stat(file);
        if (st.isDirectory()) {
          file = join(file, 'index.html');
          st = await stat(file);
        }
        if (!st.isFile()) return send(res, 404, 'not found');
        const ext = extname(file).toLowerCase();
        res.writeHead(200, {
          'content-type': MIME[ext] ?? 'application/octet-stream',
          'content-length': st.size,
          // hashed asset names can be cached for good; the page itself never
          'cache-control': ext === '.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
          ...ISOLATION_HEADERS,
        });
        if (req.method === 'HEAD') return void res.end();
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      } catch {
        send(res, 404, 'not found');
      }
    } catch {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port: actual } = server.address();
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    close: () =>
      new Promise((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { port: { type: 'string' }, rebuild: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    console.error(`demo-server: ${e.message.split('\n')[0]}`);
    return 2;
  }
  if (values.help) {
    console.log('Usage: npm run demo -- [--port N] [--rebuild] [--out DIR]');
    return 0;
  }
  const portText = values.port ?? process.env.PORT ?? '0';
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    console.error(`demo-server: --port: expected an integer in [0, 65535], got "${portText}"`);
    return 2;
  }
  const out = resolve(values.out ?? DEFAULT_OUT);
  try {
    if (values.rebuild || !isDemoFresh(out)) {
      const t0 = Date.now();
      process.stdout.write('demo: building web/ with Vite… ');
      const files = await buildDemo(out);
      console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s (${files.filter((f) => f.endsWith('.wasm')).length} .wasm assets)`);
    } else {
      console.log(`demo: ${out} is up to date (--rebuild to build anyway)`);
    }
  } catch (e) {
    console.error(`\ndemo-server: ${e.message}`);
    return 1;
  }
  let server;
  try {
    server = await serveDir(out, port);
  } catch (e) {
    console.error(`demo-server: cannot listen on 127.0.0.1:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`);
    return 1;
  }
  console.log(`demo: serving ${out}`);
  console.log(`demo: open ${server.url}   (Ctrl+C to stop)`);
  const shutdown = () => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return null; // keep serving
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main().then((code) => {
    if (code !== null) process.exitCode = code;
  });
}
