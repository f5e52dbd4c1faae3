// The domain of every hyperparameter and size, declared once. The model configuration, the
// Trainer, the optimizers, schedules, initialisers, data helpers, the worker protocol, the CLI
// and the checkpoint loader all check against these entries, and docs/limits.md lists them (a
// test compares that table with this one, so the two cannot drift).
//
// Upper bounds are real: a value at the bound can be represented and allocated, in principle, in
// 32-bit Wasm memory (4 GiB in all, single blocks below 1 GiB = 2^28 floats). Whether a given
// combination fits is the allocator's decision, which answers OUT_OF_MEMORY before any state
// changes.
import type { NumberDomain } from './domain.js';

/** Largest batch dimension: T and B each, and with them a TBPTT window, a padded length, a sequence length. */
export const MAX_STEPS = 2 ** 24;
/** A step counter or a schedule length: a count that JS numbers hold exactly. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/**
 * Initial weight and bias constants: a gate saturates at |x| ≈ 20, so 1e6 is far past any useful
 * value, while sums of 2^24 such terms times float32 inputs of moderate size stay finite.
 */
const MAX_INIT = 1e6;

function d<T extends Record<string, NumberDomain>>(table: T): { readonly [K in keyof T]: Readonly<NumberDomain> } {
  for (const v of Object.values(table)) Object.freeze(v);
  return Object.freeze(table);
}

export const DOMAINS = d({
  // ── model configuration
  inputSize: { integer: true, min: 1, max: 2 ** 20, doc: 'features per step of a dense-input model' },
  vocabSize: { integer: true, min: 1, max: 2 ** 24, doc: 'vocabulary of a token-input model (its inputSize)' },
  // the recurrent weight alone is G·H² floats and, with its packed copy, must stay below one
  // 2^28-float block: H = 2^13 is past that for every cell, so no larger H can ever fit
  hiddenSize: { integer: true, min: 1, max: 2 ** 13, doc: 'hidden units per layer' },
  outputSize: { integer: true, min: 1, max: 2 ** 24, doc: 'outputs of the linear head (classes or values)' },
  numLayers: { integer: true, min: 1, max: 64, doc: 'stacked recurrent layers' },
  seed: { integer: true, min: 0, max: 2 ** 32, maxOpen: true, doc: 'seed of the initialiser and sampler' },
  dropout: { min: 0, max: 1, maxOpen: true, doc: 'probability of zeroing an output of a layer below the top while training' },
  embeddingSize: { integer: true, min: 1, max: 2 ** 20, doc: 'features of the learned token embedding that feeds layer 0' },
  projSize: { integer: true, min: 1, max: 2 ** 13, doc: 'LSTM projection of the hidden state (also below hiddenSize)' },

  // ── batches and data
  T: { integer: true, min: 1, max: MAX_STEPS, doc: 'steps of a batch' },
  B: { integer: true, min: 1, max: MAX_STEPS, doc: 'sequences of a batch' },
  length: { integer: true, min: 1, max: MAX_STEPS, doc: 'real steps of one sequence (also ≤ T)' },
  padLength: { integer: true, min: 1, max: MAX_STEPS, doc: 'padSequences/padTokens/padTargets length (never wraps modulo 2^32)' },
  padValue: { min: -3.4028234663852886e38, max: 3.4028234663852886e38, doc: 'value written into padded positions (float32 range)' },
  // one array of a batch (x or y) can never be larger than the work arena's one block
  batchFloats: { integer: true, min: 0, max: 2 ** 28, doc: 'values of one batch array, e.g. a padded x of T·B·featureSize' },
  featureSize: { integer: true, min: 1, max: 2 ** 24, doc: 'features per step of padded dense sequences' },

  // ── optimizers
  lr: { min: 0, max: 1e6, doc: 'learning rate' },
  beta: { min: 0, max: 1, maxOpen: true, doc: "each of Adam's betas (β = 1 never forgets, and the bias correction divides by 0)" },
  eps: { min: 1e-38, max: 1, doc: 'denominator term of Adam, RMSprop and Adagrad (≥ 1e-38: it must stay a positive float32)' },
  momentum: { min: 0, max: 1, doc: 'SGD momentum' },
  dampening: { min: 0, max: 1, doc: 'SGD dampening' },
  weightDecay: { min: 0, max: 1e6, doc: 'L2 penalty (decoupled for AdamW)' },
  alpha: { min: 0, max: 1, doc: 'RMSprop smoothing constant' },

  // ── evolution strategies (src/train/es.ts)
  population: { integer: true, min: 1, max: 2 ** 20, doc: 'antithetic pairs per evolution-strategies step (two loss evaluations each)' },
  sigma: { min: 0, minOpen: true, max: 1e6, doc: 'standard deviation of the evolution-strategies perturbations' },

  // ── clipping (Infinity means no clipping)
  clipNorm: { min: 0, minOpen: true, finite: false, doc: 'largest global L2 norm of the gradients' },
  clipValue: { min: 0, minOpen: true, finite: false, doc: 'largest |gradient element|' },
  // per-timestep clipping is off unless given, so it needs no Infinity; the bound is float32's
  // largest value (row norms, summed in f64, can lie above it, so even that bound may clip)
  clipHiddenNorm: {
    min: 0,
    minOpen: true,
    max: 3.4028234663852886e38,
    doc: 'largest ‖∂E/∂h_t‖ of one sequence at one step, in every layer (per-timestep clipping)',
  },

  // ── learning-rate schedules
  warmup: { integer: true, min: 0, max: MAX_COUNT, doc: 'updates of linear warm-up' },
  stepSize: { integer: true, min: 1, max: MAX_COUNT, doc: 'StepLR period in updates' },
  gamma: { min: 0, minOpen: true, max: 1, doc: 'decay factor of step and exponential schedules (required for exponential)' },
  total: { integer: true, min: 1, max: MAX_COUNT, doc: 'cosine schedule length in updates' },
  minFactor: { min: 0, max: 1, doc: 'cosine schedule floor, as a factor of the base rate' },

  // ── initialisation
  initBias: { min: -MAX_INIT, max: MAX_INIT, doc: 'constant bias value' },
  forgetBias: { min: -MAX_INIT, max: MAX_INIT, doc: 'LSTM forget-gate bias (sum of bias_ih and bias_hh)' },
  identityScale: { min: -MAX_INIT, max: MAX_INIT, doc: 'scale of identity recurrent weights' },

  // ── truncated BPTT: a window is one batch of k2 steps
  k1: { integer: true, min: 1, max: MAX_STEPS, doc: 'new steps per TBPTT update' },
  k2: { integer: true, min: 1, max: MAX_STEPS, doc: 'steps backpropagated per TBPTT update (≥ k1)' },

  // ── losses
  // large enough for inverse class frequencies of any dataset; the mean divides by the total, the sum stays finite in f32
  classWeight: { min: 0, max: 1e12, doc: 'weight of one class in the cross-entropy (PyTorch CrossEntropyLoss weight)' },

  // ── generation and sampling
  temperature: { min: 0, max: 1e6, doc: 'softmax temperature (0 = argmax)' },
  generateSteps: { integer: true, min: 0, max: MAX_STEPS, doc: 'ids to generate' },

  // ── counters and checkpoints
  step: { integer: true, min: 0, max: MAX_COUNT, doc: 'updates applied so far' },
  rngWord: { integer: true, min: 0, max: 2 ** 32, maxOpen: true, doc: 'each of the four words of an Rng state (not all zero)' },
  epoch: { integer: true, min: 0, max: MAX_COUNT, doc: 'passes over a token stream' },
  position: { integer: true, min: 0, max: MAX_COUNT, doc: 'chunk index within an epoch' },
  historySteps: { integer: true, min: 0, max: MAX_STEPS, doc: 'steps of TBPTT history carried (≤ k2 − k1)' },
  // the history lives in JS memory; one block of it is held to the Wasm core's block limit
  historyFloats: { integer: true, min: 0, max: 2 ** 28, doc: 'floats of TBPTT history, (k2 − k1)·B·(inputs per step)' },

  // ── fit (src/train/fit.ts) and data files
  epochs: { integer: true, min: 1, max: MAX_COUNT, doc: 'passes over the training set of fit' },
  patience: { integer: true, min: 0, max: MAX_COUNT, doc: 'epochs without improvement before early stopping' },
  minDelta: {
    min: 0,
    max: 3.4028234663852886e38,
    doc: 'smallest change of the monitored value that counts as an improvement (float32 range)',
  },
  checkpointEvery: { integer: true, min: 1, max: MAX_COUNT, doc: 'updates between checkpoints of fit' },
  bucketBatches: { integer: true, min: 1, max: MAX_COUNT, doc: 'batches per pool that bucketed batching sorts by length' },
  chunkBytes: { integer: true, min: 4, max: 2 ** 30, doc: 'bytes read at a time from a streamed text file or Blob' },
});

export type DomainName = keyof typeof DOMAINS;
