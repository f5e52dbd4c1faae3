// `unrolled fit` and `unrolled eval MODEL --csv/--jsonl`: JSON lines, epoch lines, the progress
// bar, early stopping, checkpoints, the saved model evaluated again, and bad data refused with one
// line naming the file, line and column.
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng.js';
import { fakeTerminal, run, tempDir } from './helpers.js';

const tmp = tempDir('unrolled-cli-fit-');
afterAll(() => tmp.remove());

// sign of the sum: one labelled sequence per line, label first
const rng = new Rng(1);
const lines: string[] = [];
for (let i = 0; i < 240; i++) {
  const len = 2 + rng.int(10);
  const xs = Array.from({ length: len }, () => Math.round(rng.normal() * 1000) / 1000);
  lines.push([xs.reduce((a, b) => a + b, 0) > 0 ? 1 : 0, ...xs].join(','));
}
const CSV = tmp.path('sign.csv');
writeFileSync(CSV, `${lines.join('\n')}\n`);
// grouped rows: sine segments, predict the next value at every step
const GROUPED = tmp.path('sine.csv');
const rows = ['id,x,y'];
for (let s = 0; s < 60; s++) {
  const len = 5 + rng.int(15),
    phase = rng.uniform(0, 6.28);
  for (let t = 0; t < len; t++) rows.push(`seq${s},${Math.sin(phase + 0.4 * t).toFixed(4)},${Math.sin(phase + 0.4 * (t + 1)).toFixed(4)}`);
}
writeFileSync(GROUPED, rows.join('\n'));

describe('unrolled fit', () => {
  it('--json: a header, one line per epoch with the validation metric and ETA, done; the saved model evaluates to the best epoch', async () => {
    const model = tmp.path('sign.safetensors');
    const r = await run([
      'fit',
      '--csv',
      CSV,
      '--target',
      'classes',
      '--metric',
      'accuracy',
      '--epochs',
      '6',
      '--hidden',
      '8',
      '--lr',
      '0.02',
      '--batch',
      '16',
      '--save',
      model,
      '--json',
    ]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0]).toMatchObject({
      type: 'header',
      command: 'fit',
      sequences: 240,
      train: 192,
      validation: 48,
      inputSize: 1,
      target: 'classes',
      targetSize: 2,
      at: 'last',
      metric: 'val accuracy',
      batchesPerEpoch: 12,
    });
    const epochs = r.json.filter((l) => l.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const e of epochs)
      expect(Object.keys(e)).toEqual(
        expect.arrayContaining(['loss', 'valLoss', 'value', 'eta', 'lr', 'seconds', 'paddingFraction', 'step', 'total']),
      );
    expect(epochs.at(-1)!.eta).toBe(0);
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0].loss);
    const done = r.json.at(-1)!;
    expect(done).toMatchObject({ type: 'done', epochs: 6, steps: 72, saved: model });
    expect(existsSync(model)).toBe(true);
    const e = await run(['eval', model, '--csv', CSV, '--target', 'classes', '--json']);
    expect(e.code, e.err.join('\n')).toBe(0);
    expect(e.json[0]).toMatchObject({ type: 'eval', source: CSV, sequences: 240 });
    expect(e.json[0].accuracy).toBeGreaterThan(0.7);
    expect(e.json[0].perplexity).toBeCloseTo(Math.exp(e.json[0].loss), 10);
  });

  it('grouped rows, early stopping and checkpoints; the checkpoint evaluates too', async () => {
    const ckpt = tmp.path('sine.ckpt');
    const r = await run([
      'fit',
      '--csv',
      GROUPED,
      '--group-by',
      'id',
      '--epochs',
      '30',
      '--hidden',
      '6',
      '--batch',
      '8',
      '--lr',
      '0.3',
      '--optimizer',
      'sgd',
      '--patience',
      '1',
      '--checkpoint',
      ckpt,
      '--checkpoint-every',
      '5',
      '--json',
    ]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0]).toMatchObject({ sequences: 60, at: 'every', target: 'values', metric: 'val loss' });
    const cps = r.json.filter((l) => l.type === 'checkpoint').map((l) => l.step);
    expect(cps.length).toBeGreaterThan(0);
    expect(cps.every((s: number, i: number) => s === 5 * (i + 1))).toBe(true);
    const done = r.json.at(-1)!;
    if (done.stoppedEarly) expect(r.json.some((l) => l.type === 'early-stop')).toBe(true);
    const e = await run(['eval', ckpt, '--csv', GROUPED, '--group-by', 'id', '--json']);
    expect(e.code, e.err.join('\n')).toBe(0);
    expect(e.json[0]).toMatchObject({ type: 'eval', sequences: 60 });
    expect(e.json[0].mae).toBeGreaterThan(0);
  });

  it('JSON Lines with per-step targets (two features per step), and eval of the result', async () => {
    const path = tmp.path('pairs.jsonl');
    const r2 = new Rng(4);
    writeFileSync(
      path,
      Array.from({ length: 80 }, () => {
        const x = Array.from({ length: 3 + r2.int(8) }, () => [r2.uniform(-1, 1), r2.uniform(-1, 1)]);
        return JSON.stringify({ x, y: x.map(([a, b]) => a * b) });
      }).join('\n'),
    );
    const model = tmp.path('pairs.safetensors');
    const r = await run(['fit', '--jsonl', path, '--epochs', '3', '--hidden', '8', '--metric', 'mae', '--save', model, '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0]).toMatchObject({ inputSize: 2, target: 'values', targetSize: 1, at: 'every', metric: 'val mae' });
    expect(r.json.filter((l) => l.type === 'epoch')).toHaveLength(3);
    const e = await run(['eval', model, '--jsonl', path, '--json']);
    expect(e.code, e.err.join('\n')).toBe(0);
    expect(e.json[0]).toMatchObject({ type: 'eval', sequences: 80 });
  });

  it('on a terminal: a progress bar with the epoch, loss, validation metric and ETA', async () => {
    const term = fakeTerminal();
    const r = await run(['fit', '--csv', CSV, '--target', 'classes', '--epochs', '2', '--hidden', '4'], { tty: true, stream: term.stream });
    expect(r.code, r.err.join('\n')).toBe(0);
    const bar = term.text();
    expect(bar).toMatch(/fit \|.*\| 12\/12 \| epoch 2\/2 \| loss \d+\.\d+ \| val loss \d+\.\d+ \| ETA/);
    expect(bar).toMatch(/epoch 1\/2 {2}loss \d+\.\d+ {2}val loss/);
    expect(r.out.join('\n')).toMatch(/^done: 2 epochs, 12 steps; best val loss/m);
  });

  it('without a terminal: a line per epoch', async () => {
    const r = await run(['fit', '--csv', CSV, '--target', 'classes', '--epochs', '2', '--hidden', '4', '--val-split', '0']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.filter((l) => /^epoch \d\/2 {2}loss/.test(l))).toHaveLength(2);
    expect(r.out.join('\n')).toMatch(/best train loss/);
  });

  it('refuses bad data and contradicting flags with one line', async () => {
    const bad = tmp.path('bad.csv');
    writeFileSync(bad, '1,0.5,0.25\n0,0.5,x\n');
    const cases: [string[], RegExp][] = [
      [
        ['fit', '--csv', bad],
        new RegExp(`^unrolled: fit: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:3: value: expected a number, got "x"$`),
      ],
      [['fit'], /which data\? give --csv FILE or --jsonl FILE/],
      [['fit', '--csv', CSV, '--jsonl', CSV], /--csv or --jsonl, not both/],
      [['fit', '--csv', CSV, '--metric', 'accuracy'], /--metric accuracy needs --target classes/],
      [['fit', '--csv', CSV, '--features', 'a'], /--features needs --group-by/],
      [['fit', '--csv', CSV, '--epochs', '0'], /--epochs: expected an integer in \[1, /],
      [['fit', '--csv', tmp.path('missing.csv')], /no such file/],
      [['fit', '--csv', CSV, '--save', CSV], /refusing to overwrite an input/],
      [['fit', '--csv', CSV, '--epoch', '3'], /did you mean --epochs\?/],
      [['eval', tmp.path('x.safetensors'), '--csv', CSV, '--seed', '3'], /--seed is for a text or a task/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, `${argv.join(' ')}: ${r.err.join(' | ')}`).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(message);
    }
  });

  it('help lists the layouts and the flags', async () => {
    const r = await run(['fit', '--help']);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    for (const flag of ['--csv', '--jsonl', '--group-by', '--val-split', '--patience', '--metric', '--save']) expect(text).toContain(flag);
    expect(text).toMatch(/rows grouped by an id/);
  });
});
