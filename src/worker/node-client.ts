// createNodeTrainingWorker(): a TrainingWorker backed by a Node worker_threads Worker running the
// same trainer-worker.js as browsers do, with the same protocol.
import { Worker, type TransferListItem, type WorkerOptions } from 'node:worker_threads';
import { TrainingWorker, type TrainingWorkerOptions } from './client.js';

export interface NodeTrainingWorkerOptions extends TrainingWorkerOptions {
  /** The worker script; default: trainer-worker.js next to this module. */
  url?: URL | string;
  /** Passed to worker_threads' Worker (e.g. resourceLimits). */
  workerOptions?: Omit<WorkerOptions, 'eval'>;
}

/** trainer-worker.js next to this module (from the TypeScript sources, e.g. in tests: the compiled one in dist/). */
export function defaultNodeWorkerUrl(): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('../../dist/worker/trainer-worker.js', import.meta.url);
  return new URL('./trainer-worker.js', import.meta.url);
}

export function createNodeTrainingWorker(options: NodeTrainingWorkerOptions = {}): TrainingWorker {
  const worker = new Worker(options.url ?? defaultNodeWorkerUrl(), options.workerOptions);
  let terminating = false;
  return new TrainingWorker(
    {
      postMessage: (m, transfer) => worker.postMessage(m, transfer as TransferListItem[] | undefined),
      onMessage: (handler) => {
        worker.on('message', handler);
      },
      onError: (handler) => {
        worker.on('error', handler);
        worker.on('exit', (code) => {
          if (!terminating) handler(new Error(`the trainer worker exited (code ${code})`));
        });
      },
      terminate: async () => {
        terminating = true;
        await worker.terminate();
      },
    },
    { timeoutMs: options.timeoutMs },
  );
}
