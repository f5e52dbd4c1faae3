// The training run shared by the browser smoke page (test/browser/smoke.html, which imports this
// file as-is from the static server) and by the Node side of test/browser/chromium.test.ts.
// Plain ES module JavaScript on purpose: the page cannot import TypeScript. No Node built-in, no
// DOM: the library is passed in, so each side uses its own entry point (dist/index.js in the
// browser, src/node/index.js in Node) and the same data, seed and hyper-parameters.

/**
 * @typedef {object} SmokeLib  the parts of unrolled's public API the task uses
 * @property {(options: object) => Promise<any>} createModel
 * @property {new (model: any, options: object) => { step(batch: object): { loss: number } }} Trainer
 * @property {(options?: object) => Promise<{ variant: string }>} loadCore
 * @property {() => boolean} simdSupported
 *
 * @typedef {object} SmokeResult
 * @property {number[]} losses        the loss of every step, before its update
 * @property {string} hash            FNV-1a (32-bit, hex) over the bytes of every parameter, in parameterNames() order
 * @property {string[]} parameterNames
 * @property {number} parameterCount  total number of f32 weights hashed
 * @property {boolean} simd           simdSupported() in this engine
 * @property {string} variant         the variant of the default core the model runs on ('simd' | 'scalar')
 * @property {number} ms              wall time of the training loop
 */

/** An 11-character alphabet and a text over it: a tiny next-character task. */
export const ALPHABET = ' .abdehlorw';
export const TEXT = 'hello world. a bold law. hero or a bear. a bard. hello bold world. ';

export const SMOKE = Object.freeze({
  cell: 'lstm',
  inputSize: ALPHABET.length, // 11
  hiddenSize: 16,
  outputSize: ALPHABET.length, // 11
  input: 'tokens',
  seed: 1234,
  T: 8,
  B: 4,
  steps: 30,
  lr: 0.01,
  dataSeed: 42,
});

/** A seeded LCG for the window offsets (independent of the library's Rng). */
function lcg(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * The batches: B windows of T+1 characters at random offsets; x = the first T characters, y = the
 * next character at every step. Time-major [T, B] as Trainer.step expects.
 * @returns {{ x: Int32Array, y: Int32Array, T: number, B: number }[]}
 */
export function makeBatches(steps = SMOKE.steps, T = SMOKE.T, B = SMOKE.B, seed = SMOKE.dataSeed) {
  const ids = Array.from(TEXT, (c) => {
    const i = ALPHABET.indexOf(c);
    if (i < 0) throw new Error(`smoke-task: character ${JSON.stringify(c)} is not in the alphabet`);
    return i;
  });
  const rand = lcg(seed);
  const batches = [];
  for (let s = 0; s < steps; s++) {
    const x = new Int32Array(T * B),
      y = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const o = Math.floor(rand() * (ids.length - T - 1));
      for (let t = 0; t < T; t++) {
        x[t * B + b] = ids[o + t];
        y[t * B + b] = ids[o + t + 1];
      }
    }
    batches.push({ x, y, T, B });
  }
  return batches;
}

/**
 * FNV-1a, 32 bits, over the bytes of every array in turn; returned as 8 hex digits.
 * @param {ArrayBufferView[]} arrays
 */
export function fnv1a32(arrays) {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Creates the model on the Wasm backend with the reproducible SIMD core, trains it and hashes the weights.
 * @param {SmokeLib} lib
 * @returns {Promise<SmokeResult>}
 */
export async function runSmokeTask(lib) {
  const { cell, inputSize, hiddenSize, outputSize, input, seed, lr } = SMOKE;
  // reproducible: the non-relaxed SIMD core (Chromium would otherwise pick relaxed SIMD, whose
  // fused multiply-add is allowed to round differently from Node's)
  const model = await lib.createModel({
    cell,
    inputSize,
    hiddenSize,
    outputSize,
    input,
    seed,
    backend: 'wasm',
    core: { reproducible: true },
  });
  try {
    const core = await lib.loadCore({ reproducible: true }); // the cached core the model was made with
    const trainer = new lib.Trainer(model, {
      loss: { loss: 'cross-entropy', at: 'every' },
      optimizer: { name: 'adam', lr },
    });
    const batches = makeBatches();
    const losses = [];
    const t0 = Date.now();
    for (const batch of batches) losses.push(trainer.step(batch).loss);
    const ms = Date.now() - t0;
    const names = model.parameterNames();
    const dict = model.stateDict();
    const arrays = names.map((n) => dict[n]);
    return {
      losses,
      hash: fnv1a32(arrays),
      parameterNames: names,
      parameterCount: arrays.reduce((n, a) => n + a.length, 0),
      simd: lib.simdSupported(),
      variant: core.variant,
      ms,
    };
  } finally {
    model.dispose();
  }
}
