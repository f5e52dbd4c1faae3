// The Wasm backend: element offsets become byte pointers (×4) and go straight to the core.
import type { Core, CoreExports } from '../runtime/core.js';
import { MemoryLimitError } from '../errors.js';
import { Lifetime } from '../runtime/lifetime.js';
import { WasmMemory } from '../runtime/memory.js';
import type { Kernels, Off } from './kernels.js';
import { storeLayerField, type LayerDescField } from './layer-desc.js';
import { LAYER_DESC } from '../runtime/layer-desc.generated.js';

const ptr = (o: Off): number => o * 4;

export class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  readonly memory: WasmMemory;
  readonly lifetime: Lifetime;
  private readonly e: CoreExports;

  constructor(readonly core: Core) {
    this.e = core.exports;
    // a core built by hand (not by instantiateCore) has no lifetime of its own to chain to
    this.lifetime = core.lifetime ?? new Lifetime('the core');
    this.memory = new WasmMemory(core.exports);
  }

  /** packed_size computed in doubles: the core's i32 would wrap for absurd sizes (then refused by alloc). */
  packedSize(K: number, N: number): number {
    return K * (Math.ceil(N / 8) * 8);
  }
  /** The core's size (its block height is the core's fact); a negative (wrapped) size is refused. */
  weightGradScratch(K: number, M: number, N: number): number {
    const n = this.e.weight_grad_scratch_size(K, M, N);
    if (n < 0) throw new MemoryLimitError(`the weight-gradient scratch for ${K}×${M}×${N} exceeds the core's 32-bit sizes`);
    return n;
  }
  packPanels(K: number, N: number, src: Off, sk: number, sn: number, dst: Off): void {
    this.e.pack_panels(K, N, ptr(src), sk, sn, ptr(dst));
  }

  setLayerField(desc: Off, field: LayerDescField, value: number): void {
    storeLayerField(this.memory.bytes, ptr(desc), field, LAYER_DESC[field].type === 'usize' ? ptr(value) : value);
  }
  readonly rnnForward = (desc: Off): void => this.e.rnn_forward(ptr(desc));
  readonly rnnBackward = (desc: Off): void => this.e.rnn_backward(ptr(desc));
  readonly lstmForward = (desc: Off): void => this.e.lstm_forward(ptr(desc));
  readonly lstmBackward = (desc: Off): void => this.e.lstm_backward(ptr(desc));
  readonly gruForward = (desc: Off): void => this.e.gru_forward(ptr(desc));
  readonly gruBackward = (desc: Off): void => this.e.gru_backward(ptr(desc));

  headForward(R: number, H: number, O: number, h: Off, wTransposedPacked: Off, b: Off, y: Off): void {
    this.e.head_forward(R, H, O, ptr(h), ptr(wTransposedPacked), ptr(b), ptr(y));
  }
  headBackward(R: number, H: number, O: number, h: Off, wPacked: Off, dy: Off, dw: Off, db: Off, dh: Off, pack: Off): void {
    this.e.head_backward(R, H, O, ptr(h), ptr(wPacked), ptr(dy), ptr(dw), ptr(db), ptr(dh), ptr(pack));
  }
  softmaxXent(R: number, O: number, logits: Off, targets: Off, weights: Off, classWeights: Off, dlogits: Off, io: Float64Array): void {
    io[0] = this.e.softmax_xent_weighted(R, O, ptr(logits), ptr(targets), ptr(weights), ptr(classWeights), io[0], ptr(dlogits));
  }
  xentWeightTotal(R: number, O: number, targets: Off, weights: Off, classWeights: Off): number {
    return this.e.xent_weight_total(R, O, ptr(targets), ptr(weights), ptr(classWeights));
  }
  mse(R: number, O: number, pred: Off, targets: Off, weights: Off, dpred: Off, io: Float64Array): void {
    io[0] = this.e.mse(R, O, ptr(pred), ptr(targets), ptr(weights), io[0], ptr(dpred));
  }

  takeIdErrors(): number {
    return this.e.take_id_errors();
  }
  sumSquares(n: number, g: Off, io: Float64Array): void {
    io[0] = this.e.sum_squares(n, ptr(g));
  }
  scaleInplace(n: number, g: Off, io: Float64Array): void {
    this.e.scale_inplace(n, ptr(g), io[0]);
  }
  clampInplace(n: number, g: Off, v: number): number {
    return this.e.clamp_inplace(n, ptr(g), v);
  }
  // (the two long parameter lists are typed once, in kernels.ts)
  readonly sgdUpdate: Kernels['sgdUpdate'] = (n, p, g, buf, lr, momentum, dampening, nesterov, wd, first) => {
    this.e.sgd_update(n, ptr(p), ptr(g), ptr(buf), lr, momentum, dampening, nesterov ? 1 : 0, wd, first ? 1 : 0);
  };
  readonly adamUpdate: Kernels['adamUpdate'] = (n, p, g, m, v, b1, omb1, b2, omb2, eps, stepSize, bc2Sqrt, l2, decay) => {
    this.e.adam_update(n, ptr(p), ptr(g), ptr(m), ptr(v), b1, omb1, b2, omb2, eps, stepSize, bc2Sqrt, l2, decay);
  };
  rmspropUpdate(n: number, p: Off, g: Off, v: Off, lr: number, alpha: number, eps: number, wd: number): void {
    this.e.rmsprop_update(n, ptr(p), ptr(g), ptr(v), lr, alpha, eps, wd);
  }
  adagradUpdate(n: number, p: Off, g: Off, s: Off, lr: number, eps: number, wd: number): void {
    this.e.adagrad_update(n, ptr(p), ptr(g), ptr(s), lr, eps, wd);
  }
}
