// A tiny static file server for the browser tests: serves one directory (the package) on
// 127.0.0.1 at a free port, with the MIME types browsers insist on (application/wasm for
// WebAssembly.compileStreaming, text/javascript for module scripts), GET/HEAD only, and refuses
// every path that resolves outside the root (.., encoded slashes, symlinks pointing out). With
// { isolated: true } every response carries the headers that make a page cross-origin isolated.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';

export interface StaticServer {
  /** Base URL, with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** COOP + COEP: the page (and its workers) get crossOriginIsolated, hence SharedArrayBuffer. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
});

export interface StaticServerOptions {
  /** Send ISOLATION_HEADERS with every response. Default false. */
  isolated?: boolean;
}

export async function startStaticServer(rootDir: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = await realpath(resolve(rootDir));
  const extra = options.isolated ? ISOLATION_HEADERS : {};

  function send(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad request');
    }
    if (pathname.includes('\0') || pathname.includes('\\')) return send(res, 400, 'bad request');
    let file = resolve(root, `.${pathname}`);
    if (!within(root, file)) return send(res, 403, 'forbidden');
    try {
      file = await realpath(file); // a symlink inside the root must not lead out of it
      if (!within(root, file)) return send(res, 403, 'forbidden');
      let st = await stat(file);
      if (st.isDirectory()) {
        file = resolve(file, 'index.html');
        st = await stat(file);
      }
      if (!st.isFile()) return send(res, 404, 'not found');
      res.writeHead(200, {
        'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-store',
        ...extra,
      });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch {
      send(res, 404, 'not found');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
      }),
  };
}
