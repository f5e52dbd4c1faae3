// The js backend: plain scalar TypeScript, written as the executable specification of every
// equation in docs/equations.md. It favours clarity over speed (no packing, no blocking) and computes in
// the precision of its memory: Float32Array rounds at each store, Float64Array is exact enough
// for finite-difference gradient checks. It never imports the Wasm runtime.
//
// Arguments are element offsets into `memory.f` (see kernels.ts for shapes); the cells read
// theirs from a layer descriptor (layer-desc.ts) whose pointer fields hold element offsets. This backend's
// "packed" right operand is simply B[K,N] row-major, so forward kernels read W_ihᵀ [I,G],
// W_hhᵀ [H,G], Wᵀ [H,O] and backward kernels read W_ih [G,I], W_hh [G,H], W [O,H] directly.
import { BackendError } from '../errors.js';
import { JsMemory, type Dtype } from '../runtime/memory.js';
import { FLAG_RELU, FLAG_TOKENS, type Kernels, type Off } from './kernels.js';
import {
  emptyLayerDesc,
  LAYER_DESC_FIELDS,
  loadLayerField,
  storeLayerField,
  type LayerDescField,
  type LayerDescValues,
} from './layer-desc.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** R, the size of h: P with an LSTM projection (h_t = W_hr·m_t), else H. */
const stateSize = (d: LayerDescValues): number => (d.P > 0 ? d.P : d.H);

/** An id stored as a float: an integer in [0, n) (the same test as the Wasm core's). */
const idOk = (v: number, n: number): boolean => v >= 0 && v < n && Number.isInteger(v);

export class JsKernels implements Kernels {
  readonly name = 'js' as const;
  readonly memory: JsMemory;
  // each js model owns its memory: nothing above the model can be disposed under it
  readonly lifetime = null;

  constructor(dtype: Dtype = 'float32') {
    this.memory = new JsMemory(dtype);
  }

  // ids refused by the gathers, as the Wasm core counts them (takeIdErrors)
  private refused = 0;

  private get f() {
    return this.memory.f;
  }

  takeIdErrors(): number {
    const n = this.refused;
    this.refused = 0;
    return n;
  }

  /** Counts the rows of ids x [R] outside [0, n): each kernel that gathers by id counts once. */
  private countRefused(x: Off, R: number, n: number): void {
    const f = this.f;
    for (let r = 0; r < R; r++) if (!idOk(f[x + r], n)) this.refused++;
  }

  packedSize(K: number, N: number): number {
    return K * N;
  }

  weightGradScratch(_K: number, _M: number, _N: number): number {
    return 0; // the reference products read δ and h where they lie
  }

  /**
   * dst[k, j] = B(k, j) = src[k·sk + j·sn]: a strided copy into row-major [K,N]. That is this
   * backend's packed form, so wihTransposedPacked here is plain W_ihᵀ and wihPacked plain W_ih.
   */
  packPanels(K: number, N: number, src: Off, sk: number, sn: number, dst: Off): void {
    const f = this.f;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) f[dst + k * N + j] = f[src + k * sk + j * sn];
  }

  // ---------------------------------------------------------------------------------------------
  // Shared pieces of every cell

  /** (v·Wᵀ)[g] = Σ_k v[k]·W[g,k], with W given transposed as wT [K,G] */
  private dotT(v: Off, wT: Off, K: number, G: number, g: number): number {
    const f = this.f;
    let s = 0;
    for (let k = 0; k < K; k++) s += f[v + k] * f[wT + k * G + g];
    return s;
  }

  /** (x_r·W_ihᵀ)[g] for row r = t·B + b of the layer's input: a dot product, or for ids the one-hot's pick */
  private inputTerm(d: LayerDescValues, G: number, r: number, g: number): number {
    const f = this.f;
    if (d.flags & FLAG_TOKENS) {
      const id = f[d.x + r];
      return idOk(id, d.I) ? f[d.wihTransposedPacked + id * G + g] : 0; // a refused id: the row keeps its biases alone
    }
    return this.dotT(d.x + r * d.I, d.wihTransposedPacked, d.I, G, g);
  }

  private padded(mask: Off, t: number, B: number, b: number): boolean {
    return mask !== 0 && this.f[mask + t * B + b] === 0;
  }

  /** After the time loop: dW_ih += δAᵀ·X, db_ih += Σ δA, dx = δA·W_ih;  dW_hh += δRᵀ·h_{t−1}, db_hh += Σ δR */
  private weightGradients(d: LayerDescValues, G: number, dA: Off, dR: Off): void {
    const f = this.f;
    const { T, B, I, flags, x, wihPacked, hs, dwih, dwhh, dbih, dbhh, dx } = d;
    const H = stateSize(d); // the size of h: P with an LSTM projection, else H
    for (let r = 0; r < T * B; r++) {
      const hprev = hs + r * H; // hs rows are shifted by one step: row r of hs is h_{t−1} for row r of δ
      for (let g = 0; g < G; g++) {
        const da = f[dA + r * G + g],
          dr = f[dR + r * G + g];
        f[dbih + g] += da;
        f[dbhh + g] += dr;
        if (flags & FLAG_TOKENS) {
          const id = f[x + r];
          if (idOk(id, I)) f[dwih + g * I + id] += da;
        } else for (let k = 0; k < I; k++) f[dwih + g * I + k] += da * f[x + r * I + k];
        for (let k = 0; k < H; k++) f[dwhh + g * H + k] += dr * f[hprev + k];
      }
      if (dx) {
        for (let k = 0; k < I; k++) {
          let s = 0;
          for (let g = 0; g < G; g++) s += f[dA + r * G + g] * f[wihPacked + g * I + k];
          f[dx + r * I + k] = s;
        }
      }
    }
  }

  /**
   * Per-timestep clipping (docs/equations.md#per-timestep-clipping): the factor for one row of
   * δh_t = u_t + ρ_t, θ/‖δh_t‖ where that norm exceeds θ > 0, else 1 (θ = 0 is off). The caller
   * multiplies δh_t by it where it forms δh_t, before the step uses it or passes it on. A NaN
   * norm keeps 1, so a non-finite gradient still reaches the step's finiteness check.
   */
  private clipFactor(H: number, u: Off, rho: Off, clip: number): number {
    if (!(clip > 0)) return 1;
    const f = this.f;
    let s = 0;
    for (let j = 0; j < H; j++) {
      const g = f[u + j] + f[rho + j];
      s += g * g;
    }
    const norm = Math.sqrt(s);
    return norm > clip ? clip / norm : 1;
  }

  /**
   * The backward time loop every cell shares: for t = T−1…0 and each batch row b, forms
   * ∂E/∂h_t = (u_t + ρ_t)·clip factor per unit j (u from d.dhs, ρ in d.dh) and adds its square to
   * ‖δh_t‖² (d.dhnorm). A padded row passes it on unchanged to h_{t−1} (ρ ← ∂E/∂h_t) and then
   * zeroes its δ rows (padRow); any other row hands it to the cell's step(r, b, j, gh), which
   * writes the δ of its gates and ρ. After each t: ∂E/∂h_{t−1} += δR_t·W_hh from the G-wide rows at dR.
   * Then the weight gradients from the δ rows δA (input side) and δR (hidden side).
   */
  private backThroughTime(
    d: LayerDescValues,
    G: number,
    dA: Off,
    dR: Off,
    step: (r: number, b: number, j: number, gh: number) => void,
    padRow: (r: number) => unknown,
    endRow?: (r: number, b: number) => void,
  ): void {
    const f = this.f;
    const { T, B, mask, dhs, dh, dhnorm } = d;
    const H = stateSize(d); // the size of h: P with an LSTM projection, else H
    for (let t = T - 1; t >= 0; t--) {
      let norm2 = 0;
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const pad = this.padded(mask, t, B, b);
        const c = this.clipFactor(H, dhs + r * H, dh + b * H, d.clipHiddenNorm);
        for (let j = 0; j < H; j++) {
          const gh = (f[dhs + r * H + j] + f[dh + b * H + j]) * c; // ∂E/∂h_t, clipped
          norm2 += gh * gh;
          if (pad) f[dh + b * H + j] = gh;
          else step(r, b, j, gh);
        }
        if (pad) padRow(r);
        else endRow?.(r, b);
      }
      if (dhnorm) f[dhnorm + t] = Math.sqrt(norm2);
      this.backToPrevious(B, H, G, dR + t * B * G, d.whhPacked, dh);
    }
    this.weightGradients(d, G, dA, dR);
  }

  /**
   * The forward time loop every cell shares: for t = 0…T−1 and each batch row b (r = t·B + b), a
   * padded row carries h (and the LSTM's c) unchanged; any other row goes to the cell's
   * step(r, hprev, hcur), which writes h_t at hcur from h_{t−1} at hprev (and its gates).
   */
  private forwardThroughTime(d: LayerDescValues, step: (r: number, hprev: Off, hcur: Off) => void): void {
    const f = this.f;
    const { T, B, H, mask, hs, cs } = d;
    const R = stateSize(d); // the size of h: P with an LSTM projection, else H (c keeps H)
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        if (this.padded(mask, t, B, b)) {
          f.copyWithin(hs + (r + B) * R, hs + r * R, hs + (r + 1) * R);
          if (cs) f.copyWithin(cs + (r + B) * H, cs + r * H, cs + (r + 1) * H);
          continue;
        }
        step(r, hs + r * R, hs + (r + B) * R);
      }
    }
  }

  /** ∂E/∂h_{t−1} += δR_t·W_hh for every batch row */
  private backToPrevious(B: number, H: number, G: number, dRt: Off, whhPacked: Off, dh: Off): void {
    const f = this.f;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        let s = 0;
        for (let g = 0; g < G; g++) s += f[dRt + b * G + g] * f[whhPacked + g * H + k];
        f[dh + b * H + k] += s;
      }
    }
  }

  /**
   * The descriptor at `desc`, read into one reused object (a call allocates nothing). Each cell
   * call counts the ids of a token input it refuses, once, as the Wasm core does.
   */
  private layer(desc: Off): LayerDescValues {
    const d = this.desc,
      bytes = this.memory.bytes,
      at = desc * this.f.BYTES_PER_ELEMENT;
    for (const field of LAYER_DESC_FIELDS) d[field] = loadLayerField(bytes, at, field);
    // a row range is the Wasm core's (its pool runs blocks of rows); this reference runs whole batches
    if (d.b0 !== 0 || (d.b1 !== 0 && d.b1 !== d.B))
      throw new BackendError(
        `the js backend runs a layer over the whole batch only: descriptor rows [b0, b1) must be [0, 0) or [0, B), got [${d.b0}, ${d.b1})`,
      );
    if (d.flags & FLAG_TOKENS) this.countRefused(d.x, d.T * d.B, d.I);
    return d;
  }
  private readonly desc = emptyLayerDesc();

  /** Pointer fields hold element offsets here: this backend addresses `f` by element. */
  setLayerField(desc: Off, field: LayerDescField, value: number): void {
    storeLayerField(this.memory.bytes, desc * this.f.BYTES_PER_ELEMENT, field, value);
  }

  // ---------------------------------------------------------------------------------------------
  // RNN: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)

  rnnForward(desc: Off): void {
    const f = this.f;
    const d = this.layer(desc);
    const { H, flags, whhTransposedPacked, bih, bhh } = d;
    this.forwardThroughTime(d, (r, hprev, hcur) => {
      for (let j = 0; j < H; j++) {
        const pre = this.inputTerm(d, H, r, j) + f[bih + j] + this.dotT(hprev, whhTransposedPacked, H, H, j) + f[bhh + j];
        f[hcur + j] = flags & FLAG_RELU ? Math.max(pre, 0) : Math.tanh(pre);
      }
    });
  }

  rnnBackward(desc: Off): void {
    const f = this.f;
    const d = this.layer(desc);
    const { B, H, flags, hs, dhs, dh } = d;
    const step = (r: number, b: number, j: number, gh: number): void => {
      // forward: f[cur + j] = flags & FLAG_RELU ? Math.max(pre, 0) : Math.tanh(pre)
      const h = f[hs + B * H + r * H + j];
      f[dhs + r * H + j] = flags & FLAG_RELU ? (h > 0 ? gh : 0) : gh * (1 - h * h); // δpre
      f[dh + b * H + j] = 0;
    };
    const padRow = (r: number) => f.fill(0, dhs + r * H, dhs + (r + 1) * H);
    this.backThroughTime(d, H, dhs, dhs, step, padRow);
  }

  // ---------------------------------------------------------------------------------------------
  // LSTM: i,f,o = σ(·), g = tanh(·); c_t = f⊙c_{t−1} + i⊙g; h_t = o⊙tanh(c_t)

  lstmForward(desc: Off): void {
    const f = this.f;
    const d = this.layer(desc);
    const { H, P, whhTransposedPacked, bih, bhh, cs, gates, ms, whrTransposedPacked } = d;
    const G = 4 * H,
      R = stateSize(d);
    if (P > 0) f.fill(0, ms, ms + d.T * d.B * H); // m_t of a padded row stays 0: it adds nothing to dW_hr
    this.forwardThroughTime(d, (r, hprev, hcur) => {
      const row = gates + r * G,
        cprev = cs + r * H,
        ccur = cs + (r + d.B) * H;
      for (let g = 0; g < G; g++) {
        const pre = this.inputTerm(d, G, r, g) + f[bih + g] + this.dotT(hprev, whhTransposedPacked, R, G, g) + f[bhh + g];
        f[row + g] = g >= 2 * H && g < 3 * H ? Math.tanh(pre) : sigmoid(pre);
      }
      // without a projection o⊙tanh(c_t) is h_t itself; with one it is m_t, projected below
      const m = P > 0 ? ms + r * H : hcur;
      for (let j = 0; j < H; j++) {
        const c = f[row + H + j] * f[cprev + j] + f[row + j] * f[row + 2 * H + j];
        f[ccur + j] = c;
        f[m + j] = f[row + 3 * H + j] * Math.tanh(f[ccur + j]);
      }
      // projection: h_t = m_t·W_hrᵀ
      if (P > 0) for (let p = 0; p < P; p++) f[hcur + p] = this.dotT(m, whrTransposedPacked, H, P, p);
    });
  }

  lstmBackward(desc: Off): void {
    const f = this.f;
    const d = this.layer(desc);
    const { B, H, P, cs, gates, dh, dc, ms, dhp, whrPacked, dwhr } = d;
    const G = 4 * H,
      R = stateSize(d);
    // only δh_t is clipped: the carried ∂E/∂c_t (κ_t) enters the step as it is.
    // gm: ∂E/∂(o⊙tanh(c_t)), which is ∂E/∂h_t itself without a projection
    const unit = (r: number, b: number, j: number, gm: number): void => {
      const row = gates + r * G;
      const ig = f[row + j],
        fg = f[row + H + j],
        gg = f[row + 2 * H + j],
        og = f[row + 3 * H + j];
      // forward: f[m + j] = f[row + 3 * H + j] * Math.tanh(f[ccur + j])
      const tc = Math.tanh(f[cs + (r + B) * H + j]);
      const gc = f[dc + b * H + j] + gm * og * (1 - tc * tc); // ∂E/∂c_t
      // forward: c = f[row + H + j] * f[cprev + j] + f[row + j] * f[row + 2 * H + j]
      f[row + j] = gc * gg * ig * (1 - ig);
      f[row + H + j] = gc * f[cs + r * H + j] * fg * (1 - fg);
      f[row + 2 * H + j] = gc * ig * (1 - gg * gg);
      f[row + 3 * H + j] = gm * tc * og * (1 - og);
      f[dc + b * H + j] = gc * fg;
    };
    const padRow = (r: number) => {
      f.fill(0, gates + r * G, gates + (r + 1) * G);
      if (P > 0) f.fill(0, dhp + r * P, dhp + (r + 1) * P);
    };
    if (P === 0) {
      const step = (r: number, b: number, j: number, gh: number): void => {
        unit(r, b, j, gh);
        f[dh + b * H + j] = 0;
      };
      this.backThroughTime(d, G, gates, gates, step, padRow);
      return;
    }
    // projection: keep the clipped δh_t per step, then map it back through W_hr
    const keep = (r: number, b: number, p: number, gh: number): void => {
      f[dhp + r * P + p] = gh;
      f[dh + b * R + p] = 0;
    };
    const endRow = (r: number, b: number): void => {
      for (let j = 0; j < H; j++) {
        // forward: f[hcur + p] = this.dotT(m, whrTransposedPacked, H, P, p), so δm = δh_t·W_hr
        let gm = 0;
        for (let p = 0; p < P; p++) gm += f[dhp + r * P + p] * f[whrPacked + p * H + j];
        unit(r, b, j, gm);
      }
      // and dW_hr += δh_tᵀ·m_t
      for (let p = 0; p < P; p++) for (let j = 0; j < H; j++) f[dwhr + p * H + j] += f[dhp + r * P + p] * f[ms + r * H + j];
    };
    this.backThroughTime(d, G, gates, gates, keep, padRow, endRow);
  }

  // ---------------------------------------------------------------------------------------------
  // GRU: r, z = σ(·); n = tanh(a_n + r⊙(h·W_hnᵀ + b_hn)); h_t = (1 − z)⊙n + z⊙h_{t−1}

  gruForward(desc: Off): void {
    const f = this.f;
    const d = this.layer(desc);
    const { H, whhTransposedPacked, bih, bhh, gates, rn } = d;
    const G = 3 * H;
    this.forwardThroughTime(d, (r, hprev, hcur) => {
      const row = gates + r * G;
      const a = (g: number) => this.inputTerm(d, G, r, g) + f[bih + g];
      const R = (g: number) => this.dotT(hprev, whhTransposedPacked, H, G, g) + f[bhh + g];
      for (let j = 0; j < H; j++) {
        const rg = sigmoid(a(j) + R(j));
        const zg = sigmoid(a(H + j) + R(H + j));
        const rnv = R(2 * H + j);
        const ng = Math.tanh(a(2 * H + j) + rg * rnv);
        f[row + j] = rg;
        f[row + H + j] = zg;
        f[row + 2 * H + j] = ng;
        f[rn + r * H + j] = rnv;
        f[hcur + j] = (1 - zg) * ng + zg * f[hprev + j];
      }
    });
  }

  gruBackward(desc: Off): void {
    const f = this.f;
    const d = this.layer(desc);
    const { H, hs, gates, rn, dR, dh } = d;
    const G = 3 * H;
    const step = (r: number, b: number, j: number, gh: number): void => {
      const row = gates + r * G,
        rrow = dR + r * G;
      const rg = f[row + j],
        zg = f[row + H + j],
        ng = f[row + 2 * H + j];
      // forward: f[hcur + j] = (1 - zg) * ng + zg * f[hprev + j]; ng = Math.tanh(a(2 * H + j) + rg * rnv)
      const dn = gh * (1 - zg) * (1 - ng * ng);
      const dz = gh * (f[hs + r * H + j] - ng) * zg * (1 - zg);
      const dr = dn * f[rn + r * H + j] * rg * (1 - rg);
      f[row + j] = dr;
      f[row + H + j] = dz;
      f[row + 2 * H + j] = dn;
      f[rrow + j] = dr;
      f[rrow + H + j] = dz;
      f[rrow + 2 * H + j] = dn * rg;
      f[dh + b * H + j] = gh * zg;
    };
    const padRow = (r: number): void => {
      f.fill(0, gates + r * G, gates + (r + 1) * G);
      f.fill(0, dR + r * G, dR + (r + 1) * G);
    };
    this.backThroughTime(d, G, gates, dR, step, padRow);
  }

  // ---------------------------------------------------------------------------------------------
  // Head and losses

  headForward(R: number, H: number, O: number, h: Off, wTransposedPacked: Off, b: Off, y: Off): void {
    const f = this.f;
    // wTransposedPacked is [H,O]: y[r,o] = Σ_k h[r,k]·W[o,k] + b[o] with W[o,k] = wTransposedPacked[k,o]
    for (let r = 0; r < R; r++) {
      for (let o = 0; o < O; o++) {
        let s = f[b + o];
        for (let k = 0; k < H; k++) s += f[h + r * H + k] * f[wTransposedPacked + k * O + o];
        f[y + r * O + o] = s;
      }
    }
  }

  headBackward(R: number, H: number, O: number, h: Off, wPacked: Off, dy: Off, dw: Off, db: Off, dh: Off, _pack: Off): void {
    const f = this.f;
    for (let r = 0; r < R; r++) {
      for (let o = 0; o < O; o++) {
        const d = f[dy + r * O + o];
        f[db + o] += d;
        for (let k = 0; k < H; k++) f[dw + o * H + k] += d * f[h + r * H + k];
      }
      for (let k = 0; k < H; k++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += f[dy + r * O + o] * f[wPacked + o * H + k];
        f[dh + r * H + k] = s;
      }
    }
  }

  softmaxXent(R: number, O: number, logits: Off, targets: Off, weights: Off, classWeights: Off, dlogits: Off, io: Float64Array): void {
    const f = this.f,
      scale = io[0];
    let total = 0;
    for (let r = 0; r < R; r++) {
      const m = weights ? f[weights + r] : 1;
      const row = logits + r * O;
      const target = f[targets + r];
      const bad = m !== 0 && !idOk(target, O);
      if (bad) this.refused++;
      // row weight: the mask times the target's class weight (read only for a valid target)
      const w = m === 0 || bad ? 0 : classWeights ? m * f[classWeights + target] : m;
      if (w === 0) {
        if (dlogits) f.fill(0, dlogits + r * O, dlogits + (r + 1) * O);
        continue;
      }
      let mx = -Infinity;
      for (let o = 0; o < O; o++) mx = Math.max(mx, f[row + o]);
      let sum = 0;
      for (let o = 0; o < O; o++) sum += Math.exp(f[row + o] - mx);
      total += w * (mx + Math.log(sum) - f[row + target]);
      if (dlogits) {
        for (let o = 0; o < O; o++) {
          const prob = Math.exp(f[row + o] - mx) / sum;
          f[dlogits + r * O + o] = scale * w * (prob - (o === target ? 1 : 0));
        }
      }
    }
    io[0] = total * scale;
  }

  xentWeightTotal(R: number, O: number, targets: Off, weights: Off, classWeights: Off): number {
    const f = this.f;
    let total = 0;
    for (let r = 0; r < R; r++) {
      const m = weights ? f[weights + r] : 1;
      const target = f[targets + r];
      if (m === 0 || !idOk(target, O)) continue;
      total += m * (classWeights ? f[classWeights + target] : 1);
    }
    return total;
  }

  mse(R: number, O: number, pred: Off, targets: Off, weights: Off, dpred: Off, io: Float64Array): void {
    const f = this.f,
      scale = io[0];
    let total = 0;
    for (let r = 0; r < R; r++) {
      const w = weights ? f[weights + r] : 1;
      for (let o = 0; o < O; o++) {
        const diff = f[pred + r * O + o] - f[targets + r * O + o];
        total += w * diff * diff;
        if (dpred) f[dpred + r * O + o] = 2 * scale * w * diff;
      }
    }
    io[0] = total * scale;
  }

  // ---------------------------------------------------------------------------------------------
  // Norms and optimizer updates over n parallel floats

  sumSquares(n: number, g: Off, io: Float64Array): void {
    const f = this.f;
    let s = 0;
    for (let i = 0; i < n; i++) s += f[g + i] * f[g + i];
    io[0] = s;
  }

  scaleInplace(n: number, g: Off, io: Float64Array): void {
    const f = this.f,
      c = io[0];
    for (let i = 0; i < n; i++) f[g + i] *= c;
  }

  clampInplace(n: number, g: Off, v: number): number {
    const f = this.f;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (f[g + i] > v || f[g + i] < -v) {
        f[g + i] = f[g + i] > v ? v : -v;
        changed++;
      }
    }
    return changed;
  }

  // (the two long parameter lists are typed once, in kernels.ts)
  readonly sgdUpdate: Kernels['sgdUpdate'] = (n, p, g, buf, lr, momentum, dampening, nesterov, wd, first) => {
    const f = this.f;
    for (let i = 0; i < n; i++) {
      let d = f[g + i] + wd * f[p + i];
      if (momentum !== 0) {
        const b = first ? d : momentum * f[buf + i] + (1 - dampening) * d;
        f[buf + i] = b;
        d = nesterov ? d + momentum * b : b;
      }
      f[p + i] -= lr * d;
    }
  };

  readonly adamUpdate: Kernels['adamUpdate'] = (n, p, g, m, v, b1, omb1, b2, omb2, eps, stepSize, bc2Sqrt, l2, decay) => {
    const f = this.f;
    for (let i = 0; i < n; i++) {
      const d = f[g + i] + l2 * f[p + i];
      f[p + i] *= decay;
      f[m + i] = b1 * f[m + i] + omb1 * d;
      f[v + i] = b2 * f[v + i] + omb2 * d * d;
      f[p + i] -= stepSize * (f[m + i] / (Math.sqrt(f[v + i]) / bc2Sqrt + eps));
    }
  };

  rmspropUpdate(n: number, p: Off, g: Off, v: Off, lr: number, alpha: number, eps: number, wd: number): void {
    const f = this.f;
    for (let i = 0; i < n; i++) {
      const d = f[g + i] + wd * f[p + i];
      f[v + i] = alpha * f[v + i] + (1 - alpha) * d * d;
      f[p + i] -= (lr * d) / (Math.sqrt(f[v + i]) + eps);
    }
  }

  adagradUpdate(n: number, p: Off, g: Off, s: Off, lr: number, eps: number, wd: number): void {
    const f = this.f;
    for (let i = 0; i < n; i++) {
      const d = f[g + i] + wd * f[p + i];
      f[s + i] += d * d;
      f[p + i] -= (lr * d) / (Math.sqrt(f[s + i]) + eps);
    }
  }
}
