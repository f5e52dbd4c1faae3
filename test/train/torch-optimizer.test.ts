// The optimizer state in PyTorch's optimizer.state_dict() layout (src/train/torch-optimizer.ts):
// the parameter order is PyTorch's, a round trip through the safetensors form continues the run
// bit-identically, and every malformed state is refused with nothing changed. Against PyTorch 1.13:
// the fixtures test/fixtures/torch/optimizer/*.safetensors (scripts/make_torch_fixtures.py: a few
// steps of torch.optim.Adam / AdamW / SGD in float64 and their state_dict) must equal what the
// float64 js backend exports after the same steps, and importing them must continue the run;
// test/examples/ddp-handover.test.ts hands a run to torch itself where torch is installed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import {
  exportTorchOptimizerState,
  importTorchOptimizerState,
  torchOptimizerStateFromSafetensors,
  torchOptimizerStateToSafetensors,
  type TorchOptimizerState,
  type TorchTensor,
} from '../../src/train/torch-optimizer.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import type { CreateModelOptions } from '../../src/create.js';
import type { OptimizerSpec } from '../../src/train/optimizers.js';
import { makeModel, relErr } from '../helpers.js';

const I = 2,
  T = 5,
  B = 3;

function batch(seed: number) {
  const x = Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(seed * 7.1 + i * 0.37));
  const y = Float32Array.from({ length: T * B }, (_, i) => Math.cos(seed * 3.3 + i * 0.21));
  return { x, y, T, B };
}

const CFG: CreateModelOptions = { cell: 'lstm', inputSize: I, hiddenSize: 6, outputSize: 1, numLayers: 2, bidirectional: true, seed: 4 };
const ADAM: TrainerOptions = { loss: 'mse', optimizer: { name: 'adam', lr: 0.01, betas: [0.8, 0.99], eps: 1e-7 }, clipNorm: 1 };

async function trained(options: TrainerOptions, steps: number, cfg = CFG): Promise<{ model: Model; trainer: Trainer }> {
  const model = await makeModel('js', cfg);
  const trainer = new Trainer(model, options);
  for (let i = 0; i < steps; i++) expect(trainer.step(batch(i)).skipped).toBe(false);
  return { model, trainer };
}

/** A fresh trainer on a copy of `model`'s weights. */
async function twin(model: Model, options: TrainerOptions, cfg = CFG): Promise<Trainer> {
  const copy = await makeModel('js', cfg);
  copy.loadStateDict(model.stateDict());
  return new Trainer(copy, options);
}

const moments = (t: Trainer) => t.model.arena.kernels.memory.f.slice(t.optimizer.moment(0), t.optimizer.moment(0) + 2 * t.model.arena.P);

describe('PyTorch optimizer state_dict layout', () => {
  it("indexes parameters in the order of PyTorch's model.parameters() (recurrent, embedding, head)", async () => {
    // the lists PyTorch 1.13 prints for named_parameters() of nn.LSTM(proj_size=2, num_layers=2,
    // bidirectional=True) and nn.GRU(bias=False, num_layers=2), each with `embedding` and `head`
    // registered as submodules in that order
    const lstm = await makeModel('js', {
      cell: 'lstm',
      input: 'tokens',
      inputSize: 5,
      embeddingSize: 3,
      hiddenSize: 4,
      projSize: 2,
      outputSize: 2,
      numLayers: 2,
      bidirectional: true,
    });
    const dirs = (k: number) =>
      ['', '_reverse'].flatMap((d) => [
        `weight_ih_l${k}${d}`,
        `weight_hh_l${k}${d}`,
        `bias_ih_l${k}${d}`,
        `bias_hh_l${k}${d}`,
        `weight_hr_l${k}${d}`,
      ]);
    const a = exportTorchOptimizerState(new Trainer(lstm, { loss: 'cross-entropy' }));
    expect(a.param_groups[0].param_names).toEqual([...dirs(0), ...dirs(1), 'embedding.weight', 'head.weight', 'head.bias']);
    expect(a.param_groups[0].params).toEqual([...Array(23).keys()]);
    const gru = await makeModel('js', { cell: 'gru', inputSize: 1, hiddenSize: 3, outputSize: 1, numLayers: 2, bias: false });
    const b = exportTorchOptimizerState(new Trainer(gru, { loss: 'mse' }));
    expect(b.param_groups[0].param_names).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
      'weight_ih_l1',
      'weight_hh_l1',
      'head.weight',
      'head.bias',
    ]);
    lstm.dispose();
    gru.dispose();
  });

  it("writes Adam's state as PyTorch 1.13 does: step per parameter, exp_avg and exp_avg_sq shaped like it, its param group keys", async () => {
    const { model, trainer } = await trained(ADAM, 0);
    expect(exportTorchOptimizerState(trainer).state).toEqual({}); // PyTorch's before the first step
    for (let i = 0; i < 3; i++) trainer.step(batch(i));
    const s = exportTorchOptimizerState(trainer);
    const g = s.param_groups[0];
    expect(Object.keys(g).sort()).toEqual(
      [
        'lr',
        'betas',
        'eps',
        'weight_decay',
        'amsgrad',
        'maximize',
        'foreach',
        'capturable',
        'differentiable',
        'fused',
        'params',
        'param_names',
      ].sort(),
    );
    expect(g).toMatchObject({ lr: 0.01, betas: [0.8, 0.99], eps: 1e-7, weight_decay: 0, amsgrad: false });
    const names = g.param_names!;
    expect(Object.keys(s.state).length).toBe(names.length);
    names.forEach((name, i) => {
      const e = s.state[i];
      expect(Object.keys(e).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
      expect(e.step).toBe(3);
      expect((e.exp_avg as TorchTensor).shape).toEqual(model.parameterShape(name));
      expect((e.exp_avg_sq as TorchTensor).data.every((v) => v >= 0)).toBe(true);
    });
    // the moments are the trainer's: weight_hh_l0's exp_avg sits at its slot of the first moment
    const at = names.indexOf('weight_hh_l0');
    expect((s.state[at].exp_avg as TorchTensor).data.some((v) => v !== 0)).toBe(true);
    model.dispose();
  });

  it('round trip through safetensors: the imported trainer continues bit-identically', async () => {
    const { model, trainer } = await trained(ADAM, 4);
    const bytes = torchOptimizerStateToSafetensors(exportTorchOptimizerState(trainer));
    const { metadata, tensors } = decodeSafetensors(bytes);
    expect(metadata.format).toBe('torch-optimizer-state');
    expect(tensors.get('state.0.step')).toMatchObject({ dtype: 'F64', shape: [] });
    const other = await twin(model, ADAM);
    importTorchOptimizerState(other, torchOptimizerStateFromSafetensors(bytes));
    expect(other.steps).toBe(4);
    expect(moments(other)).toEqual(moments(trainer));
    for (let i = 4; i < 7; i++) expect(other.step(batch(i))).toEqual(trainer.step(batch(i)));
    expect(other.model.stateDict()).toEqual(model.stateDict());
    model.dispose();
    other.model.dispose();
  });

  it('RMSprop and Adagrad round-trip too (square_avg, sum; Adagrad has its zero sums before the first step)', async () => {
    for (const optimizer of [
      { name: 'rmsprop', lr: 0.01, alpha: 0.9 },
      { name: 'adagrad', lr: 0.05 },
    ] as const) {
      const options: TrainerOptions = { loss: 'mse', optimizer };
      const { model, trainer } = await trained(options, 0);
      const empty = exportTorchOptimizerState(trainer).state;
      expect(Object.keys(empty).length, optimizer.name).toBe(optimizer.name === 'adagrad' ? 18 : 0);
      for (let i = 0; i < 3; i++) trainer.step(batch(i));
      const s = exportTorchOptimizerState(trainer);
      expect(Object.keys(s.state[0]).sort()).toEqual(['step', optimizer.name === 'adagrad' ? 'sum' : 'square_avg'].sort());
      const other = await twin(model, options);
      importTorchOptimizerState(other, torchOptimizerStateFromSafetensors(torchOptimizerStateToSafetensors(s)));
      expect(other.step(batch(3)), optimizer.name).toEqual(trainer.step(batch(3)));
      model.dispose();
      other.model.dispose();
    }
  });

  it('maps indices by param_names when a module lists its parameters in another order', async () => {
    const { model, trainer } = await trained(ADAM, 2);
    const s = exportTorchOptimizerState(trainer);
    const n = s.param_groups[0].params.length;
    // reversed: index i now holds what was index n − 1 − i
    const reversed: TorchOptimizerState = {
      state: Object.fromEntries(Array.from({ length: n }, (_, i) => [i, s.state[n - 1 - i]])),
      param_groups: [{ ...s.param_groups[0], param_names: [...s.param_groups[0].param_names!].reverse() }],
    };
    const other = await twin(model, ADAM);
    importTorchOptimizerState(other, reversed);
    expect(moments(other)).toEqual(moments(trainer));
    model.dispose();
    other.model.dispose();
  });

  it('AdamW with a schedule: initial_lr is the base rate; SGD momentum buffers need a step ≥ 1', async () => {
    const adamw: TrainerOptions = {
      loss: 'mse',
      optimizer: { name: 'adamw', lr: 0.02 },
      schedule: { kind: 'step', stepSize: 2, gamma: 0.5 },
    };
    const { model, trainer } = await trained(adamw, 3);
    const s = exportTorchOptimizerState(trainer);
    expect(s.param_groups[0]).toMatchObject({ lr: 0.01, initial_lr: 0.02, weight_decay: 0.01 });
    const other = await twin(model, adamw);
    other.baseLr = 0.5;
    importTorchOptimizerState(other, s);
    expect([other.baseLr, other.lr, other.steps]).toEqual([0.02, 0.01, 3]);
    expect(other.step(batch(3))).toEqual(trainer.step(batch(3)));

    const sgd: TrainerOptions = { loss: 'mse', optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 } };
    const a = await trained(sgd, 2);
    const st = exportTorchOptimizerState(a.trainer);
    expect(Object.keys(st.state[0])).toEqual(['momentum_buffer']); // SGD's state has no step in PyTorch
    const fresh = await twin(a.model, sgd);
    const partial = structuredClone(st);
    delete partial.state[2].momentum_buffer;
    expect(() => importTorchOptimizerState(fresh, partial, { step: 2 })).toThrow(/a momentum_buffer for every parameter or for none/);
    expect(() => importTorchOptimizerState(fresh, st)).toThrow(/options\.step.*at least 1/);
    importTorchOptimizerState(fresh, st, { step: 2 });
    expect(fresh.step(batch(2))).toEqual(a.trainer.step(batch(2)));
    for (const m of [model, other.model, a.model, fresh.model]) m.dispose();
  });

  it('refuses a state that does not fit the trainer, naming expected and actual, and changes nothing', async () => {
    const { model, trainer } = await trained(ADAM, 2);
    const good = exportTorchOptimizerState(trainer);
    const other = await twin(model, ADAM);
    const before = moments(other);
    const clone = (): TorchOptimizerState => structuredClone(good);
    const cases: [string, (s: TorchOptimizerState) => void, RegExp][] = [
      ['betas', (s) => (s.param_groups[0].betas = [0.9, 0.999]), /param_groups\[0\]\.betas.*\[0\.8,0\.99\].*\[0\.9,0\.999\]/],
      ['amsgrad', (s) => (s.param_groups[0].amsgrad = true), /amsgrad.*false.*true/],
      ['two groups', (s) => s.param_groups.push(s.param_groups[0]), /one param group.*2 groups/],
      ['params count', (s) => s.param_groups[0].params.pop(), /params.*18 parameter indices.*17 indices/],
      [
        'unknown name',
        (s) => (s.param_groups[0].param_names![0] = 'rnn.weight_ih_l0'),
        /param_names\[0\].*weight_ih_l0.*"rnn\.weight_ih_l0"/,
      ],
      ['missing entry', (s) => delete s.state[3], /an entry for each of the 18 parameters.*17 entries/],
      [
        'index spelt twice',
        (s) => {
          (s.state as Record<string, unknown>)['03'] = s.state[3];
          delete s.state[4];
        },
        /only the indices in params.*"03"/,
      ],
      ['steps differ', (s) => (s.state[5].step = 7), /state\[5\] \(.*\)\.step.*2.*7/],
      [
        'shape',
        (s) => ((s.state[1].exp_avg as TorchTensor).shape = [1, 2]),
        /state\[1\] \(weight_hh_l0\)\.exp_avg\.shape.*\[24, 6\].*\[1, 2\]/,
      ],
      ['negative', (s) => ((s.state[0].exp_avg_sq as TorchTensor).data[3] = -1), /exp_avg_sq\.data\[3\].*≥ 0/],
      ['non-finite', (s) => ((s.state[0].exp_avg as TorchTensor).data[0] = Number.NaN), /exp_avg\.data.*element 0 is NaN/],
      ['extra key', (s) => (s.state[0].max_exp_avg_sq = s.state[0].exp_avg), /only the keys step, exp_avg, exp_avg_sq.*max_exp_avg_sq/],
    ];
    for (const [what, spoil, message] of cases) {
      const s = clone();
      spoil(s);
      expect(() => importTorchOptimizerState(other, s), what).toThrow(message);
      expect(moments(other), what).toEqual(before);
      expect(other.steps, what).toBe(0);
    }
    expect(() => importTorchOptimizerState(other, clone(), { stpe: 1 } as never)).toThrow(InvalidArgumentError);
    // the file form: a foreign file and a bad name are CheckpointErrors
    expect(() => torchOptimizerStateFromSafetensors(model.toSafetensors())).toThrow(CheckpointError);
    const odd = encodeSafetensors([{ name: 'exp_avg.0', dtype: 'F32', shape: [1], data: new Float32Array(1) }], {
      format: 'torch-optimizer-state',
      param_groups: '[]',
    });
    expect(() => torchOptimizerStateFromSafetensors(odd)).toThrow(/state\.<index>\.<key>/);
    model.dispose();
    other.model.dispose();
  });
});

const FIXTURES = new URL('../fixtures/torch/optimizer/', import.meta.url);

describe('against PyTorch 1.13 optimizer.state_dict() (fixtures)', () => {
  for (const name of ['adam_lstm_proj_bidirectional', 'adamw_gru_bidirectional_nobias', 'sgd_rnn_nesterov']) {
    it(name, async () => {
      const { tensors, metadata } = decodeSafetensors(readFileSync(new URL(`${name}.safetensors`, FIXTURES)));
      const cfg = JSON.parse(metadata.config);
      const torchLosses: number[] = JSON.parse(metadata.losses);
      const o = JSON.parse(metadata.optimizer);
      const optimizer = (
        o.name === 'sgd'
          ? { name: 'sgd', lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weight_decay }
          : {
              name: o.name,
              lr: o.lr,
              ...(o.betas ? { betas: o.betas } : {}),
              ...(o.eps ? { eps: o.eps } : {}),
              ...(o.weight_decay ? { weightDecay: o.weight_decay } : {}),
            }
      ) as OptimizerSpec;
      const options: TrainerOptions = { loss: 'mse', optimizer };
      const config: CreateModelOptions = { ...cfg, seed: 1 };
      const part = (prefix: string) =>
        Object.fromEntries(
          [...tensors].filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t.data as Float64Array]),
        );
      const weights = Object.fromEntries(
        [...tensors].filter(([n]) => !n.includes('.') || n.startsWith('head.')).map(([n, t]) => [n, t.data as Float64Array]),
      );
      const x = tensors.get('batch.x')!,
        y = tensors.get('batch.y')!;
      const [S, T, B, I] = x.shape,
        O = y.shape[3];
      const batchAt = (s: number) => ({
        x: (x.data as Float64Array).slice(s * T * B * I, (s + 1) * T * B * I),
        y: (y.data as Float64Array).slice(s * T * B * O, (s + 1) * T * B * O),
        T,
        B,
      });

      // the same S steps in unrolled (float64)
      const model = await makeModel('js64', config);
      model.loadStateDict(weights);
      const trainer = new Trainer(model, options);
      for (let s = 0; s < S; s++) expect(Math.abs(trainer.step(batchAt(s)).loss / torchLosses[s] - 1)).toBeLessThan(1e-12);
      const after = part('after.');
      for (const [n, v] of Object.entries(after)) expect(relErr(model.getParameter(n), v, 1e-12), n).toBeLessThan(1e-12);

      // PyTorch's state_dict, read through the safetensors form
      const stateOnly = encodeSafetensors(
        [...tensors].filter(([n]) => n.startsWith('state.')).map(([n, t]) => ({ name: n, ...t })),
        { format: 'torch-optimizer-state', param_groups: metadata.param_groups },
      );
      const torch = torchOptimizerStateFromSafetensors(stateOnly);
      const ours = exportTorchOptimizerState(trainer);
      const [tg, og] = [torch.param_groups[0], ours.param_groups[0]];
      expect(Object.keys(og).sort()).toEqual(Object.keys(tg).sort()); // PyTorch 1.13's keys, param_names added
      for (const key of Object.keys(tg)) if (key !== 'lr') expect(og[key], key).toEqual(tg[key]);
      expect(og.lr).toBeCloseTo(tg.lr, 15);
      expect(Object.keys(ours.state)).toEqual(Object.keys(torch.state));
      for (const [i, entry] of Object.entries(torch.state)) {
        const mine = ours.state[Number(i)];
        expect(Object.keys(mine).sort(), `state[${i}]`).toEqual(Object.keys(entry).sort());
        for (const [key, v] of Object.entries(entry)) {
          if (typeof v === 'number') expect(mine[key], `state[${i}].${key}`).toBe(v);
          else {
            const t = v as TorchTensor,
              m = mine[key] as TorchTensor;
            expect(m.shape, `state[${i}].${key}`).toEqual(t.shape);
            expect(relErr(m.data, t.data, 1e-12), `state[${i}].${key}`).toBeLessThan(1e-12);
          }
        }
      }

      // imported into a trainer at PyTorch's weights, the run continues as the original does
      const back = await makeModel('js64', config);
      back.loadStateDict(after);
      const resumed = new Trainer(back, options);
      importTorchOptimizerState(resumed, torch, { step: S });
      expect(resumed.steps).toBe(S);
      const next = batchAt(0);
      expect(Math.abs(resumed.step(next).loss / trainer.step(next).loss - 1)).toBeLessThan(1e-12);
      for (const n of back.parameterNames()) expect(relErr(back.getParameter(n), model.getParameter(n), 1e-12), n).toBeLessThan(1e-12);
      model.dispose();
      back.dispose();
    });
  }
});
