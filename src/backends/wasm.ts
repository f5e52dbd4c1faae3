// The Wasm backend: element offsets become byte pointers (×4) and go straight to the core.
import type { Core, CoreExports } from '../runtime/core.js';
import { Lifetime } from '../runtime/lifetime.js';
import { WasmMemory } from '../runtime/memory.js';
import type { Kernels, Off } from './kernels.js';

const p = (o: Off): number => o * 4;

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
  packedSize(K: number, N: number): number { return K * (Math.ceil(N / 8) * 8); }
  packPanels(K: number, N: number, src: Off, sk: number, sn: number, dst: Off): void {
    this.e.pack_panels(K, N, p(src), sk, sn, p(dst));
  }

  rnnForward(T: number, B: number, I: number, H: number, flags: number,
    x: Off, wihTransposedPacked: Off, whhTransposedPacked: Off, bih: Off, bhh: Off, mask: Off, hs: Off): void {
    this.e.rnn_forward(T, B, I, H, flags, p(x), p(wihTransposedPacked), p(whhTransposedPacked), p(bih), p(bhh), p(mask), p(hs));
  }
  rnnBackward(T: number, B: number, I: number, H: number, flags: number, x: Off, wihPacked: Off, whhPacked: Off, mask: Off,
    hs: Off, dhs: Off, dh: Off, dwih: Off, dwhh: Off, dbih: Off, dbhh: Off, dx: Off, dhnorm: Off, pack: Off): void {
    this.e.rnn_backward(T, B, I, H, flags, p(x), p(wihPacked), p(whhPacked), p(mask), p(hs), p(dhs), p(dh),
      p(dwih), p(dwhh), p(dbih), p(dbhh), p(dx), p(dhnorm), p(pack));
  }
  lstmForward(T: number, B: number, I: number, H: number, flags: number, x: Off, wihTransposedPacked: Off, whhTransposedPacked: Off,
    bih: Off, bhh: Off, mask: Off, hs: Off, cs: Off, gates: Off): void {
    this.e.lstm_forward(T, B, I, H, flags, p(x), p(wihTransposedPacked), p(whhTransposedPacked), p(bih), p(bhh), p(mask), p(hs), p(cs), p(gates));
  }
  lstmBackward(T: number, B: number, I: number, H: number, flags: number, x: Off, wihPacked: Off, whhPacked: Off, mask: Off,
    hs: Off, cs: Off, gates: Off, dhs: Off, dh: Off, dc: Off, dwih: Off, dwhh: Off, dbih: Off, dbhh: Off,
    dx: Off, dhnorm: Off, pack: Off): void {
    this.e.lstm_backward(T, B, I, H, flags, p(x), p(wihPacked), p(whhPacked), p(mask), p(hs), p(cs), p(gates), p(dhs),
      p(dh), p(dc), p(dwih), p(dwhh), p(dbih), p(dbhh), p(dx), p(dhnorm), p(pack));
  }
  gruForward(T: number, B: number, I: number, H: number, flags: number, x: Off, wihTransposedPacked: Off, whhTransposedPacked: Off,
    bih: Off, bhh: Off, mask: Off, hs: Off, gates: Off, rn: Off, scratch: Off): void {
    this.e.gru_forward(T, B, I, H, flags, p(x), p(wihTransposedPacked), p(whhTransposedPacked), p(bih), p(bhh), p(mask), p(hs), p(gates),
      p(rn), p(scratch));
  }
  gruBackward(T: number, B: number, I: number, H: number, flags: number, x: Off, wihPacked: Off, whhPacked: Off, mask: Off,
    hs: Off, gates: Off, rn: Off, dhs: Off, dR: Off, dh: Off, dwih: Off, dwhh: Off, dbih: Off, dbhh: Off,
    dx: Off, dhnorm: Off, pack: Off): void {
    this.e.gru_backward(T, B, I, H, flags, p(x), p(wihPacked), p(whhPacked), p(mask), p(hs), p(gates), p(rn), p(dhs),
      p(dR), p(dh), p(dwih), p(dwhh), p(dbih), p(dbhh), p(dx), p(dhnorm), p(pack));
  }

  headForward(R: number, H: number, O: number, h: Off, wTransposedPacked: Off, b: Off, y: Off): void {
    this.e.head_forward(R, H, O, p(h), p(wTransposedPacked), p(b), p(y));
  }
  headBackward(R: number, H: number, O: number, h: Off, wPacked: Off, dy: Off, dw: Off, db: Off, dh: Off, pack: Off): void {
    this.e.head_backward(R, H, O, p(h), p(wPacked), p(dy), p(dw), p(db), p(dh), p(pack));
  }
  softmaxXent(R: number, O: number, logits: Off, targets: Off, weights: Off, scale: number, dlogits: Off): number {
    return this.e.softmax_xent(R, O, p(logits), p(targets), p(weights), scale, p(dlogits));
  }
  mse(R: number, O: number, pred: Off, targets: Off, weights: Off, scale: number, dpred: Off): number {
    return this.e.mse(R, O, p(pred), p(targets), p(weights), scale, p(dpred));
  }

  sumSquares(n: number, g: Off): number { return this.e.sum_squares(n, p(g)); }
  scaleInplace(n: number, g: Off, c: number): void { this.e.scale_inplace(n, p(g), c); }
  clampInplace(n: number, g: Off, v: number): number { return this.e.clamp_inplace(n, p(g), v); }
  sgdUpdate(n: number, pp: Off, g: Off, buf: Off, lr: number, momentum: number, dampening: number,
    nesterov: boolean, wd: number, first: boolean): void {
    this.e.sgd_update(n, p(pp), p(g), p(buf), lr, momentum, dampening, nesterov ? 1 : 0, wd, first ? 1 : 0);
  }
  adamUpdate(n: number, pp: Off, g: Off, m: Off, v: Off, b1: number, omb1: number, b2: number, omb2: number,
    eps: number, stepSize: number, bc2Sqrt: number, l2: number, decay: number): void {
    this.e.adam_update(n, p(pp), p(g), p(m), p(v), b1, omb1, b2, omb2, eps, stepSize, bc2Sqrt, l2, decay);
  }
  rmspropUpdate(n: number, pp: Off, g: Off, v: Off, lr: number, alpha: number, eps: number, wd: number): void {
    this.e.rmsprop_update(n, p(pp), p(g), p(v), lr, alpha, eps, wd);
  }
  adagradUpdate(n: number, pp: Off, g: Off, s: Off, lr: number, eps: number, wd: number): void {
    this.e.adagrad_update(n, p(pp), p(g), p(s), lr, eps, wd);
  }
}
