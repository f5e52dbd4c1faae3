// The Node side of the trainer worker: worker_threads' parentPort as a WorkerPort, and the Wasm
// core read from disk (fetch cannot read file: URLs in Node). Loaded only by trainer-worker.ts
// when it runs under Node.
import { isMainThread, parentPort, type TransferListItem } from 'node:worker_threads';
import '../node/load-node.js';
import type { WorkerPort } from './protocol.js';

/** The port to the thread that started this worker; null on the main thread. */
export function nodeWorkerPort(): WorkerPort | null {
  if (isMainThread || !parentPort) return null;
  const p = parentPort;
  return {
    host: 'node',
    postMessage: (m, transfer) => p.postMessage(m, transfer as TransferListItem[] | undefined),
    onMessage: (handler) => {
      p.on('message', handler);
    },
  };
}
