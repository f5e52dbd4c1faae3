// The network's data flow over one batch, backend-agnostic: batch → work arena → layer
// unrolls (loops over time inside the kernels) → head → loss → head backward → layer BPTT,
// top layer first → gradients in the parameter arena. Holds offsets only; the kernels do the math.
import type { Kernels } from '../backends/kernels.js';
import { InvalidArgumentError } from '../errors.js';
import { writeLayerDesc } from '../backends/layer-desc.js';
import { GATES, type ResolvedConfig } from './config.js';
import type { OwnedBatch } from './batch.js';
import type { ResolvedLoss } from './loss.js';
import { describeLayer, paramArenaSize, pointParams, pointWork, type ParamArena, type WorkArena } from './layout.js';

export class Network {
  readonly params: ParamArena;
  private work: WorkArena | null = null;
  private workBase = 0;
  private workCapacity = 0;
  private dirty = true;
  /**
   * Counts the writes of the weights. Every write must mark the packed copies stale, so counting
   * those marks tells a Trainer whether anyone else changed the weights since its last update.
   */
  weightsVersion = 0;
  /** the packed transposes no longer match the weights (set by any write to the parameters) */
  get packedDirty(): boolean {
    return this.dirty;
  }
  set packedDirty(v: boolean) {
    if (v) this.weightsVersion++;
    this.dirty = v;
  }
  private readonly packedSize: (K: number, N: number) => number;
  /** the last batch had a state mask (mask or lengths) */
  private masked = false;
  /** the last batch had a lossMask */
  private lossMasked = false;

  constructor(
    readonly cfg: ResolvedConfig,
    readonly k: Kernels,
  ) {
    const size = (K: number, N: number): number => k.packedSize(K, N);
    this.packedSize = size;
    this.params = pointParams(cfg, k.memory.alloc(paramArenaSize(cfg, size)), size);
  }

  get H(): number {
    return this.cfg.hiddenSize;
  }

  /** The work arena for T steps of B rows, reallocated only when it must grow. */
  prepare(T: number, B: number): WorkArena {
    if (this.work && this.work.T === T && this.work.B === B) return this.work;
    const need = pointWork(this.cfg, T, B, 0, this.packedSize).total;
    if (need > this.workCapacity) {
      // forget the old layout before freeing it: if the new arena is refused, no later call may
      // reuse offsets into freed memory
      this.work = null;
      if (this.workBase) this.k.memory.free(this.workBase);
      this.workBase = 0;
      this.workCapacity = 0;
      this.workBase = this.k.memory.alloc(need);
      this.workCapacity = need;
    }
    const w = pointWork(this.cfg, T, B, this.workBase, this.packedSize);
    for (let l = 0; l < this.cfg.numLayers; l++) writeLayerDesc(this.k, w.layers[l].desc, describeLayer(this.cfg, this.params, w, l));
    this.work = w;
    return w;
  }

  /** Writes a batch that was read and checked (only owned copies) into the work arena. */
  load(w: WorkArena, batch: OwnedBatch, withTargets: boolean): void {
    const f = this.k.memory.f;
    const { T, B } = w;
    const H = this.H,
      L = this.cfg.numLayers,
      BH = B * H;
    f.set(batch.x, w.x);
    const mask = batch.mask;
    this.masked = mask !== null;
    if (mask) f.set(mask, w.mask);
    for (let l = 0; l < L; l++) {
      const lw = w.layers[l];
      if (batch.h0) f.set(batch.h0.subarray(l * BH, (l + 1) * BH), lw.hs);
      else f.fill(0, lw.hs, lw.hs + BH);
      if (lw.cs) {
        if (batch.c0) f.set(batch.c0.subarray(l * BH, (l + 1) * BH), lw.cs);
        else f.fill(0, lw.cs, lw.cs + BH);
      }
    }
    this.lossMasked = withTargets && batch.lossMask !== null;
    if (this.lossMasked) {
      const lm = batch.lossMask!;
      for (let i = 0; i < T * B; i++) f[w.lossw + i] = (mask ? mask[i] : 1) * lm[i];
    }
    if (withTargets && batch.y) f.set(batch.y, w.targets);
  }

  /**
   * Re-packs every weight as the right operand of its products, once per change of the weights:
   * Wᵀ for the forward's X·Wᵀ, W for the backward's δ·W.
   */
  pack(): void {
    if (!this.packedDirty) return;
    const p = this.params,
      H = this.H,
      O = this.cfg.outputSize,
      G = GATES[this.cfg.cell] * H,
      k = this.k;
    for (const l of p.layers) {
      const I = l.inputSize;
      k.packPanels(I, G, l.wih, 1, I, l.wihTransposedPacked); // W_ihᵀ [I,G]
      k.packPanels(H, G, l.whh, 1, H, l.whhTransposedPacked); // W_hhᵀ [H,G]
      k.packPanels(G, I, l.wih, I, 1, l.wihPacked); // W_ih [G,I]
      k.packPanels(G, H, l.whh, H, 1, l.whhPacked); // W_hh [G,H]
    }
    k.packPanels(H, O, p.headW, 1, H, p.headWTransposedPacked);
    k.packPanels(O, H, p.headW, H, 1, p.headWPacked);
    this.packedDirty = false;
  }

  // (small helpers returning numbers, not objects: a training step allocates nothing in JS)

  /** Rows the head sees: every step (T·B) or the last (B). */
  headRowCount(w: WorkArena, at: 'every' | 'last'): number {
    return at === 'every' ? w.T * w.B : w.B;
  }

  /** Where the head's input rows start: h_1 … h_T, or h_T alone, of the top layer. */
  private headInput(w: WorkArena, at: 'every' | 'last'): number {
    const top = w.layers[w.layers.length - 1];
    return at === 'every' ? top.hs + w.B * this.H : top.hs + w.T * w.B * this.H;
  }

  forward(w: WorkArena, at: 'every' | 'last'): void {
    this.pack();
    const H = this.H,
      k = this.k;
    const mask = this.masked ? w.mask : 0;
    for (let l = 0; l < w.layers.length; l++) {
      const desc = w.layers[l].desc;
      k.setLayerField(desc, 'mask', mask);
      if (this.cfg.cell === 'rnn') k.rnnForward(desc);
      else if (this.cfg.cell === 'lstm') k.lstmForward(desc);
      else k.gruForward(desc);
    }
    this.checkIds('batch.x', this.cfg.inputSize);
    const R = this.headRowCount(w, at),
      h = this.headInput(w, at);
    k.headForward(R, H, this.cfg.outputSize, h, this.params.headWTransposedPacked, this.params.headB, w.y);
  }

  /** The loss of the last forward pass; with `grad`, also ∂loss/∂prediction into w.dy. */
  loss(w: WorkArena, loss: ResolvedLoss, realRows: number, grad: boolean): number {
    const O = this.cfg.outputSize;
    const R = this.headRowCount(w, loss.at);
    const weights = loss.at !== 'every' ? 0 : this.lossMasked ? w.lossw : this.masked ? w.mask : 0;
    const perRow = loss.loss === 'mse' ? O : 1;
    const scale = loss.reduction === 'sum' ? 1 : 1 / (realRows * perRow);
    const dy = grad ? w.dy : 0;
    if (loss.loss === 'mse') return this.k.mse(R, O, w.y, w.targets, weights, scale, dy);
    const value = this.k.softmaxXent(R, O, w.y, w.targets, weights, scale, dy);
    this.checkIds('batch.y', O);
    return value;
  }

  /**
   * The kernels' own count of refused ids (the second line of defense behind the batch reader):
   * nonzero only if an id changed after it was checked, and then no weight may be updated.
   */
  private checkIds(argument: string, n: number): void {
    const refused = this.k.takeIdErrors();
    if (refused !== 0) {
      throw new InvalidArgumentError(
        argument,
        `integer ids in [0, ${n - 1}]`,
        `${refused} outside it, refused by the ${this.k.name} kernels (nothing was written for them)`,
      );
    }
  }

  /**
   * Full BPTT of the last forward pass from ∂loss/∂prediction in w.dy: parameter gradients
   * (overwritten), ∂E/∂h_0 (and ∂E/∂c_0) per layer in w.layers[l].dh / .dc, and with
   * `diagnostics` ‖∂E/∂h_t‖ per layer and step in w.layers[l].dhnorm. With clipHiddenNorm θ > 0
   * every layer's loop clips each row's ∂E/∂h_t to norm θ (docs/equations.md#per-timestep-clipping):
   * the gradients are then those of that definition, no longer the exact ones.
   */
  backward(w: WorkArena, at: 'every' | 'last', diagnostics = false, clipHiddenNorm = 0): void {
    this.beginBackward(w, at, true);
    this.backwardLayers(w, diagnostics, clipHiddenNorm, 0);
  }

  /**
   * The first half of a backward pass: zeroes the parameter gradients and every layer's carried
   * ∂E/∂h_T (and ∂E/∂c_T), and writes ∂E/∂(top layer's outputs) into topGrad(w): the head's
   * backward from w.dy with `fromHead`, zeros without. Callers may add to both before
   * backwardLayers (Model.backward adds the user's ∂E/∂outputs and ∂E/∂(final states)).
   */
  beginBackward(w: WorkArena, at: 'every' | 'last', fromHead: boolean): void {
    const { T, B } = w;
    const H = this.H,
      k = this.k,
      p = this.params,
      L = this.cfg.numLayers;
    k.memory.zero(p.base + p.P, p.P);
    const top = this.topGrad(w);
    if (fromHead) {
      const R = this.headRowCount(w, at),
        h = this.headInput(w, at);
      if (at === 'last') k.memory.zero(top, (T - 1) * B * H);
      k.headBackward(
        R,
        H,
        this.cfg.outputSize,
        h,
        p.headWPacked,
        w.dy,
        p.dheadW,
        p.dheadB,
        at === 'every' ? top : top + (T - 1) * B * H,
        w.pack,
      );
    } else {
      k.memory.zero(top, T * B * H);
    }
    for (let l = 0; l < L; l++) {
      const lw = w.layers[l];
      k.memory.zero(lw.dh, B * H);
      if (lw.dc) k.memory.zero(lw.dc, B * H);
    }
  }

  /** Where ∂E/∂(top layer's outputs) [T,B,H] lives between beginBackward and backwardLayers. */
  topGrad(w: WorkArena): number {
    return w.layers[w.layers.length - 1].dhs;
  }

  /** The top layer's outputs h_1 … h_T [T,B,H] of the last forward pass. */
  topOutputs(w: WorkArena): number {
    return w.layers[w.layers.length - 1].hs + w.B * this.H;
  }

  /** The last batch had a state mask; its rows [T,B] are at w.mask. */
  get isMasked(): boolean {
    return this.masked;
  }

  /**
   * The second half: every layer's BPTT, top layer first, from the seeds beginBackward laid out.
   * dx0 ≠ 0 receives ∂E/∂x [T,B,I] of layer 0's dense input (δA·W_ih, the transpose of the
   * forward's input product); 0 skips it.
   */
  backwardLayers(w: WorkArena, diagnostics: boolean, clipHiddenNorm: number, dx0: number): void {
    const k = this.k;
    const mask = this.masked ? w.mask : 0;
    for (let l = w.layers.length - 1; l >= 0; l--) {
      const lw = w.layers[l],
        desc = lw.desc;
      k.setLayerField(desc, 'mask', mask);
      k.setLayerField(desc, 'dhnorm', diagnostics ? lw.dhnorm : 0);
      k.setLayerField(desc, 'clipHiddenNorm', clipHiddenNorm);
      if (l === 0) k.setLayerField(desc, 'dx', dx0);
      if (this.cfg.cell === 'rnn') k.rnnBackward(desc);
      else if (this.cfg.cell === 'lstm') k.lstmBackward(desc);
      else k.gruBackward(desc);
    }
    this.checkIds('batch.x', this.cfg.inputSize);
  }

  /** The final states [L,B,H] of the last forward pass, copied out. */
  finalStates(w: WorkArena): { hN: Float32Array | Float64Array; cN: Float32Array | Float64Array | null } {
    const f = this.k.memory.f;
    const { T, B } = w;
    const H = this.H,
      L = this.cfg.numLayers;
    const make = (n: number) => (f instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
    const hN = make(L * B * H);
    const cN = this.cfg.cell === 'lstm' ? make(L * B * H) : null;
    for (let l = 0; l < L; l++) {
      const lw = w.layers[l];
      hN.set(f.subarray(lw.hs + T * B * H, lw.hs + (T + 1) * B * H), l * B * H);
      if (cN) cN.set(f.subarray(lw.cs + T * B * H, lw.cs + (T + 1) * B * H), l * B * H);
    }
    return { hN, cN };
  }

  /** Copies each layer's state after `j` steps of the last forward pass into h [L,B,H] (and c). */
  statesAt(w: WorkArena, j: number, h: Float32Array | Float64Array, c: Float32Array | Float64Array | null): void {
    const f = this.k.memory.f;
    const BH = w.B * this.H;
    for (let l = 0; l < this.cfg.numLayers; l++) {
      const lw = w.layers[l];
      h.set(f.subarray(lw.hs + j * BH, lw.hs + (j + 1) * BH), l * BH);
      if (c && lw.cs) c.set(f.subarray(lw.cs + j * BH, lw.cs + (j + 1) * BH), l * BH);
    }
  }

  dispose(): void {
    if (this.workBase) this.k.memory.free(this.workBase);
    this.k.memory.free(this.params.base);
    this.workBase = 0;
    this.work = null;
  }
}
