// The layer flags (--proj-size, --bidirectional, --dropout) of train, fit, bench and gradcheck,
// and fit's --class-weights: they reach the model and the loss (read back from the files the
// commands write), and every contradiction is one usage line naming the flag (exit 2).
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng.js';
import { restoreCheckpoint } from '../../src/train/checkpoint.js';
import { modelFromSafetensors } from '../../src/model-file.js';
import { run, tempDir } from './helpers.js';

const tmp = tempDir('unrolled-cli-layers-');
afterAll(() => tmp.remove());

// sign of the sum: one labelled sequence per line, label first (two classes)
const rng = new Rng(3);
const lines: string[] = [];
for (let i = 0; i < 40; i++) {
  const xs = Array.from({ length: 2 + rng.int(6) }, () => Math.round(rng.normal() * 1000) / 1000);
  lines.push([xs.reduce((a, b) => a + b, 0) > 0 ? 1 : 0, ...xs].join(','));
}
const CSV = tmp.path('sign.csv');
writeFileSync(CSV, `${lines.join('\n')}\n`);
const FIT = ['fit', '--csv', CSV, '--target', 'classes', '--epochs', '1', '--batch', '8'];

describe('layer flags', () => {
  it('fit: a bidirectional, projected LSTM with dropout and class weights, as the saved model and checkpoint say', async () => {
    const model = tmp.path('bi.safetensors'),
      ckpt = tmp.path('bi.ckpt');
    const flags = ['--cell', 'lstm', '--layers', '2', '--hidden', '6', '--proj-size', '3', '--bidirectional', '--dropout', '0.25'];
    const r = await run([...FIT, ...flags, '--class-weights', '1,3', '--save', model, '--checkpoint', ckpt, '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    const m = await modelFromSafetensors(readFileSync(model), { backend: 'js' });
    expect(m.config).toMatchObject({ cell: 'lstm', numLayers: 2, hiddenSize: 6, projSize: 3, bidirectional: true, dropout: 0.25 });
    expect(m.parameterNames()).toContain('weight_hr_l1_reverse');
    const c = await restoreCheckpoint(readFileSync(ckpt), { backend: 'js' });
    expect(c.trainer.loss.classWeights).toEqual([1, 3]);
    // resumed with a layer flag that disagrees: refused by name
    const again = await run(['fit', '--resume', ckpt, '--epochs', '2', '--dropout', '0.5']);
    expect(again.code).toBe(2);
    expect(again.err.join('\n')).toMatch(/--dropout 0\.5 differs from the checkpoint's 0\.25/);
  });

  it('train: --bidirectional --dropout on a task of whole sequences; the checkpoint holds that model', async () => {
    const ckpt = tmp.path('adding.ckpt');
    const r = await run([
      'train',
      ...['--task', 'adding', '--cell', 'gru', '--layers', '2', '--hidden', '5', '--seq', '12', '--batch', '4', '--steps', '2'],
      ...['--bidirectional', '--dropout', '0.2', '--checkpoint', ckpt, '--json'],
    ]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0]).toMatchObject({ type: 'header', bidirectional: true, dropout: 0.2 });
    const c = await restoreCheckpoint(readFileSync(ckpt), { backend: 'js' });
    expect(c.model.config).toMatchObject({ cell: 'gru', bidirectional: true, dropout: 0.2, projSize: 0 });
  });

  it('train: --proj-size on an LSTM', async () => {
    const r = await run([
      'train',
      '--task',
      'sine',
      '--hidden',
      '6',
      '--proj-size',
      '2',
      '--seq',
      '8',
      '--batch',
      '2',
      '--steps',
      '1',
      '--json',
    ]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0]).toMatchObject({ type: 'header', projSize: 2 });
  });

  it('gradcheck: a bidirectional model with a projection passes', async () => {
    const r = await run(['gradcheck', '--task', 'sine', '--hidden', '4', '--proj-size', '2', '--bidirectional', '--layers', '2']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).toMatch(/weight_hr_l1_reverse/);
  });

  const refusals: [string, string[], RegExp][] = [
    [
      'bidirectional on the stateful char task',
      ['train', '--bidirectional'],
      /train: --bidirectional needs whole sequences, and the char task trains statefully/,
    ],
    ['a projection of a GRU', ['train', '--task', 'adding', '--cell', 'gru', '--proj-size', '2'], /--proj-size is for --cell lstm/],
    [
      'a projection as large as the hidden state',
      ['train', '--task', 'sine', '--hidden', '4', '--proj-size', '4'],
      /--proj-size 4 must be below --hidden 4/,
    ],
    ['dropout with one layer', ['train', '--task', 'sine', '--dropout', '0.3'], /--dropout 0\.3 acts between layers.*--layers 2 or more/],
    ['dropout of 1', ['train', '--task', 'sine', '--layers', '2', '--dropout', '1'], /--dropout: expected a finite number in \[0, 1\)/],
    [
      'class weights, one per class',
      [...FIT, '--class-weights', '1,2,3'],
      /--class-weights: expected 2 weights \(one per class of the data\), got 3/,
    ],
    [
      'class weights that are not numbers',
      [...FIT, '--class-weights', '1,heavy'],
      /--class-weights: expected numbers ≥ 0 separated by commas.*"heavy"/,
    ],
    ['class weights all zero', [...FIT, '--class-weights', '0,0'], /--class-weights: expected at least one weight above 0/],
    [
      'class weights for values',
      ['fit', '--csv', CSV, '--target', 'values', '--class-weights', '1,2'],
      /--class-weights weights the classes of a cross-entropy/,
    ],
    ['fit: dropout with one layer', [...FIT, '--dropout', '0.1'], /fit: --dropout 0\.1 acts between layers/],
  ];
  for (const [what, argv, message] of refusals) {
    it(`refuses ${what}`, async () => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(message);
    });
  }

  it('--help of train and fit lists the flags', async () => {
    for (const command of ['train', 'fit']) {
      const r = await run([command, '--help']);
      for (const flag of ['--proj-size', '--bidirectional', '--dropout']) expect(r.out.join('\n')).toContain(flag);
    }
    expect((await run(['fit', '--help'])).out.join('\n')).toContain('--class-weights');
  });
});
