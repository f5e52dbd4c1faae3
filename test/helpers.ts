// Shared test helpers: the Node core loader, model construction on either backend, comparisons.
import '../src/node/load-node.js';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createModel, type CreateModelOptions } from '../src/create.js';
import type { Model } from '../src/model/model.js';
import { loadCore } from '../src/runtime/load.js';
import type { Core } from '../src/runtime/core.js';

export const simdCore = (): Promise<Core> => loadCore({ variant: 'simd' });
export const scalarCore = (): Promise<Core> => loadCore({ variant: 'scalar' });

export type BackendName = 'wasm' | 'wasm-scalar' | 'js' | 'js64';
export const ALL_BACKENDS: BackendName[] = ['wasm', 'wasm-scalar', 'js'];

export async function makeModel(backend: BackendName, config: CreateModelOptions): Promise<Model> {
  switch (backend) {
    case 'wasm':
      return createModel({ ...config, backend: 'wasm', core: await simdCore() });
    case 'wasm-scalar':
      return createModel({ ...config, backend: 'wasm', core: await scalarCore() });
    case 'js':
      return createModel({ ...config, backend: 'js' });
    case 'js64':
      return createModel({ ...config, backend: 'js', dtype: 'float64' });
  }
}

/** max |a − b| / max(max |b|, floor): one relative error per tensor. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0,
    scale = floor;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** A seeded uniform generator for test data (independent of the library's Rng). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function randn(n: number, rand: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12),
      v = rand();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export function randInts(n: number, hi: number, rand: () => number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * hi);
  return out;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/torch/', import.meta.url));

export interface TorchFixture {
  name: string;
  config: {
    cell: 'rnn' | 'lstm' | 'gru';
    nonlinearity: 'tanh' | 'relu';
    inputSize: number;
    hiddenSize: number;
    outputSize: number;
    numLayers: number;
    T: number;
    B: number;
    input: 'dense' | 'tokens';
    loss: 'mse' | 'cross-entropy';
    at: 'every' | 'last';
    reduction: 'mean' | 'sum';
    masked: boolean;
    /** present (true) only for a bidirectional stack */
    bidirectional?: boolean;
    /** present (false) only for a stack without biases */
    bias?: boolean;
    /** present only for an LSTM with a projection (proj_size) */
    projSize?: number;
    /** present only for a class-weighted cross-entropy (nn.CrossEntropyLoss(weight=...)) */
    classWeights?: number[];
  };
  params: Record<string, number[]>;
  x: number[];
  y: number[];
  mask: number[] | null;
  lengths: number[] | null;
  h0: number[];
  c0: number[] | null;
  predictions: number[];
  loss: number;
  hN: number[];
  cN: number[] | null;
  /** The top layer's hidden sequence [T,B,H], padded steps 0 (pad_packed_sequence). */
  outputs: number[];
  /** Every parameter, h0, c0 (LSTM) and x (dense input). */
  grads: Record<string, number[]>;
}

/** The model a PyTorch fixture was made with (PyTorch's defaults where the fixture leaves a field out). */
export function fixtureModelOptions(
  c: Pick<
    TorchFixture['config'],
    'cell' | 'nonlinearity' | 'inputSize' | 'hiddenSize' | 'outputSize' | 'numLayers' | 'bidirectional' | 'bias' | 'projSize'
  > &
    Partial<Pick<TorchFixture['config'], 'input'>>,
): CreateModelOptions {
  return {
    cell: c.cell,
    nonlinearity: c.nonlinearity,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    outputSize: c.outputSize,
    numLayers: c.numLayers,
    input: c.input,
    bidirectional: c.bidirectional ?? false,
    bias: c.bias ?? true,
    projSize: c.projSize ?? 0,
  };
}

export function torchFixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

export function torchFixture(name: string): TorchFixture {
  return JSON.parse(readFileSync(`${FIXTURES + name}.json`, 'utf8')) as TorchFixture;
}

/**
 * Central differences of loss() over every element of `values`, changed in place one at a time
 * and each trial written through set() (a no-op set() suits a loss that reads `values` itself);
 * every element holds its original value again at the end, and set() has been given it.
 */
export function centralDifferences(values: Float64Array, set: (v: Float64Array) => void, loss: () => number, eps: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    values[i] = v + eps;
    set(values);
    const lp = loss();
    values[i] = v - eps;
    set(values);
    const lm = loss();
    values[i] = v;
    out[i] = (lp - lm) / (2 * eps);
  }
  set(values);
  return out;
}

/** The largest |a_i|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
