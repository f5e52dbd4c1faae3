// A step whose update would leave any weight or optimizer moment non-finite is refused whole.
// Optimizer.check decides from bounds carried between updates, measures when they are not
// tight enough, and as the last resort runs the exact update on copies; these tests reach each
// of those paths on every backend and compare with the update applied unchecked.
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/model/model.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { makeModel, type BackendName } from '../helpers.js';

const V = 5,
  T = 3,
  B = 2;
const config = { cell: 'lstm' as const, input: 'tokens' as const, inputSize: V, hiddenSize: 6, outputSize: V, seed: 9 };
const ids = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => (i * 3 + shift) % V);
const batch = (k = 0) => ({ x: ids(T * B, k), y: ids(T * B, k + 1), T, B });

function state(m: Model, t: Trainer): number[] {
  const f = m.kernels.memory.f,
    P = m.net.params.P;
  const out = Array.from(f.subarray(m.net.params.base, m.net.params.base + P));
  if (t.optimizer.state)
    for (let i = 0; i < t.optimizer.moments.length; i++) out.push(...f.subarray(t.optimizer.moment(i), t.optimizer.moment(i) + P));
  return out;
}

/** Trains `steps` steps with the check and, on a twin, with the check switched off. */
async function twins(backend: BackendName, options: TrainerOptions, steps: number) {
  const a = await makeModel(backend, config),
    b = await makeModel(backend, config);
  const ta = new Trainer(a, options),
    tb = new Trainer(b, options);
  (tb.optimizer as unknown as { check: () => null }).check = () => null;
  const results = [];
  for (let i = 0; i < steps; i++) {
    results.push({ ...ta.step(batch(i)) });
    tb.step(batch(i));
  }
  return { a, b, ta, tb, results };
}

describe.each(['wasm', 'js', 'js64'] as BackendName[])('the update check (%s)', (backend) => {
  it.each([
    ['adam', { name: 'adam', lr: 0.01 }],
    ['adamw', { name: 'adamw', lr: 0.01, weightDecay: 0.1 }],
    ['sgd momentum nesterov', { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
    ['rmsprop', { name: 'rmsprop', lr: 0.01 }],
    ['adagrad', { name: 'adagrad', lr: 0.1 }],
  ] as const)('refuses nothing in ordinary training and changes nothing (%s)', async (_n, optimizer) => {
    const { a, b, ta, tb, results } = await twins(backend, { loss: 'cross-entropy', optimizer, clipNorm: 1 }, 30);
    expect(results.every((r) => !r.skipped)).toBe(true);
    expect(state(a, ta)).toEqual(state(b, tb));
    a.dispose();
    b.dispose();
  });

  it('a huge but finite update is proven finite by the exact run on copies, and taken bit for bit', async () => {
    // eps 1e-38: the worst-case estimate (m / eps) cannot bound the step, so the exact path runs
    const { a, b, ta, tb, results } = await twins(backend, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 1e6, eps: 1e-38 } }, 3);
    expect(results.every((r) => !r.skipped)).toBe(true);
    expect(state(a, ta)).toEqual(state(b, tb));
    expect(state(a, ta).every(Number.isFinite)).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('an update that overflows is refused: weights, moments and step count unchanged, the result says why', async () => {
    const m = await makeModel(backend, config);
    const t = new Trainer(m, { loss: 'cross-entropy', optimizer: { name: 'adamw', lr: 1e6, weightDecay: 1e6 } });
    t.step(batch());
    const bias = m.getParameter('head.bias');
    bias[2] = backend === 'js64' ? 1e300 : 1e27;
    if (backend !== 'js64') m.setParameter('head.bias', bias);
    else m.kernels.memory.f.set(bias, m.net.params.base + m.net.params.P - V); // beyond float32: only raw memory takes it
    m.net.packedDirty = true;
    const before = state(m, t);
    const r = t.step(batch(1));
    expect(r.skipped).toBe(true);
    expect(r.reason).toMatch(/non-finite/);
    expect(r.step).toBe(1);
    expect(state(m, t)).toEqual(before);
    // training goes on once the cause is gone
    bias[2] = 0;
    m.setParameter('head.bias', bias);
    const t2 = new Trainer(m, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 } });
    expect(t2.step(batch(2)).skipped).toBe(false);
    m.dispose();
  });

  it('weights written from outside between steps are measured again (no stale bound)', async () => {
    const m = await makeModel(backend, config);
    const t = new Trainer(m, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 1e6, weightDecay: 1e6 } });
    expect(t.step(batch()).skipped).toBe(false);
    // another trainer on the same model makes a weight huge: the first one's bound is stale
    const bias = m.getParameter('head.bias');
    bias[0] = backend === 'js64' ? 1e300 : 1e30;
    if (backend !== 'js64') m.setParameter('head.bias', bias);
    else {
      m.kernels.memory.f.set(bias, m.net.params.base + m.net.params.P - V);
      m.net.packedDirty = true;
    }
    const before = state(m, t);
    const r = t.step(batch(1));
    expect(r.skipped).toBe(true);
    expect(state(m, t)).toEqual(before);
    m.dispose();
  });
});
