// The trainer worker's entry point, for both hosts:
//   - a browser module Worker: new Worker(new URL('./trainer-worker.js', import.meta.url), { type: 'module' })
//   - a Node worker_threads Worker: new Worker(new URL('./trainer-worker.js', import.meta.url))
// It finds out where it runs and serves the protocol (session.ts) on the host's port. Everything
// that needs a Node built-in (worker_threads, reading the core from disk) is in node-port.ts,
// loaded only under Node, through an import that bundlers leave alone.
import type { WorkerPort } from './protocol.js';
import { serveTrainer } from './session.js';

interface DedicatedScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

/** The browser worker's global scope, or null elsewhere (a window, Node). */
function browserWorkerScope(): DedicatedScope | null {
  const g = globalThis as { WorkerGlobalScope?: abstract new () => unknown };
  return typeof g.WorkerGlobalScope === 'function' && globalThis instanceof g.WorkerGlobalScope
    ? (globalThis as unknown as DedicatedScope)
    : null;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

const scope = browserWorkerScope();
if (scope) {
  const port: WorkerPort = {
    host: 'browser',
    postMessage: (m, transfer) => scope.postMessage(m, transfer ?? []),
    onMessage: (handler) => scope.addEventListener('message', (e) => handler(e.data)),
  };
  serveTrainer(port);
} else if (isNode()) {
  // a variable specifier: bundlers building the browser worker must not follow it
  const nodePort: string = './node-port.js';
  import(/* @vite-ignore */ /* webpackIgnore: true */ nodePort)
    .then((m: typeof import('./node-port.js')) => {
      const port = m.nodeWorkerPort();
      if (port) serveTrainer(port); // else: imported on the main thread, which is not a worker
    })
    .catch((e: unknown) => {
      // nothing to report to: there is no port without node-port.js
      console.error('unrolled trainer worker: could not load its Node port:', e);
      throw e;
    });
}
