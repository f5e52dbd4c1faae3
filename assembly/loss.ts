// Losses over R prediction rows (T·B for a head at every step, B for the last step): docs/equations.md#losses.
// weights [R] is the 0/1 mask (0 pointer = every row counts); scale is 1/count for a mean,
// 1 for a sum, chosen by the caller who knows the count. Returns the loss as f64 and, unless
// the gradient pointer is 0, writes ∂loss/∂prediction.
// The loss is summed in LOSS_BLOCKS fixed blocks of rows (each in row order, in f64), then the
// block sums in block order: the threads build's pool computes whole blocks on any thread, with
// the same bits as one thread (pool.ts run_loss).
import { exp_scalar } from "./activations";
import { id_ok, refuse_id } from "./status";
import { run_loss } from "./pool";

export const LOSS_XENT: i32 = 0;
export const LOSS_MSE: i32 = 1;
export const LOSS_BLOCKS: i32 = 64;
// the block sums; in the threads build a static block of the one shared memory, which every
// thread writes its blocks into (one loss at a time)
const blockSums: usize = memory.data(LOSS_BLOCKS * 8, 8);

// Rows [r0, r1) of block k of R rows.
// @ts-ignore: decorator
@inline function block_begin(R: i32, k: i32): i32 {
  return <i32>((<i64>R * <i64>k) / LOSS_BLOCKS);
}

// Blocks [k0, k1) of a loss over R rows (the arguments of softmax_xent_weighted or mse; mse has
// no class weights), each block's sum into blockSums.
export function loss_blocks(
  kind: i32, R: i32, O: i32, pred: usize, targets: usize, weights: usize, class_weights: usize, scale: f32, grad: usize,
  k0: i32, k1: i32,
): void {
  for (let k = k0; k < k1; k++) {
    const r0 = block_begin(R, k), r1 = block_begin(R, k + 1);
    const s = kind == LOSS_XENT
      ? xent_rows(r0, r1, O, pred, targets, weights, class_weights, scale, grad)
      : mse_rows(r0, r1, O, pred, targets, weights, scale, grad);
    store<f64>(blockSums + <usize>k * 8, s);
  }
}

// Σ of the block sums in block order, times scale.
function total(scale: f32): f64 {
  let t: f64 = 0;
  for (let k = 0; k < LOSS_BLOCKS; k++) t += load<f64>(blockSums + <usize>k * 8);
  return t * <f64>scale;
}

// Shape: logits [R,O], targets [R] (class ids stored as f32), dlogits [R,O]
//   loss = scale · Σ_r w_r · (logsumexp(logits_r) − logits_r[target_r])
//   dlogits_r = scale · w_r · (softmax(logits_r) − onehot(target_r))
// A target outside [0, O) would read beyond its row: the row counts as weight 0 and is counted
// by take_id_errors().
export function softmax_xent(R: i32, O: i32, logits: usize, targets: usize, weights: usize, scale: f32, dlogits: usize): f64 {
  return softmax_xent_weighted(R, O, logits, targets, weights, 0, scale, dlogits);
}

// PyTorch's CrossEntropyLoss(weight=class_weights): softmax_xent with row r weighted by
// w_r · class_weights[target_r] (class_weights [O]; 0 pointer = every class weighs 1). PyTorch's
// mean divides by the total weight of the counted rows, not by their number: pass
// scale = 1 / xent_weight_total(...) for it, 1 for a sum.
export function softmax_xent_weighted(
  R: i32, O: i32, logits: usize, targets: usize, weights: usize, class_weights: usize, scale: f32, dlogits: usize,
): f64 {
  run_loss(LOSS_XENT, R, O, logits, targets, weights, class_weights, scale, dlogits);
  return total(scale);
}

// Rows [r0, r1) of softmax_xent_weighted: Σ_r w_r · (logsumexp − logit of the target), unscaled.
function xent_rows(
  r0: i32, r1: i32, O: i32, logits: usize, targets: usize, weights: usize, class_weights: usize, scale: f32, dlogits: usize,
): f64 {
  let total: f64 = 0;
  for (let r = r0; r < r1; r++) {
    const row = logits + <usize>(r * O) * 4;
    const drow = dlogits + <usize>(r * O) * 4;
    const m: f32 = weights ? load<f32>(weights + <usize>r * 4) : 1;
    const t = load<f32>(targets + <usize>r * 4);
    const bad = m != 0 && !id_ok(t, O);
    if (bad) refuse_id();
    // the class weight is read only once the id is known to index class_weights
    const w: f32 = m == 0 || bad ? 0 : class_weights ? m * load<f32>(class_weights + <usize>(<i32>t) * 4) : m;
    if (w == 0) {
      if (dlogits) memory.fill(drow, 0, <usize>O * 4);
      continue;
    }
    let mx = load<f32>(row);
    for (let o = 1; o < O; o++) mx = max(mx, load<f32>(row + <usize>o * 4));
    let sum: f32 = 0;
    for (let o = 0; o < O; o++) sum += exp_scalar(load<f32>(row + <usize>o * 4) - mx);
    const target = <i32>t;
    const lse = <f64>mx + Math.log(<f64>sum);
    total += <f64>w * (lse - <f64>load<f32>(row + <usize>target * 4));
    if (dlogits) {
      const inv: f32 = 1 / sum;
      const ws: f32 = w * scale;
      for (let o = 0; o < O; o++) {
        const p = exp_scalar(load<f32>(row + <usize>o * 4) - mx) * inv;
        store<f32>(drow + <usize>o * 4, ws * (o == target ? p - 1 : p));
      }
    }
  }
  return total;
}

// Σ_r w_r · class_weights[target_r]: the divisor of softmax_xent_weighted's mean (rows whose
// target is outside [0, O) add nothing; softmax_xent_weighted refuses and counts them).
export function xent_weight_total(R: i32, O: i32, targets: usize, weights: usize, class_weights: usize): f64 {
  let total: f64 = 0;
  for (let r = 0; r < R; r++) {
    const m: f32 = weights ? load<f32>(weights + <usize>r * 4) : 1;
    const t = load<f32>(targets + <usize>r * 4);
    if (m == 0 || !id_ok(t, O)) continue;
    total += <f64>m * (class_weights ? <f64>load<f32>(class_weights + <usize>(<i32>t) * 4) : 1);
  }
  return total;
}

// Shape: pred, targets, dpred [R,O]
//   loss = scale · Σ_r w_r · Σ_o (pred − target)²;  dpred = 2 · scale · w_r · (pred − target)
export function mse(R: i32, O: i32, pred: usize, targets: usize, weights: usize, scale: f32, dpred: usize): f64 {
  run_loss(LOSS_MSE, R, O, pred, targets, weights, 0, scale, dpred);
  return total(scale);
}

// Rows [r0, r1) of mse: Σ_r w_r · Σ_o (pred − target)², unscaled.
function mse_rows(r0: i32, r1: i32, O: i32, pred: usize, targets: usize, weights: usize, scale: f32, dpred: usize): f64 {
  let total: f64 = 0;
  for (let r = r0; r < r1; r++) {
    const w: f32 = weights ? load<f32>(weights + <usize>r * 4) : 1;
    const k: f32 = 2 * scale * w;
    let rowSum: f64 = 0;
    for (let o = 0; o < O; o++) {
      const i = <usize>(r * O + o) * 4;
      const diff = load<f32>(pred + i) - load<f32>(targets + i);
      rowSum += <f64>diff * <f64>diff;
      if (dpred) store<f32>(dpred + i, k * diff);
    }
    total += <f64>w * rowSum;
  }
  return total;
}
