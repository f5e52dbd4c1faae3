// One timing rule for every benchmark that reports a rate: repetitions of the call inside one
// timed block of at least `minMs`, and the best of `rounds` such blocks (per-call time = block
// time ÷ repetitions). The blocks amortise the call overhead and the timer's resolution; the
// best of rounds is the run least disturbed by other processes on the machine. A few calls run
// first so that V8 tiers the Wasm up (it does so between calls, never during one).
import { performance } from 'node:perf_hooks';

export interface BestOf {
  /** Best per-call time over the rounds, ms. */
  ms: number;
  /** Median per-call time over the rounds, ms (how noisy the machine was). */
  medianMs: number;
  reps: number;
  rounds: number;
}

export function bestOf(fn: () => unknown, options: { minMs?: number; rounds?: number; warmup?: number } = {}): BestOf {
  const minMs = options.minMs ?? 40;
  const rounds = options.rounds ?? 15;
  for (let i = 0; i < (options.warmup ?? 3); i++) fn();
  // repetitions that fill one block: double until a block takes a quarter of it, then scale
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = performance.now() - t0;
    if (dt >= minMs / 4) {
      reps = Math.max(1, Math.ceil((reps * minMs) / dt));
      break;
    }
    reps *= 2;
  }
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    per.push((performance.now() - t0) / reps);
  }
  per.sort((a, b) => a - b);
  return { ms: per[0], medianMs: per[per.length >> 1], reps, rounds };
}
