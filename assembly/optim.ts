// Update kernels over the whole parameter arena: p, g and the optimizer moments are parallel
// arrays of n floats (PyTorch semantics, docs/equations.md#optimizers; the TS layer passes the step-dependent scalars).
//
// In the threads build the pool (pool.ts run_params) cuts the arena into runs of PARAM_BLOCKS
// fixed blocks, one run per chunk, for Σ g², the clip scale and the optimizers: the updates are
// elementwise, and Σ g² is defined in every build as the sum of the block sums in block order,
// so any cut gives the same bits as one thread.
import { param_job, run_params } from "./pool";

export const PARAM_BLOCKS: i32 = 64;
// the block sums of sum_squares; in the threads build a static block of the one shared memory,
// which every thread writes its blocks into (one sum at a time)
const blockSums: usize = memory.data(PARAM_BLOCKS * 8, 8);

// The operations a chunk of a parameter job runs (the job's op field).
const OP_SUMSQ: i32 = 0;
const OP_SCALE: i32 = 1;
const OP_SGD: i32 = 2;
const OP_ADAM: i32 = 3;
const OP_RMSPROP: i32 = 4;
const OP_ADAGRAD: i32 = 5;

// The first float of block k of n (multiples of 4, so each block keeps the f32x4 loops; block
// PARAM_BLOCKS ends at n).
// @ts-ignore: decorator
@inline export function param_block(n: i32, k: i32): i32 {
  return k >= PARAM_BLOCKS ? n : <i32>((<i64>(n >> 2) * <i64>k) / PARAM_BLOCKS) << 2;
}

// Job fields of a parameter job, as bytes from the job's start (pool.ts leaves 44 to the kind):
// n, op, then four pointers, then up to nine f32/i32 arguments.
const F_N: usize = 0, F_OP: usize = 4, F_P: usize = 8, F_G: usize = 12, F_M: usize = 16, F_V: usize = 20;
// @ts-ignore: decorator
@inline function arg_at(i: i32): usize {
  return i < 5 ? <usize>(24 + i * 4) : <usize>(48 + (i - 5) * 4);
}
// @ts-ignore: decorator
@inline function farg(j: usize, i: i32): f32 {
  return load<f32>(j + arg_at(i));
}
// @ts-ignore: decorator
@inline function set_farg(j: usize, i: i32, v: f32): void {
  store<f32>(j + arg_at(i), v);
}
// Writes the fields every parameter job has into the job at j.
function job(j: usize, op: i32, n: i32, p: usize, g: usize, m: usize, v: usize): void {
  store<i32>(j + F_N, n); store<i32>(j + F_OP, op);
  store<u32>(j + F_P, <u32>p); store<u32>(j + F_G, <u32>g); store<u32>(j + F_M, <u32>m); store<u32>(j + F_V, <u32>v);
}

// Blocks [k0, k1) of the parameter job at j (the pool calls this on any thread).
export function params_part(j: usize, k0: i32, k1: i32): void {
  const n = load<i32>(j + F_N), op = load<i32>(j + F_OP);
  const p = <usize>load<u32>(j + F_P), g = <usize>load<u32>(j + F_G), m = <usize>load<u32>(j + F_M), v = <usize>load<u32>(j + F_V);
  if (op == OP_SUMSQ) {
    for (let k = k0; k < k1; k++) store<f64>(blockSums + <usize>k * 8, sumsq_range(g, param_block(n, k), param_block(n, k + 1)));
    return;
  }
  const i0 = param_block(n, k0), i1 = param_block(n, k1);
  if (op == OP_SCALE) scale_range(g, farg(j, 0), i0, i1);
  else if (op == OP_SGD) {
    sgd_range(p, g, m, farg(j, 0), farg(j, 1), farg(j, 2), load<i32>(j + arg_at(3)), farg(j, 4), load<i32>(j + arg_at(5)), i0, i1);
  } else if (op == OP_ADAM) {
    adam_range(p, g, m, v, farg(j, 0), farg(j, 1), farg(j, 2), farg(j, 3), farg(j, 4), farg(j, 5), farg(j, 6), farg(j, 7), farg(j, 8), i0, i1);
  } else if (op == OP_RMSPROP) rmsprop_range(p, g, m, farg(j, 0), farg(j, 1), farg(j, 2), farg(j, 3), i0, i1);
  else if (op == OP_ADAGRAD) adagrad_range(p, g, m, farg(j, 0), farg(j, 1), farg(j, 2), i0, i1);
}

// Σ g² in f64 (each element widened before it is squared: a finite f32 gradient above ~1.8e19
// would overflow as an f32 square, while its f64 square and the norm are finite, as in the js
// backend). Non-finite in, non-finite out: that is how a bad step is caught before any update.
// Summed as 64 fixed blocks of g (block sums in block order): the same bits however the threads
// build splits it.
export function sum_squares(n: i32, g: usize): f64 {
  const j = ASC_FEATURE_THREADS ? param_job(n) : 0;
  if (j) {
    job(j, OP_SUMSQ, n, 0, g, 0, 0);
    run_params();
  } else {
    for (let k = 0; k < PARAM_BLOCKS; k++) store<f64>(blockSums + <usize>k * 8, sumsq_range(g, param_block(n, k), param_block(n, k + 1)));
  }
  let total: f64 = 0;
  for (let k = 0; k < PARAM_BLOCKS; k++) total += load<f64>(blockSums + <usize>k * 8);
  return total;
}

// Σ g² over floats [i0, i1) (i0 a multiple of 4).
function sumsq_range(g: usize, i0: i32, i1: i32): f64 {
  let total: f64 = 0;
  let i = i0;
  if (ASC_FEATURE_SIMD) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    for (; i + 4 <= i1; i += 4) {
      const v = v128.load(g + <usize>i * 4);
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
      s0 = f64x2.add(s0, f64x2.mul(lo, lo));
      s1 = f64x2.add(s1, f64x2.mul(hi, hi));
    }
    const s = f64x2.add(s0, s1);
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; i < i1; i++) { const v = <f64>load<f32>(g + <usize>i * 4); total += v * v; }
  return total;
}

// g ← g·c. Global-norm clipping passes c = max_norm/(norm + 1e-6) when that is < 1.
export function scale_inplace(n: i32, g: usize, c: f32): void {
  if (ASC_FEATURE_THREADS) {
    const j = param_job(n);
    if (j) {
      job(j, OP_SCALE, n, 0, g, 0, 0);
      set_farg(j, 0, c);
      run_params();
      return;
    }
  }
  scale_range(g, c, 0, n);
}

function scale_range(g: usize, c: f32, i0: i32, i1: i32): void {
  let i = i0;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c);
    for (; i + 4 <= i1; i += 4) v128.store(g + <usize>i * 4, f32x4.mul(v128.load(g + <usize>i * 4), cv));
  }
  for (; i < i1; i++) store<f32>(g + <usize>i * 4, load<f32>(g + <usize>i * 4) * c);
}

// g ← clamp(g, −v, v); returns how many elements were changed
export function clamp_inplace(n: i32, g: usize, v: f32): i32 {
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const x = load<f32>(g + <usize>i * 4);
    if (x > v || x < -v) {
      store<f32>(g + <usize>i * 4, x > v ? v : -v);
      changed++;
    }
  }
  return changed;
}

// SGD: g ← g + wd·θ; b ← μ·b + (1 − dampening)·g (b ← g when first); g ← nesterov ? g + μ·b : b;
//      θ ← θ − lr·g. momentum = 0 skips the buffer (buf may be 0).
export function sgd_update(
  n: i32, p: usize, g: usize, buf: usize, lr: f32, momentum: f32, dampening: f32, nesterov: i32, wd: f32, first: i32,
): void {
  if (ASC_FEATURE_THREADS) {
    const j = param_job(n);
    if (j) {
      job(j, OP_SGD, n, p, g, buf, 0);
      set_farg(j, 0, lr); set_farg(j, 1, momentum); set_farg(j, 2, dampening); store<i32>(j + arg_at(3), nesterov);
      set_farg(j, 4, wd); store<i32>(j + arg_at(5), first);
      run_params();
      return;
    }
  }
  sgd_range(p, g, buf, lr, momentum, dampening, nesterov, wd, first, 0, n);
}

function sgd_range(
  p: usize, g: usize, buf: usize, lr: f32, momentum: f32, dampening: f32, nesterov: i32, wd: f32, first: i32, i0: i32, i1: i32,
): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i * 4;
    const th = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (wd != 0) d += wd * th;
    if (momentum != 0) {
      const b: f32 = first ? d : momentum * load<f32>(buf + o) + (1 - dampening) * d;
      store<f32>(buf + o, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + o, th - lr * d);
  }
}

// Adam / AdamW (PyTorch 1.13's single-tensor form):
//   AdamW: θ ← θ·decay (decay = 1 − lr·wd);  Adam: g ← g + l2·θ (l2 = wd)
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//   θ ← θ − stepSize · m / (sqrt(v)/bc2Sqrt + ε),  stepSize = lr/(1 − β1ᵗ), bc2Sqrt = sqrt(1 − β2ᵗ)
// The host passes 1 − β1 and 1 − β2 rounded from f64, as PyTorch's scalars are.
export function adam_update(
  n: i32, p: usize, g: usize, m: usize, v: usize,
  b1: f32, omb1: f32, b2: f32, omb2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32, l2: f32, decay: f32,
): void {
  if (ASC_FEATURE_THREADS) {
    const j = param_job(n);
    if (j) {
      job(j, OP_ADAM, n, p, g, m, v);
      set_farg(j, 0, b1); set_farg(j, 1, omb1); set_farg(j, 2, b2); set_farg(j, 3, omb2); set_farg(j, 4, eps);
      set_farg(j, 5, stepSize); set_farg(j, 6, bc2Sqrt); set_farg(j, 7, l2); set_farg(j, 8, decay);
      run_params();
      return;
    }
  }
  adam_range(p, g, m, v, b1, omb1, b2, omb2, eps, stepSize, bc2Sqrt, l2, decay, 0, n);
}

function adam_range(
  p: usize, g: usize, m: usize, v: usize,
  b1: f32, omb1: f32, b2: f32, omb2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32, l2: f32, decay: f32, i0: i32, i1: i32,
): void {
  let i = i0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), va1 = f32x4.splat(omb1), va2 = f32x4.splat(omb2);
    const veps = f32x4.splat(eps), vss = f32x4.splat(stepSize), vbc = f32x4.splat(bc2Sqrt);
    const vdecay = f32x4.splat(decay), vl2 = f32x4.splat(l2);
    for (; i + 4 <= i1; i += 4) {
      const o = <usize>i * 4;
      let th = v128.load(p + o);
      const d = f32x4.add(v128.load(g + o), f32x4.mul(vl2, th));
      th = f32x4.mul(th, vdecay);
      const mm = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(va1, d));
      const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(va2, f32x4.mul(d, d)));
      v128.store(m + o, mm);
      v128.store(v + o, vv);
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc), veps);
      v128.store(p + o, f32x4.sub(th, f32x4.mul(vss, f32x4.div(mm, denom))));
    }
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    let th = load<f32>(p + o);
    const d = load<f32>(g + o) + l2 * th;
    th = th * decay;
    const mm = b1 * load<f32>(m + o) + omb1 * d;
    const vv = b2 * load<f32>(v + o) + omb2 * (d * d);
    store<f32>(m + o, mm);
    store<f32>(v + o, vv);
    store<f32>(p + o, th - stepSize * (mm / (Mathf.sqrt(vv) / bc2Sqrt + eps)));
  }
}

// RMSprop: g ← g + wd·θ; v ← α·v + (1 − α)·g²; θ ← θ − lr·g/(sqrt(v) + ε)
export function rmsprop_update(n: i32, p: usize, g: usize, v: usize, lr: f32, alpha: f32, eps: f32, wd: f32): void {
  if (ASC_FEATURE_THREADS) {
    const j = param_job(n);
    if (j) {
      job(j, OP_RMSPROP, n, p, g, v, 0);
      set_farg(j, 0, lr); set_farg(j, 1, alpha); set_farg(j, 2, eps); set_farg(j, 3, wd);
      run_params();
      return;
    }
  }
  rmsprop_range(p, g, v, lr, alpha, eps, wd, 0, n);
}

function rmsprop_range(p: usize, g: usize, v: usize, lr: f32, alpha: f32, eps: f32, wd: f32, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i * 4;
    const th = load<f32>(p + o);
    const d = load<f32>(g + o) + wd * th;
    const vv = alpha * load<f32>(v + o) + (1 - alpha) * d * d;
    store<f32>(v + o, vv);
    store<f32>(p + o, th - lr * d / (Mathf.sqrt(vv) + eps));
  }
}

// Adagrad: g ← g + wd·θ; s ← s + g²; θ ← θ − lr·g/(sqrt(s) + ε)
export function adagrad_update(n: i32, p: usize, g: usize, s: usize, lr: f32, eps: f32, wd: f32): void {
  if (ASC_FEATURE_THREADS) {
    const j = param_job(n);
    if (j) {
      job(j, OP_ADAGRAD, n, p, g, s, 0);
      set_farg(j, 0, lr); set_farg(j, 1, eps); set_farg(j, 2, wd);
      run_params();
      return;
    }
  }
  adagrad_range(p, g, s, lr, eps, wd, 0, n);
}

function adagrad_range(p: usize, g: usize, s: usize, lr: f32, eps: f32, wd: f32, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i * 4;
    const th = load<f32>(p + o);
    const d = load<f32>(g + o) + wd * th;
    const ss = load<f32>(s + o) + d * d;
    store<f32>(s + o, ss);
    store<f32>(p + o, th - lr * d / (Mathf.sqrt(ss) + eps));
  }
}
