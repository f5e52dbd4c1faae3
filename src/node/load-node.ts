// Node only: reads the core's .wasm file from the package directory.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defaultCoreUrl, setDefaultCoreReader } from '../runtime/load.js';
import { Worker } from 'node:worker_threads';
import { POOL_WORKER_SOURCE, readyFrom, setWorkerSpawner } from '../runtime/threads.js';

setDefaultCoreReader(async (variant) => readFile(fileURLToPath(defaultCoreUrl(variant))));

// Pool workers for the threads build: worker_threads running the pool's script from a string.
// unref(): an idle pool must not keep the process alive.

setWorkerSpawner((init) => {
  const w = new Worker(POOL_WORKER_SOURCE, { eval: true, workerData: init });
  const first = new Promise<unknown>((resolve) => {
    w.once('message', resolve);
    w.once('error', (e) => resolve(e.message));
    w.once('exit', (code) => resolve(`exited with code ${code}`));
  });
  const ready = readyFrom(first).finally(() => w.unref());
  w.on('error', (e) => {
    process.stderr.write(`unrolled: a pool worker failed: ${e.message}\n`);
  });
  return { ready, terminate: () => void w.terminate() };
});
