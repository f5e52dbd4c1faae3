// Real-time recurrent learning (Williams & Zipser 1989): the gradient of the same loss as
// model.lossAndGradients, computed forward in time. Each sequence carries the sensitivities
// S_t = ∂h_t/∂θ (and ∂c_t/∂θ for an LSTM) of its state with respect to every recurrent
// parameter, updated once per step, and each loss row adds δh_t·S_t to the gradient as soon as
// it is seen. Nothing is stored over time, but S_t is H × P per sequence (P ≈ G·H·(I + H)) and
// its update costs G·H²·P per step: O(H⁴) against BPTT's O(H²). It exists to check BPTT against
// an independent derivation and to measure that cost, so it is plain float64 TypeScript that
// reads the weights through the public Model API and never touches the model's memory.
// docs/equations.md#real-time-recurrent-learning has the recursion.
import { InvalidArgumentError } from '../errors.js';
import type { Batch } from '../model/batch.js';
import { GATES } from '../model/config.js';
import { resolveLoss, type LossKind, type LossSpec } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { lossWeights, readHostBatch, rowLoss } from './host-batch.js';

export interface RtrlResult {
  /** The reduced loss E of the batch (float64). */
  loss: number;
  /** ∂E/∂parameter by PyTorch state_dict name, shaped like the parameter. */
  grads: Record<string, Float64Array>;
}

/**
 * Sensitivity floats RTRL may hold at once (B · Σ_l H·P_l, twice for an LSTM): 2^26 float64
 * is 512 MiB. Past that the call is refused; RTRL is meant for small H.
 */
export const RTRL_MAX_SENSITIVITY_FLOATS = 2 ** 26;

interface Layer {
  I: number;
  wih: Float64Array;
  whh: Float64Array;
  bih: Float64Array;
  bhh: Float64Array;
  /** Where this layer's W_ih, W_hh, b_ih, b_hh start in θ (the layers' parameters concatenated). */
  oWih: number;
  oWhh: number;
  oBih: number;
  oBhh: number;
  /** θ[0 … P) are the parameters of this layer and the ones below: all its state depends on. */
  P: number;
  h: Float64Array;
  c: Float64Array | null;
  /** ∂h/∂θ[0 … P) [B, H, P] and ∂c/∂θ, the carried sensitivities. */
  Sh: Float64Array;
  Sc: Float64Array | null;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** out[g, 0 … P) += Σ_k W[g, k] · S[k, 0 … P) for g < rows, k < K; S rows are `stride` apart. */
function mulAcc(
  out: Float64Array,
  W: Float64Array,
  rows: number,
  K: number,
  S: Float64Array,
  sAt: number,
  stride: number,
  P: number,
  outStride: number,
): void {
  for (let g = 0; g < rows; g++) {
    const o = g * outStride;
    for (let k = 0; k < K; k++) {
      const w = W[g * K + k];
      if (w === 0) continue;
      const s = sAt + k * stride;
      for (let p = 0; p < P; p++) out[o + p] += w * S[s + p];
    }
  }
}

/**
 * The loss and ∂E/∂θ of one batch by real-time recurrent learning, in float64, for any cell
 * (RNN tanh/ReLU, LSTM, GRU), any number of layers, dense or token input, and every loss the
 * model supports (MSE or cross-entropy, at 'every' step or the 'last', mean or sum) with masks,
 * lengths, lossMask, h0 and c0, exactly as model.lossAndGradients defines them. The model's
 * weights are read once through stateDict(); the model is not changed.
 */
export function rtrlGradients(model: Model, batch: Batch, loss: LossSpec | LossKind): RtrlResult {
  const cfg = model.config;
  // RTRL carries sensitivities forwards in time, layer by layer, over the plain stack
  if (cfg.bidirectional || !cfg.bias || cfg.embeddingSize > 0 || cfg.batchFirst || cfg.projSize > 0) {
    throw new InvalidArgumentError(
      'model',
      'a unidirectional, time-major model with biases, no embedding and no projection (what rtrlGradients implements)',
      `bidirectional ${cfg.bidirectional}, bias ${cfg.bias}, embeddingSize ${cfg.embeddingSize}, batchFirst ${cfg.batchFirst}, projSize ${cfg.projSize}`,
    );
  }
  const spec = resolveLoss(loss, 'loss', cfg.outputSize);
  const hb = readHostBatch(cfg, batch, spec);
  const { T, B } = hb;
  const H = cfg.hiddenSize,
    O = cfg.outputSize,
    L = cfg.numLayers,
    cell = cfg.cell;
  const G = GATES[cell],
    GH = G * H;
  const relu = cfg.nonlinearity === 'relu';
  const sd = model.stateDict();
  const f64 = (name: string) => Float64Array.from(sd[name]);

  const layers: Layer[] = [];
  let P = 0,
    sensitivityFloats = 0,
    widest = 0;
  for (let l = 0; l < L; l++) {
    const I = l === 0 ? cfg.inputSize : H;
    const oWih = P,
      oWhh = oWih + GH * I,
      oBih = oWhh + GH * H,
      oBhh = oBih + GH;
    P = oBhh + GH;
    widest = Math.max(widest, P);
    sensitivityFloats += B * H * P * (cell === 'lstm' ? 2 : 1);
    layers.push({
      I,
      oWih,
      oWhh,
      oBih,
      oBhh,
      P,
      wih: f64(`weight_ih_l${l}`),
      whh: f64(`weight_hh_l${l}`),
      bih: f64(`bias_ih_l${l}`),
      bhh: f64(`bias_hh_l${l}`),
      h: new Float64Array(0),
      c: null,
      Sh: new Float64Array(0),
      Sc: null,
    });
  }
  if (sensitivityFloats + 2 * GH * widest > RTRL_MAX_SENSITIVITY_FLOATS) {
    throw new InvalidArgumentError(
      'model',
      `at most ${RTRL_MAX_SENSITIVITY_FLOATS} sensitivity floats for RTRL (B·H·P per layer)`,
      `${sensitivityFloats + 2 * GH * widest} for B ${B}, H ${H}, P ${P}`,
    );
  }
  for (let l = 0; l < L; l++) {
    const ly = layers[l];
    ly.h = hb.h0 ? hb.h0.slice(l * B * H, (l + 1) * B * H) : new Float64Array(B * H);
    ly.Sh = new Float64Array(B * H * ly.P);
    if (cell === 'lstm') {
      ly.c = hb.c0 ? hb.c0.slice(l * B * H, (l + 1) * B * H) : new Float64Array(B * H);
      ly.Sc = new Float64Array(B * H * ly.P);
    }
  }
  const headW = f64('head.weight'),
    headB = f64('head.bias');

  // one row's scratch: pre-activation pieces and their sensitivities [GH, P]
  const A = new Float64Array(GH),
    R = new Float64Array(GH);
  const dA = new Float64Array(GH * widest),
    dR = new Float64Array(GH * widest);
  const x1 = new Float64Array(Math.max(cfg.inputSize, H));
  const yRow = new Float64Array(O),
    dY = new Float64Array(O),
    u = new Float64Array(H);
  const grad = new Float64Array(P);
  const gHeadW = new Float64Array(O * H),
    gHeadB = new Float64Array(O);
  const { w: rowW, scale } = lossWeights(hb, spec, O);
  let E = 0;

  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const ly = layers[l],
        I = ly.I,
        Pl = ly.P;
      const below = l > 0 ? layers[l - 1] : null;
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        if (hb.mask && hb.mask[r] === 0) continue; // padding carries h, c and their sensitivities
        dA.fill(0, 0, GH * Pl);
        dR.fill(0, 0, GH * Pl);
        // A = x·W_ihᵀ + b_ih, with ∂A/∂θ = (∂x/∂θ through the layer below) + the direct terms
        let id = -1;
        if (below) x1.set(below.h.subarray(b * H, (b + 1) * H));
        else if (hb.x instanceof Int32Array) id = hb.x[r];
        else x1.set(hb.x.subarray(r * I, (r + 1) * I));
        for (let g = 0; g < GH; g++) {
          let s = ly.bih[g];
          if (id >= 0) s += ly.wih[g * I + id];
          else for (let k = 0; k < I; k++) s += ly.wih[g * I + k] * x1[k];
          A[g] = s;
          const row = g * Pl;
          if (id >= 0) dA[row + ly.oWih + g * I + id] += 1;
          else for (let k = 0; k < I; k++) dA[row + ly.oWih + g * I + k] += x1[k];
          dA[row + ly.oBih + g] += 1;
        }
        if (below) mulAcc(dA, ly.wih, GH, I, below.Sh, b * H * below.P, below.P, below.P, Pl);
        // R = h_{t−1}·W_hhᵀ + b_hh, with ∂R/∂θ = W_hh·S_{t−1} + the direct terms
        const hp = b * H;
        for (let g = 0; g < GH; g++) {
          let s = ly.bhh[g];
          for (let k = 0; k < H; k++) s += ly.whh[g * H + k] * ly.h[hp + k];
          R[g] = s;
          const row = g * Pl;
          for (let k = 0; k < H; k++) dR[row + ly.oWhh + g * H + k] += ly.h[hp + k];
          dR[row + ly.oBhh + g] += 1;
        }
        mulAcc(dR, ly.whh, GH, H, ly.Sh, b * H * Pl, Pl, Pl, Pl);
        // the cell: new h (and c) and their sensitivities, written over the old ones row by row
        // (row j of the new state needs only row j of the old, plus dA and dR)
        for (let j = 0; j < H; j++) {
          const sh = (b * H + j) * Pl;
          if (cell === 'rnn') {
            const pre = A[j] + R[j];
            const h = relu ? Math.max(pre, 0) : Math.tanh(pre);
            const d = relu ? (h > 0 ? 1 : 0) : 1 - h * h;
            ly.h[hp + j] = h;
            for (let p = 0; p < Pl; p++) ly.Sh[sh + p] = d * (dA[j * Pl + p] + dR[j * Pl + p]);
          } else if (cell === 'lstm') {
            const ig = sigmoid(A[j] + R[j]),
              fg = sigmoid(A[H + j] + R[H + j]);
            const gg = Math.tanh(A[2 * H + j] + R[2 * H + j]),
              og = sigmoid(A[3 * H + j] + R[3 * H + j]);
            const cs = ly.c as Float64Array,
              Sc = ly.Sc as Float64Array;
            const cPrev = cs[hp + j];
            const c = fg * cPrev + ig * gg,
              tc = Math.tanh(c);
            cs[hp + j] = c;
            ly.h[hp + j] = og * tc;
            const ci = ig * (1 - ig) * gg,
              cf = fg * (1 - fg) * cPrev,
              cg = ig * (1 - gg * gg);
            const ho = og * (1 - og) * tc,
              hc = og * (1 - tc * tc);
            const ri = j * Pl,
              rf = (H + j) * Pl,
              rg = (2 * H + j) * Pl,
              ro = (3 * H + j) * Pl;
            for (let p = 0; p < Pl; p++) {
              const dc = ci * (dA[ri + p] + dR[ri + p]) + cf * (dA[rf + p] + dR[rf + p]) + cg * (dA[rg + p] + dR[rg + p]) + fg * Sc[sh + p];
              Sc[sh + p] = dc;
              ly.Sh[sh + p] = ho * (dA[ro + p] + dR[ro + p]) + hc * dc;
            }
          } else {
            const rg = sigmoid(A[j] + R[j]),
              zg = sigmoid(A[H + j] + R[H + j]);
            const Rn = R[2 * H + j];
            const ng = Math.tanh(A[2 * H + j] + rg * Rn);
            const hPrev = ly.h[hp + j];
            ly.h[hp + j] = (1 - zg) * ng + zg * hPrev;
            const dr = rg * (1 - rg),
              dz = zg * (1 - zg),
              dn = 1 - ng * ng;
            const kr = j * Pl,
              kz = (H + j) * Pl,
              kn = (2 * H + j) * Pl;
            for (let p = 0; p < Pl; p++) {
              const sr = dr * (dA[kr + p] + dR[kr + p]);
              const sz = dz * (dA[kz + p] + dR[kz + p]);
              const sn = dn * (dA[kn + p] + Rn * sr + rg * dR[kn + p]);
              ly.Sh[sh + p] = (hPrev - ng) * sz + (1 - zg) * sn + zg * ly.Sh[sh + p];
            }
          }
        }
      }
    }
    if (spec.at === 'last' && t < T - 1) continue;
    // the loss rows of this step: E += s·w·ℓ(Y), and δh = δY·W_y reaches θ through S_t
    const top = layers[L - 1],
      Pt = top.P;
    for (let b = 0; b < B; b++) {
      const r = spec.at === 'every' ? t * B + b : b;
      if (rowW[r] === 0) continue;
      const h = top.h.subarray(b * H, (b + 1) * H);
      for (let o = 0; o < O; o++) {
        let s = headB[o];
        for (let k = 0; k < H; k++) s += headW[o * H + k] * h[k];
        yRow[o] = s;
      }
      E += rowLoss(spec.loss, yRow, 0, O, hb.y as Float64Array | Int32Array, r, scale * rowW[r], dY);
      u.fill(0);
      for (let o = 0; o < O; o++) {
        gHeadB[o] += dY[o];
        for (let k = 0; k < H; k++) {
          gHeadW[o * H + k] += dY[o] * h[k];
          u[k] += dY[o] * headW[o * H + k];
        }
      }
      for (let k = 0; k < H; k++) {
        const uk = u[k];
        if (uk === 0) continue;
        const s = (b * H + k) * Pt;
        for (let p = 0; p < Pt; p++) grad[p] += uk * top.Sh[s + p];
      }
    }
  }

  const grads: Record<string, Float64Array> = {};
  for (let l = 0; l < L; l++) {
    const ly = layers[l];
    grads[`weight_ih_l${l}`] = grad.slice(ly.oWih, ly.oWhh);
    grads[`weight_hh_l${l}`] = grad.slice(ly.oWhh, ly.oBih);
    grads[`bias_ih_l${l}`] = grad.slice(ly.oBih, ly.oBhh);
    grads[`bias_hh_l${l}`] = grad.slice(ly.oBhh, ly.P);
  }
  grads['head.weight'] = gHeadW;
  grads['head.bias'] = gHeadB;
  return { loss: E, grads };
}
