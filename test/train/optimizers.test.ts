// Optimizers, clipping and the refusal of non-finite steps, through the public Trainer.
//
// Each optimizer runs 3 Trainer steps on a tiny model; before every step the test takes the
// gradients from model.lossAndGradients (the same batch, so the same gradients the step will
// use) and applies PyTorch's update formulas (docs/equations.md#optimizers, docs/equations.md#gradient-clipping, PyTorch's
// defaults written out here, not read from the library) in float64. Compared: the update
// Δθ = θ_after − θ_before of every parameter tensor (relative to its largest element), θ itself,
// and the optimizer's moment arrays read from the model's memory.
import { describe, expect, it } from 'vitest';
import { NonFiniteError, UnrolledError } from '../../src/errors.js';
import type { Batch } from '../../src/model/batch.js';
import { parameterTable } from '../../src/model/layout.js';
import type { Floats, Model } from '../../src/model/model.js';
import type { OptimizerSpec } from '../../src/train/optimizers.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { lcg, makeModel, randn, relErr, type BackendName } from '../helpers.js';

const BACKENDS: BackendName[] = ['wasm', 'wasm-scalar', 'js'];
const I = 3,
  H = 5,
  O = 3,
  T = 4,
  B = 2;
const LOSS = { loss: 'mse' as const, at: 'every' as const };

const tiny = (backend: BackendName, seed = 3): Promise<Model> =>
  makeModel(backend, { cell: 'lstm', inputSize: I, hiddenSize: H, outputSize: O, seed });

function batchOf(seed: number, yScale = 1): Batch {
  const rand = lcg(seed);
  return { x: randn(T * B * I, rand), T, B, y: randn(T * B * O, rand, yScale) };
}

// ---------------------------------------------------------------------------------------------
// float64 reference (PyTorch semantics and defaults)

interface Ref {
  name: string;
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  wd: number;
  b1: number;
  b2: number;
  alpha: number;
  eps: number;
}

function pytorchDefaults(spec: OptimizerSpec): Ref {
  const s = spec as Record<string, unknown>;
  const name = spec.name;
  const get = (k: string, d: number): number => (s[k] === undefined ? d : (s[k] as number));
  const betas = (s.betas as [number, number] | undefined) ?? [0.9, 0.999];
  return {
    name,
    lr: get('lr', name === 'adam' || name === 'adamw' ? 1e-3 : 1e-2),
    momentum: get('momentum', 0),
    dampening: get('dampening', 0),
    nesterov: (s.nesterov as boolean) ?? false,
    wd: get('weightDecay', name === 'adamw' ? 1e-2 : 0),
    b1: betas[0],
    b2: betas[1],
    alpha: get('alpha', 0.99),
    eps: get('eps', name === 'adagrad' ? 1e-10 : 1e-8),
  };
}

/** One update of θ (in place) with moments m0, m1 (in place); step counts from 1. */
function refUpdate(r: Ref, step: number, th: Float64Array, g: ArrayLike<number>, m0: Float64Array, m1: Float64Array): void {
  for (let i = 0; i < th.length; i++) {
    let d = g[i];
    switch (r.name) {
      case 'sgd': {
        d += r.wd * th[i];
        if (r.momentum !== 0) {
          m0[i] = step === 1 ? d : r.momentum * m0[i] + (1 - r.dampening) * d;
          d = r.nesterov ? d + r.momentum * m0[i] : m0[i];
        }
        th[i] -= r.lr * d;
        break;
      }
      case 'adam':
      case 'adamw': {
        if (r.name === 'adamw') th[i] *= 1 - r.lr * r.wd;
        else d += r.wd * th[i];
        m0[i] = r.b1 * m0[i] + (1 - r.b1) * d;
        m1[i] = r.b2 * m1[i] + (1 - r.b2) * d * d;
        th[i] -= (r.lr * (m0[i] / (1 - r.b1 ** step))) / (Math.sqrt(m1[i] / (1 - r.b2 ** step)) + r.eps);
        break;
      }
      case 'rmsprop':
        d += r.wd * th[i];
        m0[i] = r.alpha * m0[i] + (1 - r.alpha) * d * d;
        th[i] -= (r.lr * d) / (Math.sqrt(m0[i]) + r.eps);
        break;
      case 'adagrad':
        d += r.wd * th[i];
        m0[i] += d * d;
        th[i] -= (r.lr * d) / (Math.sqrt(m0[i]) + r.eps);
        break;
    }
  }
}

/** The optimizer's k-th moment array for one parameter, read from the model's memory. */
function momentOf(model: Model, trainer: Trainer, k: number, name: string): Float64Array {
  const slot = parameterTable(model.config).slots.find((s) => s.name === name)!;
  const at = trainer.optimizer.moment(k) + slot.offset;
  return Float64Array.from(model.kernels.memory.f.subarray(at, at + slot.size));
}

function allMoments(model: Model, trainer: Trainer): Float64Array {
  const n = trainer.optimizer.state ? trainer.optimizer.moments.length * model.net.params.P : 0;
  const at = trainer.optimizer.state;
  return Float64Array.from(model.kernels.memory.f.subarray(at, at + n));
}

const OPTIMIZERS: Array<[string, OptimizerSpec]> = [
  ['SGD', { name: 'sgd', lr: 0.5 }],
  ['SGD momentum', { name: 'sgd', lr: 0.5, momentum: 0.9 }],
  ['SGD momentum + dampening', { name: 'sgd', lr: 0.5, momentum: 0.9, dampening: 0.3 }],
  ['SGD nesterov', { name: 'sgd', lr: 0.5, momentum: 0.8, nesterov: true }],
  ['SGD weight decay', { name: 'sgd', lr: 0.5, weightDecay: 0.1 }],
  ['SGD momentum + weight decay', { name: 'sgd', lr: 0.5, momentum: 0.7, weightDecay: 0.1 }],
  ['Adam (defaults)', { name: 'adam' }],
  ['Adam lr, betas, eps 1e-3 (eps outside the sqrt matters here)', { name: 'adam', lr: 0.02, betas: [0.8, 0.95], eps: 1e-3 }],
  ['Adam weight decay (L2 into g)', { name: 'adam', lr: 0.02, weightDecay: 0.5 }],
  ['AdamW (defaults: weight decay 1e-2)', { name: 'adamw', lr: 0.02 }],
  ['AdamW weight decay 0.5', { name: 'adamw', lr: 0.02, weightDecay: 0.5, betas: [0.5, 0.9] }],
  ['RMSprop (defaults)', { name: 'rmsprop' }],
  ['RMSprop alpha, eps 1e-3, weight decay', { name: 'rmsprop', lr: 0.02, alpha: 0.9, eps: 1e-3, weightDecay: 0.2 }],
  ['Adagrad (defaults)', { name: 'adagrad' }],
  ['Adagrad eps 1e-3, weight decay', { name: 'adagrad', lr: 0.1, eps: 1e-3, weightDecay: 0.2 }],
];

const DELTA_TOL = 1e-4; // on Δθ, relative to the tensor's largest update (θ's float32 rounding is ~3e-8)
const THETA_TOL = 1e-6;
// Moments are float32 state updated with float32 coefficients: the Wasm kernel receives β2 as
// f32(0.999) = 0.99900001287 and forms 1 − β2 in float32, 1.29e-5 relative away from 0.001, so
// Adam's second moment differs from the float64 reference by ~1.3e-5 relative after a step
// (an effect on Δθ of ~6e-6, within DELTA_TOL). Every other moment agrees to ~1e-6.
const MOMENT_TOL = 1e-5;
const ADAM_V_TOL = 3e-5;

describe('optimizers: 3 Trainer steps = PyTorch formulas in float64', () => {
  for (const backend of BACKENDS) {
    for (const [label, spec] of OPTIMIZERS) {
      it(`${backend}: ${label}`, async () => {
        const model = await tiny(backend);
        const trainer = new Trainer(model, { loss: LOSS, optimizer: spec });
        const ref = pytorchDefaults(spec);
        const names = model.parameterNames();
        const m0: Record<string, Float64Array> = {},
          m1: Record<string, Float64Array> = {};
        for (const n of names) {
          const sz = model.getParameter(n).length;
          m0[n] = new Float64Array(sz);
          m1[n] = new Float64Array(sz);
        }
        let worstDelta = 0;
        for (let step = 1; step <= 3; step++) {
          const batch = batchOf(100 + step);
          const grads = model.lossAndGradients(batch, LOSS).grads;
          const before = model.stateDict();
          const res = trainer.step(batch);
          expect(res.skipped).toBe(false);
          expect(res.step).toBe(step);
          expect(trainer.steps).toBe(step);
          const after = model.stateDict();
          for (const n of names) {
            const th = Float64Array.from(before[n]);
            refUpdate(ref, step, th, grads[n], m0[n], m1[n]);
            const dModel = Float64Array.from(after[n], (v, i) => v - before[n][i]);
            const dRef = th.map((v, i) => v - before[n][i]);
            const eDelta = relErr(dModel, dRef, 1e-12);
            worstDelta = Math.max(worstDelta, eDelta);
            expect(eDelta, `step ${step} Δ${n}`).toBeLessThan(DELTA_TOL);
            expect(relErr(after[n], th), `step ${step} ${n}`).toBeLessThan(THETA_TOL);
            // moments: SGD has a buffer only with momentum; Adam two; RMSprop / Adagrad one
            const k = ref.name === 'adam' || ref.name === 'adamw' ? 2 : ref.name === 'sgd' && ref.momentum === 0 ? 0 : 1;
            expect(trainer.optimizer.state === 0 ? 0 : trainer.optimizer.moments.length).toBe(k);
            if (k >= 1)
              expect(relErr(momentOf(model, trainer, 0, n), m0[n], 1e-12), `step ${step} moment 0 of ${n}`).toBeLessThan(MOMENT_TOL);
            if (k >= 2)
              expect(relErr(momentOf(model, trainer, 1, n), m1[n], 1e-12), `step ${step} moment 1 of ${n}`).toBeLessThan(ADAM_V_TOL);
            // the step really moved this tensor
            expect(Math.max(...Array.from(dRef, Math.abs)), `Δ${n}`).toBeGreaterThan(0);
          }
        }
        trainer.dispose();
        model.dispose();
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Clipping, seen through plain SGD (θ ← θ − lr·g), so that the update shows the clipped g.

function norm(grads: Record<string, ArrayLike<number>>): number {
  let s = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

async function clipCase(
  backend: BackendName,
  opts: (n: number, maxAbs: number) => Partial<TrainerOptions>,
  expected: (g: number, n: number, maxAbs: number) => number,
  clipped: boolean,
  seed = 7,
): Promise<void> {
  const model = await tiny(backend);
  const batch = batchOf(seed, 3);
  const grads = model.lossAndGradients(batch, LOSS).grads;
  const n = norm(grads);
  const maxAbs = Math.max(...Object.values(grads).flatMap((g) => Array.from(g, Math.abs)));
  const lr = 0.5;
  const trainer = new Trainer(model, { loss: LOSS, optimizer: { name: 'sgd', lr }, ...opts(n, maxAbs) });
  const before = model.stateDict();
  const res = trainer.step(batch);
  expect(res.skipped).toBe(false);
  expect(Math.abs(res.gradNorm - n) / n, 'gradNorm is the norm before clipping').toBeLessThan(1e-5);
  expect(res.clipped, `clipped (batch seed ${seed})`).toBe(clipped);
  const after = model.stateDict();
  for (const name of model.parameterNames()) {
    const dModel = Float64Array.from(after[name], (v, i) => v - before[name][i]);
    const dRef = Float64Array.from(grads[name], (g) => -lr * expected(g, n, maxAbs));
    expect(relErr(dModel, dRef, 1e-9), name).toBeLessThan(DELTA_TOL);
  }
  trainer.dispose();
  model.dispose();
}

describe('clipping', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: clipNorm below the norm scales every gradient by max/(n + 1e-6)`, async () => {
      await clipCase(
        backend,
        (n) => ({ clipNorm: 0.25 * n }),
        (g, n) => (g * 0.25 * n) / (n + 1e-6),
        true,
      );
    });
    it(`${backend}: clipNorm above the norm changes nothing and reports clipped = false`, async () => {
      await clipCase(
        backend,
        (n) => ({ clipNorm: 2 * n }),
        (g) => g,
        false,
      );
    });
    it(`${backend}: clipValue clamps every element to [−v, v]`, async () => {
      await clipCase(
        backend,
        (_n, m) => ({ clipValue: 0.3 * m }),
        (g, _n, m) => Math.min(Math.max(g, -0.3 * m), 0.3 * m),
        true,
      );
    });
    it(`${backend}: clipNorm then clipValue`, async () => {
      await clipCase(
        backend,
        (n, m) => ({ clipNorm: 0.5 * n, clipValue: 0.2 * m }),
        (g, n, m) => {
          const c = (0.5 * n) / (n + 1e-6);
          return Math.min(Math.max(g * c, -0.2 * m), 0.2 * m);
        },
        true,
      );
    });
    // StepResult.clipped: "the gradients were scaled down by clipNorm (or clamped by clipValue)".
    // A clipValue above every |g| clamps nothing, so nothing was clipped — on every batch (16
    // batches: a flag that is right only most of the time fails here).
    it(`${backend}: clipValue above every |g| changes nothing and reports clipped = false (16 batches)`, async () => {
      for (let seed = 40; seed < 56; seed++)
        await clipCase(
          backend,
          (_n, m) => ({ clipValue: 10 * m }),
          (g) => g,
          false,
          seed,
        );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Non-finite steps are refused: nothing changes.

interface Snapshot {
  params: Record<string, Floats>;
  moments: Float64Array;
  steps: number;
}

function snapshot(model: Model, trainer: Trainer): Snapshot {
  return { params: model.stateDict(), moments: allMoments(model, trainer), steps: trainer.steps };
}

function expectUnchanged(model: Model, trainer: Trainer, s: Snapshot): void {
  const now = snapshot(model, trainer);
  expect(now.steps).toBe(s.steps);
  for (const [name, v] of Object.entries(s.params)) expect(Array.from(now.params[name]), name).toEqual(Array.from(v));
  expect(now.moments.length).toBeGreaterThan(0);
  expect(Array.from(now.moments)).toEqual(Array.from(s.moments));
}

// Each scenario prepares the model (parameters are set before the snapshot) and returns the
// batch. All values are within float32 range, so the batch passes validation and the step
// itself must detect the non-finite loss or gradient norm.
const BAD: Array<[string, (model: Model) => Batch]> = [
  // head weights of 3e38 on positive hidden states: the prediction overflows to Infinity, and
  // so does the loss
  [
    'head.weight = 3e38 makes the predictions and the loss Infinity',
    (model) => {
      for (const name of model.parameterNames()) {
        const n = model.getParameter(name).length;
        model.setParameter(name, new Float32Array(n).fill(name.startsWith('bias') ? 10 : name === 'head.weight' ? 3e38 : 0));
      }
      return batchOf(11);
    },
  ],
  // the largest float32 target against a prediction of −3.4e38 (sum reduction): the difference
  // overflows float32 — an Infinity loss in Wasm, whose loss kernel subtracts in float32; on the
  // js backend, which subtracts in float64, a finite loss but ∂loss/∂y = 2·diff = −Infinity)
  [
    'a target of 3.4e38 against a prediction of −3.4e38',
    (model) => {
      model.setParameter('head.bias', new Float32Array(O).fill(-3.4e38));
      const b = batchOf(13);
      const y = Array.from(b.y!);
      y[5] = 3.4e38;
      return { ...b, y };
    },
  ],
  // a finite loss (computed in float64) but Σ over rows of ∂E/∂bias = T·B·2e38 overflows float32
  [
    'head.bias = 1e38 makes the gradients Infinity (loss finite)',
    (model) => {
      model.setParameter('head.bias', new Float32Array(O).fill(1e38));
      return batchOf(12);
    },
  ],
];

describe('non-finite steps are refused', () => {
  for (const backend of BACKENDS) {
    for (const [label, bad] of BAD) {
      for (const mode of ['skip', 'throw'] as const) {
        it(`${backend}: ${label} (onNonFinite '${mode}')`, async () => {
          const model = await tiny(backend);
          // the sum reduction keeps ∂loss/∂y unscaled (2·diff), so that it overflows float32
          const loss = label.includes('bias') || label.includes('target') ? { ...LOSS, reduction: 'sum' as const } : LOSS;
          const trainer = new Trainer(model, { loss, optimizer: { name: 'adam', lr: 0.01 }, clipNorm: 1, onNonFinite: mode });
          // two good steps first, so that the moments are not zero
          for (let i = 0; i < 2; i++) expect(trainer.step(batchOf(20 + i)).skipped).toBe(false);
          const good = model.stateDict();
          const badBatch = bad(model);
          const snap = snapshot(model, trainer);
          expect(snap.steps).toBe(2);
          expect(snap.moments.some((v) => v !== 0)).toBe(true);
          const r = model.lossAndGradients(badBatch, loss);
          const gradsFinite = Object.values(r.grads).every((g) => g.every(Number.isFinite));
          expect(Number.isFinite(r.loss) && gradsFinite, 'the batch really is non-finite').toBe(false);
          if (label.includes('loss Infinity')) expect(r.loss).toBe(Infinity);
          if (label.includes('loss finite')) expect(Number.isFinite(r.loss)).toBe(true);
          if (mode === 'skip') {
            const res = trainer.step(badBatch);
            expect(res.skipped).toBe(true);
            expect(res.step).toBe(2);
            expect(Number.isFinite(res.loss) && Number.isFinite(res.gradNorm)).toBe(false);
          } else {
            let err: unknown;
            try {
              trainer.step(badBatch);
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(NonFiniteError);
            expect(err).toBeInstanceOf(UnrolledError);
            expect((err as NonFiniteError).code).toBe('NON_FINITE');
          }
          expectUnchanged(model, trainer, snap);
          // and training continues normally afterwards
          model.loadStateDict(good);
          const ok = trainer.step(batchOf(30));
          expect(ok.skipped).toBe(false);
          expect(trainer.steps).toBe(3);
          trainer.dispose();
          model.dispose();
        });
      }
    }
  }
});
