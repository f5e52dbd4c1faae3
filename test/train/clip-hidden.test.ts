// Per-timestep clipping (clipHiddenNorm, docs/equations.md#per-timestep-clipping): in every
// layer's BPTT loop, each sequence's δh_t = u_t + ρ_t is scaled to norm ≤ θ before step t uses it.
//
// 1. A float64 BPTT written out by hand in this file (all three cells, stacked layers, padding),
//    knowing nothing of the library's kernels, is the reference of that definition: js float64
//    agrees with it to rounding, the Wasm core (SIMD and scalar) to float32 precision.
// 2. Independent of any reference: with a threshold above every norm the gradients are bit for
//    bit the unclipped ones; with one chosen from the unclipped norms, the diagnostics show the
//    clipping begin exactly at the predicted step and never exceed θ; a sequence whose norms stay
//    below θ keeps its exact ∂E/∂h0 while a sequence above it does not.
// 3. The Trainer's option: its update is the optimizer applied to those gradients; the option is
//    validated like every other, and a checkpoint keeps it.
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import type { Batch } from '../../src/model/batch.js';
import type { LossSpec } from '../../src/model/loss.js';
import type { GradientResult, Model } from '../../src/model/model.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randn, relErr, simdCore, type BackendName } from '../helpers.js';

type Cell = 'rnn' | 'lstm' | 'gru';
interface Case {
  cell: Cell;
  relu: boolean;
  L: number;
  I: number;
  H: number;
  O: number;
  T: number;
  B: number;
  mask: 'none' | 'lengths' | 'holes';
  /** factor on the initialised recurrent weights (default 2.5): larger makes ρ_t exceed θ more often */
  whhScale?: number;
}

const GATES: Record<Cell, number> = { rnn: 1, lstm: 4, gru: 3 };
const SUM_MSE: LossSpec = { loss: 'mse', at: 'every', reduction: 'sum' };
const label = (c: Case): string =>
  `${c.cell}${c.cell === 'rnn' ? (c.relu ? '-relu' : '-tanh') : ''} L${c.L} H${c.H} B${c.B} mask=${c.mask}${c.whhScale ? ` W_hh×${c.whhScale}` : ''}`;

// ---------------------------------------------------------------------------------------------
// The reference: float64, one scalar loop per equation of docs/equations.md, MSE (sum) at every step

interface Reference {
  loss: number;
  grads: Record<string, Float64Array>;
  dh0: Float64Array;
  dc0: Float64Array | null;
  /** ‖δh_t‖ over the batch after clipping, per layer [L][T] (what gradNormsOverTime reports) */
  norms: Float64Array[];
  /** every row's ‖δh_t[b]‖ before clipping, and how many of them exceeded θ */
  rowNorms: number[];
  clipped: number;
  /** how many of the clipped rows were at padded steps */
  clippedPadded: number;
  /** per sequence b: the largest ‖δh_t[b]‖ before clipping, over steps and layers */
  rowMax: number[];
}

function stepMask(c: Case, batch: Batch): Float64Array {
  const m = new Float64Array(c.T * c.B).fill(1);
  if (batch.lengths) for (let t = 0; t < c.T; t++) for (let b = 0; b < c.B; b++) m[t * c.B + b] = t < Number(batch.lengths[b]) ? 1 : 0;
  if (batch.mask) for (let i = 0; i < c.T * c.B; i++) m[i] = Number(batch.mask[i]);
  return m;
}

function reference(c: Case, P: Record<string, ArrayLike<number>>, batch: Batch, theta: number): Reference {
  const { L, I, H, O, T, B, cell } = c;
  const G = GATES[cell] * H;
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  const m = stepMask(c, batch);
  const x = Float64Array.from(batch.x as ArrayLike<number>),
    y = Float64Array.from(batch.y as ArrayLike<number>);
  const zeros = (n: number): Float64Array => new Float64Array(n);
  // forward: hs[l][t], cs[l][t] for t = 0 … T; post-activation gates and R^n per step
  const hs: Float64Array[][] = [],
    cs: Float64Array[][] = [],
    gates: Float64Array[][] = [],
    rns: Float64Array[][] = [];
  for (let l = 0; l < L; l++) {
    const Ik = l === 0 ? I : H;
    const Wih = P[`weight_ih_l${l}`],
      Whh = P[`weight_hh_l${l}`],
      bih = P[`bias_ih_l${l}`],
      bhh = P[`bias_hh_l${l}`];
    hs.push([Float64Array.from((batch.h0 as ArrayLike<number>) ?? zeros(L * B * H)).slice(l * B * H, (l + 1) * B * H)]);
    cs.push([cell === 'lstm' ? Float64Array.from(batch.c0 as ArrayLike<number>).slice(l * B * H, (l + 1) * B * H) : zeros(B * H)]);
    gates.push([]);
    rns.push([]);
    for (let t = 0; t < T; t++) {
      const X = l === 0 ? x.subarray(t * B * I, (t + 1) * B * I) : hs[l - 1][t + 1];
      const hp = hs[l][t],
        cp = cs[l][t];
      const h = zeros(B * H),
        cc = zeros(B * H),
        gt = zeros(B * G),
        rn = zeros(B * H);
      for (let b = 0; b < B; b++) {
        if (m[t * B + b] === 0) {
          for (let j = 0; j < H; j++) {
            h[b * H + j] = hp[b * H + j];
            cc[b * H + j] = cp[b * H + j];
          }
          continue;
        }
        const A = zeros(G),
          R = zeros(G);
        for (let g = 0; g < G; g++) {
          let a = bih[g],
            r = bhh[g];
          for (let k = 0; k < Ik; k++) a += Wih[g * Ik + k] * X[b * Ik + k];
          for (let k = 0; k < H; k++) r += Whh[g * H + k] * hp[b * H + k];
          A[g] = a;
          R[g] = r;
        }
        for (let j = 0; j < H; j++) {
          const o = b * H + j;
          if (cell === 'rnn') {
            const p = A[j] + R[j];
            h[o] = c.relu ? Math.max(p, 0) : Math.tanh(p);
          } else if (cell === 'lstm') {
            const i = sig(A[j] + R[j]),
              f = sig(A[H + j] + R[H + j]),
              g = Math.tanh(A[2 * H + j] + R[2 * H + j]),
              og = sig(A[3 * H + j] + R[3 * H + j]);
            gt[b * G + j] = i;
            gt[b * G + H + j] = f;
            gt[b * G + 2 * H + j] = g;
            gt[b * G + 3 * H + j] = og;
            cc[o] = f * cp[o] + i * g;
            h[o] = og * Math.tanh(cc[o]);
          } else {
            const r = sig(A[j] + R[j]),
              z = sig(A[H + j] + R[H + j]),
              n = Math.tanh(A[2 * H + j] + r * R[2 * H + j]);
            gt[b * G + j] = r;
            gt[b * G + H + j] = z;
            gt[b * G + 2 * H + j] = n;
            rn[o] = R[2 * H + j];
            h[o] = (1 - z) * n + z * hp[o];
          }
        }
      }
      hs[l].push(h);
      cs[l].push(cc);
      gates[l].push(gt);
      rns[l].push(rn);
    }
  }
  // head and loss: E = Σ_t Σ_b m Σ_o (ŷ − y)²; u_t of the top layer = Wᵀ·∂E/∂ŷ
  const grads: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(P)) grads[name] = zeros(v.length);
  const W = P['head.weight'],
    hb = P['head.bias'];
  let loss = 0;
  let u: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const h = hs[L - 1][t + 1],
      ut = zeros(B * H);
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < O; o++) {
        let yh = hb[o];
        for (let k = 0; k < H; k++) yh += W[o * H + k] * h[b * H + k];
        const w = m[t * B + b],
          diff = yh - y[(t * B + b) * O + o];
        loss += w * diff * diff;
        const d = 2 * w * diff;
        grads['head.bias'][o] += d;
        for (let k = 0; k < H; k++) {
          grads['head.weight'][o * H + k] += d * h[b * H + k];
          ut[b * H + k] += W[o * H + k] * d;
        }
      }
    }
    u.push(ut);
  }
  // BPTT, top layer first, with C1–C2 at every row and step
  const dh0 = zeros(L * B * H),
    dc0 = cell === 'lstm' ? zeros(L * B * H) : null;
  const norms: Float64Array[] = Array.from({ length: L }, () => zeros(T));
  const rowNorms: number[] = [],
    rowMax = new Array<number>(B).fill(0);
  let clipped = 0,
    clippedPadded = 0;
  for (let l = L - 1; l >= 0; l--) {
    const Ik = l === 0 ? I : H;
    const Wih = P[`weight_ih_l${l}`],
      Whh = P[`weight_hh_l${l}`];
    const dWih = grads[`weight_ih_l${l}`],
      dWhh = grads[`weight_hh_l${l}`],
      dbih = grads[`bias_ih_l${l}`],
      dbhh = grads[`bias_hh_l${l}`];
    const rho = zeros(B * H),
      kappa = zeros(B * H);
    const dx: Float64Array[] = Array.from({ length: T }, () => zeros(B * Ik));
    for (let t = T - 1; t >= 0; t--) {
      const X = l === 0 ? x.subarray(t * B * I, (t + 1) * B * I) : hs[l - 1][t + 1];
      let normSq = 0;
      for (let b = 0; b < B; b++) {
        const g = zeros(H);
        let s = 0;
        for (let j = 0; j < H; j++) {
          g[j] = u[t][b * H + j] + rho[b * H + j];
          s += g[j] * g[j];
        } // C1
        const n = Math.sqrt(s);
        rowNorms.push(n);
        rowMax[b] = Math.max(rowMax[b], n);
        if (theta > 0 && n > theta) {
          // C2
          for (let j = 0; j < H; j++) g[j] *= theta / n;
          clipped++;
          if (m[t * B + b] === 0) clippedPadded++;
        }
        for (let j = 0; j < H; j++) normSq += g[j] * g[j];
        if (m[t * B + b] === 0) {
          for (let j = 0; j < H; j++) rho[b * H + j] = g[j];
          continue;
        }
        const hp = hs[l][t].subarray(b * H, (b + 1) * H),
          gt = gates[l][t].subarray(b * G, (b + 1) * G);
        const dA = zeros(G),
          dR = zeros(G),
          direct = zeros(H);
        for (let j = 0; j < H; j++) {
          if (cell === 'rnn') {
            const h = hs[l][t + 1][b * H + j];
            dA[j] = dR[j] = c.relu ? (h > 0 ? g[j] : 0) : g[j] * (1 - h * h);
          } else if (cell === 'lstm') {
            const i = gt[j],
              f = gt[H + j],
              gg = gt[2 * H + j],
              og = gt[3 * H + j];
            const tc = Math.tanh(cs[l][t + 1][b * H + j]);
            const dc = kappa[b * H + j] + g[j] * og * (1 - tc * tc);
            dA[j] = dc * gg * i * (1 - i);
            dA[H + j] = dc * cs[l][t][b * H + j] * f * (1 - f);
            dA[2 * H + j] = dc * i * (1 - gg * gg);
            dA[3 * H + j] = g[j] * tc * og * (1 - og);
            for (const q of [0, H, 2 * H, 3 * H]) dR[q + j] = dA[q + j];
            kappa[b * H + j] = dc * f;
          } else {
            const r = gt[j],
              z = gt[H + j],
              n2 = gt[2 * H + j];
            const dn = g[j] * (1 - z),
              dz = g[j] * (hp[j] - n2);
            direct[j] = g[j] * z;
            const dAn = dn * (1 - n2 * n2);
            const dr = dAn * rns[l][t][b * H + j];
            dA[j] = dR[j] = dr * r * (1 - r);
            dA[H + j] = dR[H + j] = dz * z * (1 - z);
            dA[2 * H + j] = dAn;
            dR[2 * H + j] = dAn * r;
          }
        }
        for (let q = 0; q < G; q++) {
          dbih[q] += dA[q];
          dbhh[q] += dR[q];
          for (let k = 0; k < Ik; k++) dWih[q * Ik + k] += dA[q] * X[b * Ik + k];
          for (let k = 0; k < H; k++) dWhh[q * H + k] += dR[q] * hp[k];
        }
        for (let k = 0; k < H; k++) {
          let s2 = direct[k];
          for (let q = 0; q < G; q++) s2 += dR[q] * Whh[q * H + k];
          rho[b * H + k] = s2;
        }
        for (let k = 0; k < Ik; k++) {
          let s3 = 0;
          for (let q = 0; q < G; q++) s3 += dA[q] * Wih[q * Ik + k];
          dx[t][b * Ik + k] = s3;
        }
      }
      norms[l][t] = Math.sqrt(normSq);
    }
    dh0.set(rho, l * B * H);
    dc0?.set(kappa, l * B * H);
    u = dx;
  }
  return { loss, grads, dh0, dc0, norms, rowNorms, clipped, clippedPadded, rowMax };
}

// ---------------------------------------------------------------------------------------------
// Models on every backend with the same float32 weights, and batches

const BACKENDS: BackendName[] = ['js64', 'wasm', 'wasm-scalar', 'js'];

async function modelsFor(
  c: Case,
  seed: number,
  backends: BackendName[] = BACKENDS,
): Promise<{ ms: Model[]; params: Record<string, Float64Array> }> {
  const cfg = {
    cell: c.cell,
    nonlinearity: c.relu ? ('relu' as const) : ('tanh' as const),
    inputSize: c.I,
    hiddenSize: c.H,
    outputSize: c.O,
    numLayers: c.L,
    seed,
  };
  const ms = await Promise.all(backends.map((b) => makeModel(b, cfg)));
  // weights rounded to float32 once, so that every backend and the reference start equal; the
  // recurrent weights enlarged so that gradients grow back in time and θ has something to clip
  const params: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(ms[0].stateDict())) {
    const scale = name.startsWith('weight_hh') ? (c.whhScale ?? 2.5) : 1;
    params[name] = Float64Array.from(v, (a) => Math.fround(a * scale));
  }
  for (const mo of ms) mo.loadStateDict(params);
  return { ms, params };
}

function makeBatch(c: Case, seed: number, rowScale?: number[]): Batch {
  const rand = lcg(seed);
  const { T, B, L, H, O, I } = c;
  const y = randn(T * B * O, rand, 2);
  if (rowScale) for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) y[(t * B + b) * O + o] *= rowScale[b];
  const batch: Batch = { x: randn(T * B * I, rand), T, B, y, h0: randn(L * B * H, rand, 0.5) };
  if (c.cell === 'lstm') batch.c0 = randn(L * B * H, rand, 0.5);
  if (c.mask === 'lengths') batch.lengths = Array.from({ length: B }, (_, b) => T - ((b * 3) % T));
  if (c.mask === 'holes') {
    const mk = new Float32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mk[t * B + b] = t === 0 || (t * 7 + b * 3) % 5 !== 0 ? 1 : 0;
    batch.mask = mk;
  }
  return batch;
}

/** The median of the unclipped row norms, halved: clips some rows at some steps, not all. */
function chooseTheta(ref: Reference): number {
  const nz = ref.rowNorms.filter((n) => n > 0).sort((a, b) => a - b);
  return nz[Math.floor(nz.length / 2)] / 2;
}

const VARIANTS: Array<{ cell: Cell; relu: boolean }> = [
  { cell: 'rnn', relu: false },
  { cell: 'rnn', relu: true },
  { cell: 'lstm', relu: false },
  { cell: 'gru', relu: false },
];
const CASES: Case[] = [];
for (const v of VARIANTS)
  for (const L of [1, 2])
    for (const mask of ['none', 'lengths', 'holes'] as const) {
      CASES.push({ ...v, L, mask, I: 7, H: 13, O: 3, T: 9, B: 3 });
    }
// H = 1: every row is one value (nothing but scalar tails); H = 21: five SIMD blocks and a tail
for (const v of VARIANTS) CASES.push({ ...v, L: 2, mask: 'lengths', I: 5, H: 1, O: 2, T: 7, B: 2 });
for (const v of VARIANTS) CASES.push({ ...v, L: 2, mask: 'holes', I: 3, H: 21, O: 5, T: 6, B: 5 });
// padded steps whose carried ρ_t itself exceeds θ: clipping there differs from clipping only at
// real steps (the next real step adds its own u_t before it clips)
const PADDED = VARIANTS.map((v) => ({ ...v, L: 1, mask: 'holes' as const, I: 4, H: 11, O: 3, T: 12, B: 4, whhScale: 5 }));
CASES.push(...PADDED);

const TOL: Record<BackendName, number> = { js64: 1e-11, wasm: 1e-5, 'wasm-scalar': 1e-5, js: 1e-5 };
const FLOOR = 1e-6;

function errors(c: Case, r: GradientResult, ref: Reference): Record<string, number> {
  const e: Record<string, number> = {};
  e.loss = Math.abs(r.loss - ref.loss) / Math.max(Math.abs(ref.loss), FLOOR);
  for (const name of Object.keys(ref.grads)) e[`grad ${name}`] = relErr(r.grads[name], ref.grads[name], FLOOR);
  e.dh0 = relErr(r.dh0, ref.dh0, FLOOR);
  if (c.cell === 'lstm') e.dc0 = relErr(r.dc0!, ref.dc0!, FLOOR);
  for (let l = 0; l < c.L; l++) e[`gradNormsOverTime[${l}]`] = relErr(r.gradNormsOverTime![l], ref.norms[l], FLOOR);
  return e;
}

const largest: Partial<Record<BackendName, { err: number; where: string }>> = {};

describe('clipHiddenNorm against a float64 BPTT written out by hand', () => {
  for (const c of CASES) {
    it(label(c), async () => {
      const seed = 7 + CASES.indexOf(c);
      const { ms, params } = await modelsFor(c, seed);
      const batch = makeBatch(c, 500 + seed);
      const unclippedRef = reference(c, params, batch, 0);
      const theta = chooseTheta(unclippedRef);
      const ref = reference(c, params, batch, theta);
      // the case really clips: some rows at some steps, not every one
      expect(ref.clipped).toBeGreaterThan(0);
      expect(ref.clipped).toBeLessThan(ref.rowNorms.length);
      if (PADDED.includes(c as (typeof PADDED)[number])) expect(ref.clippedPadded).toBeGreaterThan(0);
      // and that changes the gradients well beyond float32 rounding
      expect(relErr(ref.grads.weight_hh_l0, unclippedRef.grads.weight_hh_l0, FLOOR)).toBeGreaterThan(1e-3);
      const failures: string[] = [];
      for (const [i, backend] of BACKENDS.entries()) {
        const r = ms[i].lossAndGradients(batch, SUM_MSE, { clipHiddenNorm: theta, diagnostics: true });
        for (const [what, err] of Object.entries(errors(c, r, ref))) {
          const cur = largest[backend];
          if (!cur || err > cur.err) largest[backend] = { err, where: `${label(c)} ${what}` };
          if (!(err < TOL[backend])) failures.push(`${backend} ${what}: ${err.toExponential(2)}`);
        }
        // unclipped, every backend still matches the exact reference (the two references differ)
        const exact = ms[i].lossAndGradients(batch, SUM_MSE, { diagnostics: true });
        for (const [what, err] of Object.entries(errors(c, exact, unclippedRef))) {
          if (!(err < TOL[backend])) failures.push(`${backend} unclipped ${what}: ${err.toExponential(2)}`);
        }
      }
      for (const mo of ms) mo.dispose();
      expect(failures).toEqual([]);
    });
  }

  it('reports the largest relative error of each backend', () => {
    for (const [backend, e] of Object.entries(largest))
      console.log(`clip-hidden: ${backend} vs float64 reference ${e.err.toExponential(3)} (${e.where})`);
    expect(Object.keys(largest).sort()).toEqual([...BACKENDS].sort());
  });
});

describe('clipHiddenNorm without a reference', () => {
  it('a threshold above every norm gives the unclipped gradients bit for bit (every backend, cell, mask, 2 layers)', async () => {
    for (const v of VARIANTS)
      for (const mask of ['none', 'lengths', 'holes'] as const) {
        const c: Case = { ...v, L: 2, mask, I: 6, H: 11, O: 3, T: 8, B: 4 };
        const { ms } = await modelsFor(c, 3);
        const batch = makeBatch(c, 99);
        for (const mo of ms) {
          const exact = mo.lossAndGradients(batch, SUM_MSE, { diagnostics: true });
          const huge = mo.lossAndGradients(batch, SUM_MSE, { diagnostics: true, clipHiddenNorm: 1e30 });
          const where = `${label(c)} ${mo.backend} ${mo.kernels.memory.dtype}`;
          expect(huge.grads, where).toEqual(exact.grads);
          expect(huge.dh0, where).toEqual(exact.dh0);
          expect(huge.dc0, where).toEqual(exact.dc0);
          expect(huge.loss, where).toBe(exact.loss);
          // the diagnostics: the same sums, in another order in the Wasm core
          for (let l = 0; l < c.L; l++)
            expect(relErr(huge.gradNormsOverTime![l], exact.gradNormsOverTime![l], 1e-30), where).toBeLessThan(1e-6);
          mo.dispose();
        }
      }
  });

  it('clipping begins at the predicted step, and no ‖∂E/∂h_t‖ exceeds θ afterwards (B = 1, every cell, wasm and js)', async () => {
    for (const v of VARIANTS)
      for (const backend of ['wasm', 'wasm-scalar', 'js64'] as BackendName[]) {
        const c: Case = { ...v, L: 1, mask: 'none', I: 5, H: 10, O: 2, T: 12, B: 1 };
        const { ms } = await modelsFor(c, 11, [backend]);
        const mo = ms[0];
        // losses at the last step and at step 4 only, the latter 100 times larger: whatever the
        // cell does to the gradient in between, the norm jumps at step 4 (or earlier, if it grows)
        const batch = makeBatch(c, 42);
        const lossMask = new Float32Array(c.T).fill(0);
        lossMask[c.T - 1] = 1;
        lossMask[4] = 1;
        batch.lossMask = lossMask;
        const y = batch.y as Float32Array;
        for (let o = 0; o < c.O; o++) y[4 * c.O + o] *= 100;
        const n = mo.lossAndGradients(batch, SUM_MSE, { diagnostics: true }).gradNormsOverTime![0];
        // the first step, going back from T, whose norm exceeds every later one: clip between them
        let tStar = -1,
          later = n[c.T - 1];
        for (let t = c.T - 2; t >= 0; t--) {
          if (n[t] > later * 1.05) {
            tStar = t;
            break;
          }
          later = Math.max(later, n[t]);
        }
        const where = `${label(c)} ${backend}`;
        expect(tStar, `${where}: norms ${Array.from(n, (a) => a.toPrecision(3)).join(' ')}`).toBeGreaterThanOrEqual(0);
        const theta = Math.sqrt(later * n[tStar]);
        const clipped = mo.lossAndGradients(batch, SUM_MSE, { diagnostics: true, clipHiddenNorm: theta }).gradNormsOverTime![0];
        // above tStar nothing was clipped: the same values as without clipping
        for (let t = tStar + 1; t < c.T; t++) expect(Math.abs(clipped[t] - n[t]) / n[t], `${where} t=${t}`).toBeLessThan(1e-6);
        // at tStar the clipped norm is θ exactly (to float32)
        expect(Math.abs(clipped[tStar] - theta) / theta, `${where} at tStar`).toBeLessThan(1e-5);
        // and never above it
        for (let t = 0; t < c.T; t++) expect(clipped[t], `${where} t=${t}`).toBeLessThanOrEqual(theta * (1 + 1e-5));
        mo.dispose();
      }
  });

  it('per sequence: a row whose norms stay below θ keeps its exact ∂E/∂h0, a row above it does not (padding included)', async () => {
    for (const v of VARIANTS)
      for (const mask of ['none', 'lengths', 'holes'] as const) {
        const c: Case = { ...v, L: 2, mask, I: 4, H: 9, O: 2, T: 10, B: 3 };
        const { ms, params } = await modelsFor(c, 23, ['wasm', 'js64']);
        // targets of row b scaled by 10^(2b − 2): the rows' gradients lie orders of magnitude apart
        const batch = makeBatch(c, 77, [0.01, 1, 100]);
        const { rowMax } = reference(c, params, batch, 0);
        expect(rowMax[0] * 10).toBeLessThan(rowMax[2]);
        const theta = Math.sqrt(rowMax[0] * rowMax[2]);
        const H = c.H,
          B = c.B;
        for (const mo of ms) {
          const exact = mo.lossAndGradients(batch, SUM_MSE).dh0;
          const clipped = mo.lossAndGradients(batch, SUM_MSE, { clipHiddenNorm: theta }).dh0;
          const row = (a: ArrayLike<number>, l: number, b: number): number[] => Array.from(a).slice((l * B + b) * H, (l * B + b + 1) * H);
          const where = `${label(c)} ${mo.backend}`;
          for (let l = 0; l < c.L; l++) {
            expect(row(clipped, l, 0), `${where} layer ${l} row 0`).toEqual(row(exact, l, 0));
            expect(relErr(row(clipped, l, 2), row(exact, l, 2), 1e-30), `${where} layer ${l} row 2`).toBeGreaterThan(1e-3);
          }
          mo.dispose();
        }
      }
  });
});

describe('the Trainer option clipHiddenNorm', () => {
  const c: Case = { cell: 'gru', relu: false, L: 2, mask: 'lengths', I: 5, H: 7, O: 2, T: 8, B: 3 };

  it('an SGD step moves every weight by −lr × the clipped gradient of lossAndGradients (wasm and js)', async () => {
    for (const backend of ['wasm', 'js'] as BackendName[]) {
      const { ms } = await modelsFor(c, 5, [backend]);
      const mo = ms[0];
      const batch = makeBatch(c, 8);
      const ref = reference(c, Object.fromEntries(Object.entries(mo.stateDict()).map(([k, v]) => [k, Float64Array.from(v)])), batch, 0);
      const theta = chooseTheta(ref);
      const before = mo.stateDict();
      const g = mo.lossAndGradients(batch, SUM_MSE, { clipHiddenNorm: theta }).grads;
      const exact = mo.lossAndGradients(batch, SUM_MSE).grads;
      const lr = 1e-3;
      const trainer = new Trainer(mo, { loss: SUM_MSE, optimizer: { name: 'sgd', lr }, clipHiddenNorm: theta });
      expect(trainer.clipHiddenNorm).toBe(theta);
      const r = trainer.step(batch, { diagnostics: true });
      expect(r.skipped).toBe(false);
      const after = mo.stateDict();
      for (const name of Object.keys(before)) {
        const expected = before[name].map((w, i) => w - lr * g[name][i]);
        expect(relErr(after[name], expected, 1e-6), `${backend} ${name}`).toBeLessThan(1e-6);
      }
      // and not by the exact gradient
      const byExact = before.weight_hh_l1.map((w, i) => w - lr * exact.weight_hh_l1[i]);
      expect(relErr(after.weight_hh_l1, byExact, 1e-30)).toBeGreaterThan(1e-6);
      for (const norms of r.gradNormsOverTime!) for (const v of norms) expect(v).toBeLessThanOrEqual(Math.sqrt(c.B) * theta * (1 + 1e-5));
      trainer.dispose();
      mo.dispose();
    }
  });

  it('is validated: positive and finite, read once, a near-miss spelling named', async () => {
    const mo = await makeModel('wasm', { cell: 'rnn', inputSize: 2, hiddenSize: 3, outputSize: 1 });
    for (const bad of [0, -1, NaN, Infinity, '1', null]) {
      expect(() => new Trainer(mo, { loss: 'mse', clipHiddenNorm: bad as number }), String(bad)).toThrow(ConfigError);
      expect(() => new Trainer(mo, { loss: 'mse', clipHiddenNorm: bad as number }), String(bad)).toThrow(/options\.clipHiddenNorm/);
    }
    expect(() => new Trainer(mo, { loss: 'mse', cliphiddennorm: 1 } as never)).toThrow(/did you mean 'clipHiddenNorm'/);
    expect(new Trainer(mo, { loss: 'mse' }).clipHiddenNorm).toBe(0);
    const batch: Batch = { x: [1, 2, 3, 4], T: 2, B: 1, y: [0.5, 0.5] };
    for (const bad of [0, -2, NaN, Infinity]) {
      expect(() => mo.lossAndGradients(batch, 'mse', { clipHiddenNorm: bad }), String(bad)).toThrow(InvalidArgumentError);
    }
    mo.dispose();
  });

  it('a checkpoint keeps it, and one without it restores without it', async () => {
    const { ms } = await modelsFor(c, 9, ['wasm']);
    const batch = makeBatch(c, 10);
    const trainer = new Trainer(ms[0], { loss: SUM_MSE, optimizer: { name: 'adam', lr: 1e-3 }, clipHiddenNorm: 0.25 });
    trainer.step(batch);
    const restored = await restoreCheckpoint(checkpointToSafetensors(trainer), { core: await simdCore() });
    expect(restored.trainer.clipHiddenNorm).toBe(0.25);
    // the next step of both is the same step
    const a = trainer.step(batch),
      b = restored.trainer.step(batch);
    expect(b.loss).toBe(a.loss);
    expect(restored.model.stateDict()).toEqual(ms[0].stateDict());
    const plain = new Trainer(ms[0], { loss: SUM_MSE });
    const again = await restoreCheckpoint(checkpointToSafetensors(plain), { core: await simdCore() });
    expect(again.trainer.clipHiddenNorm).toBe(0);
    for (const t of [trainer, plain, restored.trainer, again.trainer]) t.dispose();
    for (const mo of [ms[0], restored.model, again.model]) mo.dispose();
  });
});
