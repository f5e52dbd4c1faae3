// `unrolled fit --resume`: a run stopped anywhere (mid-epoch, at an epoch's end, by Ctrl-C) and
// continued from its checkpoint ends with the same weights, bit for bit, as the run that never
// stopped, early stopping included (its best value and best weights travel in the checkpoint);
// a checkpoint that does not fit the flags or the data is refused with the flag, stored and given.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/model/safetensors.js';
import { Rng } from '../../src/model/rng.js';
import { run, tempDir } from './helpers.js';

const tmp = tempDir('unrolled-cli-fit-resume-');
afterAll(() => tmp.remove());

// sine segments grouped by id: predict the next value at every step
const rng = new Rng(3);
const rows = ['id,x,y'];
for (let s = 0; s < 40; s++) {
  const len = 4 + rng.int(9),
    phase = rng.uniform(0, 6.28);
  for (let t = 0; t < len; t++) rows.push(`s${s},${Math.sin(phase + 0.5 * t).toFixed(4)},${Math.sin(phase + 0.5 * (t + 1)).toFixed(4)}`);
}
const DATA = tmp.path('sine.csv');
writeFileSync(DATA, `${rows.join('\n')}\n`);

// 32 training sequences in batches of 6: 6 batches per epoch, so checkpoints every 4 steps fall mid-epoch
const FLAGS = ['--csv', DATA, '--group-by', 'id', '--hidden', '5', '--batch', '6', '--seed', '7', '--json'];

/** SHA-256 over a safetensors file's tensors (names, shapes and bytes; the metadata left out). */
function weightHash(path: string): string {
  const h = createHash('sha256');
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(path)));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(`${name}${JSON.stringify(t.shape)}`);
    const d = t.data as Float32Array;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

/** Runs fit and copies the checkpoint file aside after each checkpoint line: step → copy. */
async function fitWithSnapshots(
  args: string[],
  ckpt: string,
): Promise<{ code: number; json: Record<string, unknown>[]; snaps: Map<number, string> }> {
  const snaps = new Map<number, string>();
  const json: Record<string, unknown>[] = [];
  const err: string[] = [];
  const { main } = await import('../../src/cli/main.js');
  const code = await main(['fit', ...args], {
    out: (l) => {
      for (const line of l.split('\n').filter((s) => s.length > 0)) {
        const o = JSON.parse(line) as Record<string, unknown>;
        json.push(o);
        if (o.type === 'checkpoint') {
          const copy = tmp.path(`snap-${o.step}.ckpt`);
          copyFileSync(ckpt, copy);
          snaps.set(o.step as number, copy);
        }
      }
    },
    err: (l) => {
      err.push(l);
    },
  });
  expect(code, err.join('\n')).toBe(0);
  return { code, json, snaps };
}

describe('unrolled fit --resume', () => {
  it('resumed mid-epoch, at an epoch boundary or after the end, the weights equal the uninterrupted run bit for bit (early stopping included)', async () => {
    const ckpt = tmp.path('full.ckpt');
    const full = await fitWithSnapshots(
      [
        ...FLAGS,
        '--lr',
        '0.2',
        '--epochs',
        '12',
        '--patience',
        '2',
        '--checkpoint',
        ckpt,
        '--checkpoint-every',
        '4',
        '--save',
        tmp.path('full.st'),
      ],
      ckpt,
    );
    const done = full.json.at(-1)!;
    // the case that needs the stored record: it stops early and puts back an earlier epoch's weights
    expect(done).toMatchObject({ type: 'done', stoppedEarly: true });
    const stoppedAt = done.epochs as number;
    expect(done.bestEpoch as number).toBeLessThan(stoppedAt);
    const reference = weightHash(tmp.path('full.st'));
    const trainLoss = new Map(full.json.filter((e) => e.type === 'epoch').map((e) => [e.epoch, e.loss]));

    // every checkpoint before the stop: mid-epoch ones (4, 8, 16, ... steps of 6 per epoch) and epoch ends (12, 24, ...)
    const steps = [...full.snaps.keys()].filter((s) => s < (stoppedAt - 1) * 6);
    expect(steps.some((s) => s % 6 !== 0)).toBe(true);
    expect(steps.some((s) => s % 6 === 0)).toBe(true);
    for (const step of steps) {
      const out = tmp.path(`resumed-${step}.st`);
      const r = await run([
        'fit',
        '--resume',
        full.snaps.get(step)!,
        '--checkpoint',
        tmp.path(`cont-${step}.ckpt`),
        '--save',
        out,
        '--json',
      ]);
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(r.json.find((l) => l.type === 'resume')).toMatchObject({ step });
      expect(r.json.at(-1)).toMatchObject({
        type: 'done',
        stoppedEarly: true,
        epochs: stoppedAt,
        bestEpoch: done.bestEpoch,
        best: done.best,
      });
      expect(weightHash(out), `resumed at step ${step}`).toBe(reference);
      // the epoch in progress keeps the losses of its batches before the stop
      for (const l of r.json.filter((e) => e.type === 'epoch')) expect(l.loss, `epoch ${l.epoch}`).toBe(trainLoss.get(l.epoch));
    }
  });

  it('a shorter run continued with more --epochs equals the longer run; Ctrl-C saves a checkpoint that continues it', async () => {
    await run(['fit', ...FLAGS, '--lr', '0.05', '--epochs', '4', '--save', tmp.path('four.st')]);
    const half = tmp.path('half.ckpt');
    const a = await run(['fit', ...FLAGS, '--lr', '0.05', '--epochs', '2', '--checkpoint', half]);
    expect(a.code, a.err.join('\n')).toBe(0);
    const b = await run(['fit', '--resume', half, '--epochs', '4', '--save', tmp.path('two-plus-two.st'), '--json']);
    expect(b.code, b.err.join('\n')).toBe(0);
    expect(weightHash(tmp.path('two-plus-two.st'))).toBe(weightHash(tmp.path('four.st')));

    // an interruption after 9 batches (mid-epoch 2): closed by the abort the CLI's signal handler sends
    const ctrlc = tmp.path('ctrlc.ckpt');
    let batches = 0;
    const { main } = await import('../../src/cli/main.js');
    const stop = await main(['fit', ...FLAGS, '--lr', '0.05', '--epochs', '4', '--checkpoint', ctrlc, '--checkpoint-every', '1'], {
      out: (l) => {
        if (l.includes('"type":"checkpoint"') && ++batches === 9) process.emit('SIGINT');
      },
      err: () => {},
      signals: true,
    });
    expect(stop).toBe(130);
    const c = await run(['fit', '--resume', ctrlc, '--save', tmp.path('after-ctrlc.st'), '--json']);
    expect(c.code, c.err.join('\n')).toBe(0);
    expect(c.json.find((l) => l.type === 'resume')?.step).toBeGreaterThanOrEqual(9);
    expect(weightHash(tmp.path('after-ctrlc.st'))).toBe(weightHash(tmp.path('four.st')));
  });

  it('refuses a checkpoint that does not match the flags or the data, naming the flag, the stored and the given value', async () => {
    const ckpt = tmp.path('small.ckpt');
    const a = await run(['fit', ...FLAGS, '--lr', '0.05', '--epochs', '2', '--checkpoint', ckpt]);
    expect(a.code, a.err.join('\n')).toBe(0);
    const hidden = await run(['fit', '--resume', ckpt, '--hidden', '9', '--epochs', '3']);
    expect(hidden.code).toBe(2);
    expect(hidden.err.join('\n')).toMatch(/--hidden 9 differs from the checkpoint's 5/);
    const lr = await run(['fit', '--resume', ckpt, '--lr', '0.1', '--epochs', '3']);
    expect(lr.err.join('\n')).toMatch(/--lr 0\.1 differs from the checkpoint's 0\.05/);
    const epochs = await run(['fit', '--resume', ckpt]);
    expect(epochs.code).toBe(2);
    expect(epochs.err.join('\n')).toMatch(/--epochs 2: the run in .* has done 2 epochs/);
    const layout = await run(['fit', '--resume', ckpt, '--csv', DATA, '--epochs', '3']);
    expect(layout.err.join('\n')).toMatch(/--group-by null differs from the checkpoint's "id"/);
    const other = tmp.path('other.csv');
    writeFileSync(other, rows.slice(0, 30).join('\n'));
    const data = await run(['fit', '--resume', ckpt, '--csv', other, '--group-by', 'id', '--epochs', '3']);
    expect(data.code).toBe(2);
    expect(data.err.join('\n')).toMatch(/--csv .*other\.csv has sequences \d+, the data of the checkpoint .* had 40/);
    const trainCkpt = tmp.path('train.ckpt');
    expect((await run(['train', '--task', 'sine', '--steps', '2', '--hidden', '4', '--checkpoint', trainCkpt])).code).toBe(0);
    const wrong = await run(['fit', '--resume', trainCkpt]);
    expect(wrong.code).toBe(2);
    expect(wrong.err.join('\n')).toMatch(/not a checkpoint of unrolled fit/);
  });
});
