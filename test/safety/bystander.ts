// A bystander: a model and its Adam trainer that share a core with the code under test and that
// nobody touches. Its weights and both optimizer moments are hashed straight from the core's
// memory; any change means something wrote into memory it does not own. Several can be spawned
// during a test (a block freed by a disposed model is the first a new bystander receives, which
// is exactly where a use-after-dispose would write).
import { createModelSync } from '../../src/create.js';
import type { Model } from '../../src/model/model.js';
import type { Core } from '../../src/runtime/core.js';
import { Trainer } from '../../src/train/trainer.js';

export interface Bystander {
  readonly model: Model;
  readonly trainer: Trainer;
  /** FNV-1a of the weights, exp_avg and exp_avg_sq, read from the core's memory. */
  hash(): number;
}

const V = 6,
  H = 5;

function fnv(bytes: Uint8Array, h: number): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h;
}

/** A token GRU and its Adam trainer on `core`, after one update (so that the moments are non-zero). */
export function spawnBystander(core: Core, seed = 1): Bystander {
  const model = createModelSync({ cell: 'gru', input: 'tokens', inputSize: V, hiddenSize: H, outputSize: V, seed, core });
  const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 } });
  const T = 3,
    B = 2;
  trainer.step({ x: [1, 2, 3, 4, 5, 0], y: [2, 3, 4, 5, 0, 1], T, B });
  const P = model.net.params.P;
  const blocks = [model.net.params.base, trainer.optimizer.moment(0), trainer.optimizer.moment(1)];
  return {
    model,
    trainer,
    hash() {
      // the memory may have grown since: take the buffer now
      let h = 2166136261;
      for (const at of blocks) h = fnv(new Uint8Array(core.exports.memory.buffer, at * 4, P * 4), h);
      return h;
    },
  };
}

/**
 * Runs `fn` with a fresh bystander on `core` and throws if its weights or moments changed.
 * The bystander is disposed afterwards. When `fn` disposed the core, the bystander's blocks
 * were freed with it (the allocator writes its own bookkeeping there): no comparison is
 * possible, and callers check the whole memory instead (see lifecycle.test.ts).
 */
export async function withBystander<T>(core: Core, fn: (b: Bystander) => T | Promise<T>): Promise<T> {
  const b = spawnBystander(core);
  const before = b.hash();
  try {
    return await fn(b);
  } finally {
    const coreAlive = !core.isDisposed;
    const after = b.hash();
    if (coreAlive) {
      b.trainer.dispose();
      b.model.dispose();
    }
    // the check is the point of the helper: it reports after fn's own outcome, error or not
    if (coreAlive && after !== before)
      // biome-ignore lint/correctness/noUnsafeFinally: a changed bystander outranks fn's own error
      throw new Error(`the bystander's weights or optimizer moments changed (${before.toString(16)} → ${after.toString(16)})`);
  }
}
