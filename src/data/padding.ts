// Padding variable-length sequences into one time-major batch, with PyTorch's pad_sequence
// semantics (sequences stacked along the batch, the shorter ones filled with padValue at the
// end) except that the result is always time-major [T,B,...] (pad_sequence's default
// batch_first=False layout) and comes with the lengths, which is what a Batch takes:
//
//     const p = padSequences([seqA, seqB], I);          // x [T,B,I], lengths [B]
//     const t = padTargets([idsA, idsB]);               // y [T,B] class ids
//     trainer.step({ x: p.x, T: p.T, B: p.B, lengths: p.lengths, y: t.y });
//
// Padded steps do not count in the loss and leave the state unchanged (docs/equations.md#masks-lengths-and-lossmask),
// so the pad value itself never matters for training; it is 0 by default.
import { InvalidArgumentError, MemoryLimitError, describe } from '../errors.js';
import { checkKeys, checkNumber, copyFloats, copyIds, DOMAINS, inDomain, snapshotObject } from '../validate/index.js';

export interface PadOptions {
  /** Value written into padded positions. Default 0. */
  padValue?: number;
  /** Pad to exactly this many steps instead of the longest sequence (none may be longer). */
  length?: number;
}

export interface PaddedSequences {
  /** Dense inputs, time-major [T,B,featureSize]: x[(t·B + b)·F + f]. */
  x: Float32Array;
  T: number;
  B: number;
  /** Steps of each sequence [B]. */
  lengths: Int32Array;
}

export interface PaddedTokens {
  /** Token ids, time-major [T,B]: x[t·B + b]. */
  x: Int32Array;
  T: number;
  B: number;
  lengths: Int32Array;
}

export interface PaddedTargets<Y extends Int32Array | Float32Array> {
  /** Targets: class ids [T,B] (Int32Array) or values [T,B,featureSize] (Float32Array). */
  y: Y;
  T: number;
  B: number;
  lengths: Int32Array;
}

/**
 * Dense sequences → x [T,B,featureSize]. Sequence b is flat, step-major: its length is
 * steps·featureSize, step s holding elements s·F … s·F + F − 1. Every sequence needs ≥ 1 step.
 */
export function padSequences(seqs: readonly ArrayLike<number>[], featureSize = 1, options: PadOptions = {}): PaddedSequences {
  const { T, B, lengths, pad, copies } = plan('seqs', seqs, featureSize, options, false);
  const x = new Float32Array(T * B * featureSize);
  fill(x, copies, B, featureSize, lengths, pad);
  return { x, T, B, lengths };
}

/** Token-id sequences → x [T,B] ids (for a model with input 'tokens'). */
export function padTokens(seqs: readonly ArrayLike<number>[], options: PadOptions = {}): PaddedTokens {
  const { T, B, lengths, pad, copies } = plan('seqs', seqs, 1, options, true);
  const x = new Int32Array(T * B);
  fill(x, copies, B, 1, lengths, pad);
  return { x, T, B, lengths };
}

/**
 * Per-step targets. Without featureSize: class ids for cross-entropy → y [T,B] (Int32Array).
 * With featureSize O: values for MSE → y [T,B,O] (Float32Array), each sequence flat like
 * padSequences'.
 */
export function padTargets(seqs: readonly ArrayLike<number>[], featureSize?: undefined, options?: PadOptions): PaddedTargets<Int32Array>;
export function padTargets(seqs: readonly ArrayLike<number>[], featureSize: number, options?: PadOptions): PaddedTargets<Float32Array>;
export function padTargets(
  seqs: readonly ArrayLike<number>[],
  featureSize?: number,
  options: PadOptions = {},
): PaddedTargets<Int32Array | Float32Array> {
  if (featureSize === undefined) {
    const { T, B, lengths, pad, copies } = plan('targets', seqs, 1, options, true);
    const y = new Int32Array(T * B);
    fill(y, copies, B, 1, lengths, pad);
    return { y, T, B, lengths };
  }
  const { T, B, lengths, pad, copies } = plan('targets', seqs, featureSize, options, false);
  const y = new Float32Array(T * B * featureSize);
  fill(y, copies, B, featureSize, lengths, pad);
  return { y, T, B, lengths };
}

/** A 0/1 mask [T,B] from lengths (1 on each sequence's first lengths[b] steps). */
export function lengthsToMask(lengths: ArrayLike<number>, T: number): Float32Array {
  checkNumber('T', T, DOMAINS.T, InvalidArgumentError);
  const L = copyIds('lengths', lengths, undefined, T + 1);
  const B = checkNumber('lengths.length (B)', L.length, DOMAINS.B, InvalidArgumentError);
  if (!inDomain(T * B, DOMAINS.batchFloats)) {
    throw new MemoryLimitError(
      `a mask of T = ${T}, B = ${B} holds ${T * B} values; one batch array holds at most ${DOMAINS.batchFloats.max}`,
    );
  }
  const m = new Float32Array(T * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < L[b]; t++) m[t * B + b] = 1;
  return m;
}

const PAD_KEYS: readonly string[] = ['padValue', 'length'];
/** Ids live in Int32Arrays: anything ≥ 2^31 would wrap (2^32 + 3 would become 3). */
const MAX_ID = 2 ** 31;

/**
 * Checks the sequences and options and copies every sequence once (a Proxy or getter is read
 * once, and a check cannot see other values than the ones padded).
 */
function plan(name: string, seqs: readonly ArrayLike<number>[], F: number, options: PadOptions, ids: boolean) {
  if (!Array.isArray(seqs)) throw new InvalidArgumentError(name, 'an array of sequences', describe(seqs));
  const B = seqs.length;
  if (B === 0) throw new InvalidArgumentError(name, 'at least one sequence', 'an empty array');
  checkNumber(name === 'seqs' ? 'seqs.length (B)' : `${name}.length (B)`, B, DOMAINS.B, InvalidArgumentError);
  checkNumber('featureSize', F, DOMAINS.featureSize, InvalidArgumentError);
  const o = snapshotObject('options', options, 'an object { padValue?, length? }', { ErrorClass: InvalidArgumentError }) ?? {};
  checkKeys('options', o, PAD_KEYS, InvalidArgumentError);
  const pad =
    o.padValue === undefined
      ? 0
      : checkNumber(
          'options.padValue',
          o.padValue,
          ids ? { integer: true, min: 0, max: MAX_ID, maxOpen: true } : DOMAINS.padValue,
          InvalidArgumentError,
        );
  const lengths = new Int32Array(B);
  const copies: (Float32Array | Int32Array)[] = new Array(B);
  let longest = 0;
  for (let b = 0; b < B; b++) {
    const s = ids
      ? copyIds(`${name}[${b}]`, seqs[b], undefined, MAX_ID)
      : (copyFloats(`${name}[${b}]`, seqs[b], undefined, 'float32') as Float32Array);
    if (s.length === 0 || s.length % F !== 0) {
      throw new InvalidArgumentError(`${name}[${b}]`, `a positive multiple of featureSize ${F} values (≥ 1 step)`, `length ${s.length}`);
    }
    copies[b] = s;
    lengths[b] = s.length / F;
    longest = Math.max(longest, lengths[b]);
  }
  let T = longest;
  if (o.length !== undefined) {
    T = checkNumber('options.length', o.length, { ...DOMAINS.padLength, min: Math.max(1, longest) }, InvalidArgumentError);
  }
  if (!inDomain(T * B * F, DOMAINS.batchFloats)) {
    throw new MemoryLimitError(
      `a padded batch of T = ${T}, B = ${B}, ${F} features holds ${T * B * F} values; one batch array holds at most ${DOMAINS.batchFloats.max}`,
    );
  }
  return { T, B, lengths, pad, copies };
}

function fill(
  out: Int32Array | Float32Array,
  seqs: readonly ArrayLike<number>[],
  B: number,
  F: number,
  lengths: Int32Array,
  pad: number,
): void {
  // `seqs` are the owned copies made by plan()
  if (pad !== 0) out.fill(pad);
  for (let b = 0; b < B; b++) {
    const s = seqs[b];
    for (let t = 0; t < lengths[b]; t++) {
      const o = (t * B + b) * F;
      for (let f = 0; f < F; f++) out[o + f] = s[t * F + f];
    }
  }
}
