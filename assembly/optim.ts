// Update kernels over the whole parameter arena: p, g and the optimizer moments are parallel
// arrays of n floats (PyTorch semantics, docs/equations.md#optimizers; the TS layer passes the step-dependent scalars).

// Σ g² in f64 (each element widened before it is squared: a finite f32 gradient above ~1.8e19
// would overflow as an f32 square, while its f64 square and the norm are finite, as in the js
// backend). Non-finite in, non-finite out: that is how a bad step is caught before any update.
export function sum_squares(n: i32, g: usize): f64 {
  let total: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(g + <usize>i * 4);
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
      s0 = f64x2.add(s0, f64x2.mul(lo, lo));
      s1 = f64x2.add(s1, f64x2.mul(hi, hi));
    }
    const s = f64x2.add(s0, s1);
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; i < n; i++) { const v = <f64>load<f32>(g + <usize>i * 4); total += v * v; }
  return total;
}

// g ← g·c. Global-norm clipping passes c = max_norm/(norm + 1e-6) when that is < 1.
export function scale_inplace(n: i32, g: usize, c: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c);
    for (; i + 4 <= n; i += 4) v128.store(g + <usize>i * 4, f32x4.mul(v128.load(g + <usize>i * 4), cv));
  }
  for (; i < n; i++) store<f32>(g + <usize>i * 4, load<f32>(g + <usize>i * 4) * c);
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
  for (let i = 0; i < n; i++) {
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
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), va1 = f32x4.splat(omb1), va2 = f32x4.splat(omb2);
    const veps = f32x4.splat(eps), vss = f32x4.splat(stepSize), vbc = f32x4.splat(bc2Sqrt);
    const vdecay = f32x4.splat(decay), vl2 = f32x4.splat(l2);
    for (; i + 4 <= n; i += 4) {
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
  for (; i < n; i++) {
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
  for (let i = 0; i < n; i++) {
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
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    const th = load<f32>(p + o);
    const d = load<f32>(g + o) + wd * th;
    const ss = load<f32>(s + o) + d * d;
    store<f32>(s + o, ss);
    store<f32>(p + o, th - lr * d / (Mathf.sqrt(ss) + eps));
  }
}
