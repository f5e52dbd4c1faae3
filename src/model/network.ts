// The network's data flow over one batch, backend-agnostic: batch → work arena → (embedding) →
// layer unrolls (loops over time inside the kernels; a bidirectional layer runs the same kernel
// a second time over each sequence reversed within its length) → (dropout between layers) →
// head → loss → head backward → layer BPTT, top layer first → gradients in the parameter arena.
// Holds offsets only; the kernels do the recurrent math, and the cell kernels are called from two
// methods only (cellForward, cellBackward).
import type { Kernels } from '../backends/kernels.js';
import { InvalidArgumentError } from '../errors.js';
import { writeLayerDesc } from '../backends/layer-desc.js';
import { directions, GATES, stateSize, type ResolvedConfig } from './config.js';
import type { OwnedBatch } from './batch.js';
import type { ResolvedLoss } from './loss.js';
import { describeLayer, paramArenaSize, pointParams, pointWork, readsIds, type ParamArena, type WorkArena } from './layout.js';
import type { Rng } from './rng.js';

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
  private readonly weightGradScratch: (K: number, M: number, N: number) => number;
  /** the last batch had a state mask (mask or lengths) */
  private masked = false;
  /** the last batch had a lossMask */
  private lossMasked = false;
  /** 1, or 2 for a bidirectional stack */
  readonly D: 1 | 2;
  /** real steps per sequence of the last batch [B] (bidirectional: where each reversal starts) */
  private lens = new Int32Array(0);
  /** the last forward pass dropped its layers' inputs (training with dropout): backward masks too */
  private dropping = false;

  constructor(
    readonly cfg: ResolvedConfig,
    readonly k: Kernels,
  ) {
    const size = (K: number, N: number): number => k.packedSize(K, N);
    this.weightGradScratch = (K: number, M: number, N: number): number => k.weightGradScratch(K, M, N);
    this.params = pointParams(cfg, k.memory.alloc(paramArenaSize(cfg, size)), size);
    this.D = directions(cfg);
    // the zero biases of bias: false are read by every layer and never written
    if (this.params.noBias) k.memory.zero(this.params.noBias, GATES[cfg.cell] * cfg.hiddenSize);
  }

  get H(): number {
    return this.cfg.hiddenSize;
  }

  /** The size of h per direction (and of a layer's output): projSize with an LSTM projection, else H. */
  get R(): number {
    return stateSize(this.cfg);
  }

  /** The work arena for T steps of B rows, reallocated only when it must grow. */
  prepare(T: number, B: number): WorkArena {
    if (this.work && this.work.T === T && this.work.B === B) return this.work;
    const need = pointWork(this.cfg, T, B, 0, this.weightGradScratch).total;
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
    const w = pointWork(this.cfg, T, B, this.workBase, this.weightGradScratch);
    for (let i = 0; i < w.layers.length; i++) writeLayerDesc(this.k, w.layers[i].desc, describeLayer(this.cfg, this.params, w, i));
    this.work = w;
    return w;
  }

  /** Writes a batch that was read and checked (only owned copies) into the work arena. */
  load(w: WorkArena, batch: OwnedBatch, withTargets: boolean): void {
    const f = this.k.memory.f;
    const { T, B } = w;
    const LD = this.cfg.numLayers * this.D,
      BH = B * this.H,
      BR = B * this.R;
    f.set(batch.x, w.x);
    const mask = batch.mask;
    this.masked = mask !== null;
    if (mask) f.set(mask, w.mask);
    // h0 [L·D,B,R] and c0 [L·D,B,H] in PyTorch's order: layer 0 forward, layer 0 reverse, layer 1 …
    for (let i = 0; i < LD; i++) {
      const lw = w.layers[i];
      if (batch.h0) f.set(batch.h0.subarray(i * BR, (i + 1) * BR), lw.hs);
      else f.fill(0, lw.hs, lw.hs + BR);
      if (lw.cs) {
        if (batch.c0) f.set(batch.c0.subarray(i * BH, (i + 1) * BH), lw.cs);
        else f.fill(0, lw.cs, lw.cs + BH);
      }
    }
    if (this.D === 2) this.loadLengths(w, mask);
    this.lossMasked = withTargets && batch.lossMask !== null;
    if (this.lossMasked) {
      const lm = batch.lossMask!;
      for (let i = 0; i < T * B; i++) f[w.lossw + i] = (mask ? mask[i] : 1) * lm[i];
    }
    if (withTargets && batch.y) f.set(batch.y, w.targets);
  }

  /**
   * Bidirectional: each sequence's real length n_b (a prefix mask, checked by the batch reader)
   * and the reverse direction's state mask, whose real steps are again a prefix: reversed within
   * its length, sequence b is x_{n_b−1} … x_0 followed by padding, as pack_padded_sequence runs it.
   */
  private loadLengths(w: WorkArena, mask: ArrayLike<number> | null): void {
    const { T, B } = w;
    if (this.lens.length !== B) this.lens = new Int32Array(B);
    const lens = this.lens;
    for (let b = 0; b < B; b++) {
      let n = T;
      if (mask) {
        n = 0;
        for (let t = 0; t < T; t++) n += mask[t * B + b];
      }
      lens[b] = n;
    }
    if (mask) {
      const f = this.k.memory.f;
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) f[w.maskRev + t * B + b] = t < lens[b] ? 1 : 0;
    }
  }

  /**
   * Re-packs every weight as the right operand of its products, once per change of the weights:
   * Wᵀ for the forward's X·Wᵀ, W for the backward's δ·W.
   */
  pack(): void {
    if (!this.packedDirty) return;
    const p = this.params,
      H = this.H,
      R = this.R,
      Pj = this.cfg.projSize,
      O = this.cfg.outputSize,
      G = GATES[this.cfg.cell] * H,
      k = this.k;
    // indexed loops, not for…of: an array iterator that V8 does not optimise away is an object per step
    for (let i = 0; i < p.layers.length; i++) {
      const l = p.layers[i],
        I = l.inputSize;
      k.packPanels(I, G, l.wih, 1, I, l.wihTransposedPacked); // W_ihᵀ [I,G]
      k.packPanels(R, G, l.whh, 1, R, l.whhTransposedPacked); // W_hhᵀ [R,G]
      k.packPanels(G, I, l.wih, I, 1, l.wihPacked); // W_ih [G,I]
      k.packPanels(G, R, l.whh, R, 1, l.whhPacked); // W_hh [G,R]
      if (Pj > 0) {
        k.packPanels(H, Pj, l.whr, 1, H, l.whrTransposedPacked); // W_hrᵀ [H,P]
        k.packPanels(Pj, H, l.whr, H, 1, l.whrPacked); // W_hr [P,H]
      }
    }
    const DH = this.D * R;
    k.packPanels(DH, O, p.headW, 1, DH, p.headWTransposedPacked);
    k.packPanels(O, DH, p.headW, DH, 1, p.headWPacked);
    this.packedDirty = false;
  }

  // (small helpers returning numbers, not objects: a training step allocates nothing in JS)

  /**
   * Where layer l reads its input: the batch (or its embedding) for l = 0; above, the output of
   * layer l − 1 [T,B,DH], or its dropped copy when this pass drops.
   */
  private layerX(w: WorkArena, l: number): number {
    if (l === 0) return w.emb || w.x;
    return this.dropping ? w.dropped[l] : w.outs[l - 1];
  }

  /** Floats per step and sequence of layer l's input as stored (1 for ids). */
  private layerWidth(l: number): number {
    return l === 0 && readsIds(this.cfg) ? 1 : this.params.layers[l * this.D].inputSize;
  }

  /** Rows the head sees: every step (T·B) or the last (B). */
  headRowCount(w: WorkArena, at: 'every' | 'last'): number {
    return at === 'every' ? w.T * w.B : w.B;
  }

  /**
   * Where the head's input rows start: the top layer's outputs at every step, or at 'last' its
   * final states (one direction: h_T of the top layer; two: both directions' final states side
   * by side, PyTorch's cat(h_n[−2], h_n[−1])).
   */
  private headInput(w: WorkArena, at: 'every' | 'last'): number {
    const L = this.cfg.numLayers;
    if (at === 'every') return w.outs[L - 1];
    return this.D === 1 ? w.layers[L - 1].hs + w.T * w.B * this.R : w.last;
  }

  /** ∂E/∂(output of layer l) lives in one of two buffers, alternating from the top layer down. */
  private dhsOf(w: WorkArena, l: number): number {
    return (this.cfg.numLayers - 1 - l) % 2 === 0 ? w.dhsA : w.dhsB;
  }

  /**
   * The forward pass. `dropout`: the generator of this pass's dropout masks, for a training pass
   * of a model with dropout > 0 (null: evaluation, no dropout).
   */
  forward(w: WorkArena, at: 'every' | 'last', dropout: Rng | null = null): void {
    this.pack();
    const L = this.cfg.numLayers;
    this.dropping = dropout !== null && this.cfg.dropout > 0 && L > 1;
    if (w.emb) this.embed(w);
    const mask = this.masked ? w.mask : 0;
    const maskRev = this.masked ? w.maskRev : 0;
    for (let l = 0; l < L; l++) {
      const x = this.layerX(w, l);
      this.cellForward(w, l * this.D, x, mask);
      if (this.D === 2) {
        this.reverseRows(w, x, this.layerWidth(l), w.xrev);
        this.cellForward(w, l * 2 + 1, w.xrev, maskRev);
        this.joinDirections(w, l);
      }
      if (this.dropping && l + 1 < L) this.drop(w, l + 1, dropout!);
    }
    this.checkIds('batch.x', this.cfg.inputSize);
    if (this.D === 2 && at === 'last') this.joinFinalStates(w);
    const R = this.headRowCount(w, at),
      h = this.headInput(w, at);
    this.k.headForward(R, this.D * this.R, this.cfg.outputSize, h, this.params.headWTransposedPacked, this.params.headB, w.y);
  }

  /**
   * One direction (index i = l·D + d) of one layer over the T steps, reading x and the state
   * mask: the only forward call of the cell kernels. The rest of its descriptor was written with
   * the layout.
   */
  private cellForward(w: WorkArena, i: number, x: number, mask: number): void {
    const k = this.k,
      desc = w.layers[i].desc;
    k.setLayerField(desc, 'x', x);
    k.setLayerField(desc, 'mask', mask);
    if (this.cfg.cell === 'rnn') k.rnnForward(desc);
    else if (this.cfg.cell === 'lstm') k.lstmForward(desc);
    else k.gruForward(desc);
  }

  /**
   * One direction's BPTT (index i = l·D + d): the only backward call of the cell kernels. dhs
   * [T,B,H] is ∂E/∂(its h_1 … h_T) (the RNN kernel overwrites it), dx ≠ 0 receives ∂E/∂x.
   */
  private cellBackward(
    w: WorkArena,
    i: number,
    x: number,
    mask: number,
    dhs: number,
    dx: number,
    diagnostics: boolean,
    clipHiddenNorm: number,
  ): void {
    const k = this.k,
      lw = w.layers[i],
      desc = lw.desc;
    k.setLayerField(desc, 'x', x);
    k.setLayerField(desc, 'mask', mask);
    k.setLayerField(desc, 'dhs', dhs);
    k.setLayerField(desc, 'dx', dx);
    k.setLayerField(desc, 'dhnorm', diagnostics ? lw.dhnorm : 0);
    k.setLayerField(desc, 'clipHiddenNorm', clipHiddenNorm);
    if (this.cfg.cell === 'rnn') k.rnnBackward(desc);
    else if (this.cfg.cell === 'lstm') k.lstmBackward(desc);
    else k.gruBackward(desc);
  }

  /**
   * dst[j,b] = src[n_b − 1 − j, b] for j < n_b, 0 beyond: each sequence's rows (`width` floats)
   * reversed within its real length. Applied twice it restores the real rows.
   */
  private reverseRows(w: WorkArena, src: number, width: number, dst: number): void {
    const f = this.k.memory.f;
    const { T, B } = w;
    const lens = this.lens;
    for (let b = 0; b < B; b++) {
      const n = lens[b];
      for (let j = 0; j < T; j++) {
        const to = dst + (j * B + b) * width;
        if (j < n) f.copyWithin(to, src + ((n - 1 - j) * B + b) * width, src + ((n - 1 - j) * B + b + 1) * width);
        else f.fill(0, to, to + width);
      }
    }
  }

  /**
   * A bidirectional layer's output [T,B,2H]: at step t the forward direction's h_{t+1} beside
   * the reverse direction's output for step t (its h after n_b − t reversed steps); padded steps
   * hold the forward direction's carried state and zeros.
   */
  private joinDirections(w: WorkArena, l: number): void {
    const f = this.k.memory.f;
    const { T, B } = w;
    const H = this.R,
      out = w.outs[l],
      fwd = w.layers[l * 2].hs,
      rev = w.layers[l * 2 + 1].hs;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const n = this.lens[b],
          o = out + (t * B + b) * 2 * H;
        f.copyWithin(o, fwd + ((t + 1) * B + b) * H, fwd + ((t + 1) * B + b + 1) * H);
        if (t < n) f.copyWithin(o + H, rev + ((n - t) * B + b) * H, rev + ((n - t) * B + b + 1) * H);
        else f.fill(0, o + H, o + 2 * H);
      }
    }
  }

  /** The head's input at 'last' of a bidirectional stack [B,2H]: the top layer's two final states. */
  private joinFinalStates(w: WorkArena): void {
    const f = this.k.memory.f;
    const { T, B } = w;
    const H = this.R,
      L = this.cfg.numLayers;
    for (let d = 0; d < 2; d++) {
      const hT = w.layers[(L - 1) * 2 + d].hs + T * B * H;
      for (let b = 0; b < B; b++) f.copyWithin(w.last + b * 2 * H + d * H, hT + b * H, hT + (b + 1) * H);
    }
  }

  /**
   * Inverted dropout on the output of layer l − 1 as it enters layer l: each value kept with
   * probability 1 − p and scaled by 1/(1 − p), else 0; the mask is kept for the backward pass.
   */
  private drop(w: WorkArena, l: number, rng: Rng): void {
    const f = this.k.memory.f;
    const p = this.cfg.dropout,
      scale = 1 / (1 - p);
    const n = w.T * w.B * this.D * this.R,
      y = w.outs[l - 1],
      m = w.dropMask[l],
      x = w.dropped[l];
    for (let i = 0; i < n; i++) {
      const keep = rng.next() < p ? 0 : scale;
      f[m + i] = keep;
      f[x + i] = f[y + i] * keep;
    }
  }

  /** Embedding: row id of embedding.weight [V,E] for every step and sequence, into w.emb [T,B,E]. */
  private embed(w: WorkArena): void {
    const f = this.k.memory.f;
    const E = this.cfg.embeddingSize,
      V = this.cfg.inputSize,
      table = this.params.embedding;
    let refused = 0;
    for (let r = 0; r < w.T * w.B; r++) {
      const id = f[w.x + r];
      if (!(id >= 0 && id < V && Number.isInteger(id))) {
        refused++;
        f.fill(0, w.emb + r * E, w.emb + (r + 1) * E);
      } else f.copyWithin(w.emb + r * E, table + id * E, table + (id + 1) * E);
    }
    if (refused) throw new InvalidArgumentError('batch.x', `integer ids in [0, ${V - 1}]`, `${refused} outside it`);
  }

  /** The loss of the last forward pass; with `grad`, also ∂loss/∂prediction into w.dy. */
  /**
   * The loss of the last forward pass into `into[0]` (a double returned from a call that is not
   * inlined is boxed on the heap: a training step returns its numbers through typed arrays).
   */
  loss(w: WorkArena, loss: ResolvedLoss, realRows: number, grad: boolean, into: Float64Array): void {
    const O = this.cfg.outputSize;
    const R = this.headRowCount(w, loss.at);
    const weights = loss.at !== 'every' ? 0 : this.lossMasked ? w.lossw : this.masked ? w.mask : 0;
    const dy = grad ? w.dy : 0;
    if (loss.loss === 'mse') {
      this.mse(w, R, O, weights, loss.reduction === 'sum' ? 0 : realRows * O, dy, into);
      return;
    }
    const cw = loss.classWeights;
    if (!cw) {
      this.xent(w, R, O, weights, 0, loss.reduction === 'sum' ? 0 : realRows, dy, into);
      return;
    }
    this.k.memory.f.set(cw, w.classw);
    let count = 0;
    if (loss.reduction === 'mean') {
      // PyTorch's weighted mean: divided by the total weight of the counted rows' classes
      const total = this.k.xentWeightTotal(R, O, w.targets, weights, w.classw);
      if (!(total > 0))
        throw new InvalidArgumentError(
          'batch.y',
          'at least one counted target of a class with a weight above 0 (the weighted mean divides by their total weight)',
          'only targets of classes that weigh 0',
        );
      count = total;
    }
    this.xent(w, R, O, weights, w.classw, count, dy, into);
  }

  // Each loss in a method of its own: inlined into loss() after the other branch had run there
  // (a cross-entropy model trained first in the process), the Wasm call's result was boxed on
  // every step.

  /** The MSE loss into into[0], divided by `count` unless 0. */
  private mse(w: WorkArena, R: number, O: number, weights: number, count: number, dy: number, into: Float64Array): void {
    into[0] = count === 0 ? 1 : 1 / count;
    this.k.mse(R, O, w.y, w.targets, weights, dy, into);
  }

  /** The (class-weighted) cross-entropy into into[0], divided by `count` unless 0; checks the ids. */
  private xent(
    w: WorkArena,
    R: number,
    O: number,
    weights: number,
    classWeights: number,
    count: number,
    dy: number,
    into: Float64Array,
  ): void {
    into[0] = count === 0 ? 1 : 1 / count;
    this.k.softmaxXent(R, O, w.y, w.targets, weights, classWeights, dy, into);
    this.checkIds('batch.y', O);
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
   * (overwritten), ∂E/∂h_0 (and ∂E/∂c_0) per layer and direction in w.layers[i].dh / .dc, and with
   * `diagnostics` ‖∂E/∂h_t‖ per layer, direction and step in w.layers[i].dhnorm. With clipHiddenNorm θ > 0
   * every direction's loop clips each row's ∂E/∂h_t to norm θ (docs/equations.md#per-timestep-clipping):
   * the gradients are then those of that definition, no longer the exact ones.
   */
  backward(w: WorkArena, at: 'every' | 'last', diagnostics = false, clipHiddenNorm = 0): void {
    this.beginBackward(w, at, true);
    this.backwardLayers(w, diagnostics, clipHiddenNorm, 0);
  }

  /**
   * The first half of a backward pass: zeroes the parameter gradients and every layer's carried
   * ∂E/∂h_T (and ∂E/∂c_T), and writes ∂E/∂(top layer's outputs) into topGrad(w): the head's
   * backward from w.dy with `fromHead`, zeros without (a bidirectional head at 'last' seeds the
   * top layer's ∂E/∂h_T instead). Callers may add to both before backwardLayers (Model.backward
   * adds the user's ∂E/∂outputs and ∂E/∂(final states)).
   */
  beginBackward(w: WorkArena, at: 'every' | 'last', fromHead: boolean): void {
    const { T, B } = w;
    const H = this.R,
      D = this.D,
      k = this.k,
      p = this.params,
      L = this.cfg.numLayers;
    k.memory.zero(p.base + p.P, p.P);
    if (p.noBiasGrad) k.memory.zero(p.noBiasGrad, GATES[this.cfg.cell] * this.H);
    for (let i = 0; i < w.layers.length; i++) {
      const lw = w.layers[i];
      k.memory.zero(lw.dh, B * H);
      if (lw.dc) k.memory.zero(lw.dc, B * this.H);
    }
    const top = this.dhsOf(w, L - 1);
    if (!fromHead) {
      k.memory.zero(top, T * B * D * H);
      return;
    }
    const R = this.headRowCount(w, at),
      h = this.headInput(w, at);
    if (D === 1) {
      if (at === 'last') k.memory.zero(top, (T - 1) * B * H);
      const dh = at === 'every' ? top : top + (T - 1) * B * H;
      k.headBackward(R, H, this.cfg.outputSize, h, p.headWPacked, w.dy, p.dheadW, p.dheadB, dh, w.pack);
      return;
    }
    if (at === 'every') {
      k.headBackward(R, 2 * H, this.cfg.outputSize, h, p.headWPacked, w.dy, p.dheadW, p.dheadB, top, w.pack);
      return;
    }
    // at 'last' the head read both final states: its gradient seeds each direction's ∂E/∂h_T
    k.memory.zero(top, T * B * 2 * H);
    k.headBackward(R, 2 * H, this.cfg.outputSize, h, p.headWPacked, w.dy, p.dheadW, p.dheadB, w.dLast, w.pack);
    const f = k.memory.f;
    for (let d = 0; d < 2; d++) {
      const dh = w.layers[(L - 1) * 2 + d].dh;
      for (let b = 0; b < B; b++) f.copyWithin(dh + b * H, w.dLast + b * 2 * H + d * H, w.dLast + b * 2 * H + (d + 1) * H);
    }
  }

  /** Where ∂E/∂(top layer's outputs) [T,B,DH] lives between beginBackward and backwardLayers. */
  topGrad(w: WorkArena): number {
    return this.dhsOf(w, this.cfg.numLayers - 1);
  }

  /** The top layer's outputs [T,B,DH] of the last forward pass. */
  topOutputs(w: WorkArena): number {
    return w.outs[this.cfg.numLayers - 1];
  }

  /** The last batch had a state mask; its rows [T,B] are at w.mask. */
  get isMasked(): boolean {
    return this.masked;
  }

  /**
   * The second half: every layer's BPTT, top layer first, from the seeds beginBackward laid out.
   * dx0 ≠ 0 receives ∂E/∂x [T,B,I] of layer 0's dense input (δA·W_ih, the transpose of the
   * forward's input product); 0 skips it. A bidirectional layer splits ∂E/∂(its output) into its
   * two directions, runs each one's BPTT (the reverse one in reversed time) and adds their ∂E/∂x.
   */
  backwardLayers(w: WorkArena, diagnostics: boolean, clipHiddenNorm: number, dx0: number): void {
    const L = this.cfg.numLayers,
      D = this.D;
    const mask = this.masked ? w.mask : 0;
    const maskRev = this.masked ? w.maskRev : 0;
    for (let l = L - 1; l >= 0; l--) {
      const x = this.layerX(w, l);
      const dY = this.dhsOf(w, l);
      // ∂E/∂(this layer's input): the layer below's output gradient, the embedding's, or ∂E/∂x
      const dx = l > 0 ? this.dhsOf(w, l - 1) : w.demb || dx0;
      if (D === 1) {
        this.cellBackward(w, l, x, mask, dY, dx, diagnostics, clipHiddenNorm);
      } else {
        this.splitDirections(w, dY);
        this.cellBackward(w, l * 2, x, mask, w.dFwd, dx, diagnostics, clipHiddenNorm);
        const width = this.layerWidth(l);
        this.reverseRows(w, x, width, w.xrev);
        this.cellBackward(w, l * 2 + 1, w.xrev, maskRev, w.dRev, dx ? w.dxrev : 0, diagnostics, clipHiddenNorm);
        if (dx) this.addReversed(w, w.dxrev, width, dx);
      }
      if (l > 0 && this.dropping) this.undrop(w, l, dx);
    }
    this.checkIds('batch.x', this.cfg.inputSize);
    if (w.demb) this.scatterEmbedding(w);
  }

  /**
   * ∂E/∂(a bidirectional layer's output) [T,B,2H] into each direction's ∂E/∂h: the first halves
   * as they are, the second halves reversed within each sequence's length (the reverse
   * direction's time order); the zeros of padded steps take no gradient.
   */
  private splitDirections(w: WorkArena, dY: number): void {
    const f = this.k.memory.f;
    const { T, B } = w;
    const H = this.R;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const n = this.lens[b],
          r = t * B + b,
          src = dY + r * 2 * H;
        f.copyWithin(w.dFwd + r * H, src, src + H);
        if (t < n) {
          const from = dY + ((n - 1 - t) * B + b) * 2 * H + H;
          f.copyWithin(w.dRev + r * H, from, from + H);
        } else f.fill(0, w.dRev + r * H, w.dRev + (r + 1) * H);
      }
    }
  }

  /** dst[t,b] += src[n_b − 1 − t, b] for t < n_b: the reverse direction's ∂E/∂x back in time order. */
  private addReversed(w: WorkArena, src: number, width: number, dst: number): void {
    const f = this.k.memory.f;
    const { B } = w;
    for (let b = 0; b < B; b++) {
      const n = this.lens[b];
      for (let t = 0; t < n; t++) {
        const to = dst + (t * B + b) * width,
          from = src + ((n - 1 - t) * B + b) * width;
        for (let j = 0; j < width; j++) f[to + j] += f[from + j];
      }
    }
  }

  /** ∂E/∂(output of layer l − 1) = ∂E/∂(its dropped copy) ⊙ the same mask, in place. */
  private undrop(w: WorkArena, l: number, d: number): void {
    const f = this.k.memory.f;
    const m = w.dropMask[l],
      n = w.T * w.B * this.D * this.R;
    for (let i = 0; i < n; i++) f[d + i] *= f[m + i];
  }

  /** ∂E/∂embedding.weight: every step's ∂E/∂(embedded row) added to the row of its id. */
  private scatterEmbedding(w: WorkArena): void {
    const f = this.k.memory.f;
    const E = this.cfg.embeddingSize,
      dtable = this.params.dembedding;
    for (let r = 0; r < w.T * w.B; r++) {
      const at = dtable + f[w.x + r] * E,
        from = w.demb + r * E;
      for (let j = 0; j < E; j++) f[at + j] += f[from + j];
    }
  }

  /**
   * The final states [L·D,B,H] of the last forward pass, copied out (PyTorch's order: layer 0
   * forward, layer 0 reverse, …; the reverse direction's final state is the one after step 0).
   */
  finalStates(w: WorkArena): { hN: Float32Array | Float64Array; cN: Float32Array | Float64Array | null } {
    const f = this.k.memory.f;
    const { T, B } = w;
    const H = this.H,
      R = this.R,
      L = this.cfg.numLayers * this.D;
    const make = (n: number) => (f instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
    const hN = make(L * B * R);
    const cN = this.cfg.cell === 'lstm' ? make(L * B * H) : null;
    for (let l = 0; l < L; l++) {
      const lw = w.layers[l];
      hN.set(f.subarray(lw.hs + T * B * R, lw.hs + (T + 1) * B * R), l * B * R);
      if (cN) cN.set(f.subarray(lw.cs + T * B * H, lw.cs + (T + 1) * B * H), l * B * H);
    }
    return { hN, cN };
  }

  /** Copies each layer's state after `j` steps of the last forward pass into h [L,B,H] (and c); unidirectional only. */
  statesAt(w: WorkArena, j: number, h: Float32Array | Float64Array, c: Float32Array | Float64Array | null): void {
    const f = this.k.memory.f;
    const BH = w.B * this.H,
      BR = w.B * this.R;
    for (let l = 0; l < this.cfg.numLayers; l++) {
      const lw = w.layers[l];
      h.set(f.subarray(lw.hs + j * BR, lw.hs + (j + 1) * BR), l * BR);
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
