// Issue 12, class 2, second line of defense: the kernels that index rows by id check the ids
// themselves. The batch reader refuses bad ids before they reach memory, so these tests corrupt
// the ids after that check (in the work arena, right after the batch was written there) and call
// the kernels directly. Every bad id must be skipped and counted — never read or written through —
// and the library must turn the count into an InvalidArgumentError before any weight changes,
// identically on the Wasm core (SIMD and scalar builds) and the js backend.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelSync } from '../../src/create.js';
import { InvalidArgumentError, type UnrolledError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { Network } from '../../src/model/network.js';
import { CORE_FILES, instantiateCoreSync, type Core } from '../../src/runtime/core.js';
import { Trainer } from '../../src/train/trainer.js';
import { spawnBystander } from './bystander.js';
import { printTally, tally } from './tally.js';

const V = 5,
  H = 4,
  T = 3,
  B = 2;
// 2^32 + 3 is 4294967296 once stored as f32; 1.5 would be truncated to a valid row without the check
const BAD_IDS = [1e9, -1, 2 ** 32 + 3, 2 ** 31, NaN, Infinity, -Infinity, 1.5, V, -0.5];
const CELLS = ['rnn', 'lstm', 'gru'] as const;
const counts = tally('class 2 (ids checked again by the kernels)');
afterAll(() => printTally(counts));

const cores = new Map<string, Core>();
function core(variant: 'simd' | 'scalar'): Core {
  let c = cores.get(variant);
  if (!c) {
    c = instantiateCoreSync(readFileSync(new URL(`../../build/${CORE_FILES[variant]}`, import.meta.url)), variant);
    cores.set(variant, c);
  }
  return c;
}

type Backend = 'wasm' | 'wasm-scalar' | 'js';
function model(backend: Backend, cell: (typeof CELLS)[number]): Model {
  const where = backend === 'js' ? { backend: 'js' as const } : { core: core(backend === 'wasm' ? 'simd' : 'scalar') };
  return createModelSync({ cell, input: 'tokens', inputSize: V, hiddenSize: H, outputSize: V, seed: 9, ...where });
}

/** After the batch is written to the work arena, overwrite one id (x or target) with `bad`. */
function corruptAfterLoad(m: Model, field: 'x' | 'targets', at: number, bad: number): void {
  const net = m.net as Network & { load: Network['load'] };
  net.load = (w, batch, withTargets) => {
    Network.prototype.load.call(net, w, batch, withTargets);
    m.kernels.memory.f[w[field] + at] = bad;
  };
}

function weights(m: Model): string {
  return m
    .parameterNames()
    .map((n) => Array.from(m.getParameter(n)).join(','))
    .join(';');
}

const batch = () => ({ x: [0, 1, 2, 3, 4, 0], y: [1, 2, 3, 4, 0, 1], T, B });

describe('kernels count and skip ids outside the vocabulary', () => {
  for (const backend of ['wasm', 'wasm-scalar', 'js'] as const) {
    for (const cell of CELLS) {
      it(`${backend} ${cell}: a corrupted id after the check ends in InvalidArgumentError, nothing else changes`, () => {
        const by = backend === 'js' ? null : spawnBystander(core(backend === 'wasm' ? 'simd' : 'scalar'), 31);
        const byHash = by?.hash();
        for (const bad of BAD_IDS) {
          for (const [field, call, argument] of [
            ['x', (m: Model) => m.predict(batch()), 'batch.x'],
            ['x', (m: Model) => m.forward(batch()), 'batch.x'],
            ['x', (_m: Model, t: Trainer) => t.step(batch()), 'batch.x'],
            ['x', (_m: Model, t: Trainer) => t.stepStateful(batch()), 'batch.x'],
            ['targets', (m: Model) => m.lossAndGradients(batch(), 'cross-entropy'), 'batch.y'],
            ['targets', (_m: Model, t: Trainer) => t.step(batch()), 'batch.y'],
          ] as const) {
            const m = model(backend, cell);
            const t = new Trainer(m, { loss: 'cross-entropy' });
            const before = weights(m);
            corruptAfterLoad(m, field, 3, bad);
            let error: unknown = null;
            try {
              call(m, t);
            } catch (e) {
              error = e;
            }
            counts.add(error instanceof InvalidArgumentError ? `UnrolledError ${error.code}` : `UNEXPECTED ${String(error)}`);
            expect(error, `${field} = ${bad}`).toBeInstanceOf(InvalidArgumentError);
            expect((error as InvalidArgumentError).argument).toBe(argument);
            expect((error as UnrolledError).message).toMatch(/refused by the (wasm|js) kernels/);
            expect(weights(m), `${field} = ${bad}`).toBe(before);
            expect(t.steps).toBe(0);
            expect(m.kernels.takeIdErrors(), 'the count was taken').toBe(0);
            t.dispose();
            m.dispose();
          }
        }
        if (by) expect(by.hash()).toBe(byHash);
      });
    }
  }

  it('the kernels alone: a refused row reads and writes nothing, and is counted once per kernel call', () => {
    for (const backend of ['wasm', 'wasm-scalar', 'js'] as const) {
      for (const cell of CELLS) {
        const m = model(backend, cell);
        const by = backend === 'js' ? null : spawnBystander(core(backend === 'wasm' ? 'simd' : 'scalar'), 41);
        const byHash = by?.hash();
        // a forward with good ids lays out the arena; then two ids of x are replaced
        m.predict(batch());
        const k = m.kernels,
          f = () => k.memory.f;
        const w = m.net.prepare(T, B);
        const p = m.net.params.layers[0],
          desc = w.layers[0].desc;
        const G = { rnn: 1, lstm: 4, gru: 3 }[cell] * H;
        f()[w.x + 1] = 1e9;
        f()[w.x + 4] = NaN;
        const dwih = f().slice(p.dwih, p.dwih + G * V);
        // the layer's descriptor as the forward above left it (token input at w.x, no mask), with
        // the backward's ∂E/∂h_t from above and no dx
        const forward = { rnn: k.rnnForward, lstm: k.lstmForward, gru: k.gruForward }[cell];
        const backward = { rnn: k.rnnBackward, lstm: k.lstmBackward, gru: k.gruBackward }[cell];
        forward.call(k, desc);
        expect(k.takeIdErrors()).toBe(2);
        k.setLayerField(desc, 'dhs', w.dhsA);
        k.setLayerField(desc, 'dx', 0);
        backward.call(k, desc);
        expect(k.takeIdErrors(), `${backend} ${cell} backward`).toBe(2);
        expect(k.takeIdErrors()).toBe(0);
        // dW_ih may only have changed in the columns of the good ids (0, 2, 3)
        const after = f().slice(p.dwih, p.dwih + G * V);
        for (let g = 0; g < G; g++) {
          for (const col of [1, 4]) expect(after[g * V + col], `${backend} ${cell} dW_ih[${g},${col}]`).toBe(dwih[g * V + col]);
        }
        // targets: two bad of six rows, counted and given weight 0 (their dlogits rows zeroed)
        for (let r = 0; r < T * B; r++) f()[w.targets + r] = r % V;
        f()[w.targets + 2] = V;
        f()[w.targets + 5] = -3;
        k.softmaxXent(T * B, V, w.y, w.targets, 0, 0, w.dy, new Float64Array([1]));
        expect(k.takeIdErrors(), `${backend} ${cell} softmax`).toBe(2);
        for (const r of [2, 5]) for (let o = 0; o < V; o++) expect(f()[w.dy + r * V + o]).toBe(0);
        counts.add('correct behaviour (refused rows skipped and counted)', 3);
        if (by) {
          expect(by.hash()).toBe(byHash);
          by.trainer.dispose();
          by.model.dispose();
        }
        m.dispose();
      }
    }
  });
});
