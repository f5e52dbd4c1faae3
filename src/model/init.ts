// Initialisers. Every weight is drawn from the model's seeded Rng in
// PyTorch's parameter order, so a seed fixes the model exactly on every backend and engine.
import { ConfigError, describe } from '../errors.js';
import { checkKeys, checkNumber, DOMAINS, optionalNumber } from '../validate/index.js';
import type { ResolvedConfig } from './config.js';
import { GATES } from './config.js';
import type { TensorSlot } from './layout.js';
import type { Rng } from './rng.js';

/** How one family of weight matrices is drawn. */
export type WeightScheme = 'default' | 'xavier_uniform' | 'xavier_normal' | 'orthogonal' | 'identity';

export interface InitSpec {
  /** input-side weights weight_ih_l{k} (and the head). Default: PyTorch's U(±1/√H). */
  input?: WeightScheme;
  /** recurrent weights weight_hh_l{k}. 'identity' is IRNN's W_hh = scale·I (per gate block). */
  recurrent?: WeightScheme;
  /** all biases: 'default' (U(±1/√H)) or a constant. */
  bias?: 'default' | number;
  /** LSTM: the forget-gate block of bias_ih and bias_hh each set to half of this (their sum is the value). */
  forgetBias?: number;
  /** scale of the identity for recurrent 'identity'. Default 1. */
  identityScale?: number;
}

/** Named presets: 'irnn' (Le, Jaitly & Hinton 2015) = identity recurrent weights, zero biases. */
export type InitOption = InitSpec | 'default' | 'irnn' | 'orthogonal' | 'xavier_uniform' | 'xavier_normal';

/** The keys of an InitSpec. */
export const INIT_KEYS: readonly string[] = ['input', 'recurrent', 'bias', 'forgetBias', 'identityScale'];

const SCHEMES: readonly WeightScheme[] = ['default', 'xavier_uniform', 'xavier_normal', 'orthogonal', 'identity'];

export function resolveInit(init: InitOption | undefined): Required<Omit<InitSpec, 'forgetBias'>> & { forgetBias: number | null } {
  let spec: InitSpec;
  if (init === undefined || init === 'default') spec = {};
  else if (init === 'irnn') spec = { recurrent: 'identity', bias: 0 };
  else if (init === 'orthogonal') spec = { recurrent: 'orthogonal' };
  else if (init === 'xavier_uniform' || init === 'xavier_normal') spec = { input: init, recurrent: init };
  else if (typeof init === 'object' && init !== null) spec = init;
  else throw new ConfigError('init', '"default", "irnn", "orthogonal", "xavier_uniform", "xavier_normal" or an object', describe(init));
  checkKeys('init', spec, INIT_KEYS);
  for (const key of ['input', 'recurrent'] as const) {
    const v = spec[key];
    if (v !== undefined && !SCHEMES.includes(v)) throw new ConfigError(`init.${key}`, `one of ${SCHEMES.join(', ')}`, describe(v));
  }
  if (spec.bias !== undefined && spec.bias !== 'default') checkNumber('init.bias', spec.bias, DOMAINS.initBias);
  if (spec.forgetBias !== undefined) checkNumber('init.forgetBias', spec.forgetBias, DOMAINS.forgetBias);
  const identityScale = optionalNumber('init.identityScale', spec.identityScale, DOMAINS.identityScale, 1);
  return {
    input: spec.input ?? 'default',
    recurrent: spec.recurrent ?? 'default',
    bias: spec.bias ?? 'default',
    forgetBias: spec.forgetBias ?? null,
    identityScale,
  };
}

/** Fills the parameter block `out` (laid out by `slots`) for the given configuration. */
export function initialise(
  cfg: ResolvedConfig,
  slots: readonly TensorSlot[],
  out: Float32Array | Float64Array,
  base: number,
  option: InitOption | undefined,
  rng: Rng,
): void {
  const spec = resolveInit(option);
  const H = cfg.hiddenSize,
    G = GATES[cfg.cell];
  const layerBound = 1 / Math.sqrt(H);
  // the head is a Linear layer over D·R features (R = projSize or H): PyTorch bounds it by 1/√fan_in
  const headBound = 1 / Math.sqrt((cfg.bidirectional ? 2 : 1) * (cfg.projSize > 0 ? cfg.projSize : H));
  for (const slot of slots) {
    const v = out.subarray(base + slot.offset, base + slot.offset + slot.size);
    if (slot.name === 'embedding.weight') {
      // nn.Embedding's N(0, 1)
      for (let i = 0; i < v.length; i++) v[i] = rng.normal();
      continue;
    }
    const bound = slot.name.startsWith('head.') ? headBound : layerBound;
    const isBias = slot.shape.length === 1;
    if (isBias) {
      if (spec.bias === 'default') for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-bound, bound);
      else v.fill(spec.bias);
      if (spec.forgetBias !== null && cfg.cell === 'lstm' && slot.name.startsWith('bias_')) {
        v.fill(spec.forgetBias / 2, H, 2 * H);
      }
      continue;
    }
    const recurrent = slot.name.startsWith('weight_hh');
    const scheme = recurrent ? spec.recurrent : spec.input;
    const [rows, cols] = slot.shape;
    // orthogonal and identity act per gate block (each [H, cols] block orthogonal / an identity); the Glorot schemes see the whole tensor's fans, as torch.nn.init.xavier_*_
    // applied to weight_ih_l{k} [G·H, I] does (fan_out = G·H)
    const perBlock = scheme === 'orthogonal' || scheme === 'identity';
    // weight_hr [P,H] (the LSTM projection, bound 1/√H like the rest of the layer) is one block
    const blocks = slot.name === 'head.weight' || slot.name.startsWith('weight_hr') || !perBlock ? 1 : G;
    const blockRows = rows / blocks;
    for (let g = 0; g < blocks; g++) {
      const block = v.subarray(g * blockRows * cols, (g + 1) * blockRows * cols);
      fillMatrix(block, blockRows, cols, scheme, bound, spec.identityScale, rng);
    }
  }
}

function fillMatrix(
  m: Float32Array | Float64Array,
  rows: number,
  cols: number,
  scheme: WeightScheme,
  bound: number,
  identityScale: number,
  rng: Rng,
): void {
  switch (scheme) {
    case 'default':
      for (let i = 0; i < m.length; i++) m[i] = rng.uniform(-bound, bound);
      return;
    case 'xavier_uniform': {
      const a = Math.sqrt(6 / (rows + cols));
      for (let i = 0; i < m.length; i++) m[i] = rng.uniform(-a, a);
      return;
    }
    case 'xavier_normal': {
      const s = Math.sqrt(2 / (rows + cols));
      for (let i = 0; i < m.length; i++) m[i] = s * rng.normal();
      return;
    }
    case 'identity':
      m.fill(0);
      for (let i = 0; i < Math.min(rows, cols); i++) m[i * cols + i] = identityScale;
      return;
    case 'orthogonal':
      orthogonal(m, rows, cols, rng);
      return;
  }
}

/**
 * A (semi-)orthogonal [rows, cols] matrix as torch.nn.init.orthogonal_: QR of a Gaussian
 * matrix (of the transposed shape when rows < cols) with Q's columns sign-corrected by diag(R).
 * Modified Gram–Schmidt in f64 is exact enough at these sizes.
 */
export function orthogonal(m: Float32Array | Float64Array, rows: number, cols: number, rng: Rng): void {
  const tall = rows >= cols;
  const n = tall ? rows : cols,
    k = tall ? cols : rows; // Q is [n, k] with orthonormal columns
  const a = new Float64Array(n * k);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  // columns j of a: a[i*k + j]
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[i * k + j] * a[i * k + p];
      for (let i = 0; i < n; i++) a[i * k + j] -= dot * a[i * k + p];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i * k + j] * a[i * k + j];
    norm = Math.sqrt(norm);
    // R[j,j] = norm > 0, so the sign correction by diag(R) keeps the column as it is
    for (let i = 0; i < n; i++) a[i * k + j] /= norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) m[r * cols + c] = tall ? a[r * k + c] : a[c * k + r];
  }
}
