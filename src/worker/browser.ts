/**
 * `import { createTrainingWorker } from 'unrolled/worker'`: training in a browser Web Worker.
 * @module unrolled/worker
 */
// The browser's trainer worker, behind its own entry ('unrolled/worker'). Bundlers emit a worker
// chunk for every `new Worker(new URL(...))` they meet in the modules they process, before any
// tree-shaking: kept out of the main entry, it costs nothing to apps that never train in a worker.
import { BackendError } from '../errors.js';
import { TrainingWorker, type TrainingWorkerOptions } from './client.js';
import type { FromWorker } from './protocol.js';

export {
  TrainingWorker,
  TrainingWorkerError,
  errorFromInfo,
  type TrainingWorkerOptions,
  type WorkerEndpoint,
  type TrainingEvents,
  type TrainingWorkerState,
  type GenerateRequest,
} from './client.js';
export type { TrainingConfig, RunInfo, ProgressEvent, GradientFlowEvent, SampleEvent, StateEvent, DoneEvent } from './protocol.js';

export interface BrowserTrainingWorkerOptions extends TrainingWorkerOptions {
  /**
   * A Worker you created yourself (for bundlers that need the `new Worker(...)` in your code);
   * default: trainer-worker.js next to this module, as a module worker.
   */
  worker?: Worker;
}

/** A TrainingWorker on a browser module Worker (Web Workers; in Node use createNodeTrainingWorker from 'unrolled/node'). */
export function createTrainingWorker(options: BrowserTrainingWorkerOptions = {}): TrainingWorker {
  let worker = options.worker;
  if (!worker) {
    if (typeof Worker !== 'function') {
      throw new BackendError('createTrainingWorker: this environment has no Web Worker; under Node use createNodeTrainingWorker()');
    }
    // kept literal so that bundlers (Vite, webpack 5, Parcel) find and bundle the worker
    worker = new Worker(new URL('./trainer-worker.js', import.meta.url), { type: 'module' });
  }
  const w = worker;
  return new TrainingWorker(
    {
      postMessage: (m, transfer) => w.postMessage(m, transfer ?? []),
      onMessage: (handler) => w.addEventListener('message', (e: MessageEvent<FromWorker>) => handler(e.data)),
      onError: (handler) => {
        w.addEventListener('error', (e: ErrorEvent) => {
          e.preventDefault();
          handler(new Error(e.message || 'the trainer worker could not be loaded or crashed (see the browser console)'));
        });
        w.addEventListener('messageerror', () => handler(new Error('a message from the trainer worker could not be read')));
      },
      terminate: () => w.terminate(),
    },
    { timeoutMs: options.timeoutMs },
  );
}
