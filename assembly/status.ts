// The second line of defense against bad ids. The library checks every id before it writes a
// batch into memory; the kernels that index a row by id check again, because a wrong id there
// reads or writes another tensor's memory (another model's weights, in a shared core). A row
// whose id is refused is skipped — nothing is read or written for it — and counted here, per
// instance (the pool adds its workers' counts to the main instance's after each rows job).

let refused: i32 = 0;

// True when `v` (an id stored as f32) is an integer in [0, n). Checked as a float first: a
// conversion of NaN or of a value beyond i32 would trap in the scalar build.
// @ts-ignore: decorator
@inline export function id_ok(v: f32, n: i32): bool {
  return v >= 0 && v < <f32>n && <f32><i32>v == v;
}

// @ts-ignore: decorator
@inline export function refuse_id(): void {
  refused++;
}

// Counts n ids refused by a pool worker's instance on this one.
export function add_id_errors(n: i32): void {
  refused += n;
}

// Returns how many ids the kernels refused since the last call (0 = none), and resets the count:
// ids of x with FLAG_TOKENS outside [0, I) in the cells' forward and backward, and targets
// outside [0, O) in softmax_xent. Call it after those kernels; any count other than 0 means
// their results are meaningless (the rows were skipped), though no memory outside their
// arguments was touched.
export function take_id_errors(): i32 {
  const n = refused;
  refused = 0;
  return n;
}
