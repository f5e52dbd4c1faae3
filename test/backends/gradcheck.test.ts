// Gradient check: central finite differences in float64 on the js backend with dtype 'float64'
// ('js64'), for EVERY element of every parameter and of h0 (and c0 for an LSTM), against the
// analytic gradients of model.lossAndGradients. Models are tiny (I=3, H=5, O=3, T=4, B=2), so
// each element costs two forward passes.
//
// The diagnostics (gradNormsOverTime[l][t] = ‖∂E/∂h_t‖ over the batch, the total derivative
// w.r.t. layer l's hidden state after step t) cannot be perturbed through the public API: the
// state after step t is internal. They are checked against finite differences of an
// independent float64 forward written below (refForward), which adds a perturbation to h_t of
// layer l; refForward is first shown to be the same function as the library (its loss equals the
// js64 loss to 1e-12 relative on every configuration of this file).
//
// ReLU: the loss is not differentiable where a pre-activation is 0. refForward reports the
// smallest |pre-activation| over all real steps and units; data are drawn (seed by seed) until
// it is ≥ 1e-3, while a perturbation of 1e-6 moves any pre-activation by far less than that
// (|∂pre/∂θ| ≤ ~10 here), so no unit flips inside a finite difference and the check is exact.
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/model/batch.js';
import type { LossSpec } from '../../src/model/loss.js';
import type { Model } from '../../src/model/model.js';
import { lcg, makeModel, randInts, relErr, centralDifferences, maxAbs } from '../helpers.js';

type Cell = 'rnn' | 'lstm' | 'gru';
interface Case {
  name: string;
  cell: Cell;
  relu?: boolean;
  L: number;
  T: number;
  B: number;
  input: 'dense' | 'tokens';
  loss: 'mse' | 'cross-entropy';
  at: 'every' | 'last';
  reduction: 'mean' | 'sum';
  mask: 'none' | 'lengths' | 'mask';
  /** a lossMask (rows that add nothing to the loss, while the state runs through them) */
  lossMask?: boolean;
}

const I = 3,
  H = 5,
  O = 3;
const EPS = 1e-6;
const TOL = 1e-6;

// ---------------------------------------------------------------------------------------------
// An independent float64 forward (docs/equations.md#cells, docs/equations.md#losses), with a hook that adds delta [B,H] to
// layer hook.l's hidden state right after step hook.t.

interface Hook {
  l: number;
  t: number;
  delta: Float64Array;
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

function maskOf(c: Case, batch: Batch): number[] {
  const m = new Array(c.T * c.B).fill(1);
  if (batch.mask) for (let i = 0; i < m.length; i++) m[i] = batch.mask[i];
  if (batch.lengths) for (let t = 0; t < c.T; t++) for (let b = 0; b < c.B; b++) m[t * c.B + b] = t < batch.lengths[b] ? 1 : 0;
  return m;
}

function refForward(c: Case, P: Record<string, Float64Array>, batch: Batch, hook?: Hook): { loss: number; minPre: number } {
  const { T, B, L } = c;
  const G = c.cell === 'lstm' ? 4 : c.cell === 'gru' ? 3 : 1;
  const m = maskOf(c, batch);
  const h: Float64Array[] = [],
    cs: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    h.push(batch.h0 ? Float64Array.from(Array.prototype.slice.call(batch.h0, l * B * H, (l + 1) * B * H)) : new Float64Array(B * H));
    cs.push(batch.c0 ? Float64Array.from(Array.prototype.slice.call(batch.c0, l * B * H, (l + 1) * B * H)) : new Float64Array(B * H));
  }
  // loss row weights: state mask ⊙ lossMask
  const w = m.map((v, i) => v * (batch.lossMask ? (batch.lossMask[i] as number) : 1));
  let minPre = Infinity;
  let total = 0;
  const W = P['head.weight'],
    hb = P['head.bias'];
  const headLoss = (hrow: Float64Array, r: number): number => {
    const y = new Float64Array(O);
    for (let o = 0; o < O; o++) {
      let s = hb[o];
      for (let k = 0; k < H; k++) s += W[o * H + k] * hrow[k];
      y[o] = s;
    }
    if (c.loss === 'mse') {
      let s = 0;
      for (let o = 0; o < O; o++) s += (y[o] - batch.y![r * O + o]) ** 2;
      return s;
    }
    let mx = -Infinity;
    for (const v of y) mx = Math.max(mx, v);
    let s = 0;
    for (const v of y) s += Math.exp(v - mx);
    return mx + Math.log(s) - y[batch.y![r]];
  };
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const Wih = P[`weight_ih_l${l}`],
        Whh = P[`weight_hh_l${l}`],
        bih = P[`bias_ih_l${l}`],
        bhh = P[`bias_hh_l${l}`];
      const In = l === 0 ? I : H;
      const next = new Float64Array(B * H),
        nextC = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        const hp = h[l].subarray(b * H, (b + 1) * H),
          cp = cs[l].subarray(b * H, (b + 1) * H);
        if (m[t * B + b] === 0) {
          next.set(hp, b * H);
          nextC.set(cp, b * H);
          continue;
        }
        // a = x·W_ihᵀ + b_ih, r = h·W_hhᵀ + b_hh, over all G·H rows
        const a = new Float64Array(G * H),
          r = new Float64Array(G * H);
        for (let g = 0; g < G * H; g++) {
          let s = bih[g];
          if (l === 0 && c.input === 'tokens') s += Wih[g * I + (batch.x[t * B + b] as number)];
          else if (l === 0) for (let k = 0; k < I; k++) s += Wih[g * In + k] * (batch.x[(t * B + b) * I + k] as number);
          else for (let k = 0; k < H; k++) s += Wih[g * In + k] * h[l - 1][b * H + k]; // layer l−1 already at step t
          a[g] = s;
          let q = bhh[g];
          for (let k = 0; k < H; k++) q += Whh[g * H + k] * hp[k];
          r[g] = q;
        }
        for (let j = 0; j < H; j++) {
          if (c.cell === 'rnn') {
            const pre = a[j] + r[j];
            minPre = Math.min(minPre, Math.abs(pre));
            next[b * H + j] = c.relu ? Math.max(pre, 0) : Math.tanh(pre);
          } else if (c.cell === 'lstm') {
            const ig = sig(a[j] + r[j]),
              fg = sig(a[H + j] + r[H + j]),
              gg = Math.tanh(a[2 * H + j] + r[2 * H + j]),
              og = sig(a[3 * H + j] + r[3 * H + j]);
            const cn = fg * cp[j] + ig * gg;
            nextC[b * H + j] = cn;
            next[b * H + j] = og * Math.tanh(cn);
          } else {
            const rg = sig(a[j] + r[j]),
              zg = sig(a[H + j] + r[H + j]);
            const ng = Math.tanh(a[2 * H + j] + rg * r[2 * H + j]);
            next[b * H + j] = (1 - zg) * ng + zg * hp[j];
          }
        }
      }
      if (hook && hook.l === l && hook.t === t) for (let i = 0; i < B * H; i++) next[i] += hook.delta[i];
      h[l] = next;
      cs[l] = nextC;
    }
    if (c.at === 'every') {
      for (let b = 0; b < B; b++) if (w[t * B + b]) total += headLoss(h[L - 1].subarray(b * H, (b + 1) * H), t * B + b);
    }
  }
  if (c.at === 'last') for (let b = 0; b < B; b++) total += headLoss(h[L - 1].subarray(b * H, (b + 1) * H), b);
  const rows = c.at === 'every' ? w.reduce((s, v) => s + v, 0) : B;
  const scale = c.reduction === 'sum' ? 1 : 1 / (rows * (c.loss === 'mse' ? O : 1));
  return { loss: total * scale, minPre };
}

// ---------------------------------------------------------------------------------------------

interface Setup {
  model: Model;
  P: Record<string, Float64Array>;
  batch: Batch;
  spec: LossSpec;
  seed: number;
}

function gaussian(n: number, rand: () => number, scale: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12),
      v = rand();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

function makeBatch(c: Case, rand: () => number): Batch {
  const { T, B, L } = c;
  const batch: Batch = {
    x: c.input === 'tokens' ? Array.from(randInts(T * B, I, rand)) : gaussian(T * B * I, rand, 1),
    T,
    B,
    y:
      c.loss === 'cross-entropy'
        ? Array.from(randInts(c.at === 'every' ? T * B : B, O, rand))
        : gaussian((c.at === 'every' ? T * B : B) * O, rand, 1),
    h0: gaussian(L * B * H, rand, 0.5),
  };
  if (c.cell === 'lstm') batch.c0 = gaussian(L * B * H, rand, 0.5);
  if (c.mask === 'lengths') batch.lengths = Array.from({ length: B }, (_, b) => (b === 0 ? T : Math.max(1, T - 1 - (b % T))));
  if (c.mask === 'mask') {
    // holes in the middle, not only a padded tail; every sequence keeps ≥ 1 real step
    const mk: number[] = [];
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mk.push((t + b) % 3 === 1 ? 0 : 1);
    for (let b = 0; b < B; b++) mk[b] = 1;
    batch.mask = mk;
  }
  if (c.lossMask) {
    // the first step of every sequence is warm-up (no loss); the last row always counts
    const lm: number[] = [];
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) lm.push(t === 0 && T > 1 ? 0 : 1);
    batch.lossMask = lm;
  }
  return batch;
}

async function setup(c: Case): Promise<Setup> {
  const model = await makeModel('js64', {
    cell: c.cell,
    nonlinearity: c.relu ? 'relu' : 'tanh',
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    numLayers: c.L,
    input: c.input,
  });
  const spec: LossSpec = { loss: c.loss, at: c.at, reduction: c.reduction };
  for (let seed = 1; seed < 200; seed++) {
    const rand = lcg(seed * 7919 + c.name.length);
    const P: Record<string, Float64Array> = {};
    for (const name of model.parameterNames()) {
      const n = model.parameterShape(name).reduce((a, b) => a * b, 1);
      P[name] = gaussian(n, rand, 0.6);
      model.setParameter(name, P[name]);
    }
    const batch = makeBatch(c, rand);
    if (c.relu && refForward(c, P, batch).minPre < 1e-3) continue; // too close to a kink: next seed
    return { model, P, batch, spec, seed };
  }
  throw new Error(`no seed keeps every relu pre-activation ≥ 1e-3 away from 0 for ${c.name}`);
}

const lossOf = (s: Setup): number => s.model.lossAndGradients(s.batch, s.spec).loss;

const fdOf = (values: Float64Array, set: (v: Float64Array) => void, loss: () => number): Float64Array =>
  centralDifferences(Float64Array.from(values), set, loss, EPS);

let largest = { err: 0, where: '' };

function caseName(c: Omit<Case, 'name'>): string {
  return `${c.cell}${c.cell === 'rnn' ? (c.relu ? '-relu' : '-tanh') : ''} L${c.L} T${c.T} B${c.B} ${c.input} ${c.loss} at=${c.at} ${c.reduction} mask=${c.mask}${c.lossMask ? ' +lossMask' : ''}`;
}

const VARIANTS: Array<{ cell: Cell; relu?: boolean }> = [{ cell: 'rnn' }, { cell: 'rnn', relu: true }, { cell: 'lstm' }, { cell: 'gru' }];
const SHAPES: Array<Omit<Case, 'name' | 'cell' | 'relu'>> = [
  { L: 1, T: 4, B: 2, input: 'dense', loss: 'mse', at: 'every', reduction: 'mean', mask: 'none' },
  { L: 2, T: 4, B: 2, input: 'dense', loss: 'cross-entropy', at: 'every', reduction: 'mean', mask: 'lengths' },
  { L: 2, T: 4, B: 2, input: 'tokens', loss: 'mse', at: 'last', reduction: 'sum', mask: 'lengths' },
  { L: 1, T: 4, B: 2, input: 'tokens', loss: 'cross-entropy', at: 'last', reduction: 'mean', mask: 'mask' },
  { L: 2, T: 4, B: 2, input: 'dense', loss: 'cross-entropy', at: 'every', reduction: 'sum', mask: 'mask' },
  { L: 2, T: 4, B: 1, input: 'dense', loss: 'mse', at: 'last', reduction: 'mean', mask: 'none' },
  { L: 1, T: 1, B: 1, input: 'dense', loss: 'mse', at: 'every', reduction: 'mean', mask: 'none' },
  { L: 2, T: 1, B: 2, input: 'tokens', loss: 'cross-entropy', at: 'every', reduction: 'mean', mask: 'none' },
  { L: 2, T: 4, B: 2, input: 'dense', loss: 'mse', at: 'every', reduction: 'mean', mask: 'lengths', lossMask: true },
  { L: 1, T: 4, B: 2, input: 'tokens', loss: 'cross-entropy', at: 'every', reduction: 'sum', mask: 'none', lossMask: true },
];
const CASES: Case[] = VARIANTS.flatMap((v) => SHAPES.map((s) => ({ ...v, ...s, name: caseName({ ...v, ...s }) })));

describe('gradient check (js64, central differences, every element)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const s = await setup(c);
      const { model, P, batch } = s;
      const r = model.lossAndGradients(batch, s.spec);
      // the reference forward is the same function as the library's
      expect(Math.abs(refForward(c, P, batch).loss - r.loss) / Math.abs(r.loss)).toBeLessThan(1e-12);

      const fd: Record<string, Float64Array> = {};
      for (const name of model.parameterNames())
        fd[name] = fdOf(
          P[name],
          (v) => model.setParameter(name, v),
          () => lossOf(s),
        );
      fd.h0 = fdOf(
        Float64Array.from(batch.h0!),
        (v) => {
          batch.h0 = v;
        },
        () => lossOf(s),
      );
      if (c.cell === 'lstm')
        fd.c0 = fdOf(
          Float64Array.from(batch.c0!),
          (v) => {
            batch.c0 = v;
          },
          () => lossOf(s),
        );

      // a floor of 1e-3 × the largest gradient anywhere: tensors whose gradient is legitimately
      // tiny (or zero, e.g. unused token columns, dead relu units) are compared at that scale
      const floor = Math.max(1e-10, 1e-3 * Math.max(...Object.values(fd).map(maxAbs)));
      const errors: Record<string, number> = {};
      for (const [name, want] of Object.entries(fd)) {
        const got = name === 'h0' ? r.dh0 : name === 'c0' ? r.dc0! : r.grads[name];
        errors[name] = relErr(got, want, floor);
        if (errors[name] > largest.err) largest = { err: errors[name], where: `${c.name} ${name}` };
      }
      // the check can fail: the gradients are not all zero, and every tensor was compared
      expect(maxAbs(r.grads['head.weight'])).toBeGreaterThan(1e-4);
      expect(Object.keys(errors).length).toBe(model.parameterNames().length + 1 + (c.cell === 'lstm' ? 1 : 0));
      for (const [name, err] of Object.entries(errors)) expect(err, `${c.name} ${name} (seed ${s.seed})`).toBeLessThan(TOL);
      model.dispose();
    });
  }

  it('reports the largest relative error', () => {
    console.log(`gradcheck: largest relative error ${largest.err.toExponential(3)} (${largest.where})`);
    expect(largest.err).toBeGreaterThan(0); // the cases above ran
    expect(largest.err).toBeLessThan(TOL);
  });
});

// ---------------------------------------------------------------------------------------------
// gradNormsOverTime[l][t] = ‖∂E/∂h_t‖ for layer l over the batch (h_t = state after step t,
// c_t held fixed for an LSTM), against finite differences of refForward with a hooked h_t.

const DIAG_SHAPES: Array<Omit<Case, 'name'>> = [
  { cell: 'rnn', L: 2, T: 4, B: 2, input: 'dense', loss: 'mse', at: 'every', reduction: 'sum', mask: 'none' },
  { cell: 'rnn', relu: true, L: 1, T: 4, B: 2, input: 'dense', loss: 'cross-entropy', at: 'every', reduction: 'mean', mask: 'none' },
  { cell: 'lstm', L: 2, T: 4, B: 2, input: 'tokens', loss: 'cross-entropy', at: 'last', reduction: 'mean', mask: 'lengths' },
  { cell: 'gru', L: 2, T: 4, B: 2, input: 'dense', loss: 'cross-entropy', at: 'every', reduction: 'mean', mask: 'mask' },
  { cell: 'lstm', L: 1, T: 4, B: 2, input: 'dense', loss: 'mse', at: 'every', reduction: 'mean', mask: 'none' },
  { cell: 'gru', L: 1, T: 4, B: 2, input: 'dense', loss: 'mse', at: 'every', reduction: 'mean', mask: 'none', lossMask: true },
];
const DIAG: Case[] = DIAG_SHAPES.map((c) => ({ ...c, name: caseName(c) }));

describe('diagnostics: gradNormsOverTime = ‖∂E/∂h_t‖ (finite differences of a hooked float64 forward)', () => {
  for (const c of DIAG) {
    it(c.name, async () => {
      const s = await setup(c);
      const r = s.model.lossAndGradients(s.batch, s.spec, { diagnostics: true });
      const norms = r.gradNormsOverTime!;
      expect(norms.length).toBe(c.L);
      expect(Math.abs(refForward(c, s.P, s.batch).loss - r.loss) / Math.abs(r.loss)).toBeLessThan(1e-12);
      let worst = 0,
        top = 0;
      const fdNorms: number[][] = [];
      for (let l = 0; l < c.L; l++) {
        expect(norms[l].length).toBe(c.T);
        fdNorms.push([]);
        for (let t = 0; t < c.T; t++) {
          let n2 = 0;
          for (let i = 0; i < c.B * H; i++) {
            const delta = new Float64Array(c.B * H);
            delta[i] = EPS;
            const lp = refForward(c, s.P, s.batch, { l, t, delta }).loss;
            delta[i] = -EPS;
            const lm = refForward(c, s.P, s.batch, { l, t, delta }).loss;
            n2 += ((lp - lm) / (2 * EPS)) ** 2;
          }
          fdNorms[l].push(Math.sqrt(n2));
          top = Math.max(top, Math.sqrt(n2));
        }
      }
      for (let l = 0; l < c.L; l++)
        for (let t = 0; t < c.T; t++) {
          const err = Math.abs(norms[l][t] - fdNorms[l][t]) / Math.max(fdNorms[l][t], 1e-3 * top);
          worst = Math.max(worst, err);
          expect(err, `layer ${l} step ${t}: ${norms[l][t]} vs ${fdNorms[l][t]}`).toBeLessThan(TOL);
        }
      expect(top).toBeGreaterThan(1e-3);
      console.log(`gradNormsOverTime ${c.name}: largest relative error ${worst.toExponential(3)}`);
      s.model.dispose();
    });
  }
});
