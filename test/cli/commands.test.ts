// The commands around checkpoints (train --checkpoint / --resume, sample, eval) and the two
// diagnostics commands (bench, gradcheck), in-process.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { losses, run, tempDir } from './helpers.js';

const tmp = tempDir('unrolled-cli-cmd-');
afterAll(() => tmp.remove());

const CHAR = [
  '--hidden',
  '8',
  '--batch',
  '2',
  '--seq',
  '4',
  '--tbptt',
  '4,8',
  '--schedule',
  'cosine:total=16,warmup=3',
  '--every',
  '1',
  '--json',
  '--sample',
  '0',
  '--seed',
  '3',
];
const ADDING = [
  '--task',
  'adding',
  '--hidden',
  '6',
  '--batch',
  '3',
  '--seq',
  '10',
  '--optimizer',
  'sgd',
  '--momentum',
  '0.5',
  '--lr',
  '0.05',
  '--every',
  '1',
  '--json',
  '--seed',
  '4',
];

describe('train --checkpoint / --resume (in-process)', () => {
  it.each([
    ['char, TBPTT(4, 8), cosine warm-up', CHAR],
    ['adding, sgd with momentum', ADDING],
  ])('resuming is bit-identical: %s', async (_name, flags) => {
    const full = await run(['train', ...flags, '--steps', '16']);
    expect(full.code).toBe(0);
    const ckpt = tmp.path(`resume-${flags[1]}.ckpt`);
    const first = await run(['train', ...flags, '--steps', '7', '--checkpoint', ckpt, '--checkpoint-every', '3']);
    expect(first.code).toBe(0);
    expect(first.json.filter((l) => l.type === 'checkpoint').map((l) => l.step)).toEqual([3, 6, 7]);
    expect([...losses(first)]).toEqual([...losses(full)].slice(0, 7));
    // the checkpoint continues to the same total, from where it stopped
    const second = await run(['train', '--resume', ckpt, '--steps', '16', '--every', '1', '--json', '--sample', '0']);
    expect(second.code).toBe(0);
    expect(second.err).toEqual([]);
    expect(second.json[0]).toMatchObject({ type: 'header', resumedFrom: 7, seed: Number(flags[flags.indexOf('--seed') + 1]) });
    expect(second.json.find((l) => l.type === 'resume')).toMatchObject({ step: 7, path: ckpt });
    expect([...losses(second)]).toEqual([...losses(full)].slice(7));
    expect(second.json.filter((l) => l.type === 'step').map((l) => l.gradNorm)).toEqual(
      full.json
        .filter((l) => l.type === 'step')
        .slice(7)
        .map((l) => l.gradNorm),
    );
    // it went on saving to the same file every 3 steps
    expect(second.json.filter((l) => l.type === 'checkpoint').map((l) => l.step)).toEqual([9, 12, 15, 16]);
    expect(JSON.parse(decodeSafetensors(readFileSync(ckpt)).metadata.unrolled_state).step).toBe(16);
  });

  it('refuses flags that disagree with the checkpoint, accepts ones that agree, and stops at once when done', async () => {
    const ckpt = tmp.path('conflict.ckpt');
    expect((await run(['train', ...ADDING, '--steps', '2', '--checkpoint', ckpt])).code).toBe(0);
    const bad = await run(['train', '--resume', ckpt, '--steps', '4', '--hidden', '16']);
    expect(bad.code).toBe(2);
    expect(bad.err).toEqual([expect.stringMatching(/^unrolled: train: --hidden 16 differs from the checkpoint's hidden 6/)]);
    const badOpt = await run(['train', '--resume', ckpt, '--optimizer', 'adam']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.err[0]).toMatch(/--optimizer adam differs/);
    const same = await run(['train', '--resume', ckpt, '--steps', '3', '--hidden', '6', '--task', 'adding', '--json']);
    expect(same.code).toBe(0);
    expect(same.json.find((l) => l.type === 'done')).toMatchObject({ from: 2, ran: 1 });
    const done = await run(['train', '--resume', ckpt, '--steps', '3', '--json']);
    expect(done.code).toBe(0);
    expect(done.json.find((l) => l.type === 'done')).toMatchObject({ from: 3, ran: 0 });
  });

  it('a char checkpoint resumes only on its own text', async () => {
    const text = tmp.path('own.txt'),
      other = tmp.path('other.txt'),
      ckpt = tmp.path('text.ckpt');
    writeFileSync(text, 'hello world, hello there. '.repeat(10));
    writeFileSync(other, 'hello world, hello there! '.repeat(10));
    expect(
      (
        await run([
          'train',
          '--text',
          text,
          '--hidden',
          '4',
          '--seq',
          '4',
          '--batch',
          '2',
          '--steps',
          '2',
          '--sample',
          '0',
          '--checkpoint',
          ckpt,
        ])
      ).code,
    ).toBe(0);
    const r = await run(['train', '--resume', ckpt, '--steps', '3', '--text', other]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/is not the text the checkpoint was trained on/);
    const ok = await run(['train', '--resume', ckpt, '--steps', '3', '--sample', '0']);
    expect(ok.code).toBe(0);
  });

  it('a corrupted checkpoint is one line and exit 2', async () => {
    const ckpt = tmp.path('corrupt.ckpt');
    expect((await run(['train', ...ADDING, '--steps', '1', '--checkpoint', ckpt])).code).toBe(0);
    const bytes = readFileSync(ckpt);
    writeFileSync(ckpt, bytes.subarray(0, bytes.length - 4)); // torn: 4 bytes short
    const r = await run(['train', '--resume', ckpt]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^unrolled: safetensors: tensor ".*": data_offsets end \d+ is beyond the \d+-byte buffer$/);
    // a NaN in the weights (a valid file otherwise) is caught by the checkpoint's own checks
    const good = new Uint8Array(bytes);
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    new DataView(good.buffer).setFloat32(8 + n, NaN, true); // the first element of the first tensor
    writeFileSync(ckpt, good);
    const nan = await run(['train', '--resume', ckpt]);
    expect(nan.code).toBe(2);
    expect(nan.err).toEqual([expect.stringMatching(/^unrolled: checkpoint: tensor "weight_ih_l0" element 0 is NaN/)]);
  });
});

describe('checkpoints whose command-line record was edited', () => {
  it('are refused by train --resume, sample and eval with one line', async () => {
    const ckpt = tmp.path('edited.ckpt');
    expect(
      (await run(['train', '--hidden', '4', '--seq', '4', '--batch', '2', '--steps', '1', '--sample', '0', '--checkpoint', ckpt])).code,
    ).toBe(0);
    const d = decodeSafetensors(readFileSync(ckpt));
    const info = JSON.parse(d.metadata.unrolled_info);
    info.run.tbptt = { k1: 4, k2: 6 };
    const tensors = [...d.tensors].map(([name, t]) => ({ name, ...t }));
    writeFileSync(ckpt, encodeSafetensors(tensors, { ...d.metadata, unrolled_info: JSON.stringify(info) }));
    for (const argv of [
      ['train', '--resume', ckpt, '--steps', '2'],
      ['sample', ckpt],
      ['eval', ckpt],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([expect.stringMatching(/does not match its model and trainer/)]);
    }
  });
});

describe('sample and eval', async () => {
  const charCkpt = tmp.path('char.ckpt'),
    reberCkpt = tmp.path('reber.ckpt'),
    addingCkpt = tmp.path('adding.ckpt');
  await run(['train', '--hidden', '8', '--seq', '8', '--batch', '2', '--steps', '3', '--sample', '0', '--checkpoint', charCkpt]);
  await run(['train', '--task', 'reber', '--hidden', '8', '--seq', '12', '--batch', '2', '--steps', '2', '--checkpoint', reberCkpt]);
  await run(['train', '--task', 'adding', '--hidden', '8', '--seq', '10', '--batch', '2', '--steps', '2', '--checkpoint', addingCkpt]);

  it('sample generates text from a char checkpoint, reproducibly for a seed', async () => {
    const a = await run(['sample', charCkpt, '--length', '50', '--seed', '5', '--prime', 'The ', '--json']);
    expect(a.code).toBe(0);
    expect(a.json[0]).toMatchObject({ type: 'sample', task: 'char', step: 3, prime: 'The ', seed: 5 });
    expect([...a.json[0].text]).toHaveLength(50);
    const b = await run(['sample', charCkpt, '--length', '50', '--seed', '5', '--prime', 'The ', '--json']);
    expect(b.json[0].text).toBe(a.json[0].text);
    const text = await run(['sample', charCkpt, '--length', '20', '--temperature', '0']);
    expect(text.code).toBe(0);
    expect(text.out.join('\n').length).toBeGreaterThanOrEqual(21); // the prime (a newline) and 20 characters
    const js = await run(['sample', charCkpt, '--length', '50', '--seed', '5', '--prime', 'The ', '--json', '--backend', 'js']);
    expect(js.code).toBe(0);
  });

  it('sample generates grammar symbols from a reber checkpoint', async () => {
    const r = await run(['sample', reberCkpt, '--length', '30', '--json']);
    expect(r.code).toBe(0);
    expect(r.json[0].prime).toBe('B');
    expect(r.json[0].text).toMatch(/^[BTPSXVE]{30}$/);
  });

  it.each([
    [() => ['sample', addingCkpt], /adding model, which does not predict its own next input/],
    [() => ['sample', charCkpt, '--prime', '\u263a'], /--prime: "\u263a" is not one of the \d+ characters/],
    [() => ['sample', reberCkpt, '--prime', 'BQ'], /"Q" is not a Reber symbol/],
    [() => ['eval', addingCkpt, '--text', charCkpt], /--text is for char checkpoints/],
    [() => ['eval', charCkpt, '--text', tmp.path('unknown-chars.txt')], /characters outside the checkpoint's vocabulary/],
  ])('%#: mistakes exit 2 with one line', async (argv, message) => {
    writeFileSync(tmp.path('unknown-chars.txt'), '\u263a\u263a\u263a\u263a');
    const r = await run(argv());
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });

  it('eval: cross-entropy of a char checkpoint over its text or another', async () => {
    const r = await run(['eval', charCkpt, '--json']);
    expect(r.code).toBe(0);
    const e = r.json[0];
    expect(e).toMatchObject({ type: 'eval', task: 'char', step: 3, source: 'the built-in corpus' });
    expect(e.loss).toBeGreaterThan(3);
    expect(e.loss).toBeLessThan(4.5);
    expect(e.bitsPerCharacter).toBeCloseTo(e.loss / Math.LN2, 12);
    expect(e.characters).toBeGreaterThan(30000);
    const file = tmp.path('some.txt');
    writeFileSync(file, 'the quick brown fox jumps over the lazy dog\n'.repeat(3));
    const t = await run(['eval', charCkpt, '--text', file]);
    expect(t.code).toBe(0);
    expect(t.out.join('\n')).toMatch(/some.txt: \d+ characters, cross-entropy \d+\.\d+ nats \(\d+\.\d+ bits\) per character/);
  });

  it('eval: a synthetic task on fresh batches', async () => {
    const r = await run(['eval', addingCkpt, '--batches', '2', '--batch', '16', '--json']);
    expect(r.code).toBe(0);
    expect(r.json[0]).toMatchObject({ type: 'eval', task: 'adding', sequences: 32, batches: 2, step: 2 });
    expect(r.json[0].mse).toBe(r.json[0].loss);
    const reberEval = await run(['eval', reberCkpt, '--batches', '1']);
    expect(reberEval.code).toBe(0);
    expect(reberEval.out.join('\n')).toMatch(/allowed by the grammar \d+\.\d% of the time/);
  });
});

describe('bench', () => {
  it('times a step on wasm and js', async () => {
    const r = await run(['bench', '--hidden', '8', '--seq', '8', '--batch', '2', '--time', '20', '--json']);
    expect(r.code).toBe(0);
    const lines = r.json.filter((l) => l.type === 'bench');
    expect(lines.map((l) => l.backend)).toEqual(['wasm', 'js']);
    for (const l of lines) {
      expect(l.msPerStep).toBeGreaterThan(0);
      expect(l.steps).toBeGreaterThanOrEqual(1);
    }
    const text = await run(['bench', '--task', 'adding', '--hidden', '8', '--seq', '8', '--batch', '2', '--time', '5', '--backends', 'js']);
    expect(text.code).toBe(0);
    expect(text.out.join('\n')).toMatch(/js\s+\d+\.\d+ ms\/step/);
  });
});

describe('gradcheck', () => {
  it.each([
    ['char', 'lstm', ['--layers', '2']],
    ['adding', 'rnn', []],
    ['copy', 'gru', ['--seq', '5']],
    ['reber', 'lstm', []],
    ['sine', 'gru', ['--layers', '2']],
  ])('%s with %s passes', async (task, cell, extra) => {
    const r = await run(['gradcheck', '--task', task, '--cell', cell, '--hidden', '4', '--samples', '6', '--json', ...extra]);
    expect(r.code).toBe(0);
    const params = r.json.filter((l) => l.type === 'gradcheck');
    const layers = extra.includes('--layers') ? 2 : 1;
    expect(params).toHaveLength(4 * layers + 2);
    for (const p of params) {
      expect(p.pass).toBe(true);
      expect(p.maxRelError).toBeLessThan(1e-5);
    }
    expect(r.json.at(-1)).toMatchObject({ type: 'result', pass: true });
  });

  it('prints PASS per parameter as text', async () => {
    const r = await run(['gradcheck', '--task', 'adding', '--cell', 'rnn', '--hidden', '3', '--samples', '0']);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/weight_hh_l0\s+\[3, 3\]\s+9 checked\s+max rel error \d\.\d+e[-+]\d+\s+PASS/);
    expect(text).toMatch(/^PASS: every gradient agrees/m);
  });

  it('an impossible tolerance fails with exit 1', async () => {
    const r = await run(['gradcheck', '--task', 'adding', '--hidden', '3', '--tolerance', '1e-300']);
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/^FAIL: the worst relative error/m);
    expect(r.out.join('\n')).toMatch(/FAIL$/m);
  });
});
