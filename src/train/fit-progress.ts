// What a resumed fit needs, besides the trainer's checkpoint, to continue bit for bit: the running
// sums of the epoch in progress (its mean loss is the monitored metric without a validation set)
// and the early-stopping record (the best value, its epoch, the epochs since, and the best
// epoch's weights when they are put back at the end). It travels as JSON in a checkpoint's info
// (info.fit.progress); the weights as base64 of their bytes, so that they come back exactly.
import { ConfigError, describe } from '../errors.js';
import { checkKeys, checkNumber, DOMAINS } from '../validate/index.js';

export interface FitProgress {
  /** Σ (per-row loss × rows) over the finished batches of the epoch in progress. */
  lossSum: number;
  /** Rows those batches scored. */
  rows: number;
  /** Steps of the epoch in progress refused as non-finite. */
  skipped: number;
  /** The best monitored value so far; null while none was finite. */
  best: number | null;
  /** The epoch of the best value (the first epoch while none was finite); −1 before an epoch ended. */
  bestEpoch: number;
  /** Epochs since the best one. */
  sinceBest: number;
  /**
   * The best epoch's weights, kept when early stopping restores them: parameter name → base64 of
   * the values' bytes in the model's float type (little-endian, as Wasm and every JS engine in use).
   */
  bestWeights?: Record<string, string>;
}

type Weights = Record<string, Float32Array | Float64Array>;

/** Weights as base64 strings (see FitProgress.bestWeights). */
export function encodeWeights(weights: Weights): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(weights)) {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    out[name] = btoa(binary);
  }
  return out;
}

/** The inverse of encodeWeights, in the model's float type; a ConfigError names the entry that is not base64 of whole values. */
export function decodeWeights(encoded: Record<string, string>, dtype: 'float32' | 'float64', argument: string): Weights {
  const size = dtype === 'float64' ? 8 : 4;
  const out: Weights = {};
  for (const [name, text] of Object.entries(encoded)) {
    let binary: string;
    try {
      binary = atob(text);
    } catch {
      throw new ConfigError(`${argument}.${name}`, 'base64 text', describe(text));
    }
    if (binary.length % size !== 0)
      throw new ConfigError(`${argument}.${name}`, `a whole number of ${dtype} values (${size} bytes each)`, `${binary.length} bytes`);
    const buffer = new ArrayBuffer(binary.length);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    out[name] = dtype === 'float64' ? new Float64Array(buffer) : new Float32Array(buffer);
  }
  return out;
}

/** Checks a FitProgress read back from JSON (options.start.progress). */
export function readProgress(v: unknown, argument: string): FitProgress {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError(argument, 'an object { lossSum, rows, skipped, best, bestEpoch, sinceBest, bestWeights? }', describe(v));
  const p = v as Record<string, unknown>;
  checkKeys(argument, p, ['lossSum', 'rows', 'skipped', 'best', 'bestEpoch', 'sinceBest', 'bestWeights']);
  const lossSum = p.lossSum;
  if (typeof lossSum !== 'number' || !Number.isFinite(lossSum))
    throw new ConfigError(`${argument}.lossSum`, 'a finite number', describe(lossSum));
  const best = p.best;
  if (best !== null && (typeof best !== 'number' || !Number.isFinite(best)))
    throw new ConfigError(`${argument}.best`, 'a finite number or null', describe(best));
  const bestEpoch = p.bestEpoch;
  if (bestEpoch !== -1) checkNumber(`${argument}.bestEpoch`, bestEpoch, DOMAINS.epoch);
  const progress: FitProgress = {
    lossSum,
    rows: checkNumber(`${argument}.rows`, p.rows, DOMAINS.position),
    skipped: checkNumber(`${argument}.skipped`, p.skipped, DOMAINS.position),
    best,
    bestEpoch: bestEpoch as number,
    sinceBest: checkNumber(`${argument}.sinceBest`, p.sinceBest, DOMAINS.epoch),
  };
  if (p.bestWeights !== undefined) {
    const w = p.bestWeights;
    if (w === null || typeof w !== 'object' || Array.isArray(w) || Object.values(w).some((s) => typeof s !== 'string'))
      throw new ConfigError(`${argument}.bestWeights`, 'an object of base64 strings', describe(w));
    progress.bestWeights = w as Record<string, string>;
  }
  return progress;
}
