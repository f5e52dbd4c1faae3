// The embedded Reber grammar (Reber 1967; embedded form: Fahlman 1991, Hochreiter &
// Schmidhuber 1997): next-symbol prediction over strings of a small finite-state grammar.
//
// Reber grammar (states 0 … 6; each arrow is taken with equal probability among a state's):
//   0 -B-> 1;  1 -T-> 2, 1 -P-> 3;  2 -S-> 2, 2 -X-> 4;  3 -T-> 3, 3 -V-> 5;
//   4 -X-> 3, 4 -S-> 6;  5 -P-> 4, 5 -V-> 6;  6 -E-> end.          e.g. BTSSXXTVVE, BPVVE
// Embedded: B, then T or P, then a Reber string, then the same T or P again, then E, e.g.
//   B T BPVVE T E. Predicting that second-to-last symbol needs a memory of the second one
//   across the whole inner string: the task's long-range dependency.
//
// Symbols are ids 0 … 6 of SYMBOLS = 'BTPSXVE'. A string of n symbols gives n − 1 steps:
//   x [T,B] ids  symbol t of each string;  y [T,B] ids  symbol t + 1 (the next one)
//   lengths [B]  n − 1 per string; T = the longest in the batch, the rest padded (id 0)
//   allowed [T,B,7] 0/1  the symbols the grammar allows after step t (several where it branches)
//   model        inputSize 7, outputSize 7, input 'tokens'
//   loss         lossSpec = { loss: 'cross-entropy', at: 'every' } (the lengths mask the padding)
// Because the grammar branches, the cross-entropy cannot reach 0; the usual measure is whether
// the most likely predicted symbol is an allowed one (allowedAccuracy), above all at the
// second-to-last step.
import type { Batch } from '../../model/batch.js';
import type { LossSpec } from '../../model/loss.js';
import type { Rng } from '../../model/rng.js';
import { InvalidArgumentError, describe } from '../../errors.js';
import { padTokens } from '../padding.js';
import { intOption, objectOption, toRng, type RngOrSeed } from './common.js';

export const lossSpec: LossSpec = { loss: 'cross-entropy', at: 'every' };
export const SYMBOLS = 'BTPSXVE';
export const inputSize = 7;
export const outputSize = 7;
export const input = 'tokens';

const [SB, ST, SP, SS, SX, SV, SE] = [0, 1, 2, 3, 4, 5, 6];
/** transitions[state] = [symbol, next state][]; next −1 = the end of the inner string */
const REBER: ReadonlyArray<ReadonlyArray<readonly [number, number]>> = [
  [[SB, 1]],
  [
    [ST, 2],
    [SP, 3],
  ],
  [
    [SS, 2],
    [SX, 4],
  ],
  [
    [ST, 3],
    [SV, 5],
  ],
  [
    [SX, 3],
    [SS, 6],
  ],
  [
    [SP, 4],
    [SV, 6],
  ],
  [[SE, -1]],
];

const bits = (state: number): number => REBER[state].reduce((m, [s]) => m | (1 << s), 0);

export interface ReberOptions {
  B: number;
  /** Longest string accepted (in symbols, ≥ 9); longer draws are redrawn. Default 50. */
  maxLength?: number;
}

export interface ReberBatch extends Batch {
  x: Int32Array;
  y: Int32Array;
  lengths: Int32Array;
  /** 0/1 [T,B,7]: the symbols allowed after step t (all 0 on padding). */
  allowed: Uint8Array;
}

/**
 * One embedded Reber string as ids, with, for each symbol but the last, the bit set (1 << id)
 * of the symbols that may follow it.
 */
export function embeddedReber(rng: Rng): { ids: number[]; next: number[] } {
  const ids: number[] = [SB];
  const next: number[] = [(1 << ST) | (1 << SP)];
  const wrap = rng.int(2) === 0 ? ST : SP;
  ids.push(wrap);
  next.push(1 << SB);
  let state = 0;
  while (state !== -1) {
    const options = REBER[state];
    const [sym, to] = options[options.length === 1 ? 0 : rng.int(options.length)];
    ids.push(sym);
    next.push(to === -1 ? 1 << wrap : bits(to));
    state = to;
  }
  ids.push(wrap);
  next.push(1 << SE);
  ids.push(SE);
  next.push(0);
  return { ids, next };
}

/** One batch of embedded Reber strings; pass an Rng to continue a stream of batches, or a seed. */
export function reberBatch(options: ReberOptions, rng?: RngOrSeed): ReberBatch {
  options = objectOption('options', options, ['B', 'maxLength']);
  const B = intOption('options.B', options.B, undefined, 1);
  const maxLength = intOption('options.maxLength', options.maxLength, 50, 9);
  const r = toRng(rng);
  const strings: { ids: number[]; next: number[] }[] = [];
  while (strings.length < B) {
    const s = embeddedReber(r);
    if (s.ids.length <= maxLength) strings.push(s);
  }
  const inputs = strings.map((s) => s.ids.slice(0, -1));
  const targets = strings.map((s) => s.ids.slice(1));
  const { x, T, lengths } = padTokens(inputs);
  const { x: y } = padTokens(targets);
  const allowed = new Uint8Array(T * B * 7);
  strings.forEach((s, b) => {
    for (let t = 0; t < s.ids.length - 1; t++) {
      for (let k = 0; k < 7; k++) if (s.next[t] & (1 << k)) allowed[(t * B + b) * 7 + k] = 1;
    }
  });
  return { x, T, B, y, lengths, allowed };
}

/** The symbols of ids, e.g. 'BTBPVVETE'. */
export function reberText(ids: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id > 6) throw new InvalidArgumentError(`ids[${i}]`, 'a Reber symbol id in [0, 6]', describe(id));
    s += SYMBOLS[id];
  }
  return s;
}

/** Whether a string of symbols (e.g. 'BTBTXSETE') is an embedded Reber string. */
export function isEmbeddedReber(text: string): boolean {
  if (text.length < 9 || text[0] !== 'B' || text[text.length - 1] !== 'E') return false;
  const wrap = text[1];
  if ((wrap !== 'T' && wrap !== 'P') || text[text.length - 2] !== wrap) return false;
  let state = 0;
  const inner = text.slice(2, -2);
  for (let i = 0; i < inner.length; i++) {
    if (state === -1) return false;
    const edge = REBER[state].find(([s]) => SYMBOLS[s] === inner[i]);
    if (!edge) return false;
    state = edge[1];
  }
  return state === -1;
}

/**
 * Fraction of real steps whose most likely predicted symbol is an allowed one.
 * `logits` [T,B,7] from model.predict (at 'every') on the batch.
 */
export function allowedAccuracy(logits: ArrayLike<number>, batch: ReberBatch): number {
  const { T, B, lengths, allowed } = batch;
  if (logits.length !== T * B * 7) throw new InvalidArgumentError('logits', `length ${T * B * 7} ([T=${T}, B=${B}, 7])`, describe(logits));
  let good = 0,
    all = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      const o = (t * B + b) * 7;
      let best = 0;
      for (let k = 1; k < 7; k++) if (logits[o + k] > logits[o + best]) best = k;
      good += allowed[o + best];
      all++;
    }
  }
  return good / all;
}
