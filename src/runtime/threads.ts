// The threads build's worker pool, host-agnostic: the main instance and n − 1 workers share one
// WebAssembly.Memory; each worker instantiates the same module and sits in pool_worker()
// (assembly/pool.ts), which splits the large products of every step. Spawning a worker is the
// host's business: Node's entry installs a worker_threads spawner, browsers use a module
// Worker from a Blob URL. Where SharedArrayBuffer is missing (a page that is not cross-origin
// isolated) loadCore falls back to the single-threaded core.
import { BackendError } from '../errors.js';

/** What a worker needs to join the pool. */
export interface PoolWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  index: number;
}

/**
 * Starts one worker running POOL_WORKER_SOURCE with `init`; `ready` settles when the worker
 * has instantiated the module (its first message, "ready", or an error text).
 */
export type SpawnWorker = (init: PoolWorkerInit) => { ready: Promise<void>; terminate(): void };

/**
 * The worker's whole program (plain JavaScript, no imports, so that it runs from a string in
 * Node's eval mode and from a Blob URL in browsers): instantiate, then serve until pool_stop.
 */
export const POOL_WORKER_SOURCE = `
const start = async (init, post) => {
  const { module, memory, control, index } = init;
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, {
      env: { memory, abort() { throw new Error('unrolled pool worker: the Wasm core aborted'); } },
    });
  } catch (e) {
    post(String(e));
    return;
  }
  post('ready');
  // blocks this thread, serving every job, until pool_stop
  instance.exports.pool_worker(control, index);
};
if (typeof self !== 'undefined' && typeof self.postMessage === 'function' && typeof require === 'undefined') {
  self.onmessage = (e) => { start(e.data, (m) => self.postMessage(m)); };
} else {
  const { parentPort, workerData } = require('node:worker_threads');
  start(workerData, (m) => parentPort.postMessage(m));
}
`;

/** Resolves on the worker's "ready", rejects on any other first message. */
export function readyFrom(first: Promise<unknown>): Promise<void> {
  return first.then((m) => {
    if (m !== 'ready') throw new BackendError(`a pool worker failed to start: ${String(m)}`);
  });
}

let spawner: SpawnWorker | null = browserSpawner();

/** Replaces how pool workers are started (the Node entry installs worker_threads). */
export function setWorkerSpawner(spawn: SpawnWorker): void {
  spawner = spawn;
}

function browserSpawner(): SpawnWorker | null {
  const g = globalThis as unknown as {
    Worker?: new (url: string, opts?: object) => { postMessage(m: unknown): void; terminate(): void };
    Blob?: typeof Blob;
    URL?: typeof URL;
  };
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') return null;
  return (init) => {
    const url = URL.createObjectURL(new Blob([POOL_WORKER_SOURCE], { type: 'text/javascript' }));
    const w = new g.Worker!(url) as unknown as Worker;
    const first = new Promise<unknown>((resolve) => {
      w.onmessage = (e: MessageEvent) => resolve(e.data);
      w.onerror = (e: ErrorEvent) => resolve(e.message);
    });
    w.postMessage(init);
    return {
      ready: readyFrom(first),
      terminate: () => {
        w.terminate();
        URL.revokeObjectURL(url);
      },
    };
  };
}

/** True when this host can run the threads build: shared memory that may be posted to workers. */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || spawner === null) return false;
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

export interface Pool {
  readonly threads: number;
  stop(): void;
}

/**
 * Starts threads − 1 workers on a threads-build instance whose exports are `e`, and resolves
 * once all of them are serving: the main thread must not publish a job before (a worker's
 * start-up may need the main thread's event loop, which a spinning main thread never runs).
 */
export async function startPool(
  e: { alloc(bytes: number): number; pool_init(control: number, n: number, minFlops: number): void; pool_stop(control: number): void },
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  threads: number,
  minFlops: number,
): Promise<Pool> {
  if (!spawner) throw new BackendError('no way to start workers on this host');
  // one 64-byte line per control slot; over-allocate to align the block to 64 bytes
  const raw = e.alloc(256 + 64) >>> 0;
  const control = (raw + 63) & ~63;
  const workers: Array<{ ready: Promise<void>; terminate(): void }> = [];
  try {
    for (let index = 1; index < threads; index++) workers.push(spawner({ module, memory, control, index }));
    await Promise.all(workers.map((w) => w.ready));
  } catch (err) {
    e.pool_stop(control);
    for (const w of workers) w.terminate();
    throw new BackendError(`could not start the pool's workers: ${(err as Error).message}`);
  }
  e.pool_init(control, threads, minFlops);
  let stopped = false;
  return {
    threads,
    stop() {
      if (stopped) return;
      stopped = true;
      e.pool_stop(control);
      // the workers return from pool_worker; terminating also frees a worker still instantiating
      for (const w of workers) w.terminate();
    },
  };
}
