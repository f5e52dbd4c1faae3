// Random option objects with random keys and values: each is either accepted, with exactly the
// documented domains (DOMAINS and the key lists), or refused with a typed UnrolledError. An
// independent oracle written from the documentation decides which; the library must agree.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { UnrolledError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { OPTIMIZER_KEYS } from '../../src/train/optimizers.js';
import { SCHEDULE_KEYS } from '../../src/train/schedules.js';
import { Trainer } from '../../src/train/trainer.js';
import { DOMAINS, inDomain, type NumberDomain } from '../../src/validate/index.js';

const NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
const KINDS = ['constant', 'step', 'exponential', 'cosine'] as const;
const OPT_FIELDS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'betas', 'eps', 'alpha'];
const SCHED_FIELDS = ['warmup', 'stepSize', 'gamma', 'total', 'minFactor'];

const num = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    0.5,
    0.9,
    0.999,
    0.1,
    1e-8,
    1e-39,
    1e-38,
    1e6,
    1e7,
    2 ** 24,
    2 ** 24 + 1,
    2 ** 32 + 3,
    NaN,
    Infinity,
    -Infinity,
    -1,
    2.5,
    3,
    8,
  ),
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.integer({ min: -3, max: 40 }),
);
const junk = fc.oneof(fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null), fc.array(num, { maxLength: 3 }));
const good = fc.constantFrom(0.5, 0.9, 0.1, 1e-3, 1, 2, 3, 8);
const value = fc.oneof(
  { weight: 6, arbitrary: good },
  { weight: 3, arbitrary: num },
  { weight: 1, arbitrary: junk },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const strayKey = fc.constantFrom('clipnorm', 'weight_decay', 'lR', 'beta', 'k3', 'gama', 'x');

/** An object with some of `keys` (values from `v`) and sometimes a stray key. */
function objectOf(keys: readonly string[], v: fc.Arbitrary<unknown>, fixed: Record<string, fc.Arbitrary<unknown>> = {}) {
  return fc
    .record({
      fields: fc.subarray([...keys]).chain((ks) => fc.tuple(...ks.map((k) => v.map((x) => [k, x] as const)))),
      stray: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(strayKey, v) }),
      fixed: fc.record(fixed),
    })
    .map(({ fields, stray, fixed: f }) => {
      const o: Record<string, unknown> = { ...f };
      for (const [k, x] of fields) o[k] = x;
      if (stray) o[stray[0]] = stray[1];
      return o;
    });
}

const betas = fc.oneof(
  fc.tuple(
    good.map((x) => x / 10),
    good.map((x) => x / 10),
  ),
  fc.tuple(num, num),
  fc.array(num, { maxLength: 3 }),
  junk,
);
const optimizer = fc.oneof(
  fc.constantFrom(...NAMES, 'lion'),
  fc.constantFrom(...NAMES).chain((name) =>
    objectOf(
      OPTIMIZER_KEYS[name].filter((k) => k !== 'name'),
      name === 'sgd' ? fc.oneof(value, betas) : value,
      { name: fc.constant(name), ...(name === 'adam' ? { betas } : {}) },
    ),
  ),
  objectOf(OPT_FIELDS, fc.oneof(value, betas), { name: fc.constantFrom(...NAMES, 'lion') }),
);
const schedule = fc.option(
  fc.oneof(
    fc.constantFrom(...KINDS).chain((kind) =>
      objectOf(
        SCHEDULE_KEYS[kind].filter((k) => k !== 'kind'),
        value,
        { kind: fc.constant(kind) },
      ),
    ),
    objectOf(SCHED_FIELDS, value, { kind: fc.constantFrom(...KINDS, 'cyclic') }),
  ),
  { nil: undefined },
);
const tbptt = fc.option(objectOf(['k1', 'k2'], fc.oneof(fc.integer({ min: -1, max: 6 }), num)), { nil: undefined });
const loss = fc.oneof(
  fc.constantFrom('mse', 'cross-entropy', 'hinge'),
  objectOf(['at', 'reduction'], fc.constantFrom('every', 'last', 'mean', 'sum', 'x'), { loss: fc.constantFrom('mse', 'cross-entropy') }),
);
const options = objectOf(['optimizer', 'schedule', 'clipNorm', 'clipValue', 'onNonFinite', 'tbptt'], fc.constant(undefined), {
  loss,
  optimizer,
  schedule,
  clipNorm: value,
  clipValue: value,
  onNonFinite: fc.constantFrom(undefined, 'skip', 'throw', 'ignore'),
  tbptt,
}).chain((o) =>
  fc.boolean().map((drop) => {
    // absent and present-but-undefined keys both occur
    if (drop) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
  }),
);

// ---- the oracle: the documented rules, written independently of src/train ----
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const keysOk = (o: Record<string, unknown>, allowed: readonly string[]) => Object.keys(o).every((k) => allowed.includes(k));
const opt = (v: unknown, d: NumberDomain) => v === undefined || inDomain(v, d);

function optimizerOk(spec: unknown): boolean {
  const s = typeof spec === 'string' ? { name: spec } : spec;
  if (!isObj(s) || !NAMES.includes(s.name as (typeof NAMES)[number])) return false;
  const name = s.name as (typeof NAMES)[number];
  if (!keysOk(s, OPTIMIZER_KEYS[name])) return false;
  if (name === 'sgd' && s.lr === undefined) return false;
  if (!opt(s.lr, DOMAINS.lr) || !opt(s.momentum, DOMAINS.momentum) || !opt(s.dampening, DOMAINS.dampening)) return false;
  if (!opt(s.weightDecay, DOMAINS.weightDecay) || !opt(s.eps, DOMAINS.eps) || !opt(s.alpha, DOMAINS.alpha)) return false;
  if (s.betas !== undefined && !(Array.isArray(s.betas) && s.betas.length === 2 && s.betas.every((b) => inDomain(b, DOMAINS.beta))))
    return false;
  if (s.nesterov !== undefined && typeof s.nesterov !== 'boolean') return false;
  if (s.nesterov === true && !(((s.momentum as number) ?? 0) > 0 && (s.dampening ?? 0) === 0)) return false;
  return true;
}

function scheduleOk(s: unknown): boolean {
  if (s === undefined) return true;
  if (!isObj(s) || !KINDS.includes(s.kind as (typeof KINDS)[number])) return false;
  const kind = s.kind as (typeof KINDS)[number];
  if (!keysOk(s, SCHEDULE_KEYS[kind])) return false;
  if (!opt(s.warmup, DOMAINS.warmup)) return false;
  if (kind === 'step') return inDomain(s.stepSize, DOMAINS.stepSize) && opt(s.gamma, DOMAINS.gamma);
  if (kind === 'exponential') return inDomain(s.gamma, DOMAINS.gamma);
  if (kind === 'cosine') return inDomain(s.total, DOMAINS.total) && opt(s.minFactor, DOMAINS.minFactor);
  return true;
}

function lossAt(l: unknown): string | null {
  if (l === 'mse' || l === 'cross-entropy') return 'every';
  if (!isObj(l) || !keysOk(l, ['loss', 'at', 'reduction'])) return null;
  if (l.loss !== 'mse' && l.loss !== 'cross-entropy') return null;
  if (l.at !== undefined && l.at !== 'every' && l.at !== 'last') return null;
  if (l.reduction !== undefined && l.reduction !== 'mean' && l.reduction !== 'sum') return null;
  return (l.at as string | undefined) ?? 'every';
}

function trainerOk(o: Record<string, unknown>, inputs: number): boolean {
  if (!keysOk(o, ['loss', 'optimizer', 'schedule', 'clipNorm', 'clipValue', 'onNonFinite', 'tbptt'])) return false;
  const at = lossAt(o.loss);
  if (at === null) return false;
  if (!opt(o.clipNorm, DOMAINS.clipNorm) || !opt(o.clipValue, DOMAINS.clipValue)) return false;
  if (o.onNonFinite !== undefined && o.onNonFinite !== 'skip' && o.onNonFinite !== 'throw') return false;
  if (!scheduleOk(o.schedule)) return false;
  if (o.tbptt !== undefined) {
    const t = o.tbptt;
    if (!isObj(t) || !keysOk(t, ['k1', 'k2'])) return false;
    if (!inDomain(t.k1, DOMAINS.k1) || !inDomain(t.k2, DOMAINS.k2) || (t.k2 as number) < (t.k1 as number)) return false;
    if (((t.k2 as number) - (t.k1 as number)) * inputs > DOMAINS.historyFloats.max!) return false;
    if (t.k2 !== t.k1 && at !== 'every') return false;
  }
  return optimizerOk(o.optimizer ?? 'adam');
}

describe('Trainer options: accepted exactly in the documented domains', () => {
  let model: Model;
  const counts = { accepted: 0, refused: 0 };
  afterAll(() => {
    model?.dispose();
    console.log(`random Trainer options: ${counts.accepted} accepted, ${counts.refused} refused with a typed error`);
  });

  it('property: the library agrees with the oracle, and refusals are UnrolledErrors (INVALID_CONFIG)', async () => {
    model = await createModel({ cell: 'gru', inputSize: 3, hiddenSize: 4, outputSize: 2, backend: 'js' });
    fc.assert(
      fc.property(options, (o) => {
        const expected = trainerOk(o, 3);
        let trainer: Trainer | null = null,
          err: unknown = null;
        try {
          trainer = new Trainer(model, o as never);
        } catch (e) {
          err = e;
        }
        if (err !== null && !(err instanceof UnrolledError)) throw err;
        if (err) expect((err as UnrolledError).code).toBe('INVALID_CONFIG');
        expect(trainer !== null, `${JSON.stringify(o)} → ${err}`).toBe(expected);
        if (trainer) {
          counts.accepted++;
          // what was accepted is what is used
          if (o.clipNorm !== undefined) expect(trainer.clipNorm).toBe(o.clipNorm);
          const s = typeof o.optimizer === 'object' ? (o.optimizer as Record<string, unknown>) : {};
          if (s.lr !== undefined) expect(trainer.baseLr).toBe(s.lr);
          if (Array.isArray(s.betas)) expect([trainer.optimizer.spec.beta1, trainer.optimizer.spec.beta2]).toEqual(s.betas);
          if (s.eps !== undefined) expect(trainer.optimizer.spec.eps).toBe(s.eps);
          trainer.dispose();
        } else {
          counts.refused++;
        }
      }),
      { numRuns: 4000, seed: 12 },
    );
    expect(counts.accepted).toBeGreaterThan(400);
  }, 120_000);
});

describe('option objects behind Proxies are read once', () => {
  /** Wraps every object and array of `v` in a Proxy that counts the reads of each of its keys. */
  function spy(v: unknown, reads: Map<string, number>, path = 'o'): unknown {
    if (v === null || typeof v !== 'object') return v;
    const inner = (Array.isArray(v) ? new Array(v.length) : {}) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) inner[k] = spy(x, reads, `${path}.${k}`);
    return new Proxy(inner, {
      get(t, k, r) {
        if (typeof k === 'string') reads.set(`${path}.${k}`, (reads.get(`${path}.${k}`) ?? 0) + 1);
        return Reflect.get(t, k, r);
      },
    });
  }
  it('property: new Trainer reads every key of every nested option at most once, accepted or refused', async () => {
    const model = await createModel({ cell: 'gru', inputSize: 3, hiddenSize: 4, outputSize: 2, backend: 'js' });
    fc.assert(
      fc.property(options, (o) => {
        const reads = new Map<string, number>();
        const expected = trainerOk(o, 3);
        let trainer: Trainer | null = null;
        try {
          trainer = new Trainer(model, spy(o, reads) as never);
        } catch (e) {
          expect(e).toBeInstanceOf(UnrolledError);
        }
        expect(trainer !== null).toBe(expected);
        trainer?.dispose();
        expect(reads.size).toBeGreaterThan(0);
        for (const [k, n] of reads) expect(n, k).toBeLessThanOrEqual(1);
      }),
      { numRuns: 1000, seed: 3 },
    );
    model.dispose();
  }, 60_000);
});

describe('createModel config: accepted exactly in the documented domains', () => {
  const FIELDS = ['cell', 'inputSize', 'hiddenSize', 'outputSize', 'numLayers', 'nonlinearity', 'input', 'seed'];
  const size = fc.oneof(fc.integer({ min: -1, max: 9 }), num);
  const config = objectOf(FIELDS, fc.oneof(size, fc.constantFrom('rnn', 'lstm', 'gru', 'tanh', 'relu', 'dense', 'tokens', 'x')), {
    inputSize: size,
    hiddenSize: size,
    outputSize: size,
  });
  function configOk(c: Record<string, unknown>): boolean {
    if (!keysOk(c, FIELDS)) return false;
    const cell = c.cell ?? 'lstm',
      input = c.input ?? 'dense',
      nl = c.nonlinearity ?? 'tanh';
    if (
      !['rnn', 'lstm', 'gru'].includes(cell as string) ||
      !['dense', 'tokens'].includes(input as string) ||
      !['tanh', 'relu'].includes(nl as string)
    )
      return false;
    if (cell !== 'rnn' && nl !== 'tanh') return false;
    return (
      inDomain(c.inputSize, input === 'tokens' ? DOMAINS.vocabSize : DOMAINS.inputSize) &&
      inDomain(c.hiddenSize, DOMAINS.hiddenSize) &&
      inDomain(c.outputSize, DOMAINS.outputSize) &&
      opt(c.numLayers, DOMAINS.numLayers) &&
      opt(c.seed, DOMAINS.seed)
    );
  }
  it('property: the library agrees with the oracle (sizes the oracle accepts may still be OUT_OF_MEMORY)', async () => {
    let accepted = 0,
      refused = 0,
      oom = 0;
    await fc.assert(
      fc.asyncProperty(config, async (c) => {
        const expected = configOk(c);
        let model: Model | null = null,
          err: unknown = null;
        try {
          model = await createModel({ ...c, backend: 'js' } as never);
        } catch (e) {
          err = e;
        }
        if (err !== null && !(err instanceof UnrolledError)) throw err;
        if (err && (err as UnrolledError).code === 'OUT_OF_MEMORY') {
          expect(expected).toBe(true);
          oom++;
          return;
        }
        if (err) expect((err as UnrolledError).code).toBe('INVALID_CONFIG');
        expect(model !== null, `${JSON.stringify(c)} → ${err}`).toBe(expected);
        if (model) {
          accepted++;
          expect(model.config.hiddenSize).toBe(c.hiddenSize);
          model.dispose();
        } else refused++;
      }),
      { numRuns: 1500, seed: 5 },
    );
    console.log(`random createModel configs: ${accepted} accepted, ${refused} refused with a typed error, ${oom} OUT_OF_MEMORY`);
  }, 120_000);
});
