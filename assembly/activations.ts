// Gate nonlinearities: exp, sigmoid, tanh in f32x4 with scalar twins computing the same formula.
//
// exp: Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, then a degree-7 Taylor
// polynomial in r (truncation < 1e-8 relative) and 2ⁿ built in the exponent bits.
// sigmoid(x) = 1 / (1 + exp(−x)): no cancellation, so its relative error is exp's.
// tanh: for |x| ≥ 0.5, 1 − 2/(exp(2|x|) + 1) with the sign put back (cancellation costs at most
// ~1 ulp of 1, i.e. < 3e-7 relative at |x| = 0.5); for |x| < 0.5 the odd Taylor series through
// x¹³ (next term < 5e-8 relative). Measured maximum errors against f64 Math.tanh are in the tests
// and the README. The Standard library's scalar Mathf.tanh is ~15 ns/element and would dominate
// the cell loops at H ≤ 256; these run 4 lanes at a time with no branches.

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.428606765330187e-6;
const EXP_MAX: f32 = 88.0;
const EXP_MIN: f32 = -87.0;
// 1/k! for k = 2..7
const P2: f32 = 0.5, P3: f32 = 0.16666666666666666, P4: f32 = 0.041666666666666664;
const P5: f32 = 0.008333333333333333, P6: f32 = 0.001388888888888889, P7: f32 = 0.0001984126984126984;
// tanh Taylor coefficients for x³ … x¹³
const T3: f32 = -0.3333333333333333, T5: f32 = 0.13333333333333333, T7: f32 = -0.05396825396825397;
const T9: f32 = 0.021869488536155203, T11: f32 = -0.008863235529902197, T13: f32 = 0.003592128036572481;
const TANH_SMALL: f32 = 0.5;

// ---------------------------------------------------------------------------------------------
// Scalar twins

// @ts-ignore: decorator
@inline export function exp_scalar(x0: f32): f32 {
  const x = min(max(x0, EXP_MIN), EXP_MAX);
  const n = nearest(x * LOG2E);
  const r = (x - n * LN2_HI) - n * LN2_LO;
  let p = P7;
  p = p * r + P6; p = p * r + P5; p = p * r + P4; p = p * r + P3; p = p * r + P2;
  p = p * r + 1; p = p * r + 1;
  // NaN stays NaN through p; the guard keeps the conversion from trapping in the scalar build
  // (built without non-trapping float-to-int, where i32.trunc of NaN traps)
  const ni: i32 = n != n ? 0 : <i32>n;
  const scale = reinterpret<f32>((ni + 127) << 23);
  return p * scale;
}

// @ts-ignore: decorator
@inline export function sigmoid_scalar(x: f32): f32 {
  return 1 / (1 + exp_scalar(-x));
}

// @ts-ignore: decorator
@inline export function tanh_scalar(x: f32): f32 {
  const ax = abs(x);
  if (ax < TANH_SMALL) {
    const x2 = x * x;
    let p = T13;
    p = p * x2 + T11; p = p * x2 + T9; p = p * x2 + T7; p = p * x2 + T5; p = p * x2 + T3;
    return x + x * x2 * p;
  }
  const t: f32 = 1 - 2 / (exp_scalar(2 * ax) + 1);
  return copysign(t, x);
}

// ---------------------------------------------------------------------------------------------
// f32x4

// One Horner step of a polynomial, p·x + c per lane: a multiply and a separate add, as in the
// scalar twins (never fused, in every build).
// @ts-ignore: decorator
@inline function horner_f32x4(p: v128, x: v128, c: f32): v128 {
  return f32x4.add(f32x4.mul(p, x), f32x4.splat(c));
}

// @ts-ignore: decorator
@inline export function exp_f32x4(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(P7);
  p = horner_f32x4(p, r, P6); p = horner_f32x4(p, r, P5); p = horner_f32x4(p, r, P4); p = horner_f32x4(p, r, P3);
  p = horner_f32x4(p, r, P2); p = horner_f32x4(p, r, 1); p = horner_f32x4(p, r, 1);
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp_f32x4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(T13);
  p = horner_f32x4(p, x2, T11); p = horner_f32x4(p, x2, T9); p = horner_f32x4(p, x2, T7);
  p = horner_f32x4(p, x2, T5); p = horner_f32x4(p, x2, T3);
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(x, x2), p));
  const e = exp_f32x4(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  // put x's sign bit on the positive result
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(TANH_SMALL)));
}

// ---------------------------------------------------------------------------------------------
// Array forms (exported for the tests and for hosts): dst[n] = f(src[n]); dst may equal src.

// dst = tanh(src), element by element, one lane at a time in every build.
export function tanh_array_scalar(n: i32, src: usize, dst: usize): void {
  for (let i = 0; i < n; i++) store<f32>(dst + <usize>i * 4, tanh_scalar(load<f32>(src + <usize>i * 4)));
}

// dst = σ(src) = 1/(1 + exp(−src)), one lane at a time in every build.
export function sigmoid_array_scalar(n: i32, src: usize, dst: usize): void {
  for (let i = 0; i < n; i++) store<f32>(dst + <usize>i * 4, sigmoid_scalar(load<f32>(src + <usize>i * 4)));
}

// dst = tanh(src), four lanes at a time where the build has SIMD; bit-identical to the scalar form.
export function tanh_array_f32x4(n: i32, src: usize, dst: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dst + <usize>i * 4, tanh_f32x4(v128.load(src + <usize>i * 4)));
  }
  for (; i < n; i++) store<f32>(dst + <usize>i * 4, tanh_scalar(load<f32>(src + <usize>i * 4)));
}

// dst = σ(src), four lanes at a time where the build has SIMD; bit-identical to the scalar form.
export function sigmoid_array_f32x4(n: i32, src: usize, dst: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dst + <usize>i * 4, sigmoid_f32x4(v128.load(src + <usize>i * 4)));
  }
  for (; i < n; i++) store<f32>(dst + <usize>i * 4, sigmoid_scalar(load<f32>(src + <usize>i * 4)));
}

// In-place activations over n contiguous floats, the SIMD body where the build has it.
export function tanh_inplace(n: i32, p: usize): void { tanh_array_f32x4(n, p, p); }
export function sigmoid_inplace(n: i32, p: usize): void { sigmoid_array_f32x4(n, p, p); }
export function relu_inplace(n: i32, p: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(p + <usize>i * 4, f32x4.max(v128.load(p + <usize>i * 4), f32x4.splat(0)));
  }
  for (; i < n; i++) store<f32>(p + <usize>i * 4, max<f32>(load<f32>(p + <usize>i * 4), 0));
}
